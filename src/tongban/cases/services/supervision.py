"""Deadline supervision: the idempotent sweep (warnings, overdue records, deemed acceptance, broken
容缺 promises), supervision notices (督办), and recomputation when the calendar changes."""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.db import IntegrityError

from tongban.accounts.roles import Role
from tongban.core.access import require
from tongban.core.errors import Conflict, InvalidInput, Problem
from tongban.core.system import SYSTEM
from tongban.core.transactions import service
from tongban.workdays.calendar import add_workdays

from .. import deadlines, signals
from ..access import DepartmentAction, SubcaseAction, SupervisionAction, access_department_for
from ..models import Case, CaseMaterial, DeadlineAlert, DeadlineEntry, SubCase, SupervisionNotice
from ._common import lock_subcase, require_reason, require_subcase, today, trail

log = logging.getLogger(__name__)


def warning_days() -> int:
    return int(getattr(settings, "TONGBAN_DEADLINE_WARNING_DAYS", 2))


def _raise_alert(sub: SubCase, kind: str, due: date) -> bool:
    """Record the alert once; True when it is new (then it goes to the trail too)."""
    try:
        _record_alert(sub, kind, due)
    except IntegrityError:
        return False
    return True


@service
def _record_alert(sub: SubCase, kind: str, due: date) -> None:
    alert = DeadlineAlert.objects.create(subcase=sub, kind=kind, due=due)
    trail(f"alert_{kind}", sub.case, subcase=sub, after={"due": due.isoformat()})
    signals.deadline_alert_raised.send(sender=DeadlineAlert, alert=alert, subcase=sub)


def sweep(*, on: date | None = None) -> dict:
    """Run every deadline rule for `on` (today). Safe to run any number of times, in several processes."""
    from .handling import stop_for_missing_minor_service
    from .intake import deem_accepted

    on = today(on)
    counts = {"deemed_accepted": 0, "warnings": 0, "promised_overdue": 0, "statutory_overdue": 0,
              "ack_overdue": 0, "stopped": 0}
    failed: list[str] = []
    for case in Case.objects.filter(status=Case.Status.SUBMITTED, notice_due__lt=on).only("pk", "number"):
        try:
            deem_accepted(case=case, actor=SYSTEM, on=on)
            counts["deemed_accepted"] += 1
        except Conflict:  # moved on meanwhile (accepted, returned or withdrawn in another process): done
            log.debug("deemed acceptance not needed any more", extra={"case": case.number})
        except Exception:  # noqa: BLE001 - one case must not stop the others; reported below, never hidden
            log.exception("deemed acceptance failed", extra={"case": case.number})
            failed.append(case.number)
    for row in CaseMaterial.objects.filter(status=CaseMaterial.Status.PENDING, promised_by__lt=on).select_related("case"):
        for sub in row.case.subcases.filter(status__in=SubCase.OPEN, key__in=row.used_by):
            stop_for_missing_minor_service(sub, row, on)
            counts["stopped"] += 1
    active = SubCase.objects.filter(status=SubCase.Status.ACTIVE, hold="").select_related("case", "department")
    horizon = add_workdays(on, warning_days()).due
    # A remote sub-case's decision clock is the handling node's (it raises those alerts); this node
    # watches only the hop it can see: the acknowledgement of its hand-over (below).
    for sub in active.filter(promised_due__lte=horizon, remote_node=""):
        if sub.promised_due >= on:
            counts["warnings"] += _raise_alert(sub, DeadlineAlert.Kind.WARNING, sub.promised_due)
        if sub.promised_due < on:
            counts["promised_overdue"] += _raise_alert(sub, DeadlineAlert.Kind.PROMISED_OVERDUE, sub.promised_due)
        if sub.statutory_due < on:
            counts["statutory_overdue"] += _raise_alert(sub, DeadlineAlert.Kind.STATUTORY_OVERDUE, sub.statutory_due)
    # The acknowledgement of a remote item is this node's overdue only while it has not handed over:
    # once the handling node receipted the hand-over (by ack_due) that node holds the clock and raises
    # the federation's one alert (remote.handover_receipted; local items have no collab id: always here).
    from .remote import handover_receipted

    for sub in active.filter(~handover_receipted(by_ack_due=True), ack_due__lt=on, acknowledged_at__isnull=True):
        counts["ack_overdue"] += _raise_alert(sub, DeadlineAlert.Kind.ACK_OVERDUE, sub.ack_due)
    log.info("case sweep", extra={"on": on.isoformat(), **counts, "failed": len(failed)})
    if failed:
        # The rest of the sweep ran; the run is recorded as failed with the case numbers, so
        # `tongban periodic --list` and /healthz show it until a later run succeeds.
        raise SweepIncomplete(failed, counts)
    return counts


