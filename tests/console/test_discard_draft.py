"""A window clerk may discard a draft they started for a walk-in applicant; a filed application stays
the applicant's to withdraw; another region's clerk reaches nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.cases.models import Case

from .conftest import submitted_restaurant, user
from .test_window import _window_draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

REASON = {"reason": "申请人离开，不再办理"}


def _client(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def test_the_intake_clerk_discards_a_draft_through_the_api(as_user):
    case = _window_draft(as_user("changsha-clerk"))
    response = _client("changsha-clerk").post(f"/api/v1/cases/{case.number}/withdraw", REASON,
                                              content_type="application/json")
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN


def test_the_console_offers_discard_on_a_draft_and_it_works(as_user):
    clerk = as_user("changsha-clerk")
    case = _window_draft(clerk)
    page = clerk.get(f"/console/cases/{case.number}/").content.decode()
    assert "撤销草稿" in page
    response = clerk.post(f"/console/cases/{case.number}/discard/")
    assert response.status_code in (200, 302)
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN


def test_a_filed_application_is_not_the_clerks_to_withdraw():
    case = submitted_restaurant("changsha")
    response = _client("changsha-clerk").post(f"/api/v1/cases/{case.number}/withdraw", REASON,
                                              content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"][0]["rule"] == "access.case.applicant"
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED


def test_another_regions_clerk_gets_nothing(as_user):
    case = _window_draft(as_user("changsha-clerk"))
    response = _client("zhuzhou-clerk").post(f"/api/v1/cases/{case.number}/withdraw", REASON,
                                             content_type="application/json")
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT
