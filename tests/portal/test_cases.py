"""The applicant's case pages: start, the merged form, materials, submit, corrections, progress,
delivery and withdrawal, with query counts; everything through the case services."""

import re

import pytest
from django.test import Client

from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.models import Case, MaterialFile, SubCase

from .helpers import BOSS_USCC, PDF, approve_open_items, complete, restaurant_draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]
SIGNED_IN = 5  # see test_my_pages.py


@pytest.fixture
def boss(user_client):
    return user_client("changsha-boss")


@pytest.fixture
def draft(demo_world, db):
    return restaurant_draft()


def _url(case, action=""):
    return f"/my/cases/{case.number}/" + (f"{action}/" if action else "")


def test_bundle_page_offers_apply_with_the_choice_of_party(boss):
    text = boss.get("/bundles/open-restaurant/?region=430100&area_sqm=800").content.decode()
    assert 'action="/bundles/open-restaurant/apply/"' in text
    assert 'name="area_sqm" value="800"' in text
    assert 'value="person" checked' in text and f'value="enterprise:{BOSS_USCC}"' in text


def test_anonymous_visitor_is_asked_to_sign_in_before_applying(client, demo_world):
    text = client.get("/bundles/open-restaurant/?region=430100&area_sqm=800").content.decode()
    assert 'data-testid="apply"' not in text and "登录后即可" in text
    assert client.post("/bundles/open-restaurant/apply/", {"region": "430100"}).status_code in (302, 403)


def test_apply_for_the_enterprise_creates_a_prefilled_draft(boss, django_assert_max_num_queries):
    response = boss.post("/bundles/open-restaurant/apply/",
                         {"region": "430100", "area_sqm": "800", "party": f"enterprise:{BOSS_USCC}"})
    assert response.status_code == 302
    number = re.search(r"/my/cases/([^/]+)/", response["Location"]).group(1)
    case = Case.objects.get(number=number)
    assert case.status == "draft" and case.enterprise.uscc == BOSS_USCC and case.answers == {"area_sqm": 800.0}
    assert len(case.plan["items"]) == 6
    with django_assert_max_num_queries(SIGNED_IN + 9):
        page = boss.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "长沙市刘记餐饮管理有限公司" in text
    from_registers = [n for n, src in case.form_sources.items() if src.get("prefill") != "answers"]
    assert text.count('data-testid="prefilled"') == len(from_registers) >= 5
    assert text.count('data-testid="from-answers"') == len(case.form_sources) - len(from_registers) == 1
    assert "来源：长沙市市场监督管理局" in text
    # grouped checklist: uploads, licence, commitment, nothing to do
    for title in ("需要上传的材料", "电子证照（免提交复印件）", "告知承诺", "无需您提交"):
        assert title in text
    assert f'data-upload-url="/api/v1/cases/{number}/materials/company-application/files"' in text
    assert "申请表未填写：项目名称" in text


def test_a_party_the_user_may_not_act_as_is_refused(boss):
    response = boss.post("/bundles/open-restaurant/apply/", {"region": "430100", "area_sqm": "800",
                                                             "party": "enterprise:91430100MA4L000000"})
    assert response.status_code == 422
    assert 'data-field="party"' in response.content.decode() and "party.not_allowed" in response.content.decode()


def test_bad_answers_name_the_field(boss):
    response = boss.post("/bundles/open-restaurant/apply/", {"region": "430100", "area_sqm": "-5",
                                                             "party": f"enterprise:{BOSS_USCC}"})
    assert response.status_code == 422 and 'data-field="answers.area_sqm"' in response.content.decode()
    assert not Case.objects.filter(title="我要开饭馆").exists()


def test_single_item_from_search(boss):
    text = boss.get("/search?q=食品经营许可").content.decode()
    codes = re.findall(r'action="/items/([^/]+)/apply/"', text)
    assert codes
    response = boss.post(f"/items/{codes[0]}/apply/", {"region": "430100"})
    assert response.status_code == 302
    case = Case.objects.get(number=response["Location"].split("/")[3])
    assert case.kind == "item" and case.applicant_kind == "person"


def test_staff_cannot_apply_in_the_portal(user_client):
    response = user_client("changsha-clerk").post("/items/x/apply/", {"region": "430100"})
    assert response.status_code == 422 and "actor.applicant" in response.content.decode()


