"""Calendar writes: load a year's notice, add/change/remove an override. One transaction each.

Every write bumps the revision token (other processes notice within seconds), refreshes this
process's cache at once (so the rest of the transaction, listeners included, sees the new calendar)
and again on commit, and tells the registered listeners (see listeners.py) inside the transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import yaml
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.core.errors import InvalidInput, Problem

from . import calendar
from .listeners import notify_calendar_changed
from .models import CalendarOverride, CalendarState, CalendarYear

MIN_YEAR, MAX_YEAR = 1990, 2199
_TOP_LEVEL_KEYS = {"year", "source", "holidays", "workdays"}


class _NoticeLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so a bad date is reported with its field, not a crash."""


_NoticeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class HolidayRange:
    name: str
    first: date
    last: date


@dataclass(frozen=True)
class AdjustedWorkday:
    day: date
    name: str = ""


# --------------------------------------------------------------------------------------------------
# Loading a year


def calendar_year_load(*, year: int, source: str, holidays: list[HolidayRange],
                       workdays: list[AdjustedWorkday], loaded_by=None, file_sha256: str = "") -> CalendarYear:
    """Load (or reload) a year's State Council notice.

    Replaces all nationwide overrides dated in that year; region-scoped overrides are kept.
    """
    problems = _check_year(year=year, source=source, holidays=holidays, workdays=workdays)
    if problems:
        raise InvalidInput(problems)
    with _calendar_write():
        CalendarOverride.objects.filter(region__isnull=True, date__year=year).delete()
        rows = [CalendarOverride(date=day, kind=CalendarOverride.Kind.HOLIDAY, name=r.name, source=source)
                for r in holidays for day in _days(r.first, r.last)]
        rows += [CalendarOverride(date=w.day, kind=CalendarOverride.Kind.WORKDAY, name=w.name or "调休上班",
                                  source=source) for w in workdays]
        for row in rows:
            row.full_clean(exclude=["region"], validate_unique=False, validate_constraints=False)
        CalendarOverride.objects.bulk_create(rows)
        previous = CalendarYear.objects.filter(year=year).values("source", "file_sha256").first()
        record, _created = CalendarYear.objects.update_or_create(
            year=year, defaults={"source": source, "loaded_at": timezone.now(), "loaded_by": loaded_by,
                                 "file_sha256": file_sha256})
        _changed(date(year, 1, 1), date(year, 12, 31), None)
        _audit("workdays.year.load", loaded_by, "workdays.CalendarYear", str(year), before=previous,
               after={"source": source, "file_sha256": file_sha256, "holidays": len(holidays),
                      "workdays": [w.day.isoformat() for w in workdays]})
    return record


