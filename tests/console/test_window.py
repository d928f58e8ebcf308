"""Window console: access per role, queue tickets, intake of a walk-in applicant, the case page's
actions (form, scan-in, submit, accept, one-time notice, refusal, delivery), errors and query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.cases.models import Case, CaseMaterial, MaterialFile, Notice
from tongban.cases.simulation import SAMPLE_PDF
from tongban.catalog import standard_fields
from tongban.console.models import Ticket
from tongban.regions.models import Window

from .conftest import problems_in, restaurant_draft, submitted_restaurant, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


# --- access ----------------------------------------------------------------------------------------------


def test_landing_routes_staff_by_role_and_hides_from_others(client, as_user):
    assert client.get("/console/").status_code == 404
    assert as_user("changsha-citizen").get("/console/").status_code == 404
    assert as_user("changsha-clerk").get("/console/")["Location"] == "/console/window/"
    assert as_user("changsha-market").get("/console/")["Location"] == "/console/tasks/"
    assert as_user("changsha-supervisor").get("/console/")["Location"] == "/console/board/"


@pytest.mark.parametrize("path", ["/console/window/", "/console/intake/", "/console/tasks/", "/console/board/"])
def test_console_pages_are_404_for_applicants_and_anonymous(client, as_user, path):
    assert client.get(path).status_code == 404
    assert as_user("changsha-boss").get(path).status_code == 404


def test_window_renders_for_a_clerk_only(as_user, django_assert_max_num_queries):
    clerk = as_user("changsha-clerk")
    with django_assert_max_num_queries(14):
        response = clerk.get("/console/window/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "综合窗口" in html and "叫下一号" in html
    assert as_user("changsha-market").get("/console/window/").status_code == 404


def test_case_page_is_404_for_another_region_and_officers_without_items(as_user):
    case = submitted_restaurant()
    assert as_user("changsha-clerk").get(f"/console/cases/{case.number}/").status_code == 200
    assert as_user("xiangtan-clerk").get(f"/console/cases/{case.number}/").status_code == 404
    assert as_user("changsha-boss").get(f"/console/cases/{case.number}/").status_code == 404
    assert as_user("xiangtan-clerk").post(f"/console/cases/{case.number}/accept/").status_code == 404


# --- queue tickets ----------------------------------------------------------------------------------------


def test_tickets_numbered_per_hall_and_called_by_category(client, as_user):
    hall = user("changsha-clerk").hall
    page = client.get(f"/console/tickets/take/?hall={hall.code}")
    assert page.status_code == 200 and "企业办事" in page.content.decode()
    first = client.post("/console/tickets/take/", {"hall": hall.code, "category": "enterprise"})
    second = client.post("/console/tickets/take/", {"hall": hall.code, "category": "personal"})
    third = client.post("/console/tickets/take/", {"hall": hall.code, "category": "enterprise"})
    assert "E001" in first.content.decode() and "P002" in second.content.decode() and "E003" in third.content.decode()
    bad = client.post("/console/tickets/take/", {"hall": hall.code, "category": "nonsense"})
    assert bad.status_code == 422 and 'data-rule="ticket.category"' in bad.content.decode()
    assert client.get("/console/tickets/take/?hall=nowhere").status_code == 404

    clerk = as_user("changsha-clerk")
    window = Window.objects.get(hall=hall, categories="enterprise")
    html = clerk.get("/console/window/").content.decode()
    assert 'data-category="enterprise">2<' in html and 'data-category="personal">1<' in html
    clerk.post("/console/window/call/", {"window": window.pk})
    called = Ticket.objects.get(status=Ticket.Status.CALLED)
    assert (called.label, called.window) == ("E001", window)
    clerk.post("/console/window/call/", {"window": window.pk})  # E001 done, E003 called
    assert Ticket.objects.get(number=1, hall=hall).status == Ticket.Status.DONE
    assert Ticket.objects.get(status=Ticket.Status.CALLED).label == "E003"
    response = clerk.post("/console/window/call/", {"window": window.pk}, follow=True)
    assert "当前没有等候的号码" in response.content.decode()
    other = Window.objects.filter(hall__region_id="430300").first()
    assert clerk.post("/console/window/call/", {"window": other.pk}).status_code == 404


# --- intake -------------------------------------------------------------------------------------------------


def test_intake_of_a_walk_in_enterprise_with_the_questionnaire(as_user):
    from tongban.cases.simulation import demo_applicant

    _, enterprise = demo_applicant("changsha")
    clerk = as_user("changsha-clerk")
    form = clerk.get("/console/intake/?bundle=open-restaurant&region=430100")
    assert form.status_code == 200 and 'name="q-area_sqm"' in form.content.decode()
    response = clerk.post("/console/intake/", {"bundle": "open-restaurant", "region": "430100",
                                               "enterprise_uscc": enterprise.uscc, "q-area_sqm": "800"})
    case = Case.objects.get(filed_by__username="changsha-clerk")
    assert response["Location"] == f"/console/cases/{case.number}/"
    assert (case.channel, case.applicant_code, case.answers.get("area_sqm")) == ("window", enterprise.uscc, 800)


def test_a_walk_in_person_is_identified_once(as_user):
    """The clerk identifies the applicant by ID number and name; the form does not ask again (issue 14,
    finding 7): the applicant's name and ID number fields start filled, marked as the identity checked."""
    from tongban.accounts.models import User

    citizen = User.objects.get(username="changsha-citizen")
    clerk = as_user("changsha-clerk")
    clerk.post("/console/intake/", {"bundle": "newborn", "region": "430100", "applicant_id_number": citizen.id_number,
                                    "applicant_name": citizen.real_name})
    case = Case.objects.get(filed_by__username="changsha-clerk")
    props = case.plan["form"]["properties"]
    for standard, value in (("person.name", citizen.real_name), ("person.id_number", citizen.id_number)):
        fields = [n for n, p in props.items() if p.get("x-standard") == standard]
        assert fields and all(case.form[n] == value for n in fields), standard
        assert all(case.form_sources[n] == {"prefill": "identity"} for n in fields)
    assert "受理时核验的申请人身份" in clerk.get(f"/console/cases/{case.number}/").content.decode()


