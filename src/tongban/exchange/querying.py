"""The query path (查询) and form prefill (自动填报).

Order of a query, and why:
1. Check everything that needs no source: purpose, case reference, actor, subject, resource, sharing
   type, acting department, grant, fields. A refusal is raised as InvalidInput/NotFound (bilingual).
2. Fetch from the source through the resource's adapter, outside any transaction (an HTTP call must not
   hold database locks); an unknown subject is a refusal, an unreachable source a failure.
3. Granted: one transaction writes the audit entry (hash-chained trail) and the `QueryLog` row naming
   both the consumer and the owner department, then the answer is returned.
A refusal or failure is logged in its own transaction *after* the checks and *before* the exception is
raised, so the log does not depend on the caller catching anything. (A caller that wraps `query()` in its
own `atomic()` and lets the refusal roll that block back also rolls back the log: the API, the CLI and
`prefill()` do not; other callers should call it outside their atomic block or catch the refusal.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.accounts.roles import Role
from tongban.core.codes import check_id_number, check_uscc, mask
from tongban.core.errors import InvalidInput, NotFound, Problem
from tongban.regions.models import Department

from . import models, selectors, vocabulary
from .adapters import AdapterUnavailable, FetchContext, adapter_for
from .errors import Forbidden

QUERY_ROLES = (Role.OFFICER, Role.CLERK)
PREFILL_PURPOSE = "自动填报 form prefill"


class SubjectNotFound(selectors.ExchangeNotFound):
    pass


def audit(action: str, *, actor=None, role: str = "", object_type: str = "", object_id: str = "",
          region_code: str | None = "", subject_code: str = "", case_ref: str = "", reason: str = "",
          before: dict | None = None, after: dict | None = None):
    """Append to the shared hash-chained audit trail, inside the caller's transaction."""
    from tongban.audit.services import append_entry

    user = actor if getattr(actor, "pk", None) else None
    label = (getattr(user, "real_name", "") or getattr(user, "username", "")) if user else "system"
    return append_entry(action=action, actor=user, actor_label=label, role=role, object_type=object_type,
                        object_id=object_id, region_code=region_code or "", subject_code=subject_code,
                        case_ref=case_ref, reason=reason, before=before, after=after)


def display_subject(code: str, kind: str = "") -> str:
    """ID numbers are masked (脱敏); USCCs are public register data and stay readable."""
    if kind == models.SubjectKind.ENTERPRISE:
        return code
    if kind == models.SubjectKind.PERSON:
        return mask(code)
    return mask(code) if not check_id_number(code) else code


# --- answer -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerField:
    name: str
    label: str
    standard_name: str | None
    value: Any
    code_label: str | None = None


@dataclass(frozen=True)
class Provenance:
    resource: str
    resource_name: str
    owner: str
    owner_uscc: str
    source: str
    updated_at: datetime | None
    retrieved_at: datetime


@dataclass(frozen=True)
class QueryAnswer:
    ref: str
    resource: str
    subject: str  # masked for a person
    fields: list[AnswerField]
    provenance: Provenance

    @property
    def values(self) -> dict[str, Any]:
        return {f.name: f.value for f in self.fields}

    @property
    def standard_values(self) -> dict[str, Any]:
        return {f.standard_name: f.value for f in self.fields if f.standard_name}

    def as_dict(self) -> dict:
        p = self.provenance
        return {
            "ref": self.ref, "resource": self.resource, "subject": self.subject,
            "fields": [{"name": f.name, "label": f.label, "standard_name": f.standard_name, "value": f.value,
                        "code_label": f.code_label} for f in self.fields],
            "provenance": {"resource": p.resource, "resource_name": p.resource_name, "owner": p.owner,
                           "owner_uscc": p.owner_uscc, "source": p.source,
                           "updated_at": p.updated_at.isoformat() if p.updated_at else None,
                           "retrieved_at": p.retrieved_at.isoformat()},
        }


# --- the attempt, filled in as the checks go, so that a refusal logs all that was known ----------------


@dataclass
class _Attempt:
    resource_code: str
    subject: str
    fields: list[str]
    purpose: str
    case_ref: str
    actor: Any
    on_behalf_of: Department | None
    resource: models.DataResource | None = None
    consumer: Department | None = None
    subject_kind: str = ""
    role: str = ""
    grant_id: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def actor_user(self):
        return self.actor if getattr(self.actor, "pk", None) and hasattr(self.actor, "has_role") else None

    def region_code(self) -> str:
        user = self.actor_user
        return (getattr(user, "region_id", None) or (self.consumer.region_id if self.consumer else "") or "")


