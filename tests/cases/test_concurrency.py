"""Real concurrency: threads with their own database connections (SQLite and PostgreSQL).

The demo is loaded and committed once for this module (threads cannot see an uncommitted outer
transaction) and the database is flushed at the end, as a transactional test would."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from tests.demo_fixtures import committed_demo_data
from tongban.cases import numbers, services
from tongban.cases.models import Action, SubCase
from tongban.cases.simulation import sample_decision
from tongban.core.errors import Conflict

from .conftest import accepted_restaurant, officer, sub, user

D = date


@pytest.fixture(scope="module")
def committed_demo(django_db_setup, django_db_blocker):
    with committed_demo_data(django_db_blocker):
        yield


pytestmark = pytest.mark.usefixtures("committed_demo")


def run_together(*calls):
    """Run the callables at the same moment in threads; each returns ("ok", value) or ("conflict", rule)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(n, call):
        try:
            barrier.wait()
            results[n] = ("ok", call())
        except Conflict as exc:
            results[n] = ("conflict", exc.problem.rule)
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            results[n] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n, call)) for n, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("same_officer", [True, False])
def test_two_approvals_at_once_move_the_subcase_once(same_officer):
    case = accepted_restaurant()
    company = sub(case, "company-registration")
    first = officer(company)
    second = first if same_officer else user("changsha-supervisor")  # the decision step allows supervisors
    if not same_officer:
        company = services.act(subcase=company, actor=first, action="approve", step="accept", on=D(2026, 9, 29))
        company = services.act(subcase=company, actor=first, action="approve", step="review", on=D(2026, 9, 29))
        assert company.step == "decide"
    step, revision, decision = company.step, company.revision, sample_decision(company)
    results = run_together(
        lambda: services.act(subcase=company, actor=first, action="approve", step=step, on=D(2026, 9, 30),
                             decision=decision),
        lambda: services.act(subcase=company, actor=second, action="approve", step=step, on=D(2026, 9, 30),
                             decision=decision),
    )
    oks = [r for r in results if r[0] == "ok"]
    conflicts = [r for r in results if r[0] == "conflict"]
    assert len(oks) == 1 and len(conflicts) == 1, results
    assert conflicts[0][1] in {"step.stale", "subcase.claimed", "subcase.status"}, results
    moved = sub(case, "company-registration")
    assert moved.revision == revision + 1
    assert Action.objects.filter(subcase=moved, step_from=step, action="approve").count() == 1
    if not same_officer:
        assert moved.status == SubCase.Status.APPROVED
        assert SubCase.objects.get(case=case, key="food-business-licence").status == SubCase.Status.ACTIVE


def test_a_repeated_request_with_the_same_key_acts_once():
    case = accepted_restaurant()
    company = sub(case, "company-registration")
    actor = officer(company)
    key = f"approve-{case.number}-accept"
    first = services.act(subcase=company, actor=actor, action="approve", step="accept", key=key, on=D(2026, 9, 29))
    again = services.act(subcase=company, actor=actor, action="approve", step="accept", key=key, on=D(2026, 9, 29))
    assert (first.step, first.revision) == (again.step, again.revision) == ("review", company.revision + 1)
    assert Action.objects.filter(key=key).count() == 1
    with pytest.raises(Conflict) as caught:
        services.act(subcase=company, actor=actor, action="deny", step="accept", key=key, reason="x", on=D(2026, 9, 29))
    assert caught.value.problem.rule == "idempotency.key"
    assert sub(case, "company-registration").revision == first.revision


def test_concurrent_repeats_with_the_same_key_act_once_and_answer_alike():
    """A client retrying while its first request is still running gets the first answer, not a 409."""
    case = accepted_restaurant()
    company = sub(case, "company-registration")
    actor = officer(company)
    key = f"approve-{case.number}-accept"
    results = run_together(*[
        (lambda: services.act(subcase=company, actor=actor, action="approve", step="accept", key=key,
                              on=D(2026, 9, 29)))
        for _ in range(3)])
    moved = sub(case, "company-registration")
    assert (moved.step, moved.revision) == ("review", company.revision + 1)
    assert Action.objects.filter(subcase=moved, action="approve").count() == 1
    assert all(r[0] == "ok" for r in results), results
    assert {(r[1].step, r[1].revision) for r in results} == {("review", moved.revision)}


def test_case_numbers_reserved_concurrently_are_unique():
    day = D(2026, 12, 1)

    def reserve_five():
        return [numbers.reserve_case_number("430100", day) for _ in range(5)]

    results = run_together(*[reserve_five for _ in range(6)])
    assert all(r[0] == "ok" for r in results), results
    drawn = [n for r in results for n in r[1]]
    assert len(drawn) == len(set(drawn)) == 30
    assert sorted(drawn) == [f"430100-20261201-{n:05d}" for n in range(1, 31)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency: PostgreSQL only")
def test_notice_numbers_issued_concurrently_are_unique_and_gap_free():
    from django.db import transaction

    from tongban.cases.models import Case, Notice
    from tongban.cases.services._common import issue_notice

    case = accepted_restaurant()
    before = Notice.objects.filter(case=case).count()

    def issue_three():
        numbers_drawn = []
        for n in range(3):
            with transaction.atomic():
                fresh = Case.objects.get(pk=case.pk)
                numbers_drawn.append(issue_notice(fresh, "special", title="特别程序告知书", paragraphs=[f"第 {n} 份"],
                                                  issuer="测试", on=D(2026, 9, 29)).number)
        return numbers_drawn

    results = run_together(issue_three, issue_three)
    assert all(r[0] == "ok" for r in results), results
    drawn = [n for r in results for n in r[1]]
    assert len(set(drawn)) == 6
    assert sorted(int(n[-2:]) for n in drawn) == list(range(before + 1, before + 7))
