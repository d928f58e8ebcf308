"""Data across nodes (docs/federation.md §9): an officer of one node queries a shared data resource of a
peer node, under a grant of that peer, as a signed synchronous request — never inside a transaction.

The same rules as a local exchange query (docs/exchange.md): deny by default (a `PeerGrant` of the
owner node names the consumer department by USCC, the fields, purpose and period); every query states
its purpose, case and acting officer; each side writes its own `QueryLog` row and `exchange.query*`
audit entry (the consumer with the peer and the owner's query reference, the owner with the peer,
the consumer department and the officer as the peer named them); the subject sees the query in the
owner's log. The request is signed by the consumer node's key and must be fresh (clock skew); the
answer is signed by the owner node's key and bound to the request id.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import httpx
from django.db import transaction
from django.utils import timezone

from tongban.core.errors import InvalidInput, NotFound, Problem
from tongban.core.transactions import service
from tongban.exchange.errors import Forbidden
from tongban.exchange.selectors import ExchangeNotFound

from . import conf, keys
from .envelope import is_uuid, iso, parse_iso, verify_signature
from .models import Peer, PeerGrant

log = logging.getLogger("tongban.federation")
QUERY_V = "tongban-fed-query/1"
ANSWER_V = "tongban-fed-query-answer/1"
REQUEST_FIELDS = {"v", "query_id", "requester", "peer", "created_at", "resource", "subject", "fields", "purpose",
                  "case_ref", "consumer", "officer", "key_id", "algorithm"}


def _p(field: str, rule: str, zh: str, en: str) -> Problem:
    return Problem(field=field, rule=rule, zh=zh, en=en)


# --- the owner node: grants ---------------------------------------------------------------------------


@service
def grant_peer(*, peer_code: str, consumer_uscc: str, consumer_name: str = "", resource_code: str,
               fields: list[str], purpose: str, valid_until: datetime, actor,
               valid_from: datetime | None = None) -> PeerGrant:
    """An officer or administrator of the resource's owner department grants a peer node's department
    some fields of it. Raises InvalidInput / Forbidden / NotFound, writing nothing."""
    from tongban.accounts.roles import Role
    from tongban.audit.services import append_entry
    from tongban.core.codes import check_uscc
    from tongban.exchange.selectors import get_resource

    resource = get_resource(resource_code)
    if getattr(actor, "department_id", None) != resource.owner_id or not (
            actor.has_role(Role.OFFICER) or actor.has_role(Role.ADMINISTRATOR)):
        raise Forbidden(_p("actor", "actor.not_owner", "只有提供部门的审批人员或管理员可以授权",
                           "only an officer or administrator of the owner department may grant"))
    peer = Peer.objects.filter(code=peer_code, status=Peer.Status.ACTIVE).first()
    problems = [] if peer else [_p("peer", "fed.peer.unknown", "对端节点不存在", "no such peer node")]
    problems += check_uscc(consumer_uscc, "consumer_uscc")
    names = {f.name for f in resource.fields.all()}
    wanted = list(dict.fromkeys(fields or []))
    if not wanted or set(wanted) - names:
        problems.append(_p("fields", "fields.unknown", "数据项为空或不属于该资源", "fields are empty or not of the resource"))
    if not (purpose or "").strip():
        problems.append(_p("purpose", "required", "必须说明使用目的", "a purpose is required"))
    valid_from = valid_from or timezone.now()
    if valid_until is None or timezone.is_naive(valid_until) or valid_until <= valid_from:
        problems.append(_p("valid_until", "grant.period", "失效时间须晚于生效时间（含时区）",
                           "valid_until must be after valid_from (time-zone aware)"))
    if problems:
        raise InvalidInput(problems)
    grant = PeerGrant.objects.create(peer=peer, consumer_uscc=consumer_uscc, consumer_name=consumer_name[:128],
                                     resource=resource, fields=wanted, purpose=purpose.strip(), valid_from=valid_from,
                                     valid_until=valid_until, granted_by=actor)
    append_entry(action="exchange.peer_grant_granted", actor=actor, object_type="exchange.peer_grant",
                 object_id=str(grant.pk), region_code=resource.owner.region_id, reason=grant.purpose,
                 after={"peer": peer.code, "consumer": consumer_uscc, "resource": resource.code, "fields": wanted,
                        "valid_until": valid_until.isoformat()})
    return grant


@service
def revoke_peer_grant(*, grant_id: int, actor, reason: str) -> PeerGrant:
    from tongban.audit.services import append_entry

    grant = PeerGrant.objects.select_for_update(of=("self",)).select_related("resource").filter(pk=grant_id).first()
    if grant is None or getattr(actor, "department_id", None) != grant.resource.owner_id:
        raise NotFound("peer grant")  # another department's grant is not even said to exist
    if not (reason or "").strip():
        raise InvalidInput(_p("reason", "required", "请填写撤销理由", "a reason is required"))
    grant.status, grant.revoked_at, grant.revoke_reason = PeerGrant.Status.REVOKED, timezone.now(), reason.strip()
    grant.save(update_fields=["status", "revoked_at", "revoke_reason"])
    append_entry(action="exchange.peer_grant_revoked", actor=actor, object_type="exchange.peer_grant",
                 object_id=str(grant.pk), reason=grant.revoke_reason)
    return grant


# --- the owner node: answering ------------------------------------------------------------------------


def _authenticate(document: object) -> tuple[dict | None, Peer | None, list[Problem]]:
    body = document.get("request") if isinstance(document, dict) else None
    if not isinstance(body, dict) or set(body) != REQUEST_FIELDS or body.get("v") != QUERY_V \
            or not isinstance(document.get("signature"), str) or not isinstance(body.get("fields"), list) \
            or not all(isinstance(body.get(k), str) for k in ("query_id", "requester", "peer", "created_at",
                                                              "resource", "subject", "purpose", "case_ref")) \
            or not isinstance(body.get("consumer"), dict) or not isinstance(body.get("officer"), dict) \
            or not is_uuid(body["query_id"]):
        return None, None, [_p("request", "fed.envelope", "查询请求格式错误", "malformed query request")]
    if body["peer"] != conf.node_code():
        return None, None, [_p("request.peer", "fed.receiver", "查询请求的对象不是本节点", "the request is not for this node")]
    peer = Peer.objects.filter(code=body["requester"], status=Peer.Status.ACTIVE).first()
    if peer is None:
        return None, None, [_p("request.requester", "fed.sender.unknown", "请求节点不是已导入的对端节点",
                               "the requester is not an imported peer")]
    key = peer.keys.filter(key_id=body["key_id"]).first()
    if key is None or key.algorithm != body["algorithm"]:
        return None, peer, [_p("request.key_id", "fed.key.unknown", "签名密钥不在对端节点的公钥清单中",
                               "the signing key is not listed for the requester")]
    try:
        created = parse_iso(body["created_at"])
    except ValueError:
        return None, peer, [_p("request.created_at", "fed.envelope", "时间格式错误", "created_at is malformed")]
    if not key.valid_at(created):
        return None, peer, [_p("request.key_id", "fed.key.expired", "签名密钥已不在有效期内", "the signing key is not valid")]
    if abs((timezone.now() - created).total_seconds()) > conf.clock_skew_s():
        return None, peer, [_p("request.created_at", "fed.clock", "查询请求时间超出允许范围（可能是重放）",
                               "the request is too old or in the future")]
    if not verify_signature(key.algorithm, key.public_key, document["signature"], body):
        return None, peer, [_p("signature", "fed.signature", "签名验证失败", "the signature does not verify")]
    return body, peer, []


def _owner_log(body: dict, peer: Peer, resource, *, outcome: str, rule: str = "", message: str = "",
               subject_kind: str = "", returned: list[str] | None = None):
    from tongban.exchange import models as xm
    from tongban.exchange.querying import audit

    officer = body["officer"]
    consumer = body["consumer"]
    label = f"{str(officer.get('name') or officer.get('username') or '')[:80]}（{peer.code}）"
    with transaction.atomic():
        row = xm.QueryLog.objects.create(
            outcome=outcome, rule=rule[:64], message=message, resource=resource,
            resource_code=(resource.code if resource else body["resource"])[:64],
            owner=resource.owner if resource else None, consumer=None, subject_code=body["subject"][:32],
            subject_kind=subject_kind, fields=body["fields"][:100], returned_fields=returned or [],
            purpose=body["purpose"][:2000], case_ref=body["case_ref"][:64], actor=None, actor_label=label[:128],
            role=str(officer.get("role", ""))[:32], region_code=(resource.owner.region_id if resource else "")[:6])
        action = {"granted": "exchange.query", "refused": "exchange.query_refused", "failed": "exchange.query_failed"}
        audit(action[outcome], role=str(officer.get("role", ""))[:32], object_type="exchange.query",
              object_id=str(row.ref), region_code=resource.owner.region_id if resource else "",
              subject_code=body["subject"][:32], case_ref=body["case_ref"][:64], reason=body["purpose"][:1000],
              after={"resource": row.resource_code, "owner": resource.owner.uscc if resource else "",
                     "consumer": str(consumer.get("uscc", ""))[:18], "peer": peer.code,
                     "officer": label, "query_id": body["query_id"], "fields": body["fields"][:100],
                     "returned": returned or [], "outcome": outcome, "rule": rule})
    return row


def _effective_fields(peer: Peer, consumer_uscc: str, resource) -> tuple[set[str], PeerGrant | None]:
    now = timezone.now()
    grants = list(PeerGrant.objects.filter(peer=peer, consumer_uscc=consumer_uscc, resource=resource,
                                           status=PeerGrant.Status.GRANTED, valid_from__lte=now, valid_until__gt=now))
    return {f for g in grants for f in g.fields}, (grants[0] if grants else None)


def serve_query(document: object) -> tuple[dict | None, list[Problem], int]:
    """Answer a signed query request: (signed answer, [], 200) or (None, problems, status). Runs the
    source's fetch outside any transaction; logs every authenticated attempt on this side."""
    from tongban.exchange.adapters import AdapterUnavailable, FetchContext, adapter_for
    from tongban.exchange.models import SharingType
    from tongban.exchange.querying import _classify_subject
    from tongban.exchange.vocabulary import standards_for, translate_codes

    body, peer, problems = _authenticate(document)
    if problems:
        log.info("peer query refused", extra={"rules": problems[0].rule})
        return None, problems, 403 if problems[0].rule != "fed.envelope" else 400
    from tongban.exchange.models import DataResource

    resource = DataResource.objects.select_related("owner").filter(code=body["resource"]).first()
    kind = ""
    try:
        if not body["purpose"].strip() or not body["case_ref"].strip() or not body["officer"].get("username"):
            raise InvalidInput(_p("request", "required", "查询必须说明目的、办件编号和经办人",
                                  "a query must state its purpose, case reference and acting officer"))
        if resource is None:
            raise ExchangeNotFound(_p("resource", "resource.unknown", "数据资源不存在", "no such data resource"))
        if resource.sharing_type == SharingType.NOT_SHARED:
            raise InvalidInput(_p("resource", "resource.not_shared", "该数据资源不予共享", "the resource is not shared"))
        kind, bad = _classify_subject(body["subject"].upper(), resource.subject_kind)
        if bad:
            raise InvalidInput(bad)
        names = {f.name for f in resource.fields.all()}
        if not body["fields"] or set(body["fields"]) - names:
            raise InvalidInput(_p("fields", "fields.unknown", "数据项为空或不属于该资源", "unknown fields"))
        granted, grant = _effective_fields(peer, str(body["consumer"].get("uscc", "")), resource)
        if grant is None:
            raise InvalidInput(_p("resource", "grant.none", "对端部门没有该数据资源的跨节点共享授权（默认拒绝）",
                                  "the peer's department holds no grant for this resource (deny by default)"))
        if set(body["fields"]) - granted:
            raise InvalidInput(_p("fields", "fields.not_granted", "对端部门未获授权查询其中的数据项",
                                  "the peer's department is not granted some of these fields"))
        record = adapter_for(resource).fetch(resource, body["subject"].upper(), body["fields"],
                                             FetchContext(purpose=body["purpose"], case_ref=body["case_ref"],
                                                          consumer_uscc=str(body["consumer"].get("uscc", ""))))
        if record is None:
            raise ExchangeNotFound(_p("subject", "subject.unknown", "数据资源中没有该对象的记录", "no record of this subject"))
    except (InvalidInput, NotFound) as exc:
        found = getattr(exc, "problems", None) or [exc.problem]
        _owner_log(body, peer, resource, outcome="refused", rule=",".join(p.rule for p in found),
                   message="\n".join(f"{p.zh} / {p.en}" for p in found), subject_kind=kind)
        return None, found, 404 if isinstance(exc, NotFound) else 422
    except AdapterUnavailable as exc:
        _owner_log(body, peer, resource, outcome="failed", rule=exc.problem.rule, message=str(exc), subject_kind=kind)
        return None, [exc.problem], 503
    wanted = [f for f in resource.fields.all() if f.name in body["fields"]]
    standards = standards_for(resource, wanted)
    coded = translate_codes(resource, record.values, standards)
    fields = []
    for f in sorted(wanted, key=lambda f: body["fields"].index(f.name)):
        std = standards.get(f.name)
        value, code_label = coded.get(f.name, (record.values.get(f.name), None))
        fields.append({"name": f.name, "label": f.label, "standard_name": std.name if std else None,
                       "value": value if isinstance(value, (str, int, float, bool, type(None))) else str(value),
                       "code_label": code_label})
    row = _owner_log(body, peer, resource, outcome="granted", subject_kind=kind, returned=[f["name"] for f in fields])
    key = keys.ensure_node_key()
    answer = {"v": ANSWER_V, "query_id": body["query_id"], "responder": conf.node_code(), "requester": peer.code,
              "answered_at": iso(timezone.now()), "ref": str(row.ref), "resource": resource.code,
              "fields": fields, "provenance": {
                  "resource": resource.code, "resource_name": resource.name, "owner": resource.owner.name,
                  "owner_uscc": resource.owner.uscc, "source": record.source or resource.adapter,
                  "updated_at": record.updated_at.isoformat() if record.updated_at else None},
              "key_id": key.key_id, "algorithm": key.algorithm}
    return {"answer": answer, "signature": keys.sign(key, answer)}, [], 200


