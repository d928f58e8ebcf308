"""The in-process calendar cache: no queries on the hot path, other processes' writes seen within the TTL."""

import uuid
from datetime import date

import pytest
from django.utils import timezone

from tongban.workdays import calendar, services
from tongban.workdays.models import CalendarOverride, CalendarState

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 10)  # an ordinary Tuesday


def write_as_another_process(**fields):
    """Rows plus a new revision token, without touching this process's cache (as another host would)."""
    CalendarOverride.objects.create(**fields)
    CalendarState.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4(), "changed_at": timezone.now()})


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(calendar.time, "monotonic", lambda: now[0])
    return now


def test_hot_path_makes_no_queries_once_warm(settings, django_assert_num_queries):
    settings.WORKDAYS_REVISION_CHECK_SECONDS = 60
    calendar.add_workdays(date(2026, 9, 28), 20)
    with django_assert_num_queries(0):
        for offset in range(500):
            calendar.add_workdays(date.fromordinal(date(2026, 1, 1).toordinal() + offset), 20)
            calendar.is_workday(DAY)
            calendar.workdays_between(date(2026, 1, 1), DAY)


def test_region_lineage_is_cached_too(settings, regions, django_assert_num_queries):
    settings.WORKDAYS_REVISION_CHECK_SECONDS = 60
    services.calendar_override_create(day=DAY, kind="holiday", name="停工", region_code="430100")
    assert calendar.is_workday(DAY, "430102") is False
    with django_assert_num_queries(0):
        for _ in range(100):
            assert calendar.is_workday(DAY, "430102") is False


def test_other_process_write_is_seen_after_the_check_interval(settings, clock):
    settings.WORKDAYS_REVISION_CHECK_SECONDS = 5
    assert calendar.is_workday(DAY) is True
    write_as_another_process(date=DAY, kind="holiday", name="更正")
    clock[0] += 1
    assert calendar.is_workday(DAY) is True  # still within the interval: cached
    clock[0] += 5
    assert calendar.is_workday(DAY) is False  # revision changed: reloaded


def test_unchanged_revision_costs_one_query_and_no_rebuild(settings, clock, django_assert_num_queries):
    settings.WORKDAYS_REVISION_CHECK_SECONDS = 5
    calendar.is_workday(DAY)
    snapshot = calendar._snapshot
    clock[0] += 10
    with django_assert_num_queries(1):
        calendar.is_workday(DAY)
    assert calendar._snapshot is snapshot


def test_local_write_is_seen_immediately(settings):
    settings.WORKDAYS_REVISION_CHECK_SECONDS = 3600
    assert calendar.is_workday(DAY) is True
    services.calendar_override_create(day=DAY, kind="holiday", name="更正")
    assert calendar.is_workday(DAY) is False


def test_every_write_changes_the_revision_token():
    services.calendar_override_create(day=DAY, kind="holiday", name="更正")
    first = CalendarState.objects.get(pk=1).token
    services.calendar_override_delete(override=CalendarOverride.objects.get())
    assert CalendarState.objects.get(pk=1).token != first


def test_missing_state_row_is_tolerated():
    CalendarState.objects.all().delete()
    assert calendar.is_workday(DAY) is True
    services.calendar_override_create(day=DAY, kind="holiday", name="更正")
    assert CalendarState.objects.filter(pk=1).exists()
    assert calendar.is_workday(DAY) is False