def calendar_year_load_file(*, path: str | Path, loaded_by=None) -> CalendarYear:
    """Load a notice file (YAML, format in docs/workdays.md); problems carry the file name."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(Problem("file", "unreadable", f"无法读取文件：{exc.strerror}",
                                   f"cannot read file: {exc.strerror}", file=str(path))) from exc
    return calendar_year_load_document(content=content, name=str(path), loaded_by=loaded_by)


def calendar_year_load_document(*, content: bytes, name: str, loaded_by=None) -> CalendarYear:
    """Load a notice given as YAML bytes (CLI file, admin upload)."""
    try:
        parsed = check_notice_document(content=content)
        return calendar_year_load(**parsed, loaded_by=loaded_by, file_sha256=hashlib.sha256(content).hexdigest())
    except InvalidInput as exc:
        raise InvalidInput([Problem(p.field, p.rule, p.zh, p.en, file=name) for p in exc.problems]) from exc


def check_notice_document(*, content: bytes) -> dict:
    """Parse and validate a notice document without writing; returns calendar_year_load arguments."""
    try:
        data = yaml.load(content.decode("utf-8"), Loader=_NoticeLoader)  # noqa: S506 - a SafeLoader subclass
    except (UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise InvalidInput(Problem("file", "yaml", "文件不是有效的 UTF-8 YAML",
                                   f"not valid UTF-8 YAML: {exc}")) from exc
    parsed, problems = parse_notice(data)
    if parsed["year"] is not None:
        problems += _check_year(**parsed)
    if problems:
        raise InvalidInput(problems)
    return parsed


def parse_notice(data: object) -> tuple[dict, list[Problem]]:
    """Turn the YAML structure into calendar_year_load arguments (what parses) and the problems found."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise InvalidInput(Problem("file", "type", "文件顶层应为映射（year、source、holidays、workdays）",
                                   "the top level must be a mapping (year, source, holidays, workdays)"))
    for key in sorted(set(map(str, data)) - _TOP_LEVEL_KEYS):
        problems.append(Problem(key, "unknown_field", f"未知字段 {key}", f"unknown field {key}"))
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        problems.append(Problem("year", "required", "year 必填，应为四位整数年份",
                                "year is required and must be an integer year"))
        year = None
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(Problem("source", "required", "source 必填，应为依据文件文号",
                                "source is required (the notice's reference number)"))
        source = ""
    holidays: list[HolidayRange] = []
    raw_holidays = data.get("holidays") or []
    if not isinstance(raw_holidays, list):
        problems.append(Problem("holidays", "type", "holidays 应为列表", "holidays must be a list"))
        raw_holidays = []
    for i, item in enumerate(raw_holidays):
        where = f"holidays[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, "type", f"{where} 应为包含 name、from、to 的映射",
                                    f"{where} must be a mapping with name, from, to"))
            continue
        for key in sorted(set(map(str, item)) - {"name", "from", "to"}):
            problems.append(Problem(f"{where}.{key}", "unknown_field", f"未知字段 {where}.{key}",
                                    f"unknown field {where}.{key}"))
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"{where}.name", "required", f"{where}.name 必填", f"{where}.name is required"))
            name = ""
        first = _parse_date(item.get("from"), f"{where}.from", problems)
        last = _parse_date(item.get("to", item.get("from")), f"{where}.to", problems)
        if first and last:
            holidays.append(HolidayRange(name=name.strip(), first=first, last=last))
    workdays: list[AdjustedWorkday] = []
    raw_workdays = data.get("workdays") or []
    if not isinstance(raw_workdays, list):
        problems.append(Problem("workdays", "type", "workdays 应为日期列表", "workdays must be a list of dates"))
        raw_workdays = []
    for i, item in enumerate(raw_workdays):
        where = f"workdays[{i}]"
        name = ""
        if isinstance(item, dict):
            for key in sorted(set(map(str, item)) - {"date", "name"}):
                problems.append(Problem(f"{where}.{key}", "unknown_field", f"未知字段 {where}.{key}",
                                        f"unknown field {where}.{key}"))
            name = item.get("name") or ""
            if not isinstance(name, str):
                problems.append(Problem(f"{where}.name", "type", f"{where}.name 应为文本",
                                        f"{where}.name must be text"))
                name = ""
            day = _parse_date(item.get("date"), f"{where}.date", problems)
        else:
            day = _parse_date(item, where, problems)
        if day:
            workdays.append(AdjustedWorkday(day=day, name=name.strip()))
    return {"year": year, "source": source.strip(), "holidays": holidays, "workdays": workdays}, problems


def _parse_date(value: object, where: str, problems: list[Problem]) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(Problem(where, "date", f"{where} 应为日期 YYYY-MM-DD", f"{where} must be a date YYYY-MM-DD"))
    return None


