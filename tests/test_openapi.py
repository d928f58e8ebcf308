from pathlib import Path

from django.conf import settings

from tongban.core.management.commands.export_openapi import openapi_text

COMMITTED = Path(settings.PROJECT_DIR) / "docs" / "openapi.json"


def test_committed_openapi_document_is_current():
    """Regenerate with `make openapi` when the API changes."""
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text()


def test_openapi_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/plans" in response.json()["paths"]