# --- the consumer node: asking ------------------------------------------------------------------------


def _consumer_log(attempt, peer_code: str, *, outcome: str, rule: str = "", message: str = "",
                  returned: list[str] | None = None, remote_ref: str = "", query_id: str = ""):
    from tongban.exchange import models as xm
    from tongban.exchange.querying import audit

    user = attempt.actor_user
    with transaction.atomic():
        row = xm.QueryLog.objects.create(
            outcome=outcome, rule=rule[:64], message=message, resource=None,
            resource_code=f"{peer_code}:{attempt.resource_code}"[:64], owner=None, consumer=attempt.consumer,
            subject_code=attempt.subject[:32], subject_kind=attempt.subject_kind, fields=attempt.fields,
            returned_fields=returned or [], purpose=attempt.purpose, case_ref=attempt.case_ref[:64], actor=user,
            actor_label=(user.real_name or user.username) if user else "", role=attempt.role,
            region_code=attempt.region_code()[:6])
        action = {"granted": "exchange.query", "refused": "exchange.query_refused", "failed": "exchange.query_failed"}
        audit(action[outcome], actor=user, role=attempt.role, object_type="exchange.query", object_id=str(row.ref),
              region_code=attempt.region_code(), subject_code=attempt.subject[:32], case_ref=attempt.case_ref[:64],
              reason=attempt.purpose,
              after={"resource": row.resource_code, "peer": peer_code, "remote_ref": remote_ref, "query_id": query_id,
                     "consumer": attempt.consumer.uscc if attempt.consumer else "", "fields": attempt.fields,
                     "returned": returned or [], "outcome": outcome, "rule": rule})
    return row