def test_save_keeps_confirmed_sources_and_drops_corrected_ones(boss, draft, django_assert_max_num_queries):
    data = {"f-project-name": "刘记火锅店", "f-premises-area-sqm": "800",
            "f-enterprise-name": draft.form["enterprise.name"],  # confirmed as it was
            "f-enterprise-address": "长沙市人民路 103 号",  # corrected
            "f-enterprise-registered-capital": "360"}  # "360.00" prefilled: the same number
    with django_assert_max_num_queries(SIGNED_IN + 24):
        response = boss.post(_url(draft, "save"), data, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and text.startswith('<form id="application-form"')
    assert "已保存" in text and 'hx-swap-oob="true"' in text
    draft.refresh_from_db()
    assert draft.form["project.name"] == "刘记火锅店" and draft.form["premises.area_sqm"] == 800
    assert draft.form["enterprise.address"] == "长沙市人民路 103 号"
    assert "enterprise.address" not in draft.form_sources
    assert "enterprise.name" in draft.form_sources and "enterprise.registered_capital" in draft.form_sources


def test_save_with_a_bad_number_marks_the_field(boss, draft):
    response = boss.post(_url(draft, "save"), {"f-premises-area-sqm": "eight hundred"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 422
    assert 'aria-invalid="true"' in text and "经营场所面积（平方米） 应为数字" in text and "eight hundred" in text
    draft.refresh_from_db()
    assert draft.form["premises.area_sqm"] == 800  # the answer it started with (nothing half-written)


def test_upload_through_the_api_with_session_and_csrf(draft, demo_world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="changsha-boss"))
    page = client.get(_url(draft))
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.content.decode()).group(1)
    url = f"/api/v1/cases/{draft.number}/materials/company-application/files"
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF)}).status_code in (401, 403)
    response = client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF)}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    bad = client.post(url, {"file": SimpleUploadedFile("a.pdf", b"not a pdf")}, HTTP_X_CSRFTOKEN=token)
    assert bad.status_code == 422 and bad.json()["detail"][0]["rule"] == "file.type"
    part = client.get(_url(draft, "checklist"))
    assert "a.pdf" in part.content.decode() and 'id="completeness" class="card completeness" aria-labelledby="completeness-title" hx-swap-oob="true"' in part.content.decode()


def test_upload_without_javascript_and_remove(boss, draft):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = boss.post(_url(draft, "upload"), {"material": "food-layout", "file": SimpleUploadedFile("l.pdf", PDF)})
    assert response.status_code == 302
    row = draft.materials.get(code="food-layout")
    assert row.status == "provided"
    record = MaterialFile.objects.get(material=row)
    assert boss.post(_url(draft, "remove-file"), {"file": record.pk}).status_code == 302
    row.refresh_from_db()
    assert row.status == "missing"
    response = boss.post(_url(draft, "upload"), {"material": "food-layout"})
    assert response.status_code == 422 and "请选择要上传的文件" in response.content.decode()


def test_commitment_and_minor_promise(boss, draft):
    assert boss.post(_url(draft, "commit"), {"material": "fire-safety-rules", "text": "本单位承诺。"}).status_code == 302
    response = boss.post(_url(draft, "commit"), {"material": "company-application", "text": "承诺"})
    assert response.status_code == 422 and "commitment.not_allowed" in response.content.decode()
    response = boss.post(_url(draft, "promise"), {"material": "fire-training-records", "promised_by": "2000-01-01"})
    assert response.status_code == 422 and 'data-field="promised_by"' in response.content.decode()
    response = boss.post(_url(draft, "promise"), {"material": "fire-training-records", "promised_by": "soon"})
    assert response.status_code == 422 and "date.format" in response.content.decode()
    assert boss.post(_url(draft, "promise"), {"material": "fire-training-records",
                                              "promised_by": "2099-01-01"}).status_code == 302
    statuses = dict(draft.materials.values_list("code", "status"))
    assert statuses["fire-safety-rules"] == "committed" and statuses["fire-training-records"] == "pending"


def test_use_my_licence_for_a_licence_material(boss, draft):
    from tongban.catalog.models import LicenceType
    from tongban.licences import services as licence_services
    from tongban.regions.models import Department

    user = User.objects.get(username="changsha-boss")
    licence_type = LicenceType.objects.get(code=draft.materials.get(code="id-card").licence_type_code)
    issuer = Department.objects.filter(region_id="430100").order_by("pk").first()
    licence_services.authorise_issuer(licence_type=licence_type, department=issuer)
    from tongban.licences.documents import field_specs

    data = {spec["name"]: "1986-09-21" if spec["type"] == "date" else "示例" for spec in field_specs(licence_type.fields)}
    from datetime import date

    licence = licence_services.issue_licence(
        licence_type=licence_type, issuer=issuer, holder_code_type="111", holder_code=user.id_number,
        holder_name=user.real_name, data=data, valid_from=date(2020, 1, 1), source_ref="PORTAL-ID")
    text = boss.get(_url(draft)).content.decode()
    assert 'data-testid="use-licence"' in text and licence.identifier in text
    assert boss.post(_url(draft, "licence"), {"material": "id-card", "licence": licence.pk}).status_code == 302
    row = draft.materials.get(code="id-card")
    assert row.status == "provided" and row.licence_id == licence.pk
    assert "核验通过" in boss.get(_url(draft)).content.decode()


