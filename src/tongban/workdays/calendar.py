"""Working-day arithmetic (reads only): is a day a working day, the Nth working day after a date.

Rules (行政许可法 Art. 82, 民法典 Art. 201): periods are counted in working days and the start day is
not counted, so `add_workdays(start, n)` is the nth working day strictly after `start`. A day is a
working day unless a rule says otherwise; the first rule that speaks wins:

1. a database override for the region itself, then for its parent, ... up to the province;
2. a nationwide database override (a loaded State Council notice or a correction);
3. the `chinese_calendar` package (official holidays and adjusted working days, 2004..2026);
4. Monday to Friday are working days, Saturday and Sunday are not.

A year is *covered* when the package holds it or a `CalendarYear` row marks it loaded. Results that
count over a day of an uncovered year are computed on rules 1, 2 and 4 alone and are marked
`provisional`; they become final when that year is loaded (listeners are told, see listeners.py).

The calendar is cached in-process as dicts keyed by date ordinals; see
docs/decisions/0002-workday-calendar-cache.md for how the cache stays fresh across processes.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime

from chinese_calendar import constants as _package
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import InvalidInput, Problem

#: Largest |days| accepted by add_workdays (about 14 years of working days).
MAX_DAYS = 3660

#: Seconds between two checks of the calendar revision row (per process). 0 checks on every call.
#: Override with the setting WORKDAYS_REVISION_CHECK_SECONDS.
DEFAULT_REVISION_CHECK_SECONDS = 2.0

#: The precomputed list of working days reaches this many years past the last year with data.
PRECOMPUTE_YEARS_AHEAD = 15

PACKAGE_FIRST_YEAR = min(d.year for d in _package.holidays)
PACKAGE_LAST_YEAR = max(d.year for d in _package.holidays)


@dataclass(frozen=True)
class Due:
    """The result of deadline arithmetic; `provisional` when an uncovered year was counted over."""

    due: date
    provisional: bool

    def as_dict(self) -> dict:
        return {"due": self.due.isoformat(), "provisional": self.provisional}


# --------------------------------------------------------------------------------------------------
# The cached calendar


class _Days:
    """One effective calendar (nationwide, or for one region lineage).

    `exceptions` maps date ordinals to working/not where a rule overrides Mon-Fri; `working` is the
    sorted list of working-day ordinals in [first, last], built on first use, so that the Nth working
    day after a date is one bisect and one index (dates outside the span fall back to a day loop).
    """

    __slots__ = ("exceptions", "first", "last", "_working")

    def __init__(self, exceptions: dict[int, bool]):
        self.exceptions = exceptions
        years = [date.fromordinal(o).year for o in (min(exceptions), max(exceptions))] if exceptions else []
        first_year = min([PACKAGE_FIRST_YEAR, *years])
        last_year = max([PACKAGE_LAST_YEAR, timezone.now().year, *years]) + PRECOMPUTE_YEARS_AHEAD
        self.first = date(first_year, 1, 1).toordinal()
        self.last = date(min(last_year, 9999), 12, 31).toordinal()
        self._working: list[int] | None = None

    @property
    def working(self) -> list[int]:
        if self._working is None:
            get = self.exceptions.get
            self._working = [o for o in range(self.first, self.last + 1) if get(o, 0 < o % 7 < 6)]
        return self._working


@dataclass
class _Snapshot:
    token: str | None
    checked_at: float
    interval: float
    covered_years: frozenset[int]
    loaded_years: frozenset[int]
    national: _Days
    regional: dict[str, dict[int, bool]]  # region code -> its own overrides
    lineages: dict[str, tuple[str, ...]] = field(default_factory=dict)  # code -> own + ancestors
    merged: dict[tuple[str, ...], _Days] = field(default_factory=dict)
    by_region: dict[str, _Days] = field(default_factory=dict)  # code -> its effective calendar


_snapshot: _Snapshot | None = None
_build_lock = threading.Lock()


def _package_exceptions() -> dict[int, bool]:
    table: dict[int, bool] = {}
    for day in _package.holidays:
        table[day.toordinal()] = False
    for day in _package.workdays:
        table[day.toordinal()] = True
    return table


_PACKAGE_TABLE = _package_exceptions()


def _read_token() -> str | None:
    from .models import CalendarState

    token = CalendarState.objects.filter(pk=1).values_list("token", flat=True).first()
    return str(token) if token is not None else None


def _build(token: str | None, now: float) -> _Snapshot:
    from .models import CalendarOverride, CalendarYear

    loaded = frozenset(CalendarYear.objects.values_list("year", flat=True))
    national = dict(_PACKAGE_TABLE)
    regional: dict[str, dict[int, bool]] = {}
    rows = CalendarOverride.objects.values_list("date", "kind", "region_id")
    for day, kind, region_id in rows:
        working = kind == CalendarOverride.Kind.WORKDAY
        if region_id is None:
            national[day.toordinal()] = working
        else:
            regional.setdefault(region_id, {})[day.toordinal()] = working
    covered = frozenset(range(PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR + 1)) | loaded
    interval = float(getattr(settings, "WORKDAYS_REVISION_CHECK_SECONDS", DEFAULT_REVISION_CHECK_SECONDS))
    return _Snapshot(token=token, checked_at=now, interval=interval, covered_years=covered, loaded_years=loaded,
                     national=_Days(national), regional=regional)


def _current() -> _Snapshot:
    """The cached calendar, revalidated against the revision row at most every few seconds."""
    global _snapshot
    snap = _snapshot
    now = time.monotonic()
    if snap is not None and now - snap.checked_at < snap.interval:
        return snap
    token = _read_token()
    if snap is not None and snap.token == token:
        snap.checked_at = now
        return snap
    with _build_lock:
        snap = _build(token, now)
        _snapshot = snap
    return snap


def clear_cache() -> None:
    """Drop this process's cached calendar; the next read rebuilds it from the database."""
    global _snapshot
    _snapshot = None


