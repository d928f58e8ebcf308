"""The `tongban licence` command and the licence API."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.licences import services, trust
from tongban.licences.selectors import licence_document

from .factories import RegionFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("licence", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_list_json_filters_by_holder(issue, enterprise):
    licence = issue()
    code, out = _run("list", "--holder", enterprise.uscc, "--json")
    assert code == 0
    assert json.loads(out) == [{"id": licence.pk, "identifier": licence.identifier, "type": licence.licence_type.code,
                                "holder": enterprise.uscc, "status": "valid"}]
    assert json.loads(_run("list", "--holder", "91430100MA4L00000X", "--json")[1]) == []


def test_export_then_verify_exit_codes(issue, tmp_path):
    licence = issue()
    path = tmp_path / "licence.json"
    assert _run("export", str(licence.pk), "--out", str(path))[0] == 0
    exported = json.loads(path.read_text())
    assert {"licence", "issuer", "trust_list", "status_list"} <= exported.keys()
    assert exported["issuer"]["keys"][0]["kid"] == exported["licence"]["proof"]["kid"]

    code, out = _run("verify", str(path))
    assert code == 0 and json.loads(out)["valid"] is True

    tampered = copy.deepcopy(exported)
    tampered["licence"]["payload"]["holder"]["name"] = "别人"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    code, out = _run("verify", str(bad))
    assert code == 1 and json.loads(out)["valid"] is False and json.loads(out)["reason"] == "bad_signature"

    services.revoke_licence(licence=licence, reason="吊销")
    code, out = _run("verify", str(path))
    assert code == 1 and json.loads(out)["reason"] == "revoked"
    assert _run("verify", str(tmp_path / "missing.json"))[0] == 2


def test_verify_in_a_region_that_does_not_recognise_the_issuer(issue, tmp_path):
    RegionFactory(code="421200", name="咸宁市")
    path = tmp_path / "licence.json"
    _run("export", str(issue().pk), "--out", str(path))
    code, out = _run("verify", str(path), "--region", "421200")
    assert code == 1 and json.loads(out)["reason"] == "untrusted_issuer"


def test_offline_verification_with_a_trust_bundle_uses_the_status_snapshot(issue, tmp_path):
    licence = issue()
    bundle, export = tmp_path / "trust.json", tmp_path / "licence.json"
    _run("trust-export", "430100", "--out", str(bundle))
    _run("export", str(licence.pk), "--out", str(export))
    code, out = _run("verify", str(export), "--trust", str(bundle))
    assert code == 0, out
    # offline, the snapshot decides: a revocation after export is not visible to it ...
    services.revoke_licence(licence=licence, reason="吊销")
    assert _run("verify", str(export), "--trust", str(bundle))[0] == 0
    # ... but a fresh export carries it
    _run("export", str(licence.pk), "--out", str(export))
    code, out = _run("verify", str(export), "--trust", str(bundle))
    assert code == 1 and json.loads(out)["reason"] == "revoked"
    # a snapshot whose signature does not verify fails closed
    data = json.loads(export.read_text())
    lists = data["status_list"]["lists"]
    lists["revocation"]["encodedList"] = lists["suspension"]["encodedList"]  # clear the revocation bit
    export.write_text(json.dumps(data))
    code, out = _run("verify", str(export), "--trust", str(bundle))
    assert code == 1 and json.loads(out)["reason"] == "status_invalid"
    del data["status_list"]
    export.write_text(json.dumps(data))
    assert json.loads(_run("verify", str(export), "--trust", str(bundle))[1])["reason"] == "status_missing"


def test_api_verify_returns_200_with_valid_and_reason(client, issue):
    doc = licence_document(issue())
    response = client.post("/api/v1/licences/verify", {"document": doc}, content_type="application/json")
    assert response.status_code == 200 and response.json()["valid"] is True
    doc["payload"]["data"]["address"] = "别处"
    response = client.post("/api/v1/licences/verify", {"document": doc, "region": "430100"},
                           content_type="application/json")
    assert response.status_code == 200
    assert response.json()["valid"] is False and response.json()["reason"] == "bad_signature"
    response = client.post("/api/v1/licences/verify", {"document": {"x": 1}}, content_type="application/json")
    assert response.json()["reason"] == "malformed"


def test_api_status_list_and_trust_list(client, issue, issuer):
    issue()
    body = client.get(f"/api/v1/licences/status/{issuer.uscc}").json()
    assert body["type"] == "BitstringStatusListCredential" and body["issuer"] == issuer.uscc
    assert body["lists"]["revocation"]["encodedList"].startswith("u") and body["proof"]["value"]
    assert client.get("/api/v1/licences/status/91430100MA4L00000X").status_code == 404
    assert client.get("/api/v1/licences/trust/430100").json()["region"] == "430100"
    assert trust.trust_list_document("430100")["issuers"][0]["uscc"] == issuer.uscc


def test_api_documents_the_licence_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/licences/verify", "/api/v1/licences/status/{issuer_uscc}",
            "/api/v1/licences/show/{token}"} <= paths.keys()
