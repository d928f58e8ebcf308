"""A database failure during verification is not a verdict: ERROR log with the identifier, 503
"verification_unavailable" from the API and the page, never "untrusted issuer"."""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError

from tongban.licences import trust
from tongban.licences.selectors import licence_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_fails(monkeypatch):
    def fail(code):  # isolates the fault: the trust tables cannot be read
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(trust, "_build_context", fail)


def test_api_answers_503_not_untrusted(client, issue, database_fails, caplog):
    licence = issue()
    with caplog.at_level(logging.ERROR):
        response = client.post("/api/v1/licences/verify", {"document": licence_document(licence)},
                               content_type="application/json")
    assert response.status_code == 503
    assert response.json()["detail"][0]["rule"] == "verification_unavailable"
    record = next(r for r in caplog.records if "verification unavailable" in r.getMessage())
    assert record.levelno == logging.ERROR and record.licence == licence.identifier


def test_verification_page_says_unavailable(client, issue, database_fails):
    licence = issue()
    response = client.get(f"/verify/licence/{licence.identifier}")
    assert response.status_code == 503
    assert "发证机关不在本区划信任" not in response.content.decode()


def test_an_unknown_region_is_still_untrusted(client, issue):
    response = client.post("/api/v1/licences/verify", {"document": licence_document(issue()), "region": "999999"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["reason"] == "untrusted_issuer"
