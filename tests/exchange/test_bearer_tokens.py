"""Department systems use the exchange API with their bearer token: no CSRF (cookie sessions keep it),
the `exchange:query` scope, their department as consumer."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tongban.accounts.services import register_system_client
from tongban.exchange.models import QueryLog

from .test_query import grant_legal_entities

pytestmark = pytest.mark.django_db


def _token(system, secret, scope):
    basic = base64.b64encode(f"{system.application.client_id}:{secret}".encode()).decode()
    response = Client().post("/o/token/", {"grant_type": "client_credentials", "scope": scope},
                             HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


QUERY = {"resource": "legal_entities", "fields": ["name"], "purpose": "公共场所卫生许可审查", "case_ref": "CS-2026-0001"}


def test_a_department_system_queries_with_its_token_and_no_csrf(world):
    grant_legal_entities(world)
    system, secret = register_system_client(department=world.depts["health"], name="卫健审批系统",
                                            scopes=["exchange:query"])
    token = _token(system, secret, "exchange:query")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/api/v1/exchange/query", {**QUERY, "subject": world.enterprise.uscc},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response.json()["fields"][0]["value"] == world.enterprise.name
    log = QueryLog.objects.order_by("-id").first()
    assert log.consumer_id == world.depts["health"].pk and log.actor_id == system.user.pk and log.role == "system"
    assert strict.get("/api/v1/exchange/log", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_a_token_without_the_exchange_scope_is_refused(world):
    system, secret = register_system_client(department=world.depts["health"], name="办件查询系统",
                                            scopes=["cases:read"])
    token = _token(system, secret, "cases:read")
    response = Client().post("/api/v1/exchange/query", {**QUERY, "subject": world.enterprise.uscc},
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403 and response.json()["detail"][0]["rule"] == "scope"


def test_a_system_cannot_decide_grants(world):
    grant = grant_legal_entities(world, fields=("name", "legal_representative_id_number"))
    system, secret = register_system_client(department=world.depts["market"], name="市场监管系统",
                                            scopes=["exchange:query"])
    token = _token(system, secret, "exchange:query")
    response = Client().post(f"/api/v1/exchange/grants/{grant.pk}/approve", {"reason": "ok"},
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404


def test_cookie_sessions_stay_csrf_checked(world):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.health_officer)
    response = strict.post("/api/v1/exchange/query", {**QUERY, "subject": world.enterprise.uscc},
                           content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.content.decode()
