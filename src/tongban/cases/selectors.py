"""Reads for case handling: queues and lists with keyset pagination (no COUNT on big lists), the
applicant's progress view, the supervisor's board and the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from tongban.accounts.roles import Role
from tongban.core.access import fetch, visible
from tongban.core.errors import InvalidInput, Problem
from tongban.core.inputs import parse_id
from tongban.workdays.calendar import add_workdays

from .models import Case, CaseMaterial, ExtensionRequest, SubCase, SupervisionNotice

MAX_PAGE = 200


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None


def _limit(limit: int) -> int:
    return max(1, min(int(limit or 50), MAX_PAGE))


def _page(qs, limit: int, cursor_of) -> Page:
    """One page of `qs` (already filtered past the cursor) and the cursor of the next, if any: one
    query for limit + 1 rows tells whether there is more, without counting."""
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, cursor_of(rows[-1]) if more else None)


def _bad_cursor() -> InvalidInput:
    return InvalidInput(Problem("cursor", "cursor.invalid", "分页游标无效", "the page cursor is invalid"))


def get_case(user, number: str) -> Case:
    return fetch(user, "case", Case.objects.select_related("region", "intake_region", "intake_hall", "enterprise",
                                                           "bundle_version__bundle", "delivery_window__hall"),
                 number=number)


def cases_for(user, *, cursor: str | None = None, limit: int = 50, status: str | None = None) -> Page:
    """The cases the user may see, newest first; `cursor` is the last id of the previous page."""
    limit = _limit(limit)
    qs = visible(user, "case").select_related("region", "intake_region").order_by("-id")
    if status:
        qs = qs.filter(status=status)
    if cursor:
        last_id = parse_id(cursor, "cursor")
        if last_id is None:
            raise _bad_cursor()
        qs = qs.filter(id__lt=last_id)
    return _page(qs, limit, lambda last: str(last.pk))


def officer_queue(user, *, cursor: str | None = None, limit: int = 50, mine: bool = False) -> Page:
    """The department's open items, most urgent (promised due date) first; keyset on (due, id)."""
    limit = _limit(limit)
    if getattr(user, "kind", "") != "staff" or not user.department_id:
        return Page([], None)
    qs = (SubCase.objects.filter(department_id=user.department_id, status=SubCase.Status.ACTIVE)
          .select_related("case", "item_version", "assignee").order_by("promised_due", "id"))
    if mine:
        qs = qs.filter(assignee=user)
    if cursor:
        try:
            due_text, id_text = cursor.split("_")
            due, last_id = date.fromisoformat(due_text), parse_id(id_text, "cursor")
        except ValueError:
            raise _bad_cursor() from None
        if last_id is None:
            raise _bad_cursor()
        qs = qs.filter(Q(promised_due__gt=due) | Q(promised_due=due, id__gt=last_id))
    return _page(qs, limit, lambda last: f"{last.promised_due.isoformat()}_{last.pk}")


def intake_queue(user, *, cursor: str | None = None, limit: int = 50) -> Page:
    """Submissions waiting for the window's completeness check in the clerk's region, oldest first."""
    limit = _limit(limit)
    if getattr(user, "kind", "") != "staff" or not user.has_role(Role.CLERK):
        return Page([], None)
    qs = (visible(user, "case").filter(status__in=[Case.Status.SUBMITTED, Case.Status.READY])
          .order_by("id"))
    if cursor:
        last_id = parse_id(cursor, "cursor")
        if last_id is None:
            raise _bad_cursor()
        qs = qs.filter(id__gt=last_id)
    return _page(qs, limit, lambda last: str(last.pk))


def remote_licences_of_holder(user) -> list:
    """Licences a peer node's department issued for this user's remote items, verified here on receipt."""
    from .models import RemoteLicence

    if not getattr(user, "is_authenticated", False) or not getattr(user, "id_number", ""):
        return []
    return list(RemoteLicence.objects.filter(holder_code=user.id_number, valid=True)
                .select_related("subcase__case").order_by("-received_at")[:200])


def remote_progress(sub: SubCase) -> dict:
    from .services.remote import remote_progress as build

    return build(sub)


