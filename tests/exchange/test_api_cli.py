from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tongban.exchange.models import Grant, QueryLog

from .conftest import in_a_year

pytestmark = pytest.mark.django_db

TONGBAN = str(Path(sys.executable).with_name("tongban"))


# --- API --------------------------------------------------------------------------------------------


def test_api_needs_a_login_and_staff_endpoints_refuse_applicants(world, client):
    assert client.get("/api/v1/exchange/resources").status_code == 401
    client.force_login(world.rep)
    response = client.post("/api/v1/exchange/query", {"resource": "legal_entities", "subject": world.enterprise.uscc,
                                                      "fields": ["name"], "purpose": "x", "case_ref": "c"},
                           content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"][0]["rule"] == "staff_only"


def test_api_catalogue_grant_approval_query_and_logs(world, client):
    client.force_login(world.health_officer)
    resources = {r["code"]: r for r in client.get("/api/v1/exchange/resources").json()}
    assert resources["tax_personal_income"]["sharing_type"] == "not_shared"
    assert resources["population"]["sharing_type_label"] == "有条件共享"
    assert {"name": "name", "standard_name": "enterprise.name"}.items() <= resources["legal_entities"]["fields"][1].items()

    response = client.post("/api/v1/exchange/grants", {"resource": "population", "fields": ["name"],
                                                       "purpose": "老年人优待证办理",
                                                       "valid_until": in_a_year().isoformat()},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    grant = response.json()
    assert grant["status"] == "requested"
    query = {"resource": "population", "subject": world.rep.id_number, "fields": ["name"],
             "purpose": "老年人优待证办理", "case_ref": "LN-1"}
    refused = client.post("/api/v1/exchange/query", query, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["detail"][0]["rule"] == "grant.pending"
    # the consumer cannot approve its own request
    assert client.post(f"/api/v1/exchange/grants/{grant['id']}/approve", {"reason": ""},
                       content_type="application/json").status_code == 403

    client.force_login(world.police_officer)
    owned = client.get("/api/v1/exchange/grants?side=owner").json()
    assert grant["id"] in [g["id"] for g in owned] and {g["resource"] for g in owned} == {"population"}
    approved = client.post(f"/api/v1/exchange/grants/{grant['id']}/approve", {"reason": "依法"},
                           content_type="application/json")
    assert approved.status_code == 200 and approved.json()["status"] == "granted"
    again = client.post(f"/api/v1/exchange/grants/{grant['id']}/approve", {"reason": ""},
                        content_type="application/json")
    assert again.status_code == 409

    client.force_login(world.health_officer)
    answer = client.post("/api/v1/exchange/query", query, content_type="application/json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [f["value"] for f in body["fields"]] == ["李湘"]
    assert body["provenance"]["owner"] == "长沙市公安局" and body["provenance"]["updated_at"]
    assert "*" in body["subject"]

    consumer_log = client.get("/api/v1/exchange/log?side=consumer").json()["items"]
    assert [i["outcome"] for i in consumer_log] == ["granted", "refused"]
    client.force_login(world.police_officer)
    owner_log = client.get("/api/v1/exchange/log?side=owner").json()["items"]
    assert [i["outcome"] for i in owner_log] == ["granted", "refused"]
    assert "*" in owner_log[0]["subject"]  # ID numbers masked in the department log

    client.force_login(world.rep)
    mine = client.get("/api/v1/exchange/my-queries").json()["items"]
    assert [(i["consumer"], i["purpose"], i["case_ref"], i["outcome"]) for i in mine] == [
        ("长沙市卫生健康委员会", "老年人优待证办理", "LN-1", "granted"),
        ("长沙市卫生健康委员会", "老年人优待证办理", "LN-1", "refused")]

    client.force_login(world.police_officer)
    revoked = client.post(f"/api/v1/exchange/grants/{grant['id']}/revoke", {"reason": "期满前收回"},
                          content_type="application/json")
    assert revoked.status_code == 200 and Grant.objects.get(pk=grant["id"]).status == "revoked"


def test_api_grants_are_invisible_to_other_departments(world, client):
    client.force_login(world.health_officer)
    grant = client.post("/api/v1/exchange/grants", {"resource": "population", "fields": ["name"], "purpose": "p",
                                                    "valid_until": in_a_year().isoformat()},
                        content_type="application/json").json()
    client.force_login(world.market_officer)
    response = client.post(f"/api/v1/exchange/grants/{grant['id']}/revoke", {"reason": "x"},
                           content_type="application/json")
    assert response.status_code == 404
    assert grant["id"] not in [g["id"] for g in client.get("/api/v1/exchange/grants").json()]


def test_api_prefill_for_the_applicant(world, client):
    client.force_login(world.rep)
    response = client.post("/api/v1/exchange/prefill", {"subject": world.enterprise.uscc, "case_ref": "YJS-9",
                                                        "standard_fields": ["enterprise.name", "person.name"]},
                           content_type="application/json")
    assert response.status_code == 200
    assert response.json()["enterprise.name"]["source"] == "长沙市市场监督管理局"


def test_openapi_documents_the_exchange(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/exchange/resources", "/api/v1/exchange/query", "/api/v1/exchange/my-queries",
                 "/api/v1/exchange/grants/{grant_id}/approve"):
        assert path in paths


# --- CLI --------------------------------------------------------------------------------------------


def test_cli_lists_the_catalogue_as_json(world, capsys):
    call_command("exchange", "resources", "--json")
    data = json.loads(capsys.readouterr().out)
    codes = {r["code"]: r for r in data}
    assert {"population", "legal_entities", "social_security", "real_estate", "tax_personal_income"} <= set(codes)
    assert codes["legal_entities"]["sharing_type"] == "unconditional"


def _cli_query(world, *extra, fields="name,address", username=None, purpose="营业执照核验"):
    return ["exchange", "query", "--resource", "legal_entities", "--subject", world.enterprise.uscc,
            "--fields", fields, "--purpose", purpose, "--case", "CLI-1",
            "--as", username or world.health_officer.username, *extra]


def test_cli_query_answers_in_json_with_provenance(world, capsys):
    from tongban.exchange import services

    services.grant_request(resource_code="legal_entities", consumer=world.depts["health"], fields=["name", "address"],
                           purpose="核验", valid_until=in_a_year(), actor=world.health_officer)
    call_command(*_cli_query(world, "--json"))
    body = json.loads(capsys.readouterr().out)
    assert {f["name"]: f["value"] for f in body["fields"]} == {"name": "长沙市湘味餐饮有限公司",
                                                                "address": "长沙市芙蓉区五一大道100号"}
    assert body["provenance"]["owner"] == "长沙市市场监督管理局"


def test_cli_refusal_exits_non_zero_with_the_reason_in_both_languages(world, capsys):
    with pytest.raises(CommandError) as cmd:
        call_command(*_cli_query(world, "--json"))
    assert cmd.value.returncode == 3
    assert "默认拒绝" in str(cmd.value) and "deny by default" in str(cmd.value)
    assert json.loads(capsys.readouterr().out)["problems"][0]["rule"] == "grant.none"
    assert QueryLog.objects.get().outcome == "refused"

    with pytest.raises(CommandError) as cmd:
        call_command(*_cli_query(world, purpose=" "))
    assert cmd.value.returncode == 3 and "查询必须说明目的" in str(cmd.value) and "purpose" in str(cmd.value)

    with pytest.raises(CommandError) as cmd:
        call_command(*_cli_query(world, username="nobody"))
    assert cmd.value.returncode == 1

    with pytest.raises(CommandError) as cmd:
        call_command("exchange", "query", "--resource", "nope", "--subject", world.enterprise.uscc, "--fields", "a",
                     "--purpose", "p", "--case", "c", "--as", world.health_officer.username)
    assert cmd.value.returncode == 4


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_cli_process_exit_codes(world, tmp_path):
    """The real `tongban` process: 0 with JSON on an answer, 3 with both languages on stderr on a refusal."""
    from tongban.exchange import services

    services.grant_request(resource_code="legal_entities", consumer=world.depts["health"], fields=["name"],
                           purpose="核验", valid_until=in_a_year(), actor=world.health_officer)
    env = {**os.environ, "DATABASE_URL": _database_url(), "TONGBAN_VAR_DIR": str(tmp_path)}
    ok = subprocess.run([TONGBAN, *_cli_query(world, "--json", fields="name")], env=env, capture_output=True,  # noqa: S603
                        text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["fields"][0]["value"] == "长沙市湘味餐饮有限公司"
    refused = subprocess.run([TONGBAN, *_cli_query(world, fields="name,address")], env=env, capture_output=True,  # noqa: S603
                             text=True, timeout=120, check=False)
    assert refused.returncode == 3
    assert "未获授权" in refused.stderr and "not granted" in refused.stderr
    # the refusal was committed by the other process although it exited with an error
    assert QueryLog.objects.filter(outcome="refused", rule="fields.not_granted", case_ref="CLI-1").exists()


def test_cli_log_shows_queries_about_a_subject(world, capsys):
    from tongban.exchange import services

    services.prefill(subject=world.enterprise.uscc, standard_fields=["enterprise.name"], actor=world.rep,
                     case_ref="YJS-1")
    call_command("exchange", "log", "--subject", world.enterprise.uscc, "--json")
    items = json.loads(capsys.readouterr().out)
    assert [(i["consumer"], i["case_ref"]) for i in items] == [("长沙市政务服务和大数据管理局", "YJS-1")]


def test_admin_pages_of_the_exchange_render(world, admin_client):
    for path in ("dataresource", "grant", "querylog", "standardfield", "fieldalias", "codemapping", "codelist",
                 "populationrecord", "legalentityrecord", "socialsecurityrecord", "realestaterecord"):
        response = admin_client.get(f"/admin/exchange/{path}/")
        assert response.status_code == 200, path
    assert world.rep.id_number not in admin_client.get("/admin/exchange/populationrecord/").content.decode()
    resource = world.depts["market"].exchange_resources.get()
    assert admin_client.get(f"/admin/exchange/dataresource/{resource.pk}/change/").status_code == 200
