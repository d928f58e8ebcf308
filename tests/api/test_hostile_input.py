"""Each malformed input of issue 12 is a 4xx naming the field and the rule, in the API (JSON) and on the
pages, never a 500: non-finite and huge numbers, NUL and lone surrogates, oversize page and cursor values,
a finished item's end-special, a window that is not a number, multipart without a boundary, bad JSON,
a wrong content type; uploads checked by structure; form fields by their standard meaning."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401
from tests.sample_files import minimal_pdf, ofd_package, pdf_with, small_jpeg, small_png
from tongban.accounts.models import User
from tongban.cases import services, simulation
from tongban.cases.models import MaterialFile, SubCase
from tongban.core.codes import make_id_number, make_uscc
from tongban.core.errors import InvalidInput

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


def problems(response) -> set[tuple[str, str]]:
    return {(p["field"], p["rule"]) for p in response.json()["detail"]}


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def post_json(client: Client, path: str, raw: str | bytes, method: str = "post"):
    return getattr(client, method)(path, raw, content_type="application/json")


def draft():
    boss, enterprise = simulation.demo_applicant("changsha")
    return services.start_case(actor=boss, region_code=boss.region_id, bundle_code="open-restaurant",
                               answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc)


# --- numbers in questionnaire answers ---------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_answers_are_422_naming_the_answer(literal):
    raw = '{"bundle": "open-restaurant", "region": "430100", "answers": {"area_sqm": LITERAL}}'.replace("LITERAL", literal)
    response = post_json(Client(), "/api/v1/plans", raw)
    assert response.status_code == 422
    assert ("answers.area_sqm", "number.finite") in problems(response)


@pytest.mark.parametrize(("value", "rule"), [(-5, "answer.minimum"), (10**7, "answer.maximum"),
                                             ("abc", "answer.number")])
def test_answers_out_of_the_questions_bounds_are_422(value, rule):
    response = post_json(Client(), "/api/v1/plans", json.dumps(
        {"bundle": "open-restaurant", "region": "430100", "answers": {"area_sqm": value}}))
    assert response.status_code == 422 and ("answers.area_sqm", rule) in problems(response)


def test_question_without_bounds_gets_the_default_ones():
    from tongban.bundles import planner

    question = [{"key": "rooms", "type": "number", "label": "客房数"}]
    for bad in ("nan", "inf", "-1", "1e300"):
        with pytest.raises(InvalidInput) as caught:
            planner.clean_answers(question, {"rooms": bad}, strict=True)
        assert caught.value.problems[0].field == "answers.rooms"
    assert planner.clean_answers(question, {"rooms": "12"}, strict=True) == {"rooms": 12}


@pytest.mark.parametrize("value", ["NaN", "inf", "1e400", "-3"])
def test_portal_bundle_page_refuses_bad_numbers_naming_the_question(value):
    response = Client().get("/bundles/open-restaurant/", {"region": "430100", "area_sqm": value})
    assert response.status_code == 422
    assert 'aria-describedby="area_sqm-error"' in response.content.decode()  # the question's own error


# --- NUL and lone surrogates --------------------------------------------------------------------------------


def test_nul_and_lone_surrogate_in_json_strings_are_422_naming_the_field():
    case = draft()
    client = signed_in("changsha-boss")
    for raw, rule in (('{"form": {"enterprise.name": "a\\u0000b"}}', "text.nul"),
                      ('{"form": {"enterprise.name": "a\\ud800b"}}', "text.surrogate")):
        response = post_json(client, f"/api/v1/cases/{case.number}", raw, method="patch")
        assert response.status_code == 422, response.content
        assert ("form.enterprise.name", rule) in problems(response)


def test_nul_in_a_query_or_path_is_refused_naming_it():
    client = signed_in("changsha-boss")
    response = client.get("/api/v1/cases", {"status": "draft\x00"})
    assert response.status_code == 400 and ("status", "text.nul") in problems(response)
    response = client.get("/api/v1/cases/%00/timeline")
    assert response.status_code == 400 and ("path", "text.nul") in problems(response)


def test_nul_in_a_page_form_is_a_400_page_naming_the_field():
    case = draft()
    client = signed_in("changsha-boss")
    response = client.post(f"/my/cases/{case.number}/save/", {"f-enterprise-name": "a\x00b"})
    assert response.status_code == 400
    assert "f-enterprise-name" in response.content.decode() and "text.nul" in response.content.decode()


# --- page, cursor, window, finished items ------------------------------------------------------------------


def test_oversize_page_and_cursor_values_are_4xx():
    client = signed_in("changsha-boss")
    response = client.get("/my/data-log/", {"page": "99999999999999999999"})
    assert response.status_code == 400 and "page" in response.content.decode()
    response = client.get("/my/data-log/", {"page": "123456"})
    assert response.status_code == 400 and 'data-field="page"' in response.content.decode()
    for cursor in ("99999999999999999999", "²", "9223372036854775808"):
        response = client.get("/api/v1/cases", {"cursor": cursor})
        assert response.status_code in (400, 422), cursor
        assert {field for field, _ in problems(response)} == {"cursor"}
    response = signed_in("changsha-market").get("/api/v1/tasks", {"cursor": "2026-01-01_99999999999999999999"})
    assert response.status_code in (400, 422)
    response = client.get("/api/v1/files/99999999999999999999")
    assert response.status_code in (400, 404, 422)


def test_calling_a_window_that_is_not_a_number_names_the_field():
    response = signed_in("changsha-clerk").post("/console/window/call/", {"window": "abc"})
    assert response.status_code == 422 and 'data-field="window"' in response.content.decode()
    assert "window.id" in response.content.decode()


def test_end_special_on_a_finished_item_is_a_409():
    from tests.cases.conftest import submit_complete

    case = draft()
    submit_complete(case, on=date.today())
    services.accept_case(case=case, actor=User.objects.get(username="changsha-clerk"))
    sub = case.subcases.order_by("id").first()
    SubCase.objects.filter(pk=sub.pk).update(status=SubCase.Status.APPROVED, step="")  # as a finished item is
    response = post_json(signed_in("changsha-market"), f"/api/v1/subcases/{sub.pk}/end-special",
                         json.dumps({"reason": "结束"}))
    assert response.status_code == 409 and ("state", "subcase.not_special") in problems(response)
    response = post_json(signed_in("changsha-supervisor"), f"/api/v1/subcases/{sub.pk}/end-special",
                         json.dumps({"reason": "结束"}))
    assert response.status_code in (403, 409), response.content


# --- malformed requests ----------------------------------------------------------------------------------


def test_malformed_requests_are_json_4xx(settings):
    settings.DEBUG = False
    case = draft()
    client = signed_in("changsha-boss")
    response = client.post(f"/api/v1/cases/{case.number}/materials/food-layout/files", b"--x\r\n\r\n",
                           content_type="multipart/form-data")  # no boundary
    assert response.status_code == 400 and ("body", "multipart.invalid") in problems(response)
    response = post_json(client, "/api/v1/plans", "{not json")
    assert response.status_code == 400 and ("body", "json.invalid") in problems(response)
    response = client.post("/api/v1/plans", "bundle=x", content_type="text/plain")
    assert response.status_code == 415 and ("Content-Type", "content_type.unsupported") in problems(response)
    response = signed_in("changsha-clerk").post("/console/window/call/", b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400 and "multipart.invalid" in response.content.decode()


def test_the_openapi_document_declares_the_error_statuses():
    document = Client().get("/api/v1/openapi.json").json()
    upload = document["paths"]["/api/v1/cases/{number}/materials/{code}/files"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(upload)
    plans = document["paths"]["/api/v1/plans"]["post"]["responses"]
    assert {"400", "415", "422"} <= set(plans) and "401" not in plans


# --- uploads checked by structure --------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "rule"), [
    (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "file.pdf.structure"),
    (pdf_with(javascript=True), "file.pdf.active_content"),
    (pdf_with(launch=True), "file.pdf.active_content"),
    (pdf_with(embedded=True), "file.pdf.active_content"),
    (b"PK\x03\x04" + b"\x00" * 40, "file.ofd.structure"),
    (ofd_package(root="Foo"), "file.ofd.structure"),
    (ofd_package(with_document=False), "file.ofd.structure"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "file.image.structure"),
    (b"\xff\xd8\xff" + b"\x00" * 20, "file.image.structure"),
])
def test_uploads_are_checked_by_their_structure(content, rule):
    case = draft()
    with pytest.raises(InvalidInput) as caught:
        services.attach_file(case=case, material_code="food-layout", name="x", content=content, actor=case.filed_by)
    assert ("file", rule) in {(p.field, p.rule) for p in caught.value.problems}
    assert not MaterialFile.objects.filter(material__case=case).exists()


def test_well_formed_files_of_each_kind_are_accepted():
    case = draft()
    for content, content_type in ((minimal_pdf("ok"), "application/pdf"), (small_png(), "image/png"),
                                  (small_jpeg(), "image/jpeg"), (ofd_package(), "application/ofd")):
        record = services.attach_file(case=case, material_code="food-layout", name="x", content=content,
                                      actor=case.filed_by)
        assert record.content_type == content_type


def test_active_pdf_content_is_accepted_when_the_setting_allows(settings):
    settings.TONGBAN_PDF_ALLOW_ACTIVE_CONTENT = True
    case = draft()
    record = services.attach_file(case=case, material_code="food-layout", name="x",
                                  content=pdf_with(javascript=True), actor=case.filed_by)
    assert record.content_type == "application/pdf"


def test_api_upload_of_html_posing_as_pdf_is_422_naming_the_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = draft()
    response = signed_in("changsha-boss").post(
        f"/api/v1/cases/{case.number}/materials/food-layout/files",
        {"file": SimpleUploadedFile("a.pdf", b"%PDF-<html></html>", "application/pdf")})
    assert response.status_code == 422 and ("file", "file.pdf.structure") in problems(response)


# --- form fields by their standard meaning --------------------------------------------------------------


def _form_field(case, standard: str) -> str:
    for name, prop in case.plan["form"]["properties"].items():
        if prop.get("x-standard") == standard:
            return name
    raise AssertionError(f"no {standard} field")


def test_standard_fields_are_checked_in_the_api():
    case = draft()
    client = signed_in("changsha-boss")
    id_field = _form_field(case, "enterprise.legal_representative.id_number")
    uscc_field = _form_field(case, "enterprise.uscc") if any(
        p.get("x-standard") == "enterprise.uscc" for p in case.plan["form"]["properties"].values()) else None
    future = make_id_number(region="430102", birth=(date.today() + timedelta(days=400)).strftime("%Y%m%d"),
                            sequence=1)
    for value, rule in (("123456789012345678", "gb11643.check"), (future, "gb11643.birth_date"),
                        ("示例", "gb11643.format")):
        response = post_json(client, f"/api/v1/cases/{case.number}", json.dumps({"form": {id_field: value}}),
                             method="patch")
        assert response.status_code == 422 and (f"form.{id_field}", rule) in problems(response), value
    if uscc_field:
        bad_uscc = make_uscc(registration="91", region="430100", serial=1)[:-1] + "0"
        response = post_json(client, f"/api/v1/cases/{case.number}", json.dumps({"form": {uscc_field: bad_uscc}}),
                             method="patch")
        assert response.status_code == 422 and (f"form.{uscc_field}", "gb32100") in problems(response)
    area = _form_field(case, "premises.area_sqm")
    for value, rule in ((-1, "form.minimum"), (1e300, "form.maximum"), ("100", "form.type")):
        response = post_json(client, f"/api/v1/cases/{case.number}", json.dumps({"form": {area: value}}),
                             method="patch")
        assert response.status_code == 422 and (f"form.{area}", rule) in problems(response), value
    good = make_id_number(region="430102", birth="20000101", sequence=1)
    response = post_json(client, f"/api/v1/cases/{case.number}", json.dumps({"form": {id_field: good, area: 120}}),
                         method="patch")
    assert response.status_code == 200, response.content


def test_standard_fields_are_checked_on_the_page():
    case = draft()
    client = signed_in("changsha-boss")
    id_field = _form_field(case, "enterprise.legal_representative.id_number")
    area = _form_field(case, "premises.area_sqm")
    page = client.get(f"/my/cases/{case.number}/").content.decode()
    ids = {name: "f-" + name.replace(".", "-").replace("_", "-") for name in (id_field, area)}
    assert all(f'name="{i}"' in page for i in ids.values())
    response = client.post(f"/my/cases/{case.number}/save/", {ids[id_field]: "123456789012345678", ids[area]: "-5"})
    body = response.content.decode()
    assert response.status_code == 422
    for name in (id_field, area):  # each field shows its own error
        assert f'id="{ids[name]}-error"' in body
    assert "GB 11643" in body and "不得小于 0" in body


def test_phone_and_dates_follow_their_rules():
    from tongban.catalog import standard_fields

    phone = {"title": "联系电话", "type": "string", "x-standard": "person.phone"}
    assert standard_fields.check_value("p", phone, "13912345678") == "13912345678"
    assert standard_fields.check_value("p", phone, "0731-88889999") == "0731-88889999"
    for bad in ("12345", "23912345678", "abc"):
        with pytest.raises(InvalidInput) as caught:
            standard_fields.check_value("p", phone, bad)
        assert caught.value.problems[0].rule == "phone.format"
    birth = {"title": "出生日期", "type": "string", "format": "date", "x-standard": "newborn.birth_date"}
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput) as caught:
        standard_fields.check_value("b", birth, tomorrow)
    assert caught.value.problems[0].rule == "date.not_future"
    with pytest.raises(InvalidInput) as caught:
        standard_fields.check_value("b", birth, "2026-02-30")
    assert caught.value.problems[0].rule == "date.format"