def _write_log(attempt: _Attempt, *, outcome: str, rule: str = "", message: str = "",
               returned: list[str] | None = None) -> models.QueryLog:
    ref = uuid.uuid4()
    resource, consumer = attempt.resource, attempt.consumer
    owner = resource.owner if resource else None
    action = {"granted": "exchange.query", "refused": "exchange.query_refused",
              "failed": "exchange.query_failed"}[outcome]
    user = attempt.actor_user
    log = models.QueryLog.objects.create(
        ref=ref, outcome=outcome, rule=rule, message=message, resource=resource,
        resource_code=(resource.code if resource else attempt.resource_code or "")[:64], owner=owner,
        consumer=consumer, grant_id=attempt.grant_id, subject_code=attempt.subject[:32],
        subject_kind=attempt.subject_kind, fields=attempt.fields, returned_fields=returned or [],
        purpose=attempt.purpose, case_ref=attempt.case_ref[:64], actor=user,
        actor_label=(user.real_name or user.username) if user else "", role=attempt.role,
        region_code=attempt.region_code()[:6])
    # The audit append is the last step: it locks the chain head until commit.
    audit(action, actor=user, role=attempt.role, object_type="exchange.query", object_id=str(ref),
          region_code=attempt.region_code(), subject_code=attempt.subject[:32], case_ref=attempt.case_ref[:64],
          reason=attempt.purpose,
          after={"resource": log.resource_code, "owner": owner.uscc if owner else "",
                 "consumer": consumer.uscc if consumer else "", "fields": attempt.fields,
                 "returned": returned or [], "outcome": outcome, "rule": rule, "grant": attempt.grant_id})
    return log


def _log_refusal(attempt: _Attempt, exc: Exception, outcome: str = "refused") -> None:
    problems = getattr(exc, "problems", None) or ([exc.problem] if hasattr(exc, "problem") else [])
    rule = ",".join(p.rule for p in problems)[:64] or type(exc).__name__
    message = "\n".join(f"{p.zh} / {p.en}" for p in problems) or str(exc)
    with transaction.atomic():
        _write_log(attempt, outcome=outcome, rule=rule, message=message)


# --- checks -------------------------------------------------------------------------------------------


def _classify_subject(subject: str, kind: str) -> tuple[str, list[Problem]]:
    order = ["enterprise", "person"] if kind == models.SubjectKind.ENTERPRISE else ["person", "enterprise"]
    for candidate in order:
        bad = check_id_number(subject, "subject") if candidate == "person" else check_uscc(subject, "subject")
        if not bad:
            if kind not in (models.SubjectKind.ANY, candidate):
                wanted = "居民身份证号码" if kind == models.SubjectKind.PERSON else "统一社会信用代码"
                return candidate, [Problem("subject", "subject.kind",
                                           f"该数据资源按{wanted}查询，{display_subject(subject, candidate)} 不是{wanted}",
                                           f"this resource is queried by {kind} identifier; "
                                           f"{display_subject(subject, candidate)} is not one")]
            return candidate, []
    return "", [Problem("subject", "subject.invalid",
                        f"查询对象 {mask(subject)} 既不是有效的居民身份证号码（GB 11643），也不是有效的统一社会信用代码（GB 32100）",
                        f"subject {mask(subject)} is neither a valid ID number (GB 11643) nor a valid USCC (GB 32100)")]


def _require_basics(attempt: _Attempt) -> None:
    problems = []
    if not attempt.resource_code:
        problems.append(Problem("resource", "required", "必须指定数据资源", "a data resource is required"))
    if not attempt.subject:
        problems.append(Problem("subject", "required", "必须指定查询对象（居民身份证号码或统一社会信用代码）",
                                "a subject (ID number or USCC) is required"))
    if not attempt.fields:
        problems.append(Problem("fields", "required", "必须列出所需数据项", "list the fields you need"))
    if not attempt.purpose:
        problems.append(Problem("purpose", "required", "查询必须说明目的", "a query must state its purpose"))
    if not attempt.case_ref:
        problems.append(Problem("case_ref", "required", "查询必须关联办件编号", "a query must name its case reference"))
    elif len(attempt.case_ref) > 64:
        problems.append(Problem("case_ref", "too_long", "办件编号不能超过 64 个字符", "the case reference is too long"))
    if attempt.actor_user is None:
        problems.append(Problem("actor", "required", "查询必须有经办人", "a query needs an acting officer"))
    if problems:
        raise InvalidInput(problems)


