"""Mandates (委托代办): grant, scope, period, sub-delegation, revocation (cascading, immediate), audit."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.accounts.models import Mandate
from tongban.accounts.selectors import may_act_for, parties_for, require_acting_for
from tongban.accounts.services import grant_mandate, revoke_mandate
from tongban.audit.models import AuditEntry
from tongban.core.errors import InvalidInput, NotFound

from .conftest import ITEM_A, ITEM_B, ITEM_C

pytestmark = pytest.mark.django_db


def _grant(p, **kw):
    args = {"granted_by": p.boss, "principal": p.enterprise, "agent": p.agent, "valid_until": p.year}
    args.update(kw)
    return grant_mandate(**args)


def _rule(exc_info) -> str:
    return exc_info.value.problems[0].rule


def test_legal_representative_acts_without_mandate_and_strangers_do_not(people):
    p = people
    assert may_act_for(p.boss, p.enterprise, ITEM_A)
    assert [x.kind for x in parties_for(p.boss)] == ["person", "enterprise"]
    assert require_acting_for(p.boss, p.enterprise, [ITEM_A, ITEM_B]) is None
    assert not may_act_for(p.other, p.enterprise)
    assert [x.kind for x in parties_for(p.other)] == ["person"]
    with pytest.raises(InvalidInput) as exc:
        require_acting_for(p.other, p.enterprise, [ITEM_A])
    assert _rule(exc) == "mandate.none" and exc.value.problems[0].field == "acting_as"


def test_grant_for_listed_items_limits_the_scope(people):
    p = people
    mandate = _grant(p, item_codes=[ITEM_A, ITEM_B])
    assert may_act_for(p.agent, p.enterprise) and may_act_for(p.agent, p.enterprise, ITEM_A)
    assert not may_act_for(p.agent, p.enterprise, ITEM_C)
    assert require_acting_for(p.agent, p.enterprise, [ITEM_A, ITEM_B]) == mandate
    with pytest.raises(InvalidInput) as exc:
        require_acting_for(p.agent, p.enterprise, [ITEM_A, ITEM_C])
    assert _rule(exc) == "mandate.scope" and ITEM_C in exc.value.problems[0].zh and ITEM_C in exc.value.problems[0].en
    party = parties_for(p.agent)[1]
    assert (party.kind, party.code, party.mandate) == ("enterprise", p.enterprise.uscc, mandate)
    entry = AuditEntry.objects.get(action="mandate.grant")
    assert entry.subject_code == p.enterprise.uscc and entry.object_id == str(mandate.pk)


def test_all_items_mandate_covers_every_item(people):
    p = people
    _grant(p, all_items=True)
    assert may_act_for(p.agent, p.enterprise, ITEM_C)
    assert require_acting_for(p.agent, p.enterprise, [ITEM_A, ITEM_B, ITEM_C]) is not None


def test_period_not_yet_valid_and_expired(people):
    p = people
    later = p.today + dt.timedelta(days=10)
    _grant(p, item_codes=[ITEM_A], valid_from=later, valid_until=later + dt.timedelta(days=5))
    assert not may_act_for(p.agent, p.enterprise, ITEM_A)
    assert may_act_for(p.agent, p.enterprise, ITEM_A, on=later)
    assert may_act_for(p.agent, p.enterprise, ITEM_A, on=later + dt.timedelta(days=5))
    assert not may_act_for(p.agent, p.enterprise, ITEM_A, on=later + dt.timedelta(days=6))
    with pytest.raises(InvalidInput) as exc:
        require_acting_for(p.agent, p.enterprise, [ITEM_A])
    assert _rule(exc) == "mandate.not_yet_valid"
    with pytest.raises(InvalidInput) as exc:
        require_acting_for(p.agent, p.enterprise, [ITEM_A], on=later + dt.timedelta(days=6))
    assert _rule(exc) == "mandate.expired"
    assert [x.kind for x in parties_for(p.agent, on=later)] == ["person", "enterprise"]


def test_only_the_legal_representative_may_grant(people):
    p = people
    with pytest.raises(InvalidInput) as exc:
        grant_mandate(granted_by=p.other, principal=p.enterprise, agent=p.agent, all_items=True, valid_until=p.year)
    assert _rule(exc) == "mandate.grant_forbidden"
    assert not Mandate.objects.exists()


@pytest.mark.parametrize(("kwargs", "field", "rule"), [
    ({"item_codes": []}, "item_codes", "required"),
    ({"item_codes": ["12345"]}, "item_codes.0", "basic_code.format"),
    ({"item_codes": [ITEM_A], "all_items": True}, "item_codes", "exclusive"),
    ({"item_codes": [ITEM_A], "valid_until": dt.date(2000, 1, 1)}, "valid_until", "after_start"),
])
def test_bad_input_names_field_and_rule_and_writes_nothing(people, kwargs, field, rule):
    with pytest.raises(InvalidInput) as exc:
        _grant(people, **kwargs)
    assert (field, rule) in [(x.field, x.rule) for x in exc.value.problems]
    assert all(x.zh and x.en for x in exc.value.problems)
    assert not Mandate.objects.exists() and not AuditEntry.objects.filter(action="mandate.grant").exists()


def test_no_mandate_to_self_or_to_the_representative(people):
    p = people
    with pytest.raises(InvalidInput) as exc:
        grant_mandate(granted_by=p.boss, principal=p.enterprise, agent=p.boss, all_items=True, valid_until=p.year)
    assert _rule(exc) == "not_self"


def test_subdelegation_within_scope_and_period(people):
    p = people
    parent = _grant(p, item_codes=[ITEM_A, ITEM_B], allow_subdelegation=True)
    child = grant_mandate(granted_by=p.agent, principal=p.enterprise, agent=p.helper, item_codes=[ITEM_A],
                          valid_until=p.year - dt.timedelta(days=1))
    assert child.parent == parent and may_act_for(p.helper, p.enterprise, ITEM_A)
    assert not may_act_for(p.helper, p.enterprise, ITEM_B)
    for kwargs, rule in [({"item_codes": [ITEM_C]}, "mandate.scope"),
                         ({"all_items": True}, "mandate.scope"),
                         ({"item_codes": [ITEM_A], "valid_until": p.year + dt.timedelta(days=1)}, "mandate.period")]:
        args = {"granted_by": p.agent, "principal": p.enterprise, "agent": p.other, "valid_until": p.year, **kwargs}
        with pytest.raises(InvalidInput) as exc:
            grant_mandate(**args)
        assert _rule(exc) == rule, kwargs


def test_subdelegation_needs_permission(people):
    p = people
    _grant(p, all_items=True, allow_subdelegation=False)
    with pytest.raises(InvalidInput) as exc:
        grant_mandate(granted_by=p.agent, principal=p.enterprise, agent=p.helper, all_items=True, valid_until=p.year)
    assert _rule(exc) == "mandate.no_subdelegation"


def test_revocation_cascades_and_takes_effect_at_once(people):
    p = people
    parent = _grant(p, all_items=True, allow_subdelegation=True)
    child = grant_mandate(granted_by=p.agent, principal=p.enterprise, agent=p.helper, all_items=True,
                          valid_until=p.year, allow_subdelegation=True)
    grandchild = grant_mandate(granted_by=p.helper, principal=p.enterprise, agent=p.other, item_codes=[ITEM_A],
                               valid_until=p.year)
    assert may_act_for(p.other, p.enterprise, ITEM_A)
    revoked = revoke_mandate(mandate=parent, revoked_by=p.boss, reason="合作结束")
    assert revoked == sorted([parent.pk, child.pk, grandchild.pk])
    for user in (p.agent, p.helper, p.other):
        assert not may_act_for(user, p.enterprise)
        assert [x.kind for x in parties_for(user)] == ["person"]
    with pytest.raises(InvalidInput) as exc:
        require_acting_for(p.agent, p.enterprise, [ITEM_A])
    assert _rule(exc) == "mandate.revoked"
    entry = AuditEntry.objects.get(action="mandate.revoke")
    assert entry.reason == "合作结束" and entry.after["cascade"] == revoked
    with pytest.raises(InvalidInput):
        revoke_mandate(mandate=parent, revoked_by=p.boss)


def test_revoking_a_subdelegation_leaves_the_parent(people):
    p = people
    parent = _grant(p, all_items=True, allow_subdelegation=True)
    child = grant_mandate(granted_by=p.agent, principal=p.enterprise, agent=p.helper, all_items=True,
                          valid_until=p.year)
    assert revoke_mandate(mandate=child, revoked_by=p.agent) == [child.pk]
    assert may_act_for(p.agent, p.enterprise) and not may_act_for(p.helper, p.enterprise)
    parent.refresh_from_db()
    assert parent.revoked_at is None


def test_strangers_cannot_revoke(people):
    p = people
    mandate = _grant(p, all_items=True)
    with pytest.raises(NotFound):
        revoke_mandate(mandate=mandate, revoked_by=p.other)
    assert may_act_for(p.agent, p.enterprise)