class PeerQueryFailed(Exception):
    """The peer could not be asked or its answer could not be trusted (logged as failed)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(f"{problem.rule}: {problem.en}")


def query_peer(*, peer: str, resource_code: str, subject: str, fields: list[str], purpose: str, case_ref: str,
               actor, transport: httpx.BaseTransport | None = None) -> dict:
    """Ask peer node `peer` for `fields` of `subject` in its resource `resource_code`, for a purpose and a
    case, as `actor` (a clerk or officer of their department). Never inside a transaction (a network
    call). Returns {"ref", "remote_ref", "values", "standard_values", "fields", "provenance"}; raises
    InvalidInput / Forbidden / NotFound (refused, here or by the peer) or PeerQueryFailed; all logged."""
    from tongban.exchange.querying import _Attempt, _authorise, _require_basics

    attempt = _Attempt(resource_code=(resource_code or "").strip(), subject=(subject or "").strip().upper(),
                       fields=list(dict.fromkeys(f.strip() for f in (fields or []) if f and f.strip())),
                       purpose=(purpose or "").strip(), case_ref=(case_ref or "").strip(), actor=actor,
                       on_behalf_of=None)
    row = Peer.objects.filter(code=peer, status=Peer.Status.ACTIVE).first()
    try:
        _require_basics(attempt)
        _authorise(attempt)
        if row is None:
            raise ExchangeNotFound(_p("peer", "fed.peer.unknown", "对端节点不存在", "no such peer node"))
    except (InvalidInput, NotFound) as exc:
        found = getattr(exc, "problems", None) or [exc.problem]
        if attempt.consumer is not None:  # a known department asked: logged like a local refusal
            _consumer_log(attempt, peer, outcome="refused", rule=",".join(p.rule for p in found),
                          message="\n".join(f"{p.zh} / {p.en}" for p in found))
        raise
    key = keys.ensure_node_key()
    body = {"v": QUERY_V, "query_id": str(uuid.uuid4()), "requester": conf.node_code(), "peer": row.code,
            "created_at": iso(timezone.now()), "resource": attempt.resource_code, "subject": attempt.subject,
            "fields": attempt.fields, "purpose": attempt.purpose, "case_ref": attempt.case_ref,
            "consumer": {"uscc": attempt.consumer.uscc, "name": attempt.consumer.name},
            "officer": {"username": actor.get_username(), "name": actor.real_name or "", "role": attempt.role},
            "key_id": key.key_id, "algorithm": key.algorithm}
    document = {"request": body, "signature": keys.sign(key, body)}
    try:
        with httpx.Client(timeout=conf.http_timeout_s(), transport=transport) as client:
            response = client.post(f"{row.url}/federation/v1/query", json=document)
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        problem = _p("peer", "fed.unreachable", "对端节点无法访问或应答无法解析", f"the peer could not be asked: {exc}"[:300])
        _consumer_log(attempt, peer, outcome="failed", rule=problem.rule, message=problem.en,
                      query_id=body["query_id"])
        raise PeerQueryFailed(problem) from exc
    if response.status_code != 200:
        found = [Problem(str(d.get("field", "")), str(d.get("rule", "")), str(d.get("zh", "")), str(d.get("en", "")))
                 for d in (data.get("detail") or []) if isinstance(d, dict)] if isinstance(data, dict) else []
        found = found or [_p("peer", "fed.refused", "对端节点拒绝了查询", f"the peer answered {response.status_code}")]
        outcome = "failed" if response.status_code >= 500 else "refused"
        _consumer_log(attempt, peer, outcome=outcome, rule=",".join(p.rule for p in found)[:64],
                      message="\n".join(f"{p.zh} / {p.en}" for p in found), query_id=body["query_id"])
        if outcome == "failed":
            raise PeerQueryFailed(found[0])
        raise (ExchangeNotFound(found[0]) if response.status_code == 404 else
               Forbidden(found) if response.status_code == 403 else InvalidInput(found))
    answer = data.get("answer") if isinstance(data, dict) else None
    peer_key = row.keys.filter(key_id=(answer or {}).get("key_id", "")).first() if isinstance(answer, dict) else None
    trusted = (isinstance(answer, dict) and peer_key is not None and answer.get("v") == ANSWER_V
               and answer.get("query_id") == body["query_id"] and answer.get("responder") == row.code
               and peer_key.valid_at(timezone.now())
               and verify_signature(peer_key.algorithm, peer_key.public_key, str(data.get("signature", "")), answer))
    if not trusted:
        problem = _p("answer", "fed.signature", "对端节点的应答签名无效或与请求不符",
                     "the peer's answer is not signed by its key or does not match the request")
        _consumer_log(attempt, peer, outcome="failed", rule=problem.rule, message=problem.en, query_id=body["query_id"])
        raise PeerQueryFailed(problem)
    fields = [f for f in answer.get("fields", []) if isinstance(f, dict) and f.get("name") in attempt.fields]
    logged = _consumer_log(attempt, peer, outcome="granted", returned=[f["name"] for f in fields],
                           remote_ref=str(answer.get("ref", "")), query_id=body["query_id"])
    return {"ref": str(logged.ref), "remote_ref": answer.get("ref"), "peer": row.code, "resource": answer["resource"],
            "values": {f["name"]: f.get("value") for f in fields},
            "standard_values": {f["standard_name"]: f.get("value") for f in fields if f.get("standard_name")},
            "fields": fields, "provenance": answer.get("provenance", {})}
