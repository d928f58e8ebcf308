"""Writes of the exchange: grants (request, approve, deny, revoke), and the query and prefill paths.

Grant rules (deny by default):
- 无条件共享 (unconditional): granted on request, for the fields, purpose and period asked, unless a field
  is graded 高度敏感 (highly sensitive): then the owner approves as for a conditional resource.
- 有条件共享 (conditional): requested, then approved or denied by an officer or administrator of the owner.
- 不予共享 (not shared): cannot be requested at all.
- A grant may be revoked by the owner or given up by the consumer; a grant outside its period denies.
Each call is one transaction and writes an audit entry in it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tongban.core.codes import mask
from tongban.core.errors import Conflict, InvalidInput, Problem
from tongban.core.transactions import service
from tongban.regions.models import Department

from . import models, selectors
from .access import GrantAction, access_grant_for, grant_role_for
from .access import require_grant_role as _require_grant_role
from .querying import Forbidden, QueryAnswer, audit, prefill, query  # noqa: F401 - the service surface


def _grant_snapshot(grant: models.Grant, field_names: list[str] | None = None) -> dict:
    return {
        "resource": grant.resource.code, "consumer": grant.consumer.uscc, "owner": grant.resource.owner.uscc,
        "fields": field_names if field_names is not None else sorted(f.name for f in grant.fields.all()),
        "purpose": grant.purpose, "status": grant.status,
        "valid_from": grant.valid_from.isoformat(), "valid_until": grant.valid_until.isoformat(),
    }


@service
def grant_request(*, resource_code: str, consumer: Department, fields: list[str], purpose: str,
                  valid_until: datetime, actor, valid_from: datetime | None = None) -> models.Grant:
    """A consumer department asks for some fields of a resource, for a purpose and a period."""
    resource = selectors.get_resource(resource_code)
    role = _require_grant_role(actor, consumer.pk, side_zh="使用部门", side_en="consumer department")
    problems: list[Problem] = []
    if resource.sharing_type == models.SharingType.NOT_SHARED:
        reason = resource.not_shared_reason or resource.legal_basis
        raise InvalidInput(Problem(
            "resource", "resource.not_shared",
            f"数据资源 {resource.name}（{resource.code}）为不予共享，不能申请授权" + (f"：{reason}" if reason else ""),
            f"data resource {resource.code} is not shared (不予共享) and cannot be granted"
            + (f": {reason}" if reason else "")))
    if resource.owner_id == consumer.pk:
        problems.append(Problem("consumer", "consumer.owner", "提供部门使用本部门的数据无需授权",
                                "the owner department needs no grant for its own data"))
    if not (purpose or "").strip():
        problems.append(Problem("purpose", "required", "必须说明使用目的", "a purpose is required"))
    known = {f.name: f for f in resource.fields.all()}
    wanted = list(dict.fromkeys(fields or []))
    if not wanted:
        problems.append(Problem("fields", "required", "至少选择一个数据项", "choose at least one field"))
    unknown = [name for name in wanted if name not in known]
    if unknown:
        problems.append(Problem("fields", "fields.unknown", f"数据资源 {resource.code} 没有数据项：{'、'.join(unknown)}",
                                f"resource {resource.code} has no field(s): {', '.join(unknown)}"))
    now = timezone.now()
    valid_from = valid_from or now
    for name, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if value is None or timezone.is_naive(value):
            problems.append(Problem(name, "datetime.aware", "时间必须带时区", "the time must carry a time zone"))
    if not problems and valid_until <= valid_from:
        problems.append(Problem("valid_until", "period.order", "失效时间必须晚于生效时间",
                                "the end of the period must be after its start"))
    if not problems and valid_until <= now:
        problems.append(Problem("valid_until", "period.past", "失效时间已过", "the period has already ended"))
    if problems:
        raise InvalidInput(problems)

    # 无条件共享 is granted on request, except fields graded 高度敏感 (highly sensitive), which the owner
    # approves as for 有条件共享.
    unconditional = resource.sharing_type == models.SharingType.UNCONDITIONAL and not any(
        known[name].sensitivity == models.Sensitivity.HIGHLY_SENSITIVE for name in wanted)
    grant = models.Grant(resource=resource, consumer=consumer, purpose=purpose.strip(), valid_from=valid_from,
                         valid_until=valid_until, requested_by=actor, requested_at=now)
    if unconditional:
        grant.status = models.Grant.Status.GRANTED
        grant.decided_at = now
        grant.decision_reason = "无条件共享，申请即授权 / unconditional resource: granted on request"
    grant.full_clean()
    grant.save()
    grant.fields.set([known[name] for name in wanted])
    audit("exchange.grant_granted" if unconditional else "exchange.grant_requested", actor=actor, role=role,
          object_type="exchange.grant", object_id=str(grant.pk), region_code=consumer.region_id,
          reason=purpose.strip(), after=_grant_snapshot(grant, wanted))
    return grant


@service
def _decide(*, grant_id: int, actor, approve: bool, reason: str) -> models.Grant:
    grant = access_grant_for(actor, grant_id)
    role = grant_role_for(actor, grant, GrantAction.DECIDE)
    grant = models.Grant.objects.select_for_update(of=("self",)).select_related("resource__owner", "consumer").get(pk=grant.pk)
    if grant.status != models.Grant.Status.REQUESTED:
        raise Conflict(f"该授权当前状态为“{grant.get_status_display()}”，不能再审批",
                       f"the grant is {grant.status}; only a requested grant can be decided")
    if not approve and not (reason or "").strip():
        raise InvalidInput(Problem("reason", "required", "拒绝授权必须说明理由", "a denial needs a reason"))
    before = _grant_snapshot(grant)
    grant.status = models.Grant.Status.GRANTED if approve else models.Grant.Status.DENIED
    grant.decided_by, grant.decided_at, grant.decision_reason = actor, timezone.now(), (reason or "").strip()
    grant.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit("exchange.grant_approved" if approve else "exchange.grant_denied", actor=actor, role=role,
          object_type="exchange.grant", object_id=str(grant.pk), region_code=grant.resource.owner.region_id,
          reason=grant.decision_reason, before=before, after=_grant_snapshot(grant))
    return grant


def grant_approve(*, grant_id: int, actor, reason: str = "") -> models.Grant:
    """The owner department approves a requested grant of a conditional resource (有条件共享)."""
    return _decide(grant_id=grant_id, actor=actor, approve=True, reason=reason)


def grant_deny(*, grant_id: int, actor, reason: str) -> models.Grant:
    return _decide(grant_id=grant_id, actor=actor, approve=False, reason=reason)


@service
def grant_revoke(*, grant_id: int, actor, reason: str) -> models.Grant:
    """The owner revokes, or the consumer gives up, a granted (or still requested) grant."""
    if not (reason or "").strip():
        raise InvalidInput(Problem("reason", "required", "撤销授权必须说明理由", "a revocation needs a reason"))
    grant = access_grant_for(actor, grant_id)
    role = grant_role_for(actor, grant, GrantAction.REVOKE)
    grant = models.Grant.objects.select_for_update(of=("self",)).select_related("resource__owner", "consumer").get(pk=grant.pk)
    if grant.status not in (models.Grant.Status.GRANTED, models.Grant.Status.REQUESTED):
        raise Conflict(f"该授权当前状态为“{grant.get_status_display()}”，不能撤销",
                       f"the grant is {grant.status}; it cannot be revoked")
    before = _grant_snapshot(grant)
    grant.status = models.Grant.Status.REVOKED
    grant.revoked_by, grant.revoked_at, grant.revoke_reason = actor, timezone.now(), reason.strip()
    grant.save(update_fields=["status", "revoked_by", "revoked_at", "revoke_reason"])
    audit("exchange.grant_revoked", actor=actor, role=role, object_type="exchange.grant",
          object_id=str(grant.pk), region_code=actor.region_id or grant.consumer.region_id,
          reason=grant.revoke_reason, before=before, after=_grant_snapshot(grant))
    return grant


def describe_subject(code: str) -> str:
    return mask(code) if len(code or "") == 18 and code[:17].isdigit() else (code or "")
