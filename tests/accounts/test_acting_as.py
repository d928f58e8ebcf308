"""Choosing whom to act as (page and API), re-checked on every request by the middleware."""

from __future__ import annotations

import pytest

from tongban.accounts.services import grant_mandate, revoke_mandate

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]

ME = "/api/ident-test/me"


def _mandate(p, **kw):
    return grant_mandate(granted_by=p.boss, principal=p.enterprise, agent=p.agent, all_items=True,
                         valid_until=p.year, **kw)


def test_me_lists_parties_and_defaults_to_the_person(client, people):
    p = people
    _mandate(p)
    client.force_login(p.agent)
    data = client.get(ME).json()
    assert data["acting_as"]["kind"] == "person" and data["acting_as"]["code"] == p.agent.id_number
    assert data["id_number"] == p.agent.id_number  # a person sees their own number
    assert [x["key"] for x in data["parties"]] == ["person", f"enterprise:{p.enterprise.uscc}"]


def test_api_switch_then_revocation_drops_the_party_at_once(client, people):
    p = people
    mandate = _mandate(p)
    client.force_login(p.agent)
    response = client.put(f"{ME}/acting-as", {"party": f"enterprise:{p.enterprise.uscc}"},
                          content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["acting_as"] == {"key": f"enterprise:{p.enterprise.uscc}", "kind": "enterprise",
                                            "code": p.enterprise.uscc, "name": p.enterprise.name,
                                            "mandate_id": mandate.pk,
                                            "mandate_valid_until": p.year.isoformat()}
    assert client.get(ME).json()["acting_as"]["kind"] == "enterprise"
    revoke_mandate(mandate=mandate, revoked_by=p.boss)
    data = client.get(ME).json()
    assert data["acting_as"]["kind"] == "person"
    assert [x["kind"] for x in data["parties"]] == ["person"]
    assert client.session.get("tongban_acting_as") is None


def test_api_refuses_a_party_without_mandate(client, people):
    p = people
    client.force_login(p.other)
    response = client.put(f"{ME}/acting-as", {"party": f"enterprise:{p.enterprise.uscc}"},
                          content_type="application/json")
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert (problem["field"], problem["rule"]) == ("party", "mandate.none") and problem["zh"] and problem["en"]


def test_page_switch_and_request_acting_as(client, people):
    p = people
    _mandate(p)
    client.force_login(p.agent)
    response = client.post("/accounts/acting-as", {"party": f"enterprise:{p.enterprise.uscc}"})
    assert response.status_code == 302
    page = client.get("/accounts/me/")
    assert page.status_code == 200
    acting = page.wsgi_request.acting_as
    assert (acting.kind, acting.code, acting.enterprise, acting.mandate.agent) == (
        "enterprise", p.enterprise.uscc, p.enterprise, p.agent)
    assert p.enterprise.name in page.content.decode()


def test_page_refuses_a_party_without_mandate(client, people):
    p = people
    client.force_login(p.other)
    client.post("/accounts/acting-as", {"party": f"enterprise:{p.enterprise.uscc}"})
    assert client.get("/accounts/me/").wsgi_request.acting_as.kind == "person"


def test_mandate_api_grant_and_revoke(client, people):
    p = people
    client.force_login(p.boss)
    response = client.post(f"{ME}/mandates", {"principal": p.enterprise.uscc, "agent": p.agent.id_number,
                                              "item_codes": ["430100001000"], "valid_until": p.year.isoformat()},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    mandate_id = response.json()["id"]
    bad = client.post(f"{ME}/mandates", {"principal": p.enterprise.uscc, "agent": "agent", "item_codes": ["1"],
                                         "valid_until": p.year.isoformat()}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "item_codes.0"
    client.force_login(p.other)
    assert client.post(f"{ME}/mandates/{mandate_id}/revoke", {}, content_type="application/json").status_code == 404
    client.force_login(p.boss)
    response = client.post(f"{ME}/mandates/{mandate_id}/revoke", {"reason": "到期前收回"},
                           content_type="application/json")
    assert response.json() == {"revoked": [mandate_id]}


def test_staff_act_as_no_party(client, people):
    from .factories import StaffFactory

    client.force_login(StaffFactory(roles=["officer"]))
    data = client.get(ME).json()
    assert data["acting_as"] is None and data["parties"] == [] and data["roles"] == ["officer"]


def test_anonymous_gets_401(client, people):
    response = client.get(ME)
    assert response.status_code == 401 and response.json()["detail"][0]["rule"] == "unauthenticated"
