"""Helpers for the console tests: demo users, signed-in clients, restaurant cases in any state
(through tongban.cases.services and tongban.cases.simulation, never by writing rows)."""

from __future__ import annotations

import pytest

from tongban.licences import cache as licence_cache
from tongban.workdays import calendar


@pytest.fixture(autouse=True)
def _fresh_caches():
    calendar.clear_cache()
    licence_cache.invalidate()
    yield
    calendar.clear_cache()
    licence_cache.invalidate()


def user(username: str):
    from tongban.accounts.models import User

    return User.objects.get(username=username)


@pytest.fixture
def as_user(client):
    """as_user("changsha-clerk") -> the test client signed in as that demo user."""

    def sign_in(username: str):
        client.force_login(user(username))
        return client

    return sign_in


def restaurant_draft(slug: str = "changsha", *, area: int = 800):
    from tongban.cases import services
    from tongban.cases.simulation import demo_applicant

    boss, enterprise = demo_applicant(slug)
    return services.start_case(actor=boss, region_code=boss.region_id, bundle_code="open-restaurant",
                               answers={"area_sqm": area}, enterprise_uscc=enterprise.uscc)


def submitted_restaurant(slug: str = "changsha"):
    from tongban.cases import services, simulation

    case = restaurant_draft(slug)
    case = simulation.fill_form(case, case.filed_by)
    simulation.hand_in_materials(case, case.filed_by)
    services.submit_case(case=case, actor=case.filed_by)
    case.refresh_from_db()
    return case


def accepted_restaurant(slug: str = "changsha"):
    from tongban.cases import services, simulation

    case = submitted_restaurant(slug)
    services.accept_case(case=case, actor=simulation.clerk_for(case))
    case.refresh_from_db()
    return case


def active_subcase(case):
    from tongban.cases.models import SubCase

    return (SubCase.objects.filter(case=case, status=SubCase.Status.ACTIVE)
            .select_related("department", "workflow").order_by("position").first())


def problems_in(response) -> set[tuple[str, str]]:
    """(field, rule) of every problem the page shows next to a field."""
    import re

    html = response.content.decode()
    return set(re.findall(r'data-field="([^"]+)" data-rule="([^"]+)"', html))
