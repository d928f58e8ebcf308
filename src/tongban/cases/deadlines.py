"""Deadline arithmetic for sub-cases: a budget in working days plus a ledger of pauses and extensions.

Counting follows 行政许可法 Art. 82 (working days) and 民法典 Art. 201 (the start day is not counted):
statutory due = the (statutory_days + paused_days + extension_days)-th working day after `started_on`,
in the calendar of the handling department's region; the same for the promised time limit. A pause
from day a to day b (resumed on b) adds the working days in (a, b]: the days the clock did not run.
"""

from __future__ import annotations

from datetime import date

from tongban.workdays.calendar import add_workdays, workdays_between

from .models import SubCase


def calendar_region(subcase: SubCase) -> str:
    return subcase.department.region_id


def due_dates(subcase: SubCase) -> tuple[date | None, date | None, bool]:
    if subcase.started_on is None:
        return None, None, False
    region = calendar_region(subcase)
    extra = subcase.paused_days + subcase.extension_days
    statutory = add_workdays(subcase.started_on, subcase.statutory_days + extra, region)
    promised = add_workdays(subcase.started_on, subcase.promised_days + extra, region)
    return statutory.due, promised.due, statutory.provisional or promised.provisional


def refresh_due(subcase: SubCase) -> None:
    subcase.statutory_due, subcase.promised_due, subcase.due_provisional = due_dates(subcase)


def paused_workdays(subcase: SubCase, since: date, until: date) -> int:
    return max(0, workdays_between(since, until, calendar_region(subcase)))

