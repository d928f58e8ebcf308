"""The restaurant bundle through the REST API, as the portal and department systems use it: prefill from
the legal-entity register (and the enterprise sees those queries), uploads, the window's check,
officers' actions with idempotency keys, licences issued on approval whose identifiers pass the
GB/T 36904 check, the food licence item receiving the business licence without an upload, delivery,
and notices as PDF with a working verification link."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client
from stdnum.iso7064 import mod_37_36

from tests.demo_fixtures import demo_full  # noqa: F401
from tongban.cases.simulation import minimal_pdf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


def _client(username: str) -> Client:
    from tongban.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _identifier_ok(identifier: str) -> bool:
    # 1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>: the check covers the four middle segments.
    parts = identifier.split(".")
    return mod_37_36.is_valid("".join(parts[5:9]) + parts[9])


def test_restaurant_through_the_api(settings):
    from tongban.accounts.models import Enterprise
    from tongban.cases import services
    from tongban.cases.models import Case, SubCase
    from tongban.exchange.selectors import queries_about_subject

    boss = _client("changsha-boss")
    enterprise = Enterprise.objects.get(legal_representative__username="changsha-boss")
    answer = boss.post("/api/v1/cases", {"region": "430100", "bundle": "open-restaurant", "answers": {"area_sqm": 800},
                                         "enterprise_uscc": enterprise.uscc}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    case = answer.json()
    number = case["number"]
    # Prefill (自动填报): name, legal representative and address from the legal-entity register, each with its source.
    assert case["form"]["enterprise.name"] == enterprise.name
    assert case["form"]["enterprise.legal_representative.name"] == enterprise.legal_representative.real_name
    assert case["form"]["enterprise.address"]
    assert "legal_entities" in str(case["form_sources"]["enterprise.name"])
    log = queries_about_subject(enterprise.uscc).filter(case_ref=number)
    assert log.exists() and all(entry.outcome == "granted" for entry in log)
    mine = boss.get("/api/v1/exchange/my-queries")
    assert mine.status_code == 200 and number in mine.content.decode()

    # Bad input names the field and the rule; nothing is written.
    bad = boss.patch(f"/api/v1/cases/{number}", {"form": {"no.such.field": "x"}}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["rule"] == "form.unknown_field"
    required = case["plan"]["form"]["required"]
    filled = {name: 100 if case["plan"]["form"]["properties"][name]["type"] in ("number", "integer") else "示例"
              for name in required if not case["form"].get(name)}
    assert boss.patch(f"/api/v1/cases/{number}", {"form": filled}, content_type="application/json").status_code == 200
    for material in case["materials"]:
        if material["required"] and material["status"] == "missing":
            upload = io.BytesIO(minimal_pdf(material["code"]))
            upload.name = f"{material['code']}.pdf"
            response = boss.post(f"/api/v1/cases/{number}/materials/{material['code']}/files", {"file": upload})
            assert response.status_code == 201, response.content
    assert boss.get(f"/api/v1/cases/{number}/completeness").json()["detail"] == []
    assert boss.post(f"/api/v1/cases/{number}/submit").json()["status"] == "submitted"

    clerk = _client("changsha-clerk")
    accepted = clerk.post(f"/api/v1/cases/{number}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    # Officers act on their tasks; the same idempotency key twice acts once.
    officers = {"长沙市市场监督管理局": "changsha-market", "长沙市生态环境局": "changsha-ecology",
                "长沙市住房和城乡建设局": "changsha-housing", "长沙市消防救援支队": "changsha-fire"}
    for _ in range(30):
        active = list(SubCase.objects.filter(case__number=number, status="active").select_related("department",
                                                                                                    "workflow"))
        if not active:
            break
        for sub in active:
            officer = _client(officers[sub.department.name])
            task_ids = [t["id"] for t in officer.get("/api/v1/tasks?limit=200").json()["items"]]
            assert sub.pk in task_ids
            payload = {"action": "approve", "step": sub.step, "key": f"k-{sub.pk}-{sub.step}"}
            if sub.workflow.step(sub.step).get("decision"):  # the officer enters the licence's decision fields
                fields = officer.get(f"/api/v1/subcases/{sub.pk}/decision-fields").json()
                payload["decision"] = {f["name"]: f["example"] for f in fields}
            first = officer.post(f"/api/v1/subcases/{sub.pk}/actions", payload, content_type="application/json")
            again = officer.post(f"/api/v1/subcases/{sub.pk}/actions", payload, content_type="application/json")
            assert first.status_code == again.status_code == 200
            assert first.json()["revision"] == again.json()["revision"]
    case = Case.objects.get(number=number)
    assert case.status == Case.Status.DELIVERED  # electronic delivery by default

    progress = boss.get(f"/api/v1/cases/{number}/progress").json()
    results = {row["key"]: row["result"] for row in progress}
    assert all(results.values())
    assert all(_identifier_ok(identifier) for identifier in results.values())
    detail = boss.get(f"/api/v1/cases/{number}").json()
    business = next(m for m in detail["materials"] if m["code"] == "business-licence")
    assert business["licence"] == results["company-registration"] and not business["files"]
    assert business["licence_check"]["valid"] is True

    # Notices as PDF, with a verification link that answers genuine.
    notices = detail["notices"]
    assert {n["kind"] for n in notices} >= {"acceptance", "decision", "delivery"}
    pdf = boss.get(f"/api/v1/notices/{notices[0]['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    token = notices[0]["verify_url"].rsplit("/", 1)[1]
    assert Client().get(f"/api/v1/notices/verify/{token}").json()["valid"] is True
    forged = Client().get("/api/v1/notices/verify/forged-token").json()
    assert forged["valid"] is False and not any(v for k, v in forged.items() if k != "valid")  # nothing else told
    # The applicant was told once about the delivery.
    assert case.messages.filter(kind="delivery").count() == 1
    assert services.sweep(on=date(2026, 12, 31))["promised_overdue"] == 0  # nothing open any more
