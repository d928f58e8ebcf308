"""`tongban workdays ...` through call_command with captured output."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tongban.workdays.models import CalendarYear

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue().strip()


def test_add_prints_due_date():
    assert run("add", "--from", "2026-09-28", "--days", "20") == "2026-10-30"


def test_add_json_is_exact():
    assert run("add", "--from", "2026-09-28", "--days", "20", "--json") == \
        '{"due": "2026-10-30", "provisional": false}'


def test_add_into_uncovered_year_is_provisional_until_loaded(example_2027):
    assert run("add", "--from", "2026-12-28", "--days", "5") == "2027-01-04 (provisional)"
    assert json.loads(run("add", "--from", "2026-12-28", "--days", "5", "--json")) == {
        "due": "2027-01-04", "provisional": True}
    assert "2027" in run("load", str(example_2027))
    assert run("add", "--from", "2026-12-28", "--days", "5") == "2027-01-05"
    assert run("add", "--from", "2026-12-28", "--days", "5", "--json") == \
        '{"due": "2027-01-05", "provisional": false}'


def test_add_with_region(regions):
    from tongban.workdays import services

    services.calendar_override_create(day=date(2026, 11, 10), kind="holiday", name="停工", region_code="430100")
    assert run("add", "--from", "2026-11-09", "--days", "1", "--region", "430102") == "2026-11-11"
    with pytest.raises(CommandError, match=r"region: \[unknown_region\]"):
        run("add", "--from", "2026-11-09", "--days", "1", "--region", "999999")


def test_load_bad_file_fails_with_one_line_per_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nsource: 测试\nholidays:\n  - {name: 元旦, from: 2026-12-31, to: 2027-01-01}\n"
                   "workdays: [2027-01-01, 2027-01-05]\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run("load", str(bad))
    lines = str(exc.value).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{bad}: ") for line in lines)
    assert any("holidays[0].from: [year]" in line for line in lines)
    assert any("workdays[1]: [not_weekend]" in line for line in lines)
    assert not CalendarYear.objects.exists()


def test_load_records_user(example_2027, django_user_model):
    django_user_model.objects.create_user(username="calendar-admin")
    run("load", str(example_2027), "--by", "calendar-admin")
    assert CalendarYear.objects.get(year=2027).loaded_by.username == "calendar-admin"
    with pytest.raises(CommandError, match=r"by: \[unknown_user\]"):
        run("load", str(example_2027), "--by", "nobody")


def test_between_day_and_years():
    assert run("between", "--from", "2026-09-28", "--to", "2026-10-30") == "20"
    assert json.loads(run("day", "2026-10-10", "--json"))["workday"] is True
    assert "National Day" in run("day", "2026-10-01")
    assert run("years").splitlines()[-1] == "2026 chinese_calendar"


def test_bad_arguments_are_rejected():
    with pytest.raises(CommandError):
        run("add", "--from", "2026-02-30", "--days", "1")
    with pytest.raises(CommandError):
        run("add", "--from", "2026-09-28")
