"""Helpers shared by the case services: the trail, notices, messages, the business date, and the
access re-check (`require_case` / `require_subcase` from ..access: the same predicates the routes use)."""

from __future__ import annotations

import secrets
from datetime import date

from django.utils import timezone

from tongban.accounts import roles
from tongban.audit.services import append_entry
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from tongban.core.system import is_system

from .. import notices
from ..access import CaseAction, require_case, require_subcase  # noqa: F401 - the services' re-check
from ..models import Case, Message, Notice, SubCase

REMEDY = ("如对本决定不服，可以自收到本通知之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。")


def today(on: date | None) -> date:
    return on or timezone.localdate()


def require_reason(reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(Problem(field, "required", "请填写理由", "a reason is required"))
    if len(text) > 2000:
        raise InvalidInput(Problem(field, "max_length", "理由不能超过 2000 字", "the reason is limited to 2000 characters"))
    return text


def snapshot(obj: Case | SubCase) -> dict:
    if isinstance(obj, SubCase):
        return {"status": obj.status, "step": obj.step, "hold": obj.hold,
                "assignee": obj.assignee.get_username() if obj.assignee_id else None,
                "statutory_due": _iso(obj.statutory_due), "promised_due": _iso(obj.promised_due)}
    return {"status": obj.status, "accepted_on": _iso(obj.accepted_on)}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def role_of(actor) -> str:
    """The role named in the trail: the platform ("system"), a department's system, the applicant's side,
    or the staff member's first role (roles.TRAIL_ORDER)."""
    if actor is None or is_system(actor):
        return roles.SYSTEM
    if getattr(actor, "kind", "") == "system":
        return roles.DEPARTMENT_SYSTEM
    if getattr(actor, "kind", "") != "staff":
        return roles.APPLICANT
    return next((str(role) for role in roles.TRAIL_ORDER if actor.has_role(role)), "staff")


def trail(action: str, case: Case, *, actor=None, subcase: SubCase | None = None, reason: str = "",
          before: dict | None = None, after: dict | None = None) -> None:
    """One entry in the hash-chained trail (全过程留痕). Call after the rows it describes are written."""
    append_entry(action=f"case.{action}", actor=None if is_system(actor) else actor, role=role_of(actor),
                 object_type="subcase" if subcase else "case",
                 object_id=f"{case.number}/{subcase.key}" if subcase else case.number,
                 region_code=_region_of(case, subcase),
                 subject_code=case.applicant_code, case_ref=case.number, reason=reason[:1000],
                 before=before, after=after)


def _region_of(case: Case, subcase: SubCase | None) -> str:
    if subcase is None:
        return case.region_id
    if subcase.department_id:
        return subcase.department.region_id
    return subcase.remote_region or case.region_id  # a remote sub-case: the handling node's region


def tell(case: Case, kind: str, text: str) -> Message:
    return Message.objects.create(case=case, kind=kind, text=text)


def issue_notice(case: Case, kind: str, *, title: str, paragraphs: list[str], rows: list[tuple[str, str]] | None = None,
                 issuer: str, on: date, actor=None, subcase: SubCase | None = None) -> Notice:
    """A written notice with frozen content, numbered by the case's counter and signed by the issuing
    department's key; its token leads to the public verification page."""
    signer = notices.signer_for(case, subcase)
    content = {"title": title, "recipient": case.applicant_name, "case": case.number, "case_title": case.title,
               "paragraphs": paragraphs, "rows": [list(r) for r in (rows or [])], "issuer": issuer,
               "issued_on": on.isoformat()}
    notice = Notice(case=case, subcase=subcase, kind=kind, number=notices.next_number(case, kind), issued_on=on,
                    issued_by=actor, issuer_name=issuer, content=content, token=secrets.token_urlsafe(18)[:24])
    notices.sign(notice, signer)
    notice.save()
    return notice


def lock_case(case: Case | int) -> Case:
    """Lock the case row only (its region rows are read, not locked): the first lock of every case service."""
    pk = case.pk if isinstance(case, Case) else case
    try:
        return Case.objects.select_for_update(of=("self",)).select_related("region", "intake_region").get(pk=pk)
    except Case.DoesNotExist:
        raise NotFound("case") from None


def lock_subcase(subcase: SubCase | int, *, case: Case | None = None) -> SubCase:
    """Lock one sub-case row after its case (the lock order: case, then sub-cases). Pass `case` when
    this transaction already holds its lock; otherwise the case id is read unlocked and the case is
    locked first. Department, workflow and item rows are read, never locked."""
    pk = subcase.pk if isinstance(subcase, SubCase) else subcase
    if case is None:
        case_id = SubCase.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        if case_id is None:
            raise NotFound("subcase")
        case = lock_case(case_id)
    try:
        sub = (SubCase.objects.select_for_update(of=("self",))
               .select_related("department", "workflow", "item_version__item").get(pk=pk, case_id=case.pk))
    except SubCase.DoesNotExist:
        raise NotFound("subcase") from None
    sub.case = case
    return sub


def lock_subcases(case: Case, **filters) -> list[SubCase]:
    """Lock the case's sub-cases matching `filters`, in position order, after the case (already locked)."""
    subs = list(case.subcases.filter(**filters).select_for_update(of=("self",))
                .select_related("department", "workflow", "item_version__item").order_by("position"))
    for sub in subs:
        sub.case = case
    return subs


def require_status(case: Case, *allowed: str) -> None:
    if case.status not in allowed:
        names = "、".join(str(Case.Status(s).label) for s in allowed)
        raise Conflict(f"办件当前状态为“{case.get_status_display()}”，此操作仅适用于：{names}",
                       f"the case is {case.status}; this needs {', '.join(allowed)}", rule="case.status")


def require_system(actor) -> None:
    """Work only the platform does (deemed acceptance): the sentinel of tongban.core.system, never a user."""
    if not is_system(actor):
        raise Forbidden("此操作只能由系统按法定期限自动执行", "only the platform performs this, on its legal deadline",
                        rule="actor.system")
