"""Deadline arithmetic: official data, overrides, regions, provisional results for uncovered years."""

from datetime import date

import pytest

from tongban.core.errors import InvalidInput
from tongban.workdays import services
from tongban.workdays.calendar import (
    MAX_DAYS,
    Due,
    add_workdays,
    covered_years,
    is_covered,
    is_workday,
    next_workday,
    workdays_between,
)
from tongban.workdays.models import CalendarOverride

pytestmark = pytest.mark.django_db


def test_twenty_working_days_over_national_day_2026_respect_holidays_and_adjusted_working_day():
    # 9-29, 9-30, (10-1..10-7 holiday), 10-8, 10-9, 10-10 (Saturday, adjusted working day), 10-12 ...
    assert add_workdays(date(2026, 9, 28), 20) == Due(date(2026, 10, 30), False)


def test_start_day_is_not_counted():
    assert add_workdays(date(2026, 11, 2), 1).due == date(2026, 11, 3)  # Monday -> Tuesday
    assert add_workdays(date(2026, 11, 6), 1).due == date(2026, 11, 9)  # Friday -> Monday


def test_due_is_frozen_dataclass():
    result = add_workdays(date(2026, 11, 2), 1)
    with pytest.raises(AttributeError):
        result.due = date(2026, 1, 1)  # type: ignore[misc]


def test_official_holidays_and_adjusted_working_days_from_package():
    assert is_workday(date(2026, 10, 1)) is False  # National Day, Thursday
    assert is_workday(date(2026, 10, 10)) is True  # Saturday, adjusted working day
    assert is_workday(date(2026, 11, 7)) is False  # ordinary Saturday
    assert is_workday(date(2026, 11, 9)) is True  # ordinary Monday
    assert is_workday(date(2004, 1, 1)) is False  # first year the package holds


def test_zero_days_returns_start_and_negative_days_count_backwards():
    assert add_workdays(date(2026, 10, 8), 0) == Due(date(2026, 10, 8), False)
    assert add_workdays(date(2026, 10, 8), -1) == Due(date(2026, 9, 30), False)
    assert add_workdays(date(2026, 10, 12), -1).due == date(2026, 10, 10)


def test_days_beyond_limit_is_a_named_problem():
    with pytest.raises(InvalidInput) as exc:
        add_workdays(date(2026, 1, 1), MAX_DAYS + 1)
    assert exc.value.problems[0].field == "days"


def test_datetime_is_rejected_as_start():
    from datetime import UTC, datetime

    with pytest.raises(TypeError):
        add_workdays(datetime(2026, 1, 1, tzinfo=UTC), 1)


def test_next_workday():
    assert next_workday(date(2026, 9, 30)) == Due(date(2026, 10, 8), False)
    assert next_workday(date(2026, 10, 3), inclusive=True).due == date(2026, 10, 8)
    assert next_workday(date(2026, 10, 9), inclusive=True).due == date(2026, 10, 9)
    assert next_workday(date(2026, 10, 9)).due == date(2026, 10, 10)


def test_workdays_between_counts_half_open_interval():
    assert workdays_between(date(2026, 9, 28), date(2026, 10, 30)) == 20
    assert workdays_between(date(2026, 10, 30), date(2026, 9, 28)) == -20
    assert workdays_between(date(2026, 10, 1), date(2026, 10, 1)) == 0
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
    # across many years: brute force agrees
    a, b = date(2019, 12, 1), date(2021, 3, 1)
    brute = sum(is_workday(date.fromordinal(o)) for o in range(a.toordinal() + 1, b.toordinal() + 1))
    assert workdays_between(a, b) == brute


def test_year_not_covered_is_computed_on_weekends_and_marked_provisional():
    assert not is_covered(2027)
    assert 2026 in covered_years() and 2027 not in covered_years()
    result = add_workdays(date(2026, 12, 28), 5)
    # 12-29, 12-30, 12-31 then 2027-01-01 (Fri, weekend rule), 2027-01-04 (Mon)
    assert result == Due(date(2027, 1, 4), True)
    assert is_workday(date(2027, 1, 1)) is True  # no data: weekday rule


def test_result_inside_covered_year_is_not_provisional_even_from_uncovered_start():
    assert add_workdays(date(2026, 12, 30), 1) == Due(date(2026, 12, 31), False)
    # counting backwards from 2027 passes over 2027 days: provisional
    assert add_workdays(date(2027, 1, 5), -3).provisional is True


def test_loading_2027_makes_the_same_computation_final(example_2027):
    before = add_workdays(date(2026, 12, 28), 5)
    assert before.provisional is True
    services.calendar_year_load_file(path=example_2027)
    after = add_workdays(date(2026, 12, 28), 5)
    # example file: 2027-01-01..03 holiday -> 12-29, 12-30, 12-31, 01-04, 01-05
    assert after == Due(date(2027, 1, 5), False)
    assert is_covered(2027)


def test_database_override_wins_over_package():
    services.calendar_override_create(day=date(2026, 10, 8), kind=CalendarOverride.Kind.HOLIDAY,
                                      name="更正", source="测试")
    assert is_workday(date(2026, 10, 8)) is False
    assert add_workdays(date(2026, 9, 28), 20).due == date(2026, 11, 2)
    services.calendar_override_create(day=date(2026, 10, 1), kind=CalendarOverride.Kind.WORKDAY, name="更正")
    assert is_workday(date(2026, 10, 1)) is True


def test_regional_closure_applies_to_region_and_descendants_only(regions):
    closure = date(2026, 11, 10)  # a Tuesday
    services.calendar_override_create(day=closure, kind=CalendarOverride.Kind.HOLIDAY, name="台风停工",
                                      region_code="430100", source="长沙市通知")
    assert is_workday(closure, "430100") is False
    assert is_workday(closure, "430102") is False  # district of the city
    assert is_workday(closure) is True
    assert is_workday(closure, "430000") is True  # province
    assert is_workday(closure, "430200") is True  # sibling city
    assert add_workdays(date(2026, 11, 9), 1, "430102").due == date(2026, 11, 11)
    assert add_workdays(date(2026, 11, 9), 1).due == date(2026, 11, 10)
    assert workdays_between(date(2026, 11, 9), date(2026, 11, 13), "430102") == 3


def test_nearest_region_wins(regions):
    day = date(2026, 11, 11)
    services.calendar_override_create(day=day, kind=CalendarOverride.Kind.HOLIDAY, name="省内停工",
                                      region_code="430000")
    services.calendar_override_create(day=day, kind=CalendarOverride.Kind.WORKDAY, name="长沙照常上班",
                                      region_code="430100")
    assert is_workday(day, "430200") is False
    assert is_workday(day, "430102") is True


def test_unknown_region_is_a_named_problem(regions):
    with pytest.raises(InvalidInput) as exc:
        add_workdays(date(2026, 11, 9), 1, "999999")
    assert exc.value.problems[0].field == "region"
    assert exc.value.problems[0].rule == "unknown_region"


def test_regional_override_in_uncovered_year_still_provisional(regions):
    services.calendar_override_create(day=date(2027, 3, 1), kind=CalendarOverride.Kind.HOLIDAY,
                                      name="停工", region_code="430100")
    result = add_workdays(date(2027, 2, 26), 1, "430100")
    assert result == Due(date(2027, 3, 2), True)