class SweepIncomplete(RuntimeError):
    """Some cases could not be deemed accepted (each logged at ERROR with its number)."""

    def __init__(self, numbers: list[str], counts: dict):
        self.numbers, self.counts = numbers, counts
        shown = ", ".join(numbers[:20]) + (f" and {len(numbers) - 20} more" if len(numbers) > 20 else "")
        super().__init__(f"deemed acceptance failed for {len(numbers)} case(s): {shown}")


@service
def send_supervision_notice(*, actor, department_id: int, text: str, subcase: SubCase | None = None,
                            respond_days: int = 2, on: date | None = None) -> SupervisionNotice:
    """督办: a supervisor of the region writes to a department about an item (or its whole queue)."""
    on = today(on)
    department = access_department_for(actor, department_id, to=DepartmentAction.SUPERVISE)
    if subcase is not None:
        require_subcase(actor, subcase, SubcaseAction.SUPERVISE)
    if subcase is not None and subcase.department_id != department.pk:
        raise InvalidInput(Problem("subcase", "supervision.department", "该事项不由此部门办理",
                                   "that item is not handled by this department"))
    text = require_reason(text, "text")
    if not isinstance(respond_days, int) or not 1 <= respond_days <= 10:
        raise InvalidInput(Problem("respond_days", "range", "反馈期限须为 1 至 10 个工作日",
                                   "the response period must be 1 to 10 working days"))
    notice = SupervisionNotice.objects.create(department=department, subcase=subcase, issued_by=actor, text=text,
                                              respond_by=add_workdays(on, respond_days, department.region_id).due)
    if subcase is not None:
        trail("supervised", subcase.case, subcase=subcase, actor=actor, reason=text,
              after={"notice": notice.pk, "respond_by": notice.respond_by.isoformat()})
    else:
        from tongban.audit.services import append_entry

        append_entry(action="case.department_supervised", actor=actor, role=Role.SUPERVISOR, object_type="department",
                     object_id=department.uscc, region_code=department.region_id, reason=text)
    return notice


@service
def acknowledge_supervision(*, notice: SupervisionNotice, actor, response: str) -> SupervisionNotice:
    from django.utils import timezone

    notice = SupervisionNotice.objects.select_for_update(of=("self",)).get(pk=notice.pk)
    require(actor, "supervision-notice", SupervisionAction.ACKNOWLEDGE, notice)
    notice.response = require_reason(response, "response")
    notice.acknowledged_at, notice.acknowledged_by = timezone.now(), actor
    notice.save()
    if notice.subcase_id:
        trail("supervision_answered", notice.subcase.case, subcase=notice.subcase, actor=actor, reason=notice.response)
    return notice


def recompute_open_deadlines(changed_from: date, changed_to: date, region_code: str | None) -> int:
    """Calendar listener: open sub-cases whose counting spans the changed days get new due dates, each
    change explained in the ledger."""
    qs = SubCase.objects.filter(status=SubCase.Status.ACTIVE, started_on__lte=changed_to, remote_node="",
                                statutory_due__gte=changed_from).select_related("department__region")
    changed = 0
    for candidate in qs:
        if region_code and region_code not in candidate.department.region.lineage_codes():
            continue
        sub = lock_subcase(candidate.pk)  # the case, then the sub-case: an officer may be acting on it now
        if sub.status != SubCase.Status.ACTIVE:
            continue
        before = (sub.statutory_due, sub.promised_due)
        deadlines.refresh_due(sub)
        if (sub.statutory_due, sub.promised_due) != before:
            sub.save(update_fields=["statutory_due", "promised_due", "due_provisional"])
            DeadlineEntry.objects.create(subcase=sub, kind=DeadlineEntry.Kind.RECOMPUTE, on=changed_from,
                                         reason=f"工作日历变更（{changed_from} 至 {changed_to}）",
                                         statutory_due=sub.statutory_due, promised_due=sub.promised_due)
            changed += 1
    return changed
