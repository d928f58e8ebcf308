"""A deemed acceptance that fails is not swallowed: logged at ERROR with the case number, the other cases
still handled, the sweep run recorded failed and shown on /healthz until a later run succeeds."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.db import DatabaseError

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.cases import services
from tongban.cases.models import Case
from tongban.cases.services import intake
from tongban.cases.services.supervision import SweepIncomplete
from tongban.core import periodic
from tongban.core.errors import Conflict

from .conftest import start_restaurant, submit_complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]
D = date


def _two_late_cases():
    return (submit_complete(start_restaurant(), skip=("food-layout",)),
            submit_complete(start_restaurant(slug="zhuzhou", region="430200"), skip=("food-layout",)))


def test_a_failing_deemed_acceptance_is_logged_with_the_case_and_the_others_go_on(monkeypatch, caplog):
    bad, good = _two_late_cases()
    real = intake.deem_accepted

    def failing_for_bad(*, case, **kwargs):  # isolates one fault: the database fails for one case
        if case.pk == bad.pk:
            raise DatabaseError("could not extend file")
        return real(case=case, **kwargs)

    monkeypatch.setattr(intake, "deem_accepted", failing_for_bad)
    with caplog.at_level(logging.ERROR), pytest.raises(SweepIncomplete) as caught:
        services.sweep(on=D(2026, 10, 12))
    assert caught.value.numbers == [bad.number] and bad.number in str(caught.value)
    assert caught.value.counts["deemed_accepted"] == 1
    record = next(r for r in caplog.records if r.getMessage() == "deemed acceptance failed")
    assert record.levelno == logging.ERROR and record.case == bad.number and record.exc_info
    assert Case.objects.get(pk=good.pk).status == Case.Status.ACCEPTED
    assert Case.objects.get(pk=bad.pk).status == Case.Status.SUBMITTED


def test_the_failed_sweep_is_visible_on_healthz(monkeypatch, client):
    bad, _ = _two_late_cases()
    real = intake.deem_accepted

    def failing_for_bad(*, case, **kwargs):
        if case.pk == bad.pk:
            raise DatabaseError("could not extend file")
        return real(case=case, **kwargs)

    monkeypatch.setattr(intake, "deem_accepted", failing_for_bad)
    [run] = periodic.run_due(names=["cases.sweep"], force=True)
    assert not run.ok and bad.number in run.error
    report = client.get("/healthz").json()
    assert "cases.sweep" in report["periodic"]["failing"]
    assert any("cases.sweep" in line and bad.number in line for line in report["attention"])

    monkeypatch.setattr(intake, "deem_accepted", real)
    [again] = periodic.run_due(names=["cases.sweep"], force=True)
    assert again.ok and not client.get("/healthz").json()["attention"]


def test_a_case_that_moved_on_meanwhile_is_not_a_failure(monkeypatch):
    moved, _ = _two_late_cases()
    real = intake.deem_accepted

    def accepted_elsewhere(*, case, **kwargs):  # a clerk accepted it between the sweep's read and its lock
        if case.pk == moved.pk:
            raise Conflict("办件当前状态为“已受理”", "the case is accepted", rule="case.status")
        return real(case=case, **kwargs)

    monkeypatch.setattr(intake, "deem_accepted", accepted_elsewhere)
    assert services.sweep(on=D(2026, 10, 12))["deemed_accepted"] == 1