def _check_year(*, year: int, source: str, holidays: list[HolidayRange],
                workdays: list[AdjustedWorkday]) -> list[Problem]:
    problems: list[Problem] = []
    if not MIN_YEAR <= year <= MAX_YEAR:
        return [Problem("year", "range", f"年份应在 {MIN_YEAR} 至 {MAX_YEAR} 之间",
                        f"year must be between {MIN_YEAR} and {MAX_YEAR}")]
    if not source.strip():
        problems.append(Problem("source", "required", "依据文件文号必填", "source is required"))
    elif len(source) > CalendarYear._meta.get_field("source").max_length:
        problems.append(Problem("source", "max_length", "依据文件文号过长（最多 200 字）",
                                "source is too long (200 characters at most)"))
    if not holidays:
        problems.append(Problem("holidays", "required", "至少应有一个放假安排", "at least one holiday is required"))
    holiday_days: dict[date, str] = {}
    for i, r in enumerate(holidays):
        where = f"holidays[{i}]"
        if len(r.name) > 64:
            problems.append(Problem(f"{where}.name", "max_length", f"{where}.name 过长（最多 64 字）",
                                    f"{where}.name is too long (64 characters at most)"))
        if r.last < r.first:
            problems.append(Problem(f"{where}.to", "order", f"{where}.to 不能早于 from",
                                    f"{where}.to must not be before from"))
            continue
        for key, day in (("from", r.first), ("to", r.last)):
            if day.year != year:
                problems.append(Problem(f"{where}.{key}", "year", f"{where}.{key} {day} 不在 {year} 年内",
                                        f"{where}.{key} {day} is not in {year}"))
        if r.first.year != year or r.last.year != year:
            continue
        for day in _days(r.first, r.last):
            if day in holiday_days:
                problems.append(Problem(where, "duplicate", f"{where} 与 {holiday_days[day]} 重复包含 {day}",
                                        f"{where} overlaps {holiday_days[day]} on {day}"))
                break
            holiday_days[day] = where
    seen: dict[date, str] = {}
    for i, w in enumerate(workdays):
        where = f"workdays[{i}]"
        if w.day.year != year:
            problems.append(Problem(where, "year", f"{where} {w.day} 不在 {year} 年内",
                                    f"{where} {w.day} is not in {year}"))
        elif w.day in seen:
            problems.append(Problem(where, "duplicate", f"{where} 与 {seen[w.day]} 重复：{w.day}",
                                    f"{where} repeats {seen[w.day]}: {w.day}"))
        elif w.day in holiday_days:
            problems.append(Problem(where, "conflict", f"{w.day} 既是放假日又是上班日（{holiday_days[w.day]}）",
                                    f"{w.day} is both a holiday ({holiday_days[w.day]}) and a working day"))
        elif w.day.weekday() < 5:
            problems.append(Problem(where, "not_weekend", f"调休上班日 {w.day} 不是周六或周日",
                                    f"adjusted working day {w.day} is not a Saturday or Sunday"))
        if len(w.name) > 64:
            problems.append(Problem(f"{where}.name", "max_length", f"{where}.name 过长（最多 64 字）",
                                    f"{where}.name is too long (64 characters at most)"))
        seen.setdefault(w.day, where)
    return problems


def calendar_year_delete(*, year: int, actor=None) -> None:
    """Forget a loaded year: its row and its nationwide overrides (the package applies again)."""
    with _calendar_write():
        previous = CalendarYear.objects.filter(year=year).values("source", "file_sha256").first()
        if previous is None:
            raise InvalidInput(Problem("year", "not_loaded", f"{year} 年未导入", f"{year} has not been loaded"))
        CalendarYear.objects.filter(year=year).delete()
        CalendarOverride.objects.filter(region__isnull=True, date__year=year).delete()
        _changed(date(year, 1, 1), date(year, 12, 31), None)
        _audit("workdays.year.delete", actor, "workdays.CalendarYear", str(year), before=previous)


# --------------------------------------------------------------------------------------------------
# Single overrides (corrections, local closures)


def calendar_override_create(*, day: date, kind: str, name: str, region_code: str | None = None,
                             source: str = "", actor=None) -> CalendarOverride:
    override = CalendarOverride(date=day, kind=kind, name=name, region_id=region_code or None, source=source)
    with _calendar_write():
        _save(override)
        _changed(day, day, override.region_id)
        _audit("workdays.override.create", actor, "workdays.CalendarOverride", str(override.pk),
               region_code=override.region_id, after=_snapshot_of(override))
    return override


def calendar_override_update(*, override: CalendarOverride, day: date, kind: str, name: str,
                             region_code: str | None = None, source: str = "", actor=None) -> CalendarOverride:
    previous = _snapshot_of(override)
    before = (override.date, override.region_id)
    override.date, override.kind, override.name = day, kind, name
    override.region_id, override.source = region_code or None, source
    with _calendar_write():
        _save(override)
        if before != (day, override.region_id):
            _changed(before[0], before[0], before[1])
        _changed(day, day, override.region_id)
        _audit("workdays.override.update", actor, "workdays.CalendarOverride", str(override.pk),
               region_code=override.region_id, before=previous, after=_snapshot_of(override))
    return override