def progress(case: Case, *, on: date | None = None) -> list[dict]:
    """Per item: state, department, the role now acting, due dates, what is awaited and from whom."""
    on = on or timezone.localdate()
    subcases = list(case.subcases.select_related("department", "workflow", "item_version__item", "result_licence")
                    .order_by("position"))
    names = {s.key: s.item_version.name for s in subcases}
    pending = [m for m in case.materials.all() if m.status in (CaseMaterial.Status.DEFECTIVE, CaseMaterial.Status.PENDING)]
    rows = []
    for sub in subcases:
        step = sub.workflow.step(sub.step) if sub.step and sub.workflow_id else None
        if sub.is_remote and sub.status != SubCase.Status.PENDING and sub.status != SubCase.Status.WAITING:
            from .services.remote import remote_awaiting

            awaited = remote_awaiting(sub, [m.name for m in pending if m.status == "defective"])
        elif sub.hold == SubCase.Hold.CORRECTION:
            awaited = {"what": "补正材料：" + "、".join(m.name for m in pending if m.status == "defective") or "补正",
                       "from": "applicant"}
        elif sub.hold == SubCase.Hold.MINOR:
            awaited = {"what": "容缺材料：" + "、".join(m.name for m in pending if sub.key in m.used_by), "from": "applicant"}
        elif sub.hold == SubCase.Hold.SPECIAL:
            awaited = {"what": "特别程序（不计时）", "from": "department"}
        elif sub.status == SubCase.Status.WAITING:
            awaited = {"what": "前序事项办结：" + "、".join(names[k] for k in sub.after), "from": "department"}
        elif sub.status == SubCase.Status.PENDING:
            awaited = {"what": "综合窗口受理", "from": "window"}
        elif sub.status == SubCase.Status.ACTIVE:
            awaited = {"what": f"{step['name']}（{sub.department.name}）", "from": "department"}
        else:
            awaited = None
        rows.append({
            "key": sub.key, "item": sub.item_version.name, "basic_code": sub.item_version.item.basic_code,
            "stage": sub.stage, "after": sub.after,
            "department": sub.department.name if sub.department_id else f"{sub.remote_region}（{sub.remote_node}）",
            "status": sub.status,
            "status_label": str(sub.get_status_display()), "step": sub.step, "step_name": step["name"] if step else "",
            "acting_role": ",".join(step.get("roles", [])) if step and sub.status == SubCase.Status.ACTIVE else "",
            "hold": sub.hold, "started_on": sub.started_on, "statutory_due": sub.statutory_due,
            "promised_due": sub.promised_due, "due_provisional": sub.due_provisional,
            "overdue": bool(sub.is_open and sub.promised_due and sub.promised_due < on and not sub.hold),
            "awaiting": awaited, "decided_on": sub.decided_on, "finished_on": sub.finished_on,
            "outcome_reason": sub.outcome_reason,
            "result": sub.result_licence.identifier if sub.result_licence_id else (
                sub.remote_licence.identifier if sub.is_remote and hasattr(sub, "remote_licence") else None),
            "remote": remote_progress(sub) if sub.is_remote else None,
        })
    return rows