def _table(snap: _Snapshot, region_code: str | None) -> _Days:
    if region_code is None:
        return snap.national
    found = snap.by_region.get(region_code)
    if found is not None:
        return found
    lineage = snap.lineages.get(region_code)
    if lineage is None:
        lineage = _lineage(region_code)
        snap.lineages[region_code] = lineage
    relevant = tuple(code for code in lineage if code in snap.regional)
    if not relevant:
        table = snap.national
    else:
        table = snap.merged.get(relevant)
        if table is None:
            exceptions = dict(snap.national.exceptions)
            for code in reversed(relevant):  # farthest ancestor first, so the nearest region wins
                exceptions.update(snap.regional[code])
            table = snap.merged[relevant] = _Days(exceptions)
    snap.by_region[region_code] = table
    return table


def _lineage(region_code: str) -> tuple[str, ...]:
    from tongban.regions.models import Region

    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise InvalidInput(Problem("region", "unknown_region", f"行政区划代码 {region_code} 不存在",
                                   f"unknown region code {region_code}"))
    return tuple(region.lineage_codes())


def _check_date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


# --------------------------------------------------------------------------------------------------
# Public reads


def is_workday(day: date, region_code: str | None = None) -> bool:
    """True if `day` is a working day (in `region_code` and its ancestors' rules, if given)."""
    ordinal = _check_date(day, "day").toordinal()
    working = _table(_current(), region_code).exceptions.get(ordinal)
    return 0 < ordinal % 7 < 6 if working is None else working


def is_covered(year: int) -> bool:
    """True if official data for `year` is known (package or a loaded notice)."""
    return year in _current().covered_years


def covered_years() -> list[int]:
    return sorted(_current().covered_years)


def add_workdays(start: date, days: int, region_code: str | None = None) -> Due:
    """The `days`-th working day after `start` (start not counted).

    Negative `days` count backwards: -n is the nth working day before `start`. Zero returns `start`.
    """
    _check_date(start, "start")
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError("days must be an int")
    if abs(days) > MAX_DAYS:
        raise InvalidInput(Problem("days", "range", f"工作日数的绝对值不能超过 {MAX_DAYS}",
                                   f"days must be between -{MAX_DAYS} and {MAX_DAYS}"))
    if days == 0:
        return Due(start, False)
    snap = _current()
    table = _table(snap, region_code)
    first = start.toordinal()
    ordinal = None
    if table.first <= first <= table.last:
        working = table.working
        index = bisect_right(working, first) + days - 1 if days > 0 else bisect_left(working, first) + days
        if 0 <= index < len(working):
            ordinal = working[index]
    if ordinal is None:
        ordinal = _walk(table.exceptions, first, days)
    step = 1 if days > 0 else -1
    due = date.fromordinal(ordinal)
    first_counted = date.fromordinal(first + step)
    low, high = (first_counted, due) if step > 0 else (due, first_counted)
    covered = snap.covered_years
    provisional = any(year not in covered for year in range(low.year, high.year + 1))
    return Due(due, provisional)


