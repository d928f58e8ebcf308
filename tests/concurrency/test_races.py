"""Races that used to deadlock or serialise on PostgreSQL, 200 rounds each, against a serial run.

Every round starts from a fresh copy of the same case, runs two services at the same moment on two
threads, and checks: no deadlock, no lock timeout, no unexpected error, not even a retry at the service
boundary; a Conflict only where the business rules make one side lose; and the state the case is left
in equals the state a serial run of the same two calls leaves (in the order the outcome shows).
"""

from __future__ import annotations

from datetime import date

import pytest

from .conftest import (
    ROUNDS,
    Racer,
    accepted_restaurant,
    case_state,
    clone_cases,
    company_at_decision,
    postgres_only,
)

pytestmark = [postgres_only, pytest.mark.xdist_group("postgresql-races"), pytest.mark.usefixtures("unblocked")]

ON = date(2026, 9, 29)


def _sub(case, key):
    from tongban.cases.models import SubCase

    return SubCase.objects.select_related("department", "workflow").get(case=case, key=key)


def _people(case, *keys):
    from tongban.accounts.roles import Role
    from tongban.cases import simulation

    officers = [simulation.officer_for(_sub(case, key)) for key in keys]
    for officer in officers:
        officer.has_role(Role.OFFICER)  # warm per-instance caches before threads share the objects
    return officers, case.filed_by


def _assert_clean(tally, name):
    print(tally.line(name))
    assert tally.rounds == ROUNDS
    assert tally.deadlocks == 0 and tally.lock_timeouts == 0, tally.line(name)
    assert tally.errors == [], tally.errors[:5]
    assert tally.busy == 0 and tally.retries == 0, tally.line(name)


def test_two_cases_of_one_region_do_not_wait_for_or_deadlock_each_other():
    """Two officers of one department act on two cases of one region (same region, department and
    default workflow rows, which the old locks took too)."""
    from tongban.cases import services

    template = accepted_restaurant()
    (officer,), _ = _people(template, "company-registration")
    serial, *copies = clone_cases(template, 1 + 2 * ROUNDS)
    services.act(subcase=_sub(serial, "company-registration"), actor=officer, action="approve", step="accept", on=ON)
    expected = case_state(serial)
    subs = [_sub(c, "company-registration") for c in copies]
    with Racer(2) as racer:
        for n in range(ROUNDS):
            a, b = subs[2 * n], subs[2 * n + 1]
            results = racer.race(
                lambda a=a: services.act(subcase=a, actor=officer, action="approve", step="accept", on=ON),
                lambda b=b: services.act(subcase=b, actor=officer, action="approve", step="accept", on=ON))
            assert [r[0] for r in results] == ["ok", "ok"], results
    _assert_clean(racer.tally, "two cases of one region")
    assert {case_state(c) for c in copies} == {expected}


def test_two_departments_of_one_case_both_act():
    """Market regulation and environment act on their items of the same case at the same moment."""
    from tongban.cases import services

    template = accepted_restaurant()
    (market, environment), _ = _people(template, "company-registration", "env-impact-filing")
    serial, *copies = clone_cases(template, 1 + ROUNDS)
    services.act(subcase=_sub(serial, "company-registration"), actor=market, action="approve", step="accept", on=ON)
    services.act(subcase=_sub(serial, "env-impact-filing"), actor=environment, action="approve", step="accept", on=ON)
    expected = case_state(serial)
    pairs = [(_sub(c, "company-registration"), _sub(c, "env-impact-filing")) for c in copies]
    with Racer(2) as racer:
        for company, filing in pairs:
            results = racer.race(
                lambda company=company: services.act(subcase=company, actor=market, action="approve", step="accept", on=ON),
                lambda filing=filing: services.act(subcase=filing, actor=environment, action="approve", step="accept", on=ON))
            assert [r[0] for r in results] == ["ok", "ok"], results
    _assert_clean(racer.tally, "two departments of one case")
    assert {case_state(c) for c in copies} == {expected}


def test_officer_deny_against_applicant_withdrawal():
    """The old lock orders (sub-case then case, against case then sub-cases) deadlocked here in 4 of 6
    rounds. Now one of two serial orders: deny then withdraw (both succeed), or withdraw then deny
    (the deny is a 409: the item is no longer being handled)."""
    from tongban.cases import services

    template = accepted_restaurant()
    (officer,), applicant = _people(template, "company-registration")
    deny_first, withdraw_first, *copies = clone_cases(template, 2 + ROUNDS)

    def deny(case):
        return services.act(subcase=_sub(case, "company-registration"), actor=officer, action="deny", step="accept",
                            reason="经营范围不符合规定", on=ON)

    def withdraw(case):
        return services.withdraw_case(case=case, actor=applicant, reason="不再开办", on=ON)

    deny(deny_first), withdraw(deny_first)
    withdraw(withdraw_first)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the Conflict of the serial loser
        deny(withdraw_first)
    expected = {"deny_first": case_state(deny_first), "withdraw_first": case_state(withdraw_first)}
    assert expected["deny_first"] != expected["withdraw_first"]
    outcomes = []
    with Racer(2) as racer:
        for case in copies:
            results = racer.race(lambda case=case: deny(case), lambda case=case: withdraw(case))
            assert results[1][0] == "ok", results
            assert results[0][0] == "ok" or results[0] == ("conflict", "subcase.status"), results
            outcomes.append("deny_first" if results[0][0] == "ok" else "withdraw_first")
    _assert_clean(racer.tally, "officer deny vs applicant withdraw")
    for case, order in zip(copies, outcomes, strict=True):
        assert case_state(case) == expected[order], order


def test_final_approval_against_the_delivery_choice():
    """The decision that finishes the last item (the case becomes ready, a licence is signed) and the
    applicant switching from window pickup to electronic delivery: whichever commits first, the case
    ends delivered, once, with one delivery notice."""
    from tongban.cases import services
    from tongban.cases.models import Case

    template = company_at_decision()
    (key,) = template.subcases.values_list("key", flat=True)
    (officer,), applicant = _people(template, key)
    approve_first, choose_first, *copies = clone_cases(template, 2 + ROUNDS)

    from tongban.cases import simulation
    from tongban.cases.models import SubCase

    decision = simulation.sample_decision(SubCase.objects.get(case=template))  # the officer's decision fields

    def approve(case):
        return services.act(subcase=SubCase.objects.get(case=case), actor=officer, action="approve", step="decide",
                            decision=decision, on=ON)

    def choose(case):
        return services.choose_delivery(case=case, actor=applicant, method="electronic")

    approve(approve_first), choose(approve_first)
    choose(choose_first), approve(choose_first)
    expected = {case_state(approve_first), case_state(choose_first)}
    with Racer(2) as racer:
        for case in copies:
            results = racer.race(lambda case=case: approve(case), lambda case=case: choose(case))
            assert [r[0] for r in results] == ["ok", "ok"], results
    _assert_clean(racer.tally, "final approval vs delivery choice")
    states = [case_state(c) for c in copies]
    assert all(state in expected for state in states), (states[0], expected)
    assert {s[0] for s in states} == {Case.Status.DELIVERED}

