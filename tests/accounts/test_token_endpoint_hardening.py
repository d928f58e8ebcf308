"""/o/token/ throttles client-secret guessing (per client id and per address, 429 with Retry-After, in the
database); /o/introspect/ answers a client only about its own tokens."""

from __future__ import annotations

import base64
import logging

import pytest
from django.test import Client

from tongban.accounts.services import register_system_client

from .factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def _basic(system, secret) -> str:
    return "Basic " + base64.b64encode(f"{system.application.client_id}:{secret}".encode()).decode()


def _token(client, system, secret, **extra):
    return client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=_basic(system, secret),
                       **extra)


@pytest.fixture
def system(db):
    return register_system_client(department=DepartmentFactory(), name="市场监管业务系统", scopes=["cases:read"])


def test_secret_guessing_is_throttled_per_client(settings, system, caplog):
    settings.TONGBAN_TOKEN_THROTTLE = {"client": 3, "address": 100, "window_seconds": 600}
    app, secret = system
    for n in range(3):
        assert _token(Client(REMOTE_ADDR=f"10.0.0.{n}"), app, f"guess-{n}").status_code == 401
    with caplog.at_level(logging.WARNING, logger="tongban.oauth"):
        blocked = _token(Client(REMOTE_ADDR="10.0.0.9"), app, secret)  # even the right secret waits
    assert blocked.status_code == 429 and 0 < int(blocked["Retry-After"]) <= 600
    assert blocked.json()["error"] == "slow_down"
    assert any(r.getMessage() == "oauth client authentication throttled" for r in caplog.records)
    # Another client is not affected.
    other, other_secret = register_system_client(department=DepartmentFactory(), name="住建系统", scopes=["cases:read"])
    assert _token(Client(REMOTE_ADDR="10.0.0.9"), other, other_secret).status_code == 200


def test_secret_guessing_is_throttled_per_address(settings, system):
    settings.TONGBAN_TOKEN_THROTTLE = {"client": 100, "address": 2, "window_seconds": 600}
    app, secret = system
    attacker = Client(REMOTE_ADDR="192.0.2.7")
    for n in range(2):
        attacker.post("/o/token/", {"grant_type": "client_credentials", "client_id": f"made-up-{n}",
                                    "client_secret": "x"})
    assert _token(attacker, app, secret).status_code == 429
    assert _token(Client(REMOTE_ADDR="192.0.2.8"), app, secret).status_code == 200


def test_introspection_answers_only_about_the_callers_own_tokens(system):
    app, secret = system
    token = _token(Client(), app, secret).json()["access_token"]
    other, other_secret = register_system_client(department=DepartmentFactory(), name="另一系统", scopes=["cases:read"])

    foreign = Client().post("/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=_basic(other, other_secret))
    assert foreign.status_code == 200 and foreign.json() == {"active": False}

    own = Client().post("/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=_basic(app, secret))
    assert own.status_code == 200
    assert own.json()["active"] is True and own.json()["client_id"] == app.application.client_id

    anonymous = Client().post("/o/introspect/", {"token": token})
    assert anonymous.status_code in (401, 403)