def _walk(exceptions: dict[int, bool], ordinal: int, days: int) -> int:
    """Day-by-day fallback outside the precomputed span."""
    get = exceptions.get
    step = 1 if days > 0 else -1
    remaining = abs(days)
    lowest, highest = date.min.toordinal(), date.max.toordinal()
    while remaining:
        ordinal += step
        if not lowest <= ordinal <= highest:
            raise InvalidInput(Problem("days", "range", "计算结果超出可表示的日期范围",
                                       "the result is outside the representable date range"))
        working = get(ordinal)
        if working is None:
            working = 0 < ordinal % 7 < 6
        if working:
            remaining -= 1
    return ordinal


def next_workday(day: date, region_code: str | None = None, *, inclusive: bool = False) -> Due:
    """The first working day after `day` (= add_workdays(day, 1)).

    With `inclusive=True`, `day` itself if it is a working day (民法典 Art. 203: a period whose last day
    is a holiday ends on the first working day after it).
    """
    if inclusive and is_workday(day, region_code):
        return Due(day, not is_covered(day.year))
    return add_workdays(day, 1, region_code)


def workdays_between(a: date, b: date, region_code: str | None = None) -> int:
    """Working days in (a, b]; negative (minus those in [b, a)) when b is before a.

    So `workdays_between(d, add_workdays(d, n).due) == n` for every n.
    """
    _check_date(a, "a")
    _check_date(b, "b")
    if b < a:
        return -_count(b.toordinal(), a.toordinal() - 1, region_code)
    return _count(a.toordinal() + 1, b.toordinal(), region_code)


def _count(first: int, last: int, region_code: str | None) -> int:
    """Working days with ordinals in [first, last]."""
    if last < first:
        return 0
    days = _table(_current(), region_code)
    if days.first <= first and last <= days.last:
        working = days.working
        return bisect_right(working, last) - bisect_left(working, first)
    table = days.exceptions
    # Mon-Fri count by whole weeks, then correct for the dates that have an explicit rule.
    total = _weekdays_until(last) - _weekdays_until(first - 1)
    if len(table) < last - first:
        for ordinal, working_day in table.items():
            if first <= ordinal <= last:
                total += _correction(ordinal, working_day)
    else:
        for ordinal in range(first, last + 1):
            working_day = table.get(ordinal)
            if working_day is not None:
                total += _correction(ordinal, working_day)
    return total


def _correction(ordinal: int, working: bool) -> int:
    default = 0 < ordinal % 7 < 6
    return int(working) - int(default)


def _weekdays_until(ordinal: int) -> int:
    """Mon-Fri days with ordinal in [1, ordinal] (ordinal 1 is Monday 0001-01-01)."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def describe_day(day: date, region_code: str | None = None) -> dict:
    """Why a day is or is not a working day (for the CLI and the API): origin and name."""
    from .models import CalendarOverride

    _check_date(day, "day")
    working = is_workday(day, region_code)
    origin, name = "weekday", ""
    lineage = list(_table_lineage(region_code))
    rows = {row.region_id: row for row in CalendarOverride.objects.filter(date=day)}
    for code in [*lineage, None]:
        if code in rows:
            origin = "region" if code else "notice"
            name = rows[code].name
            break
    else:
        if day in _package.holidays or day in _package.workdays:
            origin = "package"
            name = _package.holidays.get(day) or _package.workdays.get(day) or ""
    return {"date": day.isoformat(), "workday": working, "origin": origin, "name": name,
            "covered": is_covered(day.year), "region": region_code}


def _table_lineage(region_code: str | None) -> tuple[str, ...]:
    if region_code is None:
        return ()
    snap = _current()
    _table(snap, region_code)
    return snap.lineages[region_code]


ORIGIN_LABELS = {
    "weekday": _("周一至周五上班、周六周日休息"),
    "package": _("国务院节假日安排（内置数据）"),
    "notice": _("国务院节假日安排（已导入）或全国调整"),
    "region": _("地方调整"),
}