def _represents(user, subject: str) -> bool:
    """The applicant themselves, an enterprise they legally represent, or one they hold a valid mandate
    (委托代办) for: checked at every query, so a revoked mandate stops the prefill at once."""
    from tongban.accounts.selectors import valid_mandates

    return (subject == user.id_number or user.represented_enterprises.filter(uscc=subject).exists()
            or valid_mandates(user).filter(principal__uscc=subject).exists())


def _authorise(attempt: _Attempt) -> None:
    """Fix the consumer department and the actor's role, or refuse."""
    user = attempt.actor_user
    if user.kind == "person":
        dept = attempt.on_behalf_of
        if dept is None or dept.kind != Department.Kind.GOVERNMENT_SERVICES:
            raise Forbidden(Problem("actor", "actor.not_staff", "申请人只能通过自动填报查询本人或本企业的数据",
                                    "an applicant may only prefill their own or their enterprise's data"))
        attempt.consumer, attempt.role = dept, "applicant"
        if not _represents(user, attempt.subject):
            raise Forbidden(Problem("subject", "subject.not_own", "申请人只能查询本人、其担任法定代表人或受托代办的企业的数据",
                                    "an applicant may only query their own data or that of an enterprise they represent"
                                    " or act for under a mandate"))
        return
    if user.department_id is None:
        raise Forbidden(Problem("actor", "actor.no_department", "经办人没有所属部门", "the acting officer has no department"))
    if attempt.on_behalf_of is not None and attempt.on_behalf_of.pk != user.department_id:
        raise Forbidden(Problem("on_behalf_of_department", "actor.other_department",
                                "经办人只能代表本部门查询", "an officer may only query for their own department"))
    attempt.consumer = user.department
    if user.kind == "system":
        attempt.role = "system"
        return
    attempt.role = next((str(r) for r in QUERY_ROLES if user.has_role(r)), "")
    if user.kind != "staff" or not attempt.role:
        raise Forbidden(Problem("actor", "actor.role", "只有综合窗口人员或审批人员可以查询共享数据",
                                "only window clerks and approval officers may query shared data"))


def _grant_problem(resource: models.DataResource, consumer: Department) -> Problem:
    latest = selectors.latest_grant(resource, consumer.pk)
    name = f"{resource.name}（{resource.code}）"
    if latest is not None and latest.status == models.Grant.Status.GRANTED and latest.valid_until <= timezone.now():
        return Problem("resource", "grant.expired", f"{consumer.name} 对数据资源 {name} 的授权已于 "
                       f"{timezone.localtime(latest.valid_until):%Y-%m-%d %H:%M} 到期",
                       f"the grant of {resource.code} to {consumer.uscc} expired on {latest.valid_until.isoformat()}")
    if latest is not None and latest.status == models.Grant.Status.GRANTED:
        return Problem("resource", "grant.not_yet", f"{consumer.name} 对数据资源 {name} 的授权尚未生效",
                       f"the grant of {resource.code} to {consumer.uscc} is not in force yet")
    if latest is not None and latest.status == models.Grant.Status.REVOKED:
        return Problem("resource", "grant.revoked", f"{consumer.name} 对数据资源 {name} 的授权已被撤销",
                       f"the grant of {resource.code} to {consumer.uscc} has been revoked")
    if latest is not None and latest.status == models.Grant.Status.REQUESTED:
        return Problem("resource", "grant.pending", f"{consumer.name} 对数据资源 {name} 的授权申请尚待提供部门审批",
                       f"the grant request of {consumer.uscc} for {resource.code} awaits the owner's approval")
    return Problem("resource", "grant.none", f"{consumer.name} 没有数据资源 {name} 的共享授权（默认拒绝）",
                   f"{consumer.uscc} holds no grant for resource {resource.code} (deny by default)")


