"""Loading notices and maintaining overrides: validation, all-or-nothing, replacement, listeners."""

from datetime import date

import pytest

from tongban.core.errors import InvalidInput
from tongban.workdays import services
from tongban.workdays.calendar import add_workdays, is_covered, is_workday
from tongban.workdays.listeners import register_calendar_listener, unregister_calendar_listener
from tongban.workdays.models import CalendarOverride, CalendarYear
from tongban.workdays.services import AdjustedWorkday, HolidayRange

pytestmark = pytest.mark.django_db

GOOD = """\
year: 2027
source: 示例〔2027〕9号
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
workdays: [2027-01-09]
"""


def load_text(text: str, **kwargs):
    return services.calendar_year_load_document(content=text.encode(), name="notice.yaml", **kwargs)


def problems_of(text: str) -> dict[str, str]:
    with pytest.raises(InvalidInput) as exc:
        load_text(text)
    return {p.field: p.rule for p in exc.value.problems}


def test_load_file_records_year_and_overrides(example_2027, django_user_model):
    admin = django_user_model.objects.create_user(username="calendar-admin")
    record = services.calendar_year_load_file(path=example_2027, loaded_by=admin)
    assert record.year == 2027 and record.loaded_by == admin and record.loaded_at.tzinfo is not None
    assert len(record.file_sha256) == 64
    assert CalendarOverride.objects.filter(kind="holiday", date__year=2027, region=None).count() == 3 + 9 + 5 + 7
    assert set(CalendarOverride.objects.filter(kind="workday").values_list("date", flat=True)) == {
        date(2027, 2, 20), date(2027, 1, 30), date(2027, 10, 9)}
    assert CalendarOverride.objects.get(date=date(2027, 1, 30)).name == "春节调休上班"
    assert is_workday(date(2027, 1, 30)) is True and is_workday(date(2027, 2, 8)) is False


def test_reload_replaces_the_years_nationwide_overrides_but_keeps_regional(regions):
    load_text(GOOD)
    services.calendar_override_create(day=date(2027, 6, 1), kind="holiday", name="地方停工", region_code="430100")
    services.calendar_override_create(day=date(2026, 12, 31), kind="holiday", name="其他年份")
    load_text(GOOD.replace("2027-01-09", "2027-01-10").replace("9号", "10号"))
    assert CalendarYear.objects.get().source == "示例〔2027〕10号"
    nationwide = set(CalendarOverride.objects.filter(region=None, date__year=2027).values_list("date", flat=True))
    assert nationwide == {date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3), date(2027, 1, 10)}
    assert CalendarOverride.objects.filter(region_id="430100").exists()
    assert CalendarOverride.objects.filter(date=date(2026, 12, 31)).exists()
    assert is_workday(date(2027, 1, 9)) is False and is_workday(date(2027, 1, 10)) is True


@pytest.mark.parametrize(("text", "field", "rule"), [
    (GOOD.replace("2027-01-03", "2028-01-03"), "holidays[0].to", "year"),
    (GOOD.replace("[2027-01-09]", "[2027-01-02]"), "workdays[0]", "conflict"),
    (GOOD.replace("[2027-01-09]", "[2027-01-05]"), "workdays[0]", "not_weekend"),
    (GOOD.replace("[2027-01-09]", "[2027-01-09, 2027-01-09]"), "workdays[1]", "duplicate"),
    (GOOD.replace("[2027-01-09]", "[2026-01-10]"), "workdays[0]", "year"),
    (GOOD.replace("from: 2027-01-01, to: 2027-01-03", "from: 2027-01-03, to: 2027-01-01"), "holidays[0].to",
     "order"),
    (GOOD.replace("year: 2027", "year: next"), "year", "required"),
    (GOOD.replace("year: 2027", "year: 1800"), "year", "range"),
    (GOOD.replace("source: 示例〔2027〕9号", "source: ''"), "source", "required"),
    (GOOD.replace("workdays:", "workday:"), "workday", "unknown_field"),
    (GOOD.replace("name: 元旦, ", ""), "holidays[0].name", "required"),
    (GOOD.replace("[2027-01-09]", "[2027-13-40]"), "workdays[0]", "date"),
    (GOOD + "  - {name: 重复, from: 2027-01-03, to: 2027-01-04}\n".replace("  - ", "holidays_extra: "),
     "holidays_extra", "unknown_field"),
    ("- just\n- a list\n", "file", "type"),
    ("year: [unclosed\n", "file", "yaml"),
])
def test_bad_notice_names_field_and_rule_and_writes_nothing(text, field, rule, calls):
    found = problems_of(text)
    assert found.get(field) == rule, found
    assert not CalendarYear.objects.exists() and not CalendarOverride.objects.exists()
    assert calls == []