def test_submit_needs_completeness_then_one_time_notice_and_resubmit(boss, draft):
    response = boss.post(_url(draft, "submit"))
    assert response.status_code == 422 and "缺少或需补正材料" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"
    complete(draft)
    assert boss.post(_url(draft, "submit")).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "submitted"
    assert "等待综合窗口预审" in boss.get(_url(draft)).content.decode()
    clerk = User.objects.get(username="changsha-clerk")
    services.issue_one_time_notice(case=draft, actor=clerk, defects={"floor-plan": "平面图未标注疏散通道"})
    text = boss.get(_url(draft)).content.decode()
    assert "一次性告知：请补正后重新提交" in text and 'data-testid="otn-pdf"' in text
    assert re.search(r'id="m-floor-plan" class="material card highlight"', text)
    assert "平面图未标注疏散通道" in text and "补正完成，重新提交" in text
    from django.core.files.uploadedfile import SimpleUploadedFile

    boss.post(_url(draft, "upload"), {"material": "floor-plan", "file": SimpleUploadedFile("new.pdf", PDF + b" ")})
    assert boss.post(_url(draft, "submit")).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "submitted"


def _accepted(case):
    complete(case)
    user = User.objects.get(username="changsha-boss")
    services.submit_case(case=case, actor=user)
    services.accept_case(case=case, actor=User.objects.get(username="changsha-clerk"))
    return case


def test_progress_and_a_correction_during_handling(boss, draft, django_assert_max_num_queries):
    case = _accepted(draft)
    with django_assert_max_num_queries(SIGNED_IN + 9):
        response = boss.get(_url(case))
    text = response.content.decode()
    assert "办理进度" in text and "受理通知书" in text and "/api/v1/notices/" in text
    assert text.count("<tr data-item=") == 6 and "等待前序事项" in text and "市场监督管理局" in text
    sub = SubCase.objects.get(case=case, key="env-impact-filing")
    services.act(subcase=sub, actor=User.objects.get(username="changsha-ecology"), action="return", step=sub.step,
                 reason="登记表信息不全", materials={"env-registration-form": "缺少项目地址"})
    text = boss.get(_url(case)).content.decode()
    assert "需要您补交的材料" in text and "缺少项目地址" in text and 'data-testid="correction-done"' in text
    response = boss.post(_url(case, "correction-done"))
    assert response.status_code == 422 and "请先补正" in response.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert boss.post(_url(case, "upload"), {"material": "env-registration-form",
                                            "file": SimpleUploadedFile("env2.pdf", PDF + b"2")}).status_code == 302
    assert boss.post(_url(case, "correction-done")).status_code == 302
    sub.refresh_from_db()
    assert sub.hold == "" and sub.status == "active"


def test_delivered_case_shows_results_and_licences(boss, draft):
    case = _accepted(draft)
    assert approve_open_items(case) > 0
    case.refresh_from_db()
    assert case.status == "delivered"
    text = boss.get(_url(case)).content.decode()
    assert "办理结果" in text and text.count('data-testid="result"') >= 4 and "出件通知书" in text
    assert "出件方式（统一出件）" not in text and "撤回申请" not in text  # nothing left to choose
    licences = boss.get("/my/licences/").content.decode()
    assert "营业执照" in licences and "食品经营许可证" in licences


def test_delivery_choice_and_withdrawal(boss, draft):
    response = boss.post(_url(draft, "delivery"), {"method": "post"})
    assert response.status_code == 422 and 'data-field="address"' in response.content.decode()
    assert boss.post(_url(draft, "delivery"), {"method": "post", "address": "长沙市岳麓区 1 号"}).status_code == 302
    draft.refresh_from_db()
    assert draft.delivery_method == "post"
    response = boss.post(_url(draft, "withdraw"), {"reason": ""})
    assert response.status_code == 422 and 'data-field="reason"' in response.content.decode()
    assert boss.post(_url(draft, "withdraw"), {"reason": "不开了"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "withdrawn"
    assert boss.post(_url(draft, "submit")).status_code == 422


def test_another_person_gets_404(user_client, draft):
    client = user_client("changsha-citizen")
    assert client.get(_url(draft)).status_code == 404
    assert client.post(_url(draft, "withdraw"), {"reason": "x"}).status_code == 404
    assert client.get(_url(draft, "checklist")).status_code == 404
    assert draft.number not in client.get("/my/cases/").content.decode()
    assert client.post(_url(draft, "unknown")).status_code == 404


def test_my_cases_keyset_pages(boss, draft, django_assert_max_num_queries):
    restaurant_draft()
    with django_assert_max_num_queries(SIGNED_IN + 3):
        text = boss.get("/my/cases/").content.decode()
    assert draft.number in text and "继续填写" in text and 'rel="next"' not in text
    from tongban.portal import cases as views

    old = views.LIST_PAGE_SIZE
    views.LIST_PAGE_SIZE = 1
    try:
        first = boss.get("/my/cases/").content.decode()
        cursor = re.search(r'href="\?cursor=(\d+)" rel="next"', first).group(1)
        second = boss.get(f"/my/cases/?cursor={cursor}").content.decode()
        assert draft.number in second and draft.number not in first
    finally:
        views.LIST_PAGE_SIZE = old
    assert boss.get("/my/cases/?cursor=abc").status_code == 422


def test_statuses_in_english(boss, draft):
    boss.cookies["django_language"] = "en"
    text = boss.get(_url(draft)).content.decode()
    assert 'lang="en"' in text and ">Draft</span>" in text and "Application form" in text
    assert "Not handed in" in text and "Filled in for you" in text
