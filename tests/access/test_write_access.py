"""The write side of the access layer (issue 12): agents only while a mandate covers the case's items,
shared-data fetches only while the case is being handled, every file read in the trail, the system
actor that no request can be, department systems reading like their officers, and the order
404 (may not see) -> 403 (may see, may not do) -> 409 (may do, not now)."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.test import Client

from tests.cases.conftest import accepted_restaurant, boss_and_enterprise, start_restaurant, sub, user
from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.accounts.models import Mandate
from tongban.accounts.services import grant_mandate, register_system_client, revoke_mandate
from tongban.audit.models import AuditEntry
from tongban.cases import services
from tongban.cases.access import CaseAction, access_case_for, case_item_codes
from tongban.cases.models import Case, MaterialFile
from tongban.cases.simulation import SAMPLE_PDF
from tongban.core.access import fetch, visible
from tongban.core.errors import Conflict, Forbidden, NotFound
from tongban.core.system import SYSTEM, is_system

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

ACCEPT_ON = date(2026, 9, 28)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _client(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def _agent_case():
    """A draft filed by the demo agent under their all-items mandate, with a file the agent uploaded."""
    boss, enterprise = boss_and_enterprise("changsha")
    agent = user("changsha-agent")
    case = services.start_case(actor=agent, region_code="430100", bundle_code="open-restaurant",
                               answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc)  # today: the mandate's period
    record = services.attach_file(case=case, material_code="food-layout", name="layout.pdf",
                                  content=SAMPLE_PDF + b"layout", actor=agent)
    return boss, enterprise, agent, case, record


def _reads(client: Client, case: Case, file_id: int) -> dict[str, int]:
    paths = {"case": f"/api/v1/cases/{case.number}", "progress": f"/api/v1/cases/{case.number}/progress",
             "notices": f"/api/v1/cases/{case.number}/notices", "file": f"/api/v1/files/{file_id}",
             "page": f"/my/cases/{case.number}/"}
    return {name: client.get(path).status_code for name, path in paths.items()}


def test_a_revoked_agent_gets_404_on_the_case_and_even_on_files_they_uploaded():
    boss, enterprise, agent, case, record = _agent_case()
    assert set(_reads(_client("changsha-agent"), case, record.pk).values()) == {200}
    for mandate in Mandate.objects.filter(agent=agent, principal=enterprise, revoked_at__isnull=True):
        revoke_mandate(mandate=mandate, revoked_by=boss, reason="不再委托")
    client = _client("changsha-agent")
    assert set(_reads(client, case, record.pk).values()) == {404}
    assert client.post(f"/api/v1/cases/{case.number}/submit", {}, content_type="application/json").status_code == 404
    with pytest.raises(NotFound):
        services.open_material_file(file_id=record.pk, actor=agent)
    with pytest.raises(NotFound):
        services.attach_file(case=case, material_code="floor-plan", name="p.pdf", content=SAMPLE_PDF, actor=agent)
    assert not visible(agent, "case").filter(pk=case.pk).exists()
    assert not visible(agent, "material-file").filter(pk=record.pk).exists()
    assert set(_reads(_client("changsha-boss"), case, record.pk).values()) == {200}  # the enterprise keeps it


def test_an_agent_mandated_for_one_item_sees_no_case_with_other_items():
    boss, enterprise = boss_and_enterprise("changsha")
    case = accepted_restaurant()  # filed by the legal representative; several items
    codes = case_item_codes(case)
    assert len(codes) > 1
    outsider = user("changsha-citizen")
    grant_mandate(granted_by=boss, principal=enterprise, agent=outsider, item_codes=[codes[0]],
                  valid_from=date.today(), valid_until=date.today() + timedelta(days=30))
    file = MaterialFile.objects.filter(material__case=case).first()
    client = _client("changsha-citizen")
    assert set(_reads(client, case, file.pk).values()) == {404}
    first = sub(case, case.plan["items"][0]["code"])
    assert client.get(f"/api/v1/subcases/{first.pk}/ledger").status_code == 404
    notice = case.notices.first()
    assert client.get(f"/api/v1/notices/{notice.pk}/pdf").status_code == 404
    # A mandate covering every item of the case lets them in (one mandate must cover them all).
    grant_mandate(granted_by=boss, principal=enterprise, agent=outsider, item_codes=codes,
                  valid_from=date.today(), valid_until=date.today() + timedelta(days=30))
    assert access_case_for(outsider, case.number) == case
    assert client.get(f"/api/v1/files/{file.pk}").status_code == 200


def test_every_material_read_is_in_the_trail_whoever_reads():
    boss, enterprise, agent, case, record = _agent_case()
    for reader in (agent, boss):
        services.open_material_file(file_id=record.pk, actor=reader)
    reads = AuditEntry.objects.filter(case_ref=case.number, action="case.material_read")
    assert sorted(reads.values_list("actor_id", "role")) == sorted([(agent.pk, "applicant"), (boss.pk, "applicant")])
    response = _client("changsha-boss").get(f"/api/v1/files/{record.pk}")
    assert response.status_code == 200 and reads.count() == 3


def _data_material(case: Case):
    row = case.materials.exclude(data_resource="").first()
    assert row is not None, "the demo restaurant case has a material fetched from shared data"
    from tongban.accounts.models import User
    from tongban.accounts.roles import Role

    officer = (User.objects.filter(department__subcases__case=case, groups__name=Role.OFFICER,
                                   department__subcases__key__in=row.used_by).order_by("pk").first()
               or User.objects.filter(department__subcases__case=case, groups__name=Role.OFFICER).order_by("pk").first())
    return row, officer


def test_shared_data_is_fetched_only_while_the_case_is_being_handled():
    case = accepted_restaurant()
    row, officer = _data_material(case)
    draft = start_restaurant()
    url = f"/api/v1/cases/{draft.number}/materials/{row.code}/fetch"
    assert _client(officer.username).post(url, {}, content_type="application/json").status_code == 404  # a draft
    services.withdraw_case(case=case, actor=case.filed_by, reason="不办了", on=ACCEPT_ON)
    before = AuditEntry.objects.filter(action__startswith="exchange.").count()
    response = _client(officer.username).post(f"/api/v1/cases/{case.number}/materials/{row.code}/fetch", {},
                                              content_type="application/json")
    assert response.status_code == 409, response.content
    assert response.json()["detail"][0]["rule"] == "fetch.not_handling"
    with pytest.raises(Conflict) as caught:
        services.fetch_shared_material(case=case, material_code=row.code, actor=officer)
    assert caught.value.problem.rule == "fetch.not_handling"
    assert AuditEntry.objects.filter(action__startswith="exchange.").count() == before  # no register queried
    # The window clerk sees the case but is not an officer of it: 403, not 404.
    with pytest.raises(Forbidden):
        services.fetch_shared_material(case=case, material_code=row.code, actor=user("changsha-clerk"))


def test_who_sees_but_may_not_act_gets_403_with_a_bilingual_problem():
    from tests.cases.conftest import submit_complete

    case = submit_complete(start_restaurant())
    response = _client("changsha-boss").post(f"/api/v1/cases/{case.number}/accept", {},
                                             content_type="application/json")
    assert response.status_code == 403
    problem = response.json()["detail"][0]
    assert problem["rule"] == "access.case.window" and problem["zh"] and problem["en"]
    assert _client("zhuzhou-clerk").post(f"/api/v1/cases/{case.number}/accept", {},
                                         content_type="application/json").status_code == 404
    assert Case.objects.get(pk=case.pk).status == Case.Status.SUBMITTED


# --- the system actor -------------------------------------------------------------------------------------------


def test_deemed_acceptance_is_the_platforms_alone():
    from tests.cases.conftest import submit_complete

    case = submit_complete(start_restaurant())
    with pytest.raises(TypeError):
        services.accept_case(case=case, actor=user("changsha-clerk"), deemed=True)  # no such flag any more
    for actor in (user("changsha-clerk"), user("changsha-boss"), None):
        with pytest.raises(Forbidden) as caught:
            services.deem_accepted(case=case, actor=actor)
        assert caught.value.problem.rule == "actor.system"
    assert Case.objects.get(pk=case.pk).status == Case.Status.SUBMITTED
    counts = services.sweep(on=case.notice_due + timedelta(days=10))
    assert counts["deemed_accepted"] >= 1
    entry = AuditEntry.objects.get(case_ref=case.number, action="case.deemed_accepted")
    assert entry.role == "system" and entry.actor_id is None and entry.actor_label == "system"


def test_no_request_can_present_the_system_actor(client):
    """Anonymous, a signed-in user of every kind, a department system's bearer token: request.user is
    never the sentinel, and the sentinel itself sees nothing and cannot be copied."""
    import copy
    import pickle

    from django.test import RequestFactory

    from tongban.api.auth import DepartmentBearer

    seen = []

    def probe(request):
        seen.append(request.user)
        from django.http import HttpResponse

        return HttpResponse("ok")

    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    for username in (None, "changsha-boss", "changsha-clerk", "changsha-admin"):
        request = RequestFactory().get("/")
        SessionMiddleware(lambda r: None).process_request(request)
        if username:
            from django.contrib.auth import login

            request.user = user(username)
            login(request, request.user, backend="django.contrib.auth.backends.ModelBackend")
        AuthenticationMiddleware(probe)(request)
    market = user("changsha-market")
    system, secret = register_system_client(department=market.department, name="业务系统", scopes=["cases:read"])
    basic = base64.b64encode(f"{system.application.client_id}:{secret}".encode()).decode()
    token = client.post("/o/token/", {"grant_type": "client_credentials", "scope": "cases:read"},
                        HTTP_AUTHORIZATION=f"Basic {basic}").json()["access_token"]
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    seen.append(DepartmentBearer("cases:read")(request))
    assert len(seen) == 5 and not any(is_system(u) for u in seen)
    assert not visible(SYSTEM, "case").exists()
    with pytest.raises(NotFound):
        fetch(SYSTEM, "case", pk=start_restaurant().pk)
    with pytest.raises(RuntimeError):
        type(SYSTEM)()
    with pytest.raises(TypeError):
        pickle.dumps(SYSTEM)
    with pytest.raises(TypeError):
        copy.deepcopy(SYSTEM)


def test_only_the_sweep_imports_the_system_actor():
    src = Path(__file__).resolve().parents[2] / "src" / "tongban"
    pattern = re.compile(r"^\s*(from\s+\S*system\s+import\s+.*\bSYSTEM\b|import\s+tongban\.core\.system)", re.M)
    users = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8")))
    # The sweep, and the federation handlers that make and update the local case of a hand-over.
    assert users == ["cases/services/supervision.py", "federation/handling.py"], users


# --- department systems ------------------------------------------------------------------------------------------


def test_a_department_system_reads_its_departments_cases_like_its_officers(client):
    case = accepted_restaurant()
    market, police = user("changsha-market"), user("changsha-police")
    system, secret = register_system_client(department=market.department, name="市场监管业务系统",
                                            scopes=["cases:read"])
    basic = base64.b64encode(f"{system.application.client_id}:{secret}".encode()).decode()
    token = client.post("/o/token/", {"grant_type": "client_credentials", "scope": "cases:read"},
                        HTTP_AUTHORIZATION=f"Basic {basic}").json()["access_token"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/v1/cases", **bearer)
    assert listed.status_code == 200
    numbers = {c["number"] for c in listed.json()["items"]}
    assert numbers == set(visible(market, "case").values_list("number", flat=True)) and case.number in numbers
    assert client.get(f"/api/v1/cases/{case.number}", **bearer).status_code == 200
    mine = sub(case, "company-registration")
    assert mine.department_id == market.department_id
    assert client.get(f"/api/v1/subcases/{mine.pk}/ledger", **bearer).status_code == 200
    other = case.subcases.exclude(department_id=market.department_id).first()
    assert client.get(f"/api/v1/subcases/{other.pk}/ledger", **bearer).status_code == 404
    # Another department's system sees nothing of a case without its items.
    police_system, police_secret = register_system_client(department=police.department, name="公安业务系统",
                                                          scopes=["cases:read"])
    basic = base64.b64encode(f"{police_system.application.client_id}:{police_secret}".encode()).decode()
    police_token = client.post("/o/token/", {"grant_type": "client_credentials", "scope": "cases:read"},
                               HTTP_AUTHORIZATION=f"Basic {basic}").json()["access_token"]
    assert client.get(f"/api/v1/cases/{case.number}",
                      HTTP_AUTHORIZATION=f"Bearer {police_token}").status_code == 404
    assert case.number not in {c["number"] for c in client.get(
        "/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {police_token}").json()["items"]}
    assert CaseAction.READ == "read"