def _check(attempt: _Attempt) -> list[models.ResourceField]:
    _require_basics(attempt)
    _authorise(attempt)  # first, so that every later refusal is logged with the consumer department
    attempt.resource = resource = selectors.get_resource(attempt.resource_code)
    if resource.sharing_type == models.SharingType.NOT_SHARED:
        raise InvalidInput(Problem("resource", "resource.not_shared",
                                   f"数据资源 {resource.name}（{resource.code}）为不予共享，不能查询",
                                   f"data resource {resource.code} is not shared (不予共享) and cannot be queried"))
    attempt.subject_kind, problems = _classify_subject(attempt.subject, resource.subject_kind)
    if problems:
        raise InvalidInput(problems)
    by_name = {f.name: f for f in resource.fields.all()}
    unknown = [n for n in attempt.fields if n not in by_name]
    if unknown:
        raise InvalidInput(Problem("fields", "fields.unknown", f"数据资源 {resource.code} 没有数据项：{'、'.join(unknown)}",
                                   f"resource {resource.code} has no field(s): {', '.join(unknown)}"))
    if attempt.consumer.pk == resource.owner_id:
        return [by_name[n] for n in attempt.fields]  # an owner reads its own data (still logged)
    grants = selectors.granted_field_ids(resource, attempt.consumer.pk)
    if not grants:
        raise InvalidInput(_grant_problem(resource, attempt.consumer))
    granted_ids = set().union(*grants.values())
    refused = [n for n in attempt.fields if by_name[n].pk not in granted_ids]
    if refused:
        labels = "、".join(f"{by_name[n].label}（{n}）" for n in refused)
        raise InvalidInput(Problem("fields", "fields.not_granted",
                                   f"{attempt.consumer.name} 未获授权查询数据资源 {resource.code} 的数据项：{labels}",
                                   f"{attempt.consumer.uscc} is not granted field(s) {', '.join(refused)} of {resource.code}"))
    wanted_ids = {by_name[n].pk for n in attempt.fields}
    attempt.grant_id = max(sorted(grants), key=lambda gid: len(grants[gid] & wanted_ids))
    return [by_name[n] for n in attempt.fields]


# --- query ------------------------------------------------------------------------------------------


def query(*, resource_code: str, subject: str, fields: list[str], purpose: str, case_ref: str, actor,
          on_behalf_of_department: Department | None = None) -> QueryAnswer:
    """Ask a resource for some fields about one subject, for a purpose and a case, as an acting officer.

    Returns only the requested (and granted) fields, each with its standard name, and the provenance.
    Raises InvalidInput / NotFound / Forbidden (refused) or AdapterUnavailable (failed); all are logged.
    """
    attempt = _Attempt(resource_code=(resource_code or "").strip(), subject=(subject or "").strip().upper(),
                       fields=list(dict.fromkeys(f.strip() for f in (fields or []) if f and f.strip())),
                       purpose=(purpose or "").strip(), case_ref=(case_ref or "").strip(), actor=actor,
                       on_behalf_of=on_behalf_of_department)
    try:
        wanted = _check(attempt)
        resource = attempt.resource
        context = FetchContext(purpose=attempt.purpose, case_ref=attempt.case_ref, consumer_uscc=attempt.consumer.uscc)
        record = adapter_for(resource).fetch(resource, attempt.subject, attempt.fields, context)
        if record is None:
            raise SubjectNotFound(Problem(
                "subject", "subject.unknown",
                f"数据资源 {resource.name}（{resource.code}）中没有 {display_subject(attempt.subject, attempt.subject_kind)} 的记录",
                f"resource {resource.code} holds no record of {display_subject(attempt.subject, attempt.subject_kind)}"))
    except (InvalidInput, NotFound) as exc:
        _log_refusal(attempt, exc)
        raise
    except AdapterUnavailable as exc:
        _log_refusal(attempt, exc, outcome="failed")
        raise

    standards = vocabulary.standards_for(resource, wanted)
    coded = vocabulary.translate_codes(resource, record.values, standards)
    answer_fields = []
    for f in wanted:
        std = standards.get(f.name)
        value, code_label = coded.get(f.name, (record.values.get(f.name), None))
        answer_fields.append(AnswerField(f.name, f.label, std.name if std else None, value, code_label))
    with transaction.atomic():
        log = _write_log(attempt, outcome="granted", returned=[f.name for f in wanted])
    owner = resource.owner
    return QueryAnswer(
        ref=str(log.ref), resource=resource.code,
        subject=display_subject(attempt.subject, attempt.subject_kind), fields=answer_fields,
        provenance=Provenance(resource.code, resource.name, owner.name, owner.uscc,
                              record.source or resource.adapter, record.updated_at, log.at))


# --- prefill ------------------------------------------------------------------------------------------


