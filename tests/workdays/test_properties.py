"""Property tests of the arithmetic over the whole range of official data and beyond."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.workdays.calendar import add_workdays, is_workday, next_workday, workdays_between

pytestmark = pytest.mark.django_db

dates = st.dates(min_value=date(2004, 1, 1), max_value=date(2028, 12, 31))
counts = st.integers(min_value=1, max_value=400)


@settings(max_examples=200, deadline=None)
@given(start=dates, days=counts)
def test_result_is_a_working_day_after_start(start, days):
    result = add_workdays(start, days)
    assert result.due > start
    assert is_workday(result.due)


@settings(max_examples=200, deadline=None)
@given(start=dates, days=st.integers(min_value=-400, max_value=400))
def test_workdays_between_inverts_add(start, days):
    assert workdays_between(start, add_workdays(start, days).due) == days


@settings(max_examples=100, deadline=None)
@given(start=dates, days=counts)
def test_monotonic_in_days(start, days):
    assert add_workdays(start, days).due < add_workdays(start, days + 1).due


@settings(max_examples=100, deadline=None)
@given(start=dates, days=counts)
def test_adding_in_two_steps_equals_adding_at_once(start, days):
    first = days // 2
    middle = add_workdays(start, first).due
    assert add_workdays(middle, days - first).due == add_workdays(start, days).due


@settings(max_examples=100, deadline=None)
@given(start=dates, days=counts)
def test_backwards_then_forwards_returns_to_start_or_the_next_working_day(start, days):
    back = add_workdays(start, -days).due
    assert back < start and is_workday(back)
    assert add_workdays(back, days).due == next_workday(start, inclusive=True).due


@settings(max_examples=100, deadline=None)
@given(a=dates, b=dates)
def test_between_matches_brute_force(a, b):
    lo, hi = min(a, b), max(a, b)
    if hi.toordinal() - lo.toordinal() > 800:
        hi = date.fromordinal(lo.toordinal() + 800)
    brute = sum(is_workday(date.fromordinal(o)) for o in range(lo.toordinal() + 1, hi.toordinal() + 1))
    assert workdays_between(lo, hi) == brute


@settings(max_examples=100, deadline=None)
@given(start=dates, days=counts)
def test_provisional_exactly_when_an_uncovered_year_is_counted_over(start, days):
    # official data covers 2004..2026 here; every counted day lies in (start, due]
    result = add_workdays(start, days)
    assert result.provisional == (result.due.year >= 2027)


@settings(max_examples=200, deadline=None)
@given(start=st.dates(min_value=date(1995, 1, 1), max_value=date(2060, 12, 31)),
       days=st.integers(min_value=-800, max_value=800).filter(bool))
def test_precomputed_span_and_day_walk_agree_also_at_its_edges(start, days):
    from tongban.workdays import calendar

    table = calendar._table(calendar._current(), None)
    walked = date.fromordinal(calendar._walk(table.exceptions, start.toordinal(), days))
    assert add_workdays(start, days).due == walked
    assert workdays_between(start, walked) == days