def test_overlapping_holiday_ranges_are_rejected():
    text = GOOD.replace("workdays:", "  - {name: 重叠, from: 2027-01-03, to: 2027-01-04}\nworkdays:")
    assert problems_of(text) == {"holidays[1]": "duplicate"}


def test_problems_are_bilingual_and_carry_the_file_name():
    with pytest.raises(InvalidInput) as exc:
        load_text(GOOD.replace("[2027-01-09]", "[2027-01-05]"))
    problem = exc.value.problems[0]
    assert problem.file == "notice.yaml"
    assert "周六或周日" in problem.zh and "Saturday" in problem.en
    assert problem.line().startswith("notice.yaml: workdays[0]: [not_weekend]")


def test_unreadable_file_is_a_problem(tmp_path):
    with pytest.raises(InvalidInput) as exc:
        services.calendar_year_load_file(path=tmp_path / "missing.yaml")
    assert exc.value.problems[0].rule == "unreadable"


def test_load_notifies_listener_with_the_year_inside_the_transaction(calls):
    seen = []

    def check_calendar_already_new(changed_from, changed_to, region_code):
        seen.append((is_covered(2027), is_workday(date(2027, 1, 1))))

    register_calendar_listener(check_calendar_already_new)
    try:
        load_text(GOOD)
    finally:
        unregister_calendar_listener(check_calendar_already_new)
    assert calls == [(date(2027, 1, 1), date(2027, 12, 31), None)]
    assert seen == [(True, False)]


def test_listener_can_recompute_provisional_deadlines():
    """The intended use: a deadline computed before the year was loaded is recomputed on load."""
    deadlines = {"case-1": (date(2026, 12, 28), 5, add_workdays(date(2026, 12, 28), 5))}
    assert deadlines["case-1"][2].provisional

    def recompute(changed_from, changed_to, region_code):
        for key, (start, days, due) in list(deadlines.items()):
            if due.provisional or changed_from <= due.due:
                deadlines[key] = (start, days, add_workdays(start, days))

    register_calendar_listener(recompute)
    try:
        load_text(GOOD)
    finally:
        unregister_calendar_listener(recompute)
    assert deadlines["case-1"][2].due == date(2027, 1, 5)
    assert deadlines["case-1"][2].provisional is False


def test_failing_listener_rolls_the_load_back():
    def broken(*args):
        raise RuntimeError("recompute failed")

    register_calendar_listener(broken)
    try:
        with pytest.raises(RuntimeError):
            load_text(GOOD)
    finally:
        unregister_calendar_listener(broken)
    assert not CalendarYear.objects.exists() and not CalendarOverride.objects.exists()
    assert not is_covered(2027)
    assert add_workdays(date(2026, 12, 28), 5).provisional is True


def test_register_is_idempotent(calls):
    from tongban.workdays import listeners

    before = len(listeners._listeners)
    listener = listeners._listeners[-1]
    register_calendar_listener(listener)
    assert len(listeners._listeners) == before


