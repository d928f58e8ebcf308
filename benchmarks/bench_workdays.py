"""Deadline arithmetic on the hot path: add_workdays(start, 20) against a bare weekday loop.

Run: `python -m benchmarks bench_workdays`. The baseline walks the same 20 working days with only
`date.weekday()` checks (what a calendar-unaware implementation would cost), measured in the same run.
Also measured: a region-scoped call, workdays_between over a year, and a cold rebuild of the cache.
"""

from __future__ import annotations

from datetime import date, timedelta

from benchmarks.harness import benchmark_database, measure, report

START = date(2026, 9, 28)
ONE_DAY = timedelta(days=1)


def bare_weekday_loop(start: date = START, days: int = 20) -> date:
    day = start
    while days:
        day += ONE_DAY
        if day.weekday() < 5:
            days -= 1
    return day


def main() -> None:
    with benchmark_database() as db:
        from django.conf import settings

        from tongban.regions.models import Region
        from tongban.workdays import calendar, services

        settings.WORKDAYS_REVISION_CHECK_SECONDS = 2.0
        hunan = Region.objects.create(code="430000", name="湖南省", level="province")
        changsha = Region.objects.create(code="430100", name="长沙市", level="city", parent=hunan)
        Region.objects.create(code="430102", name="芙蓉区", level="county", parent=changsha)
        services.calendar_override_create(day=date(2026, 10, 13), kind="holiday", name="停工", region_code="430100")

        assert calendar.add_workdays(START, 20).due == date(2026, 10, 30)
        starts = [START + timedelta(days=i) for i in range(64)]
        index = [0]

        def add_20():
            index[0] = (index[0] + 1) & 63
            calendar.add_workdays(starts[index[0]], 20)

        def baseline():
            index[0] = (index[0] + 1) & 63
            bare_weekday_loop(starts[index[0]], 20)

        def add_20_region():
            index[0] = (index[0] + 1) & 63
            calendar.add_workdays(starts[index[0]], 20, "430102")

        def between_year():
            calendar.workdays_between(date(2026, 1, 1), date(2026, 12, 31))

        def cold_rebuild():
            calendar.clear_cache()
            calendar.add_workdays(START, 20)

        rows = [
            measure("bare weekday loop, 20 days (baseline)", baseline, runs=2000, batch=50),
            measure("add_workdays(start, 20)", add_20, runs=2000, batch=50),
            measure("add_workdays(start, 20, region)", add_20_region, runs=2000, batch=50),
            measure("workdays_between over one year", between_year, runs=1000, batch=10),
            measure("cold: rebuild from database + first add", cold_rebuild, runs=50, warmup=3),
        ]
        report(f"working-day arithmetic ({db.vendor})", rows, baseline="bare weekday loop, 20 days (baseline)")


if __name__ == "__main__":
    main()
