import pytest
from django.db import transaction

from tongban.audit.models import AuditEntry
from tongban.audit.services import append_entry, verify_chain
from tongban.core.errors import InvalidInput

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def test_append_in_a_rolled_back_transaction_leaves_no_entry_and_no_gap():
    append_entry(action="case.accept")
    with pytest.raises(Boom), transaction.atomic():
        append_entry(action="case.decide")
        append_entry(action="case.deliver")
        raise Boom
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1]

    after = append_entry(action="case.reject")

    assert after.seq == 2
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2]
    assert verify_chain().ok


def test_append_in_a_rolled_back_savepoint_reuses_the_seq():
    with transaction.atomic():
        append_entry(action="case.accept")
        with pytest.raises(Boom), transaction.atomic():
            append_entry(action="case.bad")
            raise Boom
        kept = append_entry(action="case.decide")
    assert kept.seq == 2
    assert [e.action for e in AuditEntry.objects.all()] == ["case.accept", "case.decide"]
    assert verify_chain().ok


def test_entry_commits_with_the_callers_transaction():
    with transaction.atomic():
        entry = append_entry(action="case.accept")
        assert transaction.get_connection().in_atomic_block
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"action": ""}, "action", "required"),
        ({"action": "case accept"}, "action", "format"),
        ({"action": "x" * 65}, "action", "max_length"),
        ({"action": "case.accept", "case_ref": "c" * 65}, "case_ref", "max_length"),
        ({"action": "case.accept", "reason": "a\x00b"}, "reason", "no_nul"),
        ({"action": "case.accept", "after": {"x": float("nan")}}, "after", "json"),
        ({"action": "case.accept", "before": {"x": object()}}, "before", "json"),
        ({"action": "case.accept", "after": {"x": "a\x00"}}, "after", "json"),
    ],
)
def test_bad_input_is_refused_with_a_named_problem_and_nothing_written(kwargs, field, rule):
    with pytest.raises(InvalidInput) as caught:
        append_entry(**kwargs)
    assert [(p.field, p.rule) for p in caught.value.problems] == [(field, rule)]
    assert caught.value.problems[0].zh and caught.value.problems[0].en
    assert not AuditEntry.objects.exists()


def test_unsaved_actor_is_refused(django_user_model):
    with pytest.raises(InvalidInput) as caught:
        append_entry(action="case.accept", actor=django_user_model(username="ghost"))
    assert caught.value.problems[0].field == "actor"
