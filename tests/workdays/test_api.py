"""GET /api/v1/workdays/...: contract and bilingual 422s."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/workdays/add"


def test_add_returns_due_and_provisional(client):
    response = client.get(URL, {"start": "2026-09-28", "days": 20})
    assert response.status_code == 200
    assert response.json() == {"due": "2026-10-30", "provisional": False}


def test_add_into_uncovered_year_is_provisional(client):
    response = client.get(URL, {"start": "2026-12-28", "days": 5})
    assert response.json() == {"due": "2027-01-04", "provisional": True}


def test_add_with_region(client, regions):
    from datetime import date

    from tongban.workdays import services

    services.calendar_override_create(day=date(2026, 11, 10), kind="holiday", name="停工", region_code="430100")
    response = client.get(URL, {"start": "2026-11-09", "days": 1, "region": "430102"})
    assert response.json() == {"due": "2026-11-11", "provisional": False}


@pytest.mark.parametrize(("params", "field"), [
    ({"start": "2026-02-30", "days": 1}, "start"),
    ({"start": "2026-09-28", "days": "x"}, "days"),
    ({"days": 1}, "start"),
    ({"start": "2026-09-28", "days": 100000}, "days"),
    ({"start": "2026-09-28", "days": 1, "region": "999999"}, "region"),
    ({"start": "0001-01-02", "days": -5}, "days"),
])
def test_bad_input_is_422_naming_the_field(client, params, field):
    response = client.get(URL, params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["field"] == field
    assert detail[0]["zh"] and detail[0]["en"]


def test_day_and_between(client):
    assert client.get("/api/v1/workdays/day", {"date": "2026-10-10"}).json()["workday"] is True
    assert client.get("/api/v1/workdays/between", {"start": "2026-09-28", "end": "2026-10-30"}).json() == {
        "workdays": 20}


def test_operations_are_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/workdays/add", "/api/v1/workdays/between", "/api/v1/workdays/day"} <= set(paths)