def test_intake_errors_name_the_field_and_rule(as_user):
    clerk = as_user("changsha-clerk")
    response = clerk.post("/console/intake/", {"bundle": "open-restaurant", "region": "430100",
                                               "applicant_id_number": "123", "q-area_sqm": "800"})
    assert response.status_code == 422
    fields = {f for f, _ in problems_in(response)}
    assert "applicant_id_number" in fields
    assert "居民身份证" in response.content.decode() or "身份证" in response.content.decode()
    response = clerk.post("/console/intake/", {"region": "430100", "applicant_id_number": "", "q-area_sqm": "8"})
    assert response.status_code == 422 and ("bundle", "bundle_or_item") in problems_in(response)
    assert not Case.objects.filter(filed_by__username="changsha-clerk").exists()


def test_cross_region_intake_outside_the_scope_is_refused_with_the_rule(as_user):
    from tongban.cases.simulation import demo_applicant

    _, enterprise = demo_applicant("xianning")  # 咸宁 is in no cross-region group with 长沙
    clerk = as_user("changsha-clerk")
    response = clerk.post("/console/intake/", {"bundle": "open-restaurant", "region": "421200",
                                               "enterprise_uscc": enterprise.uscc, "q-area_sqm": "800"})
    assert response.status_code == 422
    assert any(f in ("region", "bundle") for f, _ in problems_in(response))


# --- the case page ------------------------------------------------------------------------------------------


def _window_draft(clerk_client):
    from tongban.cases.simulation import demo_applicant

    _, enterprise = demo_applicant("changsha")
    clerk_client.post("/console/intake/", {"bundle": "open-restaurant", "region": "430100",
                                           "enterprise_uscc": enterprise.uscc, "q-area_sqm": "800"})
    return Case.objects.filter(filed_by__username="changsha-clerk").latest("id")