def calendar_override_delete(*, override: CalendarOverride, actor=None) -> None:
    day, region_code, pk, previous = override.date, override.region_id, override.pk, _snapshot_of(override)
    with _calendar_write():
        override.delete()
        _changed(day, day, region_code)
        _audit("workdays.override.delete", actor, "workdays.CalendarOverride", str(pk), region_code=region_code,
               before=previous)


def check_override(override: CalendarOverride) -> list[Problem]:
    """Problems with an override about to be saved (also used by the admin form)."""
    problems: list[Problem] = []
    if not isinstance(override.date, date) or isinstance(override.date, datetime):
        problems.append(Problem("day", "date", "日期应为 YYYY-MM-DD", "day must be a date"))
    elif not MIN_YEAR <= override.date.year <= MAX_YEAR:
        problems.append(Problem("day", "range", f"日期应在 {MIN_YEAR} 至 {MAX_YEAR} 年之间",
                                f"day must be between {MIN_YEAR} and {MAX_YEAR}"))
    if override.kind not in CalendarOverride.Kind.values:
        problems.append(Problem("kind", "choice", "类别应为 holiday（放假）或 workday（上班）",
                                "kind must be holiday or workday"))
    if not (override.name or "").strip():
        problems.append(Problem("name", "required", "名称必填", "name is required"))
    elif len(override.name) > 64:
        problems.append(Problem("name", "max_length", "名称过长（最多 64 字）", "name is too long (64 at most)"))
    if len(override.source or "") > 200:
        problems.append(Problem("source", "max_length", "依据过长（最多 200 字）", "source is too long (200 at most)"))
    if override.region_id is not None:
        from tongban.regions.models import Region

        if not Region.objects.filter(pk=override.region_id).exists():
            problems.append(Problem("region", "unknown_region", f"行政区划代码 {override.region_id} 不存在",
                                    f"unknown region code {override.region_id}"))
    if not problems and CalendarOverride.objects.filter(date=override.date, region_id=override.region_id).exclude(
            pk=override.pk).exists():
        where_zh = override.region_id or "全国"
        where_en = override.region_id or "nationwide"
        problems.append(Problem("day", "unique", f"{override.date} 在{where_zh}已有调整",
                                f"{override.date} already has an override ({where_en})"))
    return problems


def _save(override: CalendarOverride) -> None:
    problems = check_override(override)
    if problems:
        raise InvalidInput(problems)
    try:
        with transaction.atomic():
            override.save()
    except IntegrityError as exc:  # a concurrent writer won the unique constraint
        raise InvalidInput(Problem("day", "unique", "该日期在该区划已有调整",
                                   "this date already has an override for this region")) from exc


def _days(first: date, last: date) -> Iterator[date]:
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        yield date.fromordinal(ordinal)


# --------------------------------------------------------------------------------------------------
# The write frame: transaction, revision bump, local cache refresh, listeners


@contextmanager
def _calendar_write() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            transaction.on_commit(calendar.clear_cache)
    except BaseException:
        calendar.clear_cache()  # never keep a cache built from rolled-back rows
        raise


def _changed(changed_from: date, changed_to: date, region_code: str | None) -> None:
    """Bump the revision, refresh this process's cache, and tell listeners (inside the transaction)."""
    _bump_revision()
    calendar.clear_cache()
    notify_calendar_changed(changed_from, changed_to, region_code)


def _audit(action: str, actor, object_type: str, object_id: str, *, region_code: str | None = None,
           before: dict | None = None, after: dict | None = None) -> None:
    """The audit entry, as the last step of the write's transaction (after the listeners)."""
    from tongban.audit.services import append_entry

    append_entry(action=action, actor=actor, object_type=object_type, object_id=object_id,
                 region_code=region_code or "", before=before, after=after)


def _snapshot_of(override: CalendarOverride) -> dict:
    return {"date": override.date.isoformat() if isinstance(override.date, date) else str(override.date),
            "kind": override.kind, "region": override.region_id, "name": override.name, "source": override.source}


def _bump_revision() -> None:
    now = timezone.now()
    if not CalendarState.objects.filter(pk=1).update(token=uuid.uuid4(), changed_at=now):
        CalendarState.objects.create(pk=1, token=uuid.uuid4(), changed_at=now)
