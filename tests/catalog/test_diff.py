import json

import pytest
from django.core.management import call_command

from tests.demo_fixtures import demo_catalog  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("demo_catalog")


@pytest.mark.django_db
def test_diff_shows_where_regions_differ(capsys):
    call_command("catalog", "diff", "--item", "000117002000", "--json")
    result = json.loads(capsys.readouterr().out)
    assert len(result["regions"]) == 7
    promised = next(a for a in result["attributes"] if a["key"] == "promised_days")
    assert promised["differs"] and promised["values"]["310118"] == 5 and promised["values"]["421200"] == 10
    extra = next(m for m in result["materials"] if m["code"] == "staff-health-certificates")
    assert extra["differs"] and extra["regions"]["330421"] and extra["regions"]["421200"] is None
    statutory = next(a for a in result["attributes"] if a["key"] == "statutory_days")
    assert not statutory["differs"]


@pytest.mark.django_db
def test_diff_api_and_unknown_item(client):
    assert client.get("/api/v1/catalog/items/000117002000/diff").json()["differences"] >= 3
    assert client.get("/api/v1/catalog/items/000199999000/diff").status_code == 404


@pytest.mark.django_db
def test_items_of_a_region(client):
    response = client.get("/api/v1/catalog/items", {"region": "421200"})
    assert response.status_code == 200 and len(response.json()) == 24
    assert client.get("/api/v1/catalog/items", {"region": "42"}).status_code == 422
