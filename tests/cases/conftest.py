"""Helpers for the case-handling tests: demo users, a restaurant case accepted on a given day, and
officers walking a sub-case through its workflow. Everything goes through tongban.cases.services."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.licences import cache as licence_cache
from tongban.workdays import calendar

ACCEPT_ON = date(2026, 9, 28)  # Monday before National Day 2026


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Tests roll back behind the per-process caches' back: start and end each test clean."""
    calendar.clear_cache()
    licence_cache.invalidate()
    yield
    calendar.clear_cache()
    licence_cache.invalidate()


def user(username: str):
    from tongban.accounts.models import User

    return User.objects.get(username=username)


def boss_and_enterprise(slug: str = "changsha"):
    from tongban.cases.simulation import demo_applicant

    return demo_applicant(slug)


def start_restaurant(*, area: int = 800, slug: str = "changsha", region: str = "430100", on: date = ACCEPT_ON,
                     actor=None):
    """A draft restaurant case filed online by the demo enterprise's legal representative (or `actor`)."""
    from tongban.cases import services

    boss, enterprise = boss_and_enterprise(slug)
    return services.start_case(actor=actor or boss, region_code=region, bundle_code="open-restaurant",
                               answers={"area_sqm": area}, enterprise_uscc=enterprise.uscc, on=on)


def submit_complete(case, actor=None, *, on: date = ACCEPT_ON, skip: tuple[str, ...] = ()):
    """Fill the form, hand in every required material (except `skip`) and submit."""
    from tongban.cases import services, simulation
    from tongban.cases.models import CaseMaterial

    actor = actor or case.filed_by
    case = simulation.fill_form(case, actor)
    for row in case.materials.filter(status__in=[CaseMaterial.Status.MISSING, CaseMaterial.Status.DEFECTIVE],
                                     required=True).exclude(code__in=skip):
        services.attach_file(case=case, material_code=row.code, name=f"{row.code}.pdf",
                             content=simulation.SAMPLE_PDF + row.code.encode(), actor=actor)
    services.submit_case(case=case, actor=actor, on=on)
    case.refresh_from_db()
    return case


def accept(case, *, on: date = ACCEPT_ON):
    from tongban.cases import services, simulation

    notice = services.accept_case(case=case, actor=simulation.clerk_for(case), on=on)
    case.refresh_from_db()
    return notice


def accepted_restaurant(**kwargs):
    on = kwargs.get("on", ACCEPT_ON)
    case = submit_complete(start_restaurant(**kwargs), on=on)
    accept(case, on=on)
    return case


def sub(case, key: str):
    from tongban.cases.models import SubCase

    return SubCase.objects.select_related("department", "workflow", "item_version").get(case=case, key=key)


def officer(subcase):
    from tongban.cases.simulation import officer_for

    return officer_for(subcase)


def approve_step(subcase, on: date, actor=None):
    """Approve the step the sub-case is at now (as its department's demo officer, who enters at the
    decision step the samples the catalogue documents for the result licence's decision fields)."""
    from tongban.cases import services, simulation

    subcase = sub(subcase.case, subcase.key)
    return services.act(subcase=subcase, actor=actor or officer(subcase), action="approve", step=subcase.step, on=on,
                        decision=simulation.sample_decision(subcase))


def approve_until(subcase, on: date, *, step: str | None = None):
    """Approve step after step on `on` until the sub-case reaches `step` (or is finished)."""
    from tongban.cases.models import SubCase

    current = sub(subcase.case, subcase.key)
    for _ in range(10):
        if current.status != SubCase.Status.ACTIVE or (step and current.step == step):
            return current
        current = approve_step(current, on)
    raise AssertionError(f"{subcase.key} did not reach {step}")


def workdays_after(start: date, days: int, region: str) -> date:
    return calendar.add_workdays(start, days, region).due


def rule_of(excinfo) -> set[str]:
    """The rules named by an InvalidInput (every problem) or a Conflict."""
    exc = excinfo.value
    if hasattr(exc, "problems"):
        return {p.rule for p in exc.problems}
    return {exc.problem.rule}
