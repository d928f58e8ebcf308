"""REST API of the data-sharing exchange (数据共享交换), mounted at /api/v1/exchange. Thin: parse, call one
service or selector, render. A signed-in session or a department system's `exchange:query` bearer token;
staff endpoints answer 403 to applicants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema, Status

from tongban.api.auth import require_scope
from tongban.core.errors import Problem

from . import models, selectors, services
from .adapters import AdapterUnavailable
from .querying import Forbidden, display_subject

# Signed-in users, or department systems with an `exchange:query` token (they query as their department,
# role "system"; grant decisions stay with the department's staff).
router = Router(tags=["exchange"], auth=require_scope("exchange:query"))


# --- schemas ------------------------------------------------------------------------------------------


class ProblemOut(Schema):
    field: str
    rule: str
    zh: str
    en: str
    message: str


class ProblemsOut(Schema):
    detail: list[ProblemOut]


class FieldOut(Schema):
    name: str
    label: str
    type: str
    sensitivity: str
    standard_name: str | None


class ResourceOut(Schema):
    code: str
    name: str
    owner: str
    owner_uscc: str
    subject_kind: str
    sharing_type: Literal["unconditional", "conditional", "not_shared"]
    sharing_type_label: str
    legal_basis: str
    update_frequency: str
    adapter: str
    fields: list[FieldOut]


class GrantIn(Schema):
    resource: str = Field(..., description="资源代码 resource code")
    fields: list[str] = Field(..., description="申请的数据项 field names")
    purpose: str = Field(..., description="使用目的 purpose")
    valid_from: datetime | None = Field(None, description="生效时间（带时区）; default now")
    valid_until: datetime = Field(..., description="失效时间（带时区）")


class ReasonIn(Schema):
    reason: str = ""


class GrantOut(Schema):
    id: int
    resource: str
    owner: str
    consumer: str
    consumer_uscc: str
    fields: list[str]
    purpose: str
    status: str
    status_label: str
    valid_from: datetime
    valid_until: datetime
    decision_reason: str
    revoke_reason: str


class QueryIn(Schema):
    resource: str = Field(..., description="资源代码 resource code")
    subject: str = Field(..., description="居民身份证号码或统一社会信用代码 ID number or USCC")
    fields: list[str]
    purpose: str = Field(..., description="查询目的（必填） purpose, required")
    case_ref: str = Field(..., description="办件编号（必填） case reference, required")


class AnswerFieldOut(Schema):
    name: str
    label: str
    standard_name: str | None
    value: Any
    code_label: str | None


class ProvenanceOut(Schema):
    resource: str
    resource_name: str
    owner: str
    owner_uscc: str
    source: str
    updated_at: str | None
    retrieved_at: str


class AnswerOut(Schema):
    ref: str
    resource: str
    subject: str
    fields: list[AnswerFieldOut]
    provenance: ProvenanceOut


class PrefillIn(Schema):
    subject: str
    standard_fields: list[str]
    case_ref: str
    purpose: str = "自动填报 form prefill"


class LogItemOut(Schema):
    ref: str
    at: datetime
    subject: str
    resource: str
    resource_name: str
    owner: str
    consumer: str
    fields: list[str]
    purpose: str
    case_ref: str
    outcome: str
    outcome_label: str
    rule: str
    by_self: bool
    role: str


class LogOut(Schema):
    items: list[LogItemOut]


# --- helpers ------------------------------------------------------------------------------------------


def _problems(problems: list[Problem], status: int) -> JsonResponse:
    return JsonResponse({"detail": [p.as_dict() for p in problems]}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def _call(fn: Callable, **kwargs):
    """Run a service; map the exchange's own refusals to 403 / 404 / 503 with their bilingual problem.
    (InvalidInput and Conflict go to the API's handlers: 422 / 409.)"""
    try:
        return fn(**kwargs)
    except Forbidden as exc:
        return _problems(exc.problems, 403)
    except selectors.ExchangeNotFound as exc:
        return _problems([exc.problem], 404)
    except AdapterUnavailable as exc:
        return _problems([exc.problem], 503)


def _staff(request: HttpRequest) -> JsonResponse | None:
    """Staff of a department, or a department system (bearer token) acting as its department."""
    if getattr(request.user, "kind", "") not in ("staff", "system") or request.user.department_id is None:
        return _problems([Problem("auth", "staff_only", "仅限部门工作人员", "staff of a department only")], 403)
    return None


def _resource_out(r: models.DataResource) -> dict:
    return {"code": r.code, "name": r.name, "owner": r.owner.name, "owner_uscc": r.owner.uscc,
            "subject_kind": r.subject_kind, "sharing_type": r.sharing_type,
            "sharing_type_label": str(r.get_sharing_type_display()), "legal_basis": r.legal_basis,
            "update_frequency": r.update_frequency, "adapter": r.adapter,
            "fields": [{"name": f.name, "label": f.label, "type": f.type, "sensitivity": f.sensitivity,
                        "standard_name": f.standard.name if f.standard_id else None} for f in r.fields.all()]}


def _grant_out(g: models.Grant) -> dict:
    return {"id": g.pk, "resource": g.resource.code, "owner": g.resource.owner.name, "consumer": g.consumer.name,
            "consumer_uscc": g.consumer.uscc, "fields": sorted(f.name for f in g.fields.all()), "purpose": g.purpose,
            "status": g.status, "status_label": str(g.get_status_display()), "valid_from": g.valid_from,
            "valid_until": g.valid_until, "decision_reason": g.decision_reason, "revoke_reason": g.revoke_reason}


def _log_items(logs, user) -> dict:
    return {"items": [{
        "ref": str(q.ref), "at": q.at, "subject": display_subject(q.subject_code, q.subject_kind),
        "resource": q.resource_code, "resource_name": q.resource.name if q.resource_id else "",
        "owner": q.owner.name if q.owner_id else "", "consumer": q.consumer.name if q.consumer_id else "",
        "fields": selectors.field_labels(q), "purpose": q.purpose, "case_ref": q.case_ref, "outcome": q.outcome,
        "outcome_label": str(q.get_outcome_display()), "rule": q.rule, "by_self": q.actor_id == user.pk,
        "role": q.role} for q in logs]}


# --- endpoints ----------------------------------------------------------------------------------------


@router.get("/resources", response=list[ResourceOut], summary="数据资源目录 The catalogue of shared data resources")
def list_resources(request):
    return [_resource_out(r) for r in selectors.resources()]


@router.get("/grants", response={200: list[GrantOut], 403: ProblemsOut},
            summary="本部门的共享授权 Grants the user's department holds (consumer) or decides (owner)")
def list_grants(request, side: Literal["both", "consumer", "owner"] = "both"):
    if denied := _staff(request):
        return denied
    return [_grant_out(g) for g in selectors.grants_for_department(request.user.department_id, side=side)[:500]]


@router.post("/grants", response={201: GrantOut, 403: ProblemsOut, 404: ProblemsOut, 422: ProblemsOut},
             summary="申请共享授权 Request a grant (unconditional: granted at once; conditional: owner approves)")
def request_grant(request, payload: GrantIn):
    if denied := _staff(request):
        return denied
    result = _call(services.grant_request, resource_code=payload.resource, consumer=request.user.department,
                   fields=payload.fields, purpose=payload.purpose, valid_from=payload.valid_from,
                   valid_until=payload.valid_until, actor=request.user)
    return result if isinstance(result, JsonResponse) else Status(201, _grant_out(result))


def _decision(request, fn, grant_id: int, reason: str):
    if getattr(request.user, "kind", "") != "staff" or request.user.department_id is None:
        # A grant is an object: someone who may not see it learns nothing about it (404, not 403).
        return _problems([Problem("id", "not_found", "对象不存在或无权访问", "not found")], 404)
    result = _call(fn, grant_id=grant_id, actor=request.user, reason=reason)
    return result if isinstance(result, JsonResponse) else _grant_out(result)


_DECISION_RESPONSES = {200: GrantOut, 403: ProblemsOut, 404: ProblemsOut, 409: ProblemsOut, 422: ProblemsOut}


@router.post("/grants/{grant_id}/approve", response=_DECISION_RESPONSES,
             summary="批准授权申请（提供部门） Approve a requested grant (owner department)")
def approve_grant(request, grant_id: int, payload: ReasonIn):
    return _decision(request, services.grant_approve, grant_id, payload.reason)


@router.post("/grants/{grant_id}/deny", response=_DECISION_RESPONSES,
             summary="拒绝授权申请（提供部门） Deny a requested grant (owner department; reason required)")
def deny_grant(request, grant_id: int, payload: ReasonIn):
    return _decision(request, services.grant_deny, grant_id, payload.reason)


@router.post("/grants/{grant_id}/revoke", response=_DECISION_RESPONSES,
             summary="撤销授权 Revoke a grant (owner) or give it up (consumer); reason required")
def revoke_grant(request, grant_id: int, payload: ReasonIn):
    return _decision(request, services.grant_revoke, grant_id, payload.reason)


@router.post("/query", response={200: AnswerOut, 403: ProblemsOut, 404: ProblemsOut, 422: ProblemsOut,
                                 503: ProblemsOut},
             summary="查询共享数据 Query a resource about one subject (purpose and case required; logged)")
def query(request, payload: QueryIn):
    if denied := _staff(request):
        return denied
    result = _call(services.query, resource_code=payload.resource, subject=payload.subject, fields=payload.fields,
                   purpose=payload.purpose, case_ref=payload.case_ref, actor=request.user)
    return result if isinstance(result, JsonResponse) else result.as_dict()


@router.post("/prefill", response={200: dict[str, dict[str, Any]], 403: ProblemsOut, 422: ProblemsOut},
             summary="自动填报 Prefill standard form fields (applicant: own or own enterprise's data only)")
def prefill(request, payload: PrefillIn):
    return _call(services.prefill, subject=payload.subject, standard_fields=payload.standard_fields,
                 actor=request.user, case_ref=payload.case_ref, purpose=payload.purpose)


@router.get("/log", response={200: LogOut, 403: ProblemsOut},
            summary="本部门查询日志 Queries the department made (consumer) or served (owner)")
def department_log(request, side: Literal["both", "consumer", "owner"] = "both", limit: int = 100):
    if denied := _staff(request):
        return denied
    logs = selectors.query_log_for_department(request.user.department_id, side=side)[:max(1, min(limit, 500))]
    return _log_items(logs, request.user)


@router.get("/my-queries", response=LogOut,
            summary="谁查询了我的数据 Every query about me (ID number) and the enterprises I represent (USCC)")
def my_queries(request, limit: int = 100):
    logs = selectors.queries_about_user(request.user)[:max(1, min(limit, 500))]
    return _log_items(logs, request.user)
