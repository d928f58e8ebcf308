"""Who may issue a licence type is said in the catalogue file: validate refuses a result that nobody may
sign (naming the bundle, the item and the region), and import grants what the file declares, so the
case reaches delivery without a step in the admin (issue 15)."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from django.core.management import call_command

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.audit.models import AuditEntry
from tongban.licences.models import Licence, LicenceTypeIssuer
from tongban.regions.models import Department

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

BASIC = "000199001000"


def _document() -> dict:
    market = Department.objects.get(region_id="430100", kind=Department.Kind.MARKET_REGULATION)
    licence_type = f"{market.uscc}091"
    return {
        "format": "tongban.catalog/v1",
        "licence_types": [{"code": licence_type, "name": "小作坊登记证", "holder_kind": "001",
                           "fields": [{"name": "名称", "source": {"case": "applicant_name"}}]}],
        "items": [{
            "basic_code": BASIC, "implementation_code": f"{market.uscc}3{BASIC}", "region": "430100",
            "department": market.uscc, "name": "食品小作坊登记",
            "versions": [{"version": 1, "status": "published", "valid_from": "2026-01-01", "name": "食品小作坊登记",
                          "type": "01", "statutory_days": 10, "promised_days": 5,
                          "result": {"name": "小作坊登记证", "licence_type": licence_type}}],
        }],
        "bundles": [{"code": "open-workshop", "name": "我要开食品小作坊", "theme": "enterprise", "versions": [{
            "version": 1, "status": "published", "valid_from": "2026-01-01", "regions": ["430100"],
            "items": [{"key": "workshop", "item": BASIC}]}]}],
    }


def _write(tmp_path, data) -> str:
    path = tmp_path / "workshop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_a_result_nobody_may_issue_is_refused_then_the_declared_issuers_carry_it_to_delivery(tmp_path, capsys):
    data = _document()
    with pytest.raises(SystemExit):
        call_command("catalog", "validate", _write(tmp_path, data))
    err = capsys.readouterr().err
    assert "items[0].versions[0].result.licence_type: [licence.issuer.missing]" in err
    assert BASIC in err and "430100" in err and "open-workshop" in err  # item, region and bundle named

    declared = copy.deepcopy(data)
    declared["licence_types"][0]["issuers"] = [{"kind": "market_regulation", "region": "430100"}]
    path = _write(tmp_path, declared)
    call_command("catalog", "validate", path)
    call_command("catalog", "import", path)
    assert LicenceTypeIssuer.objects.filter(licence_type__code=data["licence_types"][0]["code"]).count() == 1
    assert AuditEntry.objects.filter(action="licence.issuer.authorised").exists()

    capsys.readouterr()
    call_command("simulate", "open-workshop", "--region", "430100", "--json")
    result = json.loads(capsys.readouterr().out)
    assert Licence.objects.filter(licence_type__code=data["licence_types"][0]["code"]).count() == 1, result


def test_an_issuer_rule_names_unknown_departments_and_kinds(tmp_path, capsys):
    data = _document()
    data["licence_types"][0]["issuers"] = [{"department": "91430100MA4L000000"}, {"kind": "bakery"}]
    with pytest.raises(SystemExit):
        call_command("catalog", "validate", _write(tmp_path, data))
    err = capsys.readouterr().err
    assert "licence_types[0].issuers[0].department: [reference.department]" in err
    assert "licence_types[0].issuers[1].kind: [department.kind]" in err