def test_override_create_update_delete_notify_listeners(regions, calls):
    override = services.calendar_override_create(day=date(2026, 11, 10), kind="holiday", name="台风停工",
                                                 region_code="430100")
    services.calendar_override_update(override=override, day=date(2026, 11, 11), kind="holiday", name="台风停工",
                                      region_code="430100")
    services.calendar_override_delete(override=override)
    assert calls == [
        (date(2026, 11, 10), date(2026, 11, 10), "430100"),
        (date(2026, 11, 10), date(2026, 11, 10), "430100"),
        (date(2026, 11, 11), date(2026, 11, 11), "430100"),
        (date(2026, 11, 11), date(2026, 11, 11), "430100"),
    ]
    assert is_workday(date(2026, 11, 11), "430100") is True


def test_override_validation(regions):
    services.calendar_override_create(day=date(2026, 11, 10), kind="holiday", name="停工", region_code="430100")
    cases = [
        ({"day": date(2026, 11, 10), "kind": "holiday", "name": "再次", "region_code": "430100"}, "day", "unique"),
        ({"day": date(2026, 11, 10), "kind": "closed", "name": "x"}, "kind", "choice"),
        ({"day": date(2026, 11, 10), "kind": "holiday", "name": " "}, "name", "required"),
        ({"day": date(2026, 11, 10), "kind": "holiday", "name": "x", "region_code": "999999"}, "region",
         "unknown_region"),
    ]
    for kwargs, field, rule in cases:
        with pytest.raises(InvalidInput) as exc:
            services.calendar_override_create(**kwargs)
        assert (exc.value.problems[0].field, exc.value.problems[0].rule) == (field, rule)
    # the same date nationwide is a different scope and allowed
    services.calendar_override_create(day=date(2026, 11, 10), kind="holiday", name="全国")
    assert CalendarOverride.objects.count() == 2


def test_delete_year_restores_provisional_results(calls):
    load_text(GOOD)
    assert add_workdays(date(2026, 12, 28), 5).provisional is False
    services.calendar_year_delete(year=2027)
    assert not CalendarOverride.objects.exists()
    assert add_workdays(date(2026, 12, 28), 5).provisional is True
    assert calls[-1] == (date(2027, 1, 1), date(2027, 12, 31), None)
    with pytest.raises(InvalidInput):
        services.calendar_year_delete(year=2027)


def test_programmatic_load_validates_too():
    with pytest.raises(InvalidInput) as exc:
        services.calendar_year_load(year=2027, source="x", holidays=[
            HolidayRange("元旦", date(2027, 1, 1), date(2027, 1, 1))], workdays=[AdjustedWorkday(date(2027, 1, 1))])
    assert exc.value.problems[0].rule == "conflict"


def test_every_write_leaves_an_audit_entry(django_user_model, regions):
    from tongban.audit.models import AuditEntry

    officer = django_user_model.objects.create_user(username="calendar-admin")
    load_text(GOOD, loaded_by=officer)
    override = services.calendar_override_create(day=date(2026, 11, 10), kind="holiday", name="停工",
                                                 region_code="430100", actor=officer)
    pk = str(override.pk)
    services.calendar_override_update(override=override, day=date(2026, 11, 11), kind="holiday", name="停工",
                                      region_code="430100", actor=officer)
    services.calendar_override_delete(override=override, actor=officer)
    services.calendar_year_delete(year=2027, actor=officer)
    entries = list(AuditEntry.objects.order_by("pk").values_list("action", "object_id", "region_code"))
    assert entries == [
        ("workdays.year.load", "2027", ""),
        ("workdays.override.create", pk, "430100"),
        ("workdays.override.update", pk, "430100"),
        ("workdays.override.delete", pk, "430100"),
        ("workdays.year.delete", "2027", ""),
    ]
    update = AuditEntry.objects.get(action="workdays.override.update")
    assert update.before["date"] == "2026-11-10" and update.after["date"] == "2026-11-11"


def test_rejected_write_leaves_no_audit_entry():
    from tongban.audit.models import AuditEntry

    with pytest.raises(InvalidInput):
        load_text(GOOD.replace("[2027-01-09]", "[2027-01-05]"))
    assert not AuditEntry.objects.exists()