def timeline(case: Case) -> dict:
    """The case's timeline for `tongban simulate --json`: each item with stage, department, dates, results."""
    return {
        "number": case.number, "title": case.title, "status": case.status, "region": case.region_id,
        "intake_region": case.intake_region_id, "accepted_on": _iso(case.accepted_on),
        "delivered_at": case.delivered_at.isoformat() if case.delivered_at else None,
        "items": [{
            "key": sub.key, "name": sub.item_version.name, "stage": sub.stage, "after": sub.after,
            "department": sub.department.name, "status": sub.status, "accepted_on": _iso(case.accepted_on),
            "started_on": _iso(sub.started_on), "statutory_due": _iso(sub.statutory_due),
            "promised_due": _iso(sub.promised_due), "finished_on": _iso(sub.finished_on),
            "paused_days": sub.paused_days, "extension_days": sub.extension_days,
            "results": [sub.result_licence.identifier] if sub.result_licence_id else [],
        } for sub in case.subcases.select_related("department", "item_version", "result_licence").order_by("position")],
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def ledger(subcase: SubCase) -> list[dict]:
    return [{"kind": e.kind, "hold": e.hold, "on": e.on, "days": e.days, "reason": e.reason,
             "statutory_due": e.statutory_due, "promised_due": e.promised_due} for e in subcase.ledger.all()]


def board(user, *, on: date | None = None) -> dict:
    from tongban.federation.models import CaseHop

    from .services.remote import handover_receipted

    last_hop = CaseHop.objects.filter(subcase=OuterRef("pk")).order_by("-at", "-id")

    """The supervisor's board: open items by department and item with due-soon, overdue and paused
    counts, pending extension requests and open supervision notices, in the supervisor's region."""
    on = on or timezone.localdate()
    soon = add_workdays(on, 2).due
    everything = visible(user, "subcase").filter(status=SubCase.Status.ACTIVE)
    qs = everything.filter(remote_node="")  # a remote item's decision clock is its handling node's
    rows = (qs.values("department_id", "department__name", "item_version__name")
            .annotate(open=Count("id"),
                      due_soon=Count("id", filter=Q(hold="", promised_due__gte=on, promised_due__lte=soon)),
                      promised_overdue=Count("id", filter=Q(hold="", promised_due__lt=on)),
                      statutory_overdue=Count("id", filter=Q(hold="", statutory_due__lt=on)),
                      paused=Count("id", filter=~Q(hold="")))
            .order_by("-statutory_overdue", "-promised_overdue", "-due_soon", "department__name"))
    return {
        "on": on, "rows": list(rows),
        "overdue": list(qs.filter(hold="", promised_due__lt=on).select_related("case", "department", "item_version")
                        .order_by("promised_due", "id")[:100]),
        "extensions": list(visible(user, "extension-request").filter(status=ExtensionRequest.Status.PENDING)
                           .select_related("subcase__case", "subcase__department", "subcase__item_version",
                                           "requested_by")[:100]),
        "supervision": list(visible(user, "supervision-notice").filter(acknowledged_at__isnull=True)
                            .select_related("department", "subcase__case")[:100]),
        # 跨域限时反馈: cross-region items not yet acknowledged (受理确认) after their due date.
        # A remote item whose hand-over the handling node receipted by ack_due is that node's overdue,
        # not this one's (it is shown in cross_node_out with the node holding it).
        "ack_overdue": list(everything.filter(~handover_receipted(by_ack_due=True), ack_due__lt=on,
                                              acknowledged_at__isnull=True)
                            .select_related("case", "department", "item_version").order_by("ack_due", "id")[:100]),
        # Cases this node handles for a peer node (federation), with the node that holds them now.
        "cross_node": list(visible(user, "case").filter(federated__isnull=False).order_by("-id")
                           .values("number", "status", collab_id=F("federated__collab_id"),
                                   peer=F("federated__peer__code"), holder=F("federated__holder"),
                                   accepting_region=F("federated__accepting_region"))[:100]),
        # Items this node accepted and handed over to a peer node (异地代收代办), still open.
        "cross_node_out": [_ack_late(row, on) for row in everything.exclude(remote_node="")
                           .annotate(receipted_in_time=handover_receipted(by_ack_due=True),
                                     hop_holder=Subquery(last_hop.values("holder")[:1]),
                                     hop_since=Subquery(last_hop.values("at")[:1])).order_by("ack_due", "id")
                           .values("case__number", "key", "remote_node", "remote_region", "remote_status",
                                   "collab_id", "ack_due", "acknowledged_at", "promised_due",
                                   "remote_case_number", "receipted_in_time", "hop_holder", "hop_since")[:100]],
    }


def _ack_late(row: dict, on: date) -> dict:
    """`ack_late_held_by`: when the acknowledgement is overdue, the node that held the case when its
    clock ran out: the handling node once it had receipted the hand-over by ack_due (its overdue,
    counted there), else this node (it had not handed over in time: in `ack_overdue` here)."""
    from tongban.federation import conf

    late = row["acknowledged_at"] is None and row["ack_due"] is not None and row["ack_due"] < on
    row["ack_late_held_by"] = (row["remote_node"] if row["receipted_in_time"] else conf.node_code()) if late else None
    return row


def origin(case: Case) -> dict | None:
    """Where a case this node handles for a peer node came from (federation, docs/federation.md §8):
    the accepting node, its region and window, the collab id, its case number there, and the node
    holding the case now. None for a local case."""
    return (Case.objects.filter(pk=case.pk, federated__isnull=False)
            .values(node=F("federated__peer__code"), node_name=F("federated__peer__name"),
                    accepting_region=F("federated__accepting_region"),
                    accepting_window=F("federated__accepting_window"),
                    collab_id=F("federated__collab_id"), remote_case=F("federated__remote_case"),
                    accepted_at=F("federated__accepted_at"), holder=F("federated__holder")).first())


def supervision_notices_for_department(user) -> list[SupervisionNotice]:
    return list(visible(user, "supervision-notice").select_related("subcase__case").order_by("-issued_at")[:100])


def decision_fields(sub: SubCase) -> list:
    """The fields the officer enters when approving this item at its decision step: the decision
    sources its result licence type declares (tongban.licences.sources)."""
    from tongban.licences.sources import decision_fields as declared

    licence_type = sub.item_version.result_licence_type
    return declared(licence_type.fields) if licence_type is not None else []
