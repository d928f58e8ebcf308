"""Department systems call the API with OAuth2 client credentials, limited to their scopes."""

from __future__ import annotations

import base64

import pytest

from tongban.accounts.models import User
from tongban.accounts.services import register_system_client
from tongban.core.errors import InvalidInput

from .factories import DepartmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]
PROBE = "/api/ident-test/probe/cases"


def _token(client, system, secret, scope=None):
    basic = base64.b64encode(f"{system.application.client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return client.post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")


@pytest.fixture
def department(db):
    return DepartmentFactory()


def test_token_with_scope_reaches_the_endpoint_as_the_department_system(client, department):
    system, secret = register_system_client(department=department, name="市场监管业务系统",
                                            scopes=["cases:read", "exchange:query"])
    response = _token(client, system, secret, "cases:read")
    assert response.status_code == 200, response.content
    token = response.json()
    assert token["scope"] == "cases:read" and token["token_type"] == "Bearer"
    result = client.get(PROBE, HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    assert result.status_code == 200, result.content
    assert result.json() == {"user": system.user.username, "department": department.uscc, "scopes": ["cases:read"]}
    assert system.user.kind == User.Kind.SYSTEM and not system.user.has_usable_password()
    me = client.get("/api/ident-test/me", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}").json()
    assert me["kind"] == "system" and me["department"] == department.name and me["scopes"] == ["cases:read"]


def test_token_without_the_scope_is_refused_with_403(client, department):
    system, secret = register_system_client(department=department, name="数据共享系统", scopes=["exchange:query"])
    token = _token(client, system, secret, "exchange:query").json()["access_token"]
    response = client.get(PROBE, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    problem = response.json()["detail"][0]
    assert problem["rule"] == "scope" and "cases:read" in problem["zh"] and "cases:read" in problem["en"]


def test_a_system_cannot_ask_for_scopes_it_was_not_given(client, department):
    system, secret = register_system_client(department=department, name="数据共享系统", scopes=["exchange:query"])
    response = _token(client, system, secret, "cases:read")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    default = _token(client, system, secret).json()
    assert default["scope"] == "exchange:query"


def test_bad_secret_and_bad_token(client, department):
    system, _ = register_system_client(department=department, name="系统", scopes=["cases:read"])
    assert _token(client, system, "wrong-secret", "cases:read").status_code == 401
    response = client.get(PROBE, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401 and response.json()["detail"][0]["rule"] == "unauthenticated"


def test_session_users_pass_the_same_endpoint(client, department):
    from .factories import StaffFactory

    officer = StaffFactory(department=department, roles=["officer"])
    client.force_login(officer)
    assert client.get(PROBE).json()["user"] == officer.username


def test_registration_validates_scopes(department):
    with pytest.raises(InvalidInput) as exc:
        register_system_client(department=department, name="系统", scopes=["cases:write"])
    assert [(p.field, p.rule) for p in exc.value.problems] == [("scopes.0", "known")]
