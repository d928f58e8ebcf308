"""Helpers shared by the case services: the trail, notices, messages, roles and the business date."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date

from django.utils import timezone

from tongban.audit.services import append_entry
from tongban.core.errors import Conflict, InvalidInput, NotFound, Problem

from ..models import Case, Message, Notice, SubCase
from .parties import check_may_file_for

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
    if actor is None:
        return "system"
    if getattr(actor, "kind", "") != "staff":
        return "applicant"
    for role in ("clerk", "officer", "supervisor", "administrator", "auditor"):
        if actor.has_role(role):
            return role
    return "staff"


def trail(action: str, case: Case, *, actor=None, subcase: SubCase | None = None, reason: str = "",
          before: dict | None = None, after: dict | None = None) -> None:
    """One entry in the hash-chained trail (全过程留痕). Call after the rows it describes are written."""
    append_entry(action=f"case.{action}", actor=actor, role=role_of(actor),
                 object_type="subcase" if subcase else "case",
                 object_id=f"{case.number}/{subcase.key}" if subcase else case.number,
                 region_code=subcase.department.region_id if subcase else case.region_id,
                 subject_code=case.applicant_code, case_ref=case.number, reason=reason[:1000],
                 before=before, after=after)


def tell(case: Case, kind: str, text: str) -> Message:
    return Message.objects.create(case=case, kind=kind, text=text)


_NOTICE_CODES = {"one_time": "BZ", "acceptance": "SL", "refusal": "BSL", "correction": "BZ", "special": "TB",
                 "extension": "YC", "decision": "JD", "cancellation": "ZZ", "withdrawal": "CH", "delivery": "CJ"}


def issue_notice(case: Case, kind: str, *, title: str, paragraphs: list[str], rows: list[tuple[str, str]] | None = None,
                 issuer: str, on: date, actor=None, subcase: SubCase | None = None) -> Notice:
    """A written notice with frozen content; its token leads to the public verification page."""
    seq = Notice.objects.filter(case=case).count() + 1
    content = {"title": title, "recipient": case.applicant_name, "case": case.number, "case_title": case.title,
               "paragraphs": paragraphs, "rows": [list(r) for r in (rows or [])], "issuer": issuer,
               "issued_on": on.isoformat()}
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Notice.objects.create(
        case=case, subcase=subcase, kind=kind, number=f"{case.number}-{_NOTICE_CODES[kind]}{seq:02d}",
        issued_on=on, issued_by=actor, issuer_name=issuer, content=content,
        digest=hashlib.sha256(canonical.encode()).hexdigest(), token=secrets.token_urlsafe(18)[:24])


def lock_case(case: Case | int) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    try:
        return Case.objects.select_for_update().select_related("region", "intake_region").get(pk=pk)
    except Case.DoesNotExist:
        raise NotFound("case") from None


def lock_subcase(subcase: SubCase | int) -> SubCase:
    pk = subcase.pk if isinstance(subcase, SubCase) else subcase
    try:
        return (SubCase.objects.select_for_update()
                .select_related("case", "department", "workflow", "item_version__item").get(pk=pk))
    except SubCase.DoesNotExist:
        raise NotFound("subcase") from None


def require_status(case: Case, *allowed: str) -> None:
    if case.status not in allowed:
        names = "、".join(str(Case.Status(s).label) for s in allowed)
        raise Conflict(f"办件当前状态为“{case.get_status_display()}”，此操作仅适用于：{names}",
                       f"the case is {case.status}; this needs {', '.join(allowed)}", rule="case.status")


def is_window_clerk(actor, case: Case) -> bool:
    """A comprehensive-window clerk of the region that received the case."""
    return (getattr(actor, "kind", "") == "staff" and actor.has_role("clerk")
            and is_staff_of_region(actor, case.intake_region_id))


def require_window(case: Case, actor) -> None:
    if not is_window_clerk(actor, case):
        raise NotFound("case")


def require_filer(case: Case, actor) -> None:
    """Changes to an application come from its applicant's side (the owner, who filed it, or an agent
    whose mandate still covers its items: checked at every write) or from a clerk of the intake region."""
    if is_window_clerk(actor, case):
        return
    if getattr(actor, "kind", "") != "staff" and actor.pk in (case.filed_by_id, case.applicant_user_id, case.agent_id):
        if case.enterprise_id is not None and actor.pk != case.applicant_user_id:
            check_may_file_for(actor, case.enterprise, [i["basic_code"] for i in case.plan["items"]],
                               timezone.localdate())
        return
    raise NotFound("case")


def is_staff_of_region(actor, region_id: str) -> bool:
    from tongban.regions.models import Region

    if getattr(actor, "kind", "") != "staff" or not actor.region_id:
        return False
    if actor.region_id == region_id:
        return True
    region = Region.objects.filter(code=region_id).first()
    return region is not None and actor.region_id in region.lineage_codes()
