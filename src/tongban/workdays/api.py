"""Working-day API (thin: parse, call the calendar, render). Mounted at /api/v1/workdays."""

from __future__ import annotations

from datetime import date

from ninja import Router, Schema

from . import calendar

router = Router(tags=["workdays"])


class DueOut(Schema):
    due: date
    provisional: bool


class DayOut(Schema):
    date: date
    workday: bool
    origin: str
    name: str
    covered: bool
    region: str | None = None


class BetweenOut(Schema):
    workdays: int


@router.get("/add", response=DueOut,
            summary="The Nth working day after a date (start not counted; 行政许可法 Art. 82)")
def add(request, start: date, days: int, region: str | None = None):
    return calendar.add_workdays(start, days, region or None).as_dict()


@router.get("/between", response=BetweenOut, summary="Working days in (start, end]")
def between(request, start: date, end: date, region: str | None = None):
    return {"workdays": calendar.workdays_between(start, end, region or None)}


@router.get("/day", response=DayOut, summary="Whether a day is a working day, and the rule that says so")
def day(request, date: date, region: str | None = None):  # noqa: A002 - the query parameter is `date`
    return calendar.describe_day(date, region or None)
