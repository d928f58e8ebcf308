"""`tongban workdays <verb>`: deadline arithmetic and calendar loading from the command line.

    tongban workdays add --from 2026-09-28 --days 20 [--region 430100] [--json]
    tongban workdays between --from 2026-09-28 --to 2026-10-30 [--region CODE]
    tongban workdays day 2026-10-10 [--region CODE] [--json]
    tongban workdays load FILE [--by USERNAME]
    tongban workdays years
"""

from __future__ import annotations

import argparse
import json
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from tongban.core.commands import TongbanCommand
from tongban.core.errors import InvalidInput, Problem
from tongban.workdays import calendar, services
from tongban.workdays.models import CalendarYear


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为日期 YYYY-MM-DD / expected a date YYYY-MM-DD: {value!r}") from None


class Command(TongbanCommand):
    help = "工作日计算与节假日安排导入 / working-day arithmetic and holiday notice loading"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True, metavar="{add,between,day,load,years}")

        add = sub.add_parser("add", help="第 N 个工作日（起始日不计） / the Nth working day after a date")
        add.add_argument("--from", dest="start", type=_iso_date, required=True, metavar="YYYY-MM-DD")
        add.add_argument("--days", type=int, required=True, metavar="N")
        add.add_argument("--region", default=None, metavar="CODE")
        add.add_argument("--json", action="store_true", dest="as_json")

        between = sub.add_parser("between", help="(from, to] 内的工作日数 / working days in (from, to]")
        between.add_argument("--from", dest="start", type=_iso_date, required=True, metavar="YYYY-MM-DD")
        between.add_argument("--to", dest="end", type=_iso_date, required=True, metavar="YYYY-MM-DD")
        between.add_argument("--region", default=None, metavar="CODE")

        day = sub.add_parser("day", help="某日是否工作日及依据 / whether a day is a working day, and why")
        day.add_argument("day", type=_iso_date, metavar="YYYY-MM-DD")
        day.add_argument("--region", default=None, metavar="CODE")
        day.add_argument("--json", action="store_true", dest="as_json")

        load = sub.add_parser("load", help="导入一年的节假日安排（YAML） / load a year's notice (YAML)")
        load.add_argument("file", metavar="FILE")
        load.add_argument("--by", default=None, metavar="USERNAME", help="导入人用户名 / loading user")

        sub.add_parser("years", help="已覆盖的年份 / years with official data")

    def handle(self, *args, verb: str, **options):
        try:
            getattr(self, f"_{verb}")(**options)
        except InvalidInput as exc:
            raise CommandError("\n".join(p.line() for p in exc.problems)) from exc

    def _add(self, *, start: date, days: int, region: str | None, as_json: bool, **_):
        result = calendar.add_workdays(start, days, region)
        if as_json:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self.stdout.write(result.due.isoformat() + (" (provisional)" if result.provisional else ""))

    def _between(self, *, start: date, end: date, region: str | None, **_):
        self.stdout.write(str(calendar.workdays_between(start, end, region)))

    def _day(self, *, day: date, region: str | None, as_json: bool, **_):
        info = calendar.describe_day(day, region)
        if as_json:
            self.stdout.write(json.dumps(info, ensure_ascii=False))
            return
        label = "工作日 / working day" if info["workday"] else "休息日 / day off"
        name = f" {info['name']}" if info["name"] else ""
        note = "" if info["covered"] else " (provisional)"
        self.stdout.write(f"{info['date']} {label}: {calendar.ORIGIN_LABELS[info['origin']]}{name}{note}")

    def _load(self, *, file: str, by: str | None, **_):
        user = None
        if by:
            user = get_user_model().objects.filter(username=by).first()
            if user is None:
                raise InvalidInput(Problem("by", "unknown_user", f"用户 {by} 不存在", f"unknown user {by}"))
        record = services.calendar_year_load_file(path=file, loaded_by=user)
        count = record.year and _override_count(record.year)
        self.stdout.write(f"已导入 {record.year} 年节假日安排（{record.source}），{count} 个调整日 / "
                          f"loaded {record.year}: {count} days")

    def _years(self, **_):
        loaded = {r.year: r for r in CalendarYear.objects.all()}
        for year in calendar.covered_years():
            row = loaded.get(year)
            origin = f"{row.source} ({row.loaded_at:%Y-%m-%d})" if row else "chinese_calendar"
            self.stdout.write(f"{year} {origin}")


def _override_count(year: int) -> int:
    from tongban.workdays.models import CalendarOverride

    return CalendarOverride.objects.filter(region__isnull=True, date__year=year).count()
