import pytest

from tongban.audit.selectors import entries_about_subject, trail_for_case, trail_for_object
from tongban.audit.services import append_entry

pytestmark = pytest.mark.django_db

PERSON = "430102199001011234"


def test_trail_for_object_returns_its_entries_in_order():
    append_entry(action="case.accept", object_type="case", object_id="7")
    append_entry(action="case.accept", object_type="case", object_id="8")
    append_entry(action="case.decide", object_type="case", object_id="7")
    append_entry(action="licence.issue", object_type="licence", object_id="7")

    assert [e.action for e in trail_for_object("case", "7")] == ["case.accept", "case.decide"]
    assert [e.action for e in trail_for_object("case", 7)] == ["case.accept", "case.decide"]
    assert not trail_for_object("case", "")


def test_entries_about_subject_answers_who_looked_at_my_data(make_user):
    officer = make_user("officer1")
    append_entry(action="exchange.query", actor=officer, role="officer", subject_code=PERSON,
                 reason="办理食品经营许可", case_ref="C1")
    append_entry(action="exchange.query_refused", subject_code=PERSON, reason="无授权")
    append_entry(action="case.accept", subject_code=PERSON, case_ref="C1")
    append_entry(action="exchange.query", subject_code="91430100MA4L00000X")
    append_entry(action="case.note")  # no subject

    assert [e.action for e in entries_about_subject(PERSON)] == [
        "exchange.query", "exchange.query_refused", "case.accept"]
    looked = list(entries_about_subject(PERSON, action_prefix="exchange."))
    assert [(e.actor_label, e.reason) for e in looked] == [("officer1", "办理食品经营许可"), ("system", "无授权")]
    assert not entries_about_subject("")


def test_trail_for_case(django_assert_num_queries, make_user):
    user = make_user()
    for action in ("case.accept", "subcase.dispatch", "subcase.decide"):
        append_entry(action=action, actor=user, case_ref="TB-2026-0001")
    append_entry(action="case.accept", case_ref="TB-2026-0002")

    with django_assert_num_queries(1):
        trail = [(e.action, e.actor.username) for e in trail_for_case("TB-2026-0001")]
    assert trail == [("case.accept", "clerk1"), ("subcase.dispatch", "clerk1"), ("subcase.decide", "clerk1")]
    assert not trail_for_case("")