def test_scan_in_fill_submit_and_accept_at_the_window(as_user, django_assert_max_num_queries):
    clerk = as_user("changsha-clerk")
    case = _window_draft(clerk)
    url = f"/console/cases/{case.number}/"
    with django_assert_max_num_queries(16):
        page = clerk.get(url)
    assert page.status_code == 200 and "完整性检查" in page.content.decode()
    # A bad file type: shown next to that material's upload with field and rule.
    row = case.materials.filter(required=True, status=CaseMaterial.Status.MISSING).first()
    bad = clerk.post(url + "upload/", {"material": row.code,
                                       "file": SimpleUploadedFile("x.txt", b"hello", content_type="text/plain")})
    assert bad.status_code == 422 and ("file", "file.type") in problems_in(bad)
    for row in case.materials.filter(required=True, status=CaseMaterial.Status.MISSING):
        response = clerk.post(url + "upload/", {"material": row.code, "file": SimpleUploadedFile(
            f"{row.code}.pdf", SAMPLE_PDF + row.code.encode(), content_type="application/pdf")})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert MaterialFile.objects.filter(material__case=case, scanned=True).count() >= 1
    # Form: an integer field given text is refused with the field's rule; then filled.
    case.refresh_from_db()
    form = case.plan["form"]
    values = {}
    for name in form.get("required", []):
        prop = form["properties"][name]
        if case.form.get(name) in (None, ""):
            sample = standard_fields.example(prop.get("x-standard"))  # valid by the field's standard meaning
            values[f"f-{name}"] = str(sample) if sample is not None else "2026-01-01" if prop.get("format") == "date" else (
                "100" if prop.get("type") in ("integer", "number") else "示例")
    integer = next((n for n, p in form["properties"].items() if p.get("type") == "integer"), None)
    if integer:
        bad = clerk.post(url + "form/", {**values, f"f-{integer}": "many"})
        assert bad.status_code == 422 and (f"form.{integer}", "form.type") in problems_in(bad)
    assert clerk.post(url + "form/", values).status_code == 302
    assert clerk.post(url + "submit/").status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED
    assert clerk.post(url + "accept/").status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    notice = Notice.objects.get(case=case, kind="acceptance")
    page = clerk.get(url).content.decode()
    assert f"/api/v1/notices/{notice.pk}/pdf" in page
    pdf = clerk.get(f"/api/v1/notices/{notice.pk}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Accepting twice is a conflict shown as a banner, not a 500.
    again = clerk.post(url + "accept/")
    assert again.status_code == 409 and 'class="banner conflict"' in again.content.decode()


def test_one_time_notice_needs_a_reason_per_defect(as_user):
    case = submitted_restaurant()
    clerk = as_user("changsha-clerk")
    url = f"/console/cases/{case.number}/"
    code = case.materials.filter(source="applicant").first().code
    response = clerk.post(url + "one-time-notice/", {"defect": [code], f"why-{code}": ""})
    assert response.status_code == 422 and (f"defects.{code}", "required") in problems_in(response)
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED  # nothing half-written
    response = clerk.post(url + "one-time-notice/", {"defect": [code], f"why-{code}": "复印件不清晰"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CORRECTION
    assert case.materials.get(code=code).defect == "复印件不清晰"
    assert Notice.objects.filter(case=case, kind="one_time").count() == 1


def test_refusal_needs_a_reason(as_user):
    case = submitted_restaurant()
    clerk = as_user("changsha-clerk")
    url = f"/console/cases/{case.number}/refuse/"
    response = clerk.post(url, {"reason": "  "})
    assert response.status_code == 422 and ("reason", "required") in problems_in(response)
    assert clerk.post(url, {"reason": "不属于本机关职权范围"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.REFUSED


def test_draft_without_materials_cannot_be_submitted(as_user):
    clerk = as_user("changsha-clerk")
    case = _window_draft(clerk)
    response = clerk.post(f"/console/cases/{case.number}/accept/")
    assert response.status_code == 409  # a draft is not yet submitted: banner with the state rule
    assert restaurant_draft  # the helper stays importable for the browser script


def test_commitment_and_minor_promise_recorded_at_the_window(as_user):
    """告知承诺 and 容缺 for a walk-in applicant: errors name the field and rule, then both are recorded."""
    from tongban.cases.models import CaseMaterial

    clerk = as_user("changsha-clerk")
    case = _window_draft(clerk)
    page = clerk.get(f"/console/cases/{case.number}/").content.decode()
    assert 'name="promised_by"' in page and 'name="text"' in page
    bad = clerk.post(f"/console/cases/{case.number}/commit/", {"material": "fire-safety-rules", "text": " "})
    assert bad.status_code == 422 and ("text", "required") in problems_in(bad)
    # (the form is only offered where the catalogue allows a commitment; a crafted post is refused)
    wrong = clerk.post(f"/console/cases/{case.number}/commit/", {"material": "company-application", "text": "承诺"})
    assert wrong.status_code == 422
    ok = clerk.post(f"/console/cases/{case.number}/commit/", {"material": "fire-safety-rules", "text": "本单位承诺已制定"})
    assert ok.status_code == 302
    late = clerk.post(f"/console/cases/{case.number}/promise/", {"material": "fire-training-records",
                                                                 "promised_by": "not-a-date"})
    assert late.status_code == 422 and ("promised_by", "date") in problems_in(late)
    ok = clerk.post(f"/console/cases/{case.number}/promise/", {"material": "fire-training-records",
                                                               "promised_by": "2099-01-01"})
    assert ok.status_code == 302
    statuses = dict(case.materials.values_list("code", "status"))
    assert statuses["fire-safety-rules"] == CaseMaterial.Status.COMMITTED
    assert statuses["fire-training-records"] == CaseMaterial.Status.PENDING