def platform_department(actor) -> Department:
    """The consumer for prefill on an applicant's behalf: `settings.TONGBAN_EXCHANGE_PLATFORM_DEPARTMENT`
    (a USCC) if set, else the government-services department (政务服务和大数据管理) nearest the applicant's
    region, else any such department."""
    qs = Department.objects.filter(kind=Department.Kind.GOVERNMENT_SERVICES).select_related("region")
    configured = getattr(settings, "TONGBAN_EXCHANGE_PLATFORM_DEPARTMENT", "")
    if configured:
        dept = qs.filter(uscc=configured).first()
        if dept is not None:
            return dept
    lineage = vocabulary.region_lineage(getattr(actor, "region_id", None))
    candidates = list(qs.filter(region_id__in=lineage)) if lineage else []
    if candidates:
        return min(candidates, key=lambda d: (lineage.index(d.region_id), d.pk))
    dept = qs.order_by("pk").first()
    if dept is None:
        raise InvalidInput(Problem("consumer", "platform.missing", "平台没有配置政务服务和大数据管理部门，不能自动填报",
                                   "no government-services department is configured, so forms cannot be prefilled"))
    return dept


def prefill(*, subject: str, standard_fields: list[str], actor, case_ref: str,
            purpose: str = PREFILL_PURPOSE) -> dict[str, dict]:
    """Values for a form's standard fields about one subject, each marked with its source.

    The consumer is the actor's own department for staff, and the platform's government-services
    department for an applicant (who may only prefill their own or their enterprise's data). For each
    resource that supplies some of the fields and on which the consumer holds a grant, one query goes
    through `query()` (so it is checked and logged like any other). Fields nobody supplies, or that are
    not granted, or whose source does not know the subject or cannot answer, are absent.
    """
    subject = (subject or "").strip().upper()
    user = actor if getattr(actor, "pk", None) else None
    problems = []
    if not (case_ref or "").strip():
        problems.append(Problem("case_ref", "required", "自动填报必须关联办件编号", "prefill must name its case reference"))
    if user is None:
        problems.append(Problem("actor", "required", "自动填报必须有经办人或申请人", "prefill needs an actor"))
    kind, subject_problems = _classify_subject(subject, models.SubjectKind.ANY)
    problems += subject_problems
    if problems:
        raise InvalidInput(problems)
    on_behalf = platform_department(user) if user.kind == "person" else None
    check = _Attempt(resource_code="(prefill)", subject=subject, fields=list(standard_fields or []),
                     purpose=(purpose or "").strip(), case_ref=case_ref.strip(), actor=user, on_behalf_of=on_behalf,
                     subject_kind=kind)
    try:
        _authorise(check)
    except Forbidden as exc:
        _log_refusal(check, exc)
        raise
    consumer = check.consumer

    plan: dict[str, list[str]] = {}
    standard_of: dict[tuple[str, str], str] = {}
    claimed: set[str] = set()
    suppliers = [(f, std) for f, std in vocabulary.suppliers(standard_fields)
                 if f.resource.subject_kind in (models.SubjectKind.ANY, kind)]
    granted_cache: dict[int, set[int]] = {}
    for f, std in suppliers:
        if std in claimed:
            continue
        resource = f.resource
        if resource.pk not in granted_cache:
            grants = selectors.granted_field_ids(resource, consumer.pk)
            granted_cache[resource.pk] = set().union(*grants.values()) if grants else set()
        if f.pk not in granted_cache[resource.pk] and resource.owner_id != consumer.pk:
            continue
        plan.setdefault(resource.code, []).append(f.name)
        standard_of[(resource.code, f.name)] = std
        claimed.add(std)

    out: dict[str, dict] = {}
    for code, names in plan.items():
        try:
            answer = query(resource_code=code, subject=subject, fields=names, purpose=purpose, case_ref=case_ref,
                           actor=user, on_behalf_of_department=on_behalf)
        except Forbidden:
            raise
        except (InvalidInput, NotFound, AdapterUnavailable):
            continue  # logged by query(); this source simply supplies nothing
        p = answer.provenance
        for f in answer.fields:
            std = standard_of[(code, f.name)]
            if f.value in (None, ""):
                continue
            item = {"value": f.value, "source": p.owner, "resource": p.resource,
                    "updated_at": p.updated_at.isoformat() if p.updated_at else None, "query_ref": answer.ref}
            if f.code_label:
                item["label"] = f.code_label
            out[std] = item
    return out
