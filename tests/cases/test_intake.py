"""Intake and the completeness check: one-time notice, late notice, deemed acceptance, refusal; 容缺受理;
告知承诺; cross-region acceptance (跨域通办); uploaded files (type, size, SHA-256 storage)."""

from datetime import date

import pytest
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tests.sample_files import small_png
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.models import Case, CaseMaterial, DeadlineAlert, MaterialFile, Notice, SubCase
from tongban.cases.simulation import SAMPLE_PDF, fill_form
from tongban.core.access import fetch
from tongban.core.errors import Conflict, InvalidInput, NotFound
from tongban.regions.models import Window
from tongban.workdays.calendar import add_workdays

from .conftest import (
    ACCEPT_ON,
    accept,
    approve_step,
    approve_until,
    boss_and_enterprise,
    officer,
    rule_of,
    start_restaurant,
    sub,
    submit_complete,
    user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

D = date


# --- 3. one-time notice, late notice, deemed acceptance, refusal ---------------------------------------------


def test_one_time_notice_lists_every_missing_and_defective_material():
    case = submit_complete(start_restaurant(), skip=("food-layout", "floor-plan"))
    assert case.status == Case.Status.SUBMITTED
    assert case.notice_due == D(2026, 10, 10)  # 5 working days: 9-29, 9-30, 10-08, 10-09, 10-10
    clerk = user("changsha-clerk")
    with pytest.raises(InvalidInput) as caught:
        accept(case)
    assert {"material.missing"} == rule_of(caught)
    with pytest.raises(InvalidInput) as caught:
        services.issue_one_time_notice(case=case, actor=clerk, defects={"company-application": ""}, on=D(2026, 9, 29))
    assert rule_of(caught) == {"required"}
    notice = services.issue_one_time_notice(case=case, actor=clerk, on=D(2026, 9, 29),
                                            defects={"company-application": "申请书未签字"})
    case.refresh_from_db()
    assert case.status == Case.Status.CORRECTION
    assert notice.kind == Notice.Kind.ONE_TIME
    text = "\n".join(notice.content["paragraphs"])
    assert "申请书未签字" in text
    names = dict(case.materials.values_list("code", "name"))
    for code in ("food-layout", "floor-plan", "company-application"):
        assert names[code] in text, code
    assert sum(1 for p in notice.content["paragraphs"] if p[:2].rstrip(".").isdigit()) == 3
    assert case.messages.filter(kind="one_time_notice").count() == 1
    # The applicant corrects and submits again; then the window accepts.
    submit_complete(case, on=D(2026, 10, 9))
    accept(case, on=D(2026, 10, 9))
    assert case.status == Case.Status.ACCEPTED and case.accepted_on == D(2026, 10, 9)


def test_late_one_time_notice_is_refused_and_the_sweep_deems_acceptance():
    case = submit_complete(start_restaurant(), skip=("food-layout",))
    clerk = user("changsha-clerk")
    with pytest.raises(Conflict) as caught:
        services.issue_one_time_notice(case=case, actor=clerk, on=D(2026, 10, 12))
    assert rule_of(caught) == {"notice.late"}
    assert services.sweep(on=D(2026, 10, 10))["deemed_accepted"] == 0  # still within the period
    assert services.sweep(on=D(2026, 10, 12))["deemed_accepted"] == 1
    assert services.sweep(on=D(2026, 10, 12))["deemed_accepted"] == 0
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED and case.deemed_accepted
    assert Notice.objects.filter(case=case, kind=Notice.Kind.ACCEPTANCE).count() == 1
    assert sub(case, "company-registration").status == SubCase.Status.ACTIVE
    # Art. 32: accepted on the day the materials were received.
    assert case.accepted_on == ACCEPT_ON
    assert sub(case, "company-registration").started_on == ACCEPT_ON


def test_refusal_needs_a_reason_and_closes_the_case():
    case = submit_complete(start_restaurant())
    clerk = user("changsha-clerk")
    with pytest.raises(InvalidInput) as caught:
        services.refuse_case(case=case, actor=clerk, reason="  ", on=D(2026, 9, 29))
    assert rule_of(caught) == {"required"}
    with pytest.raises(NotFound):
        services.refuse_case(case=case, actor=user("zhuzhou-clerk"), reason="不属于本机关职权范围", on=D(2026, 9, 29))
    notice = services.refuse_case(case=case, actor=clerk, reason="不属于本机关职权范围", on=D(2026, 9, 29))
    case.refresh_from_db()
    assert case.status == Case.Status.REFUSED and case.closed_at is not None
    assert notice.kind == Notice.Kind.REFUSAL and "不属于本机关职权范围" in "".join(notice.content["paragraphs"])
    assert set(case.subcases.values_list("status", flat=True)) == {SubCase.Status.CANCELLED}
    with pytest.raises(Conflict) as caught:
        accept(case)
    assert rule_of(caught) == {"case.status"}


# --- 4. 容缺受理 ---------------------------------------------------------------------------------------------------


def _minor_case(promised_by):
    case = start_restaurant()
    row = case.materials.get(code="food-safety-rules")
    assert row.minor
    with pytest.raises(InvalidInput) as caught:
        services.promise_material(case=case, material_code="food-layout", promised_by=D(2026, 10, 20),
                                  actor=case.filed_by, on=ACCEPT_ON)
    assert rule_of(caught) == {"minor.not_allowed"}
    with pytest.raises(InvalidInput) as caught:
        services.promise_material(case=case, material_code="food-safety-rules", promised_by=ACCEPT_ON,
                                  actor=case.filed_by, on=ACCEPT_ON)
    assert rule_of(caught) == {"date.future"}
    services.promise_material(case=case, material_code="food-safety-rules", promised_by=promised_by,
                              actor=case.filed_by, on=ACCEPT_ON)
    case = submit_complete(case)
    accept(case)
    assert case.status == Case.Status.ACCEPTED
    assert case.materials.get(code="food-safety-rules").status == CaseMaterial.Status.PENDING
    return case


def _to_food_decision(case):
    approve_until(sub(case, "company-registration"), D(2026, 9, 29))
    food = approve_until(sub(case, "food-business-licence"), D(2026, 9, 30), step="decide")
    assert food.step == "decide" and food.hold == SubCase.Hold.MINOR
    with pytest.raises(Conflict) as caught:
        approve_step(food, D(2026, 10, 8))
    assert rule_of(caught) == {"subcase.held"}
    return food


def test_minor_material_holds_the_decision_until_supplied():
    case = _minor_case(D(2026, 10, 20))
    food = _to_food_decision(case)
    officer = Client()
    officer.force_login(User.objects.get(username="changsha-market"))
    page = officer.get(f"/console/tasks/{food.pk}/").content.decode()
    assert 'data-testid="awaiting-minor"' in page and "保证食品安全的规章制度" in page and "2026-10-20" in page
    # Uploading the promised material supplies it: the held item resumes (issue 14, finding 4).
    services.attach_file(case=case, material_code="food-safety-rules", name="rules.pdf", content=SAMPLE_PDF + b"rules",
                         actor=case.filed_by, on=D(2026, 10, 9))
    assert case.materials.get(code="food-safety-rules").status == CaseMaterial.Status.PROVIDED
    food = sub(case, "food-business-licence")
    assert food.hold == "" and food.paused_days == 2  # 10-08, 10-09
    assert 'data-testid="awaiting-minor"' not in officer.get(f"/console/tasks/{food.pk}/").content.decode()
    approve_step(food, D(2026, 10, 12))
    assert sub(case, "food-business-licence").status == SubCase.Status.APPROVED


def test_broken_minor_promise_stops_the_item_and_the_rest_goes_on():
    case = _minor_case(D(2026, 10, 9))
    _to_food_decision(case)
    counts = services.sweep(on=D(2026, 10, 12))
    assert counts["stopped"] == 1
    assert services.sweep(on=D(2026, 10, 12))["stopped"] == 0
    food = sub(case, "food-business-licence")
    assert food.status == SubCase.Status.STOPPED and "容缺" in food.outcome_reason
    assert Notice.objects.filter(case=case, subcase=food, kind=Notice.Kind.CANCELLATION).count() == 1
    assert case.messages.filter(kind="stopped").count() == 1
    assert sub(case, "fire-design-review").status == SubCase.Status.ACTIVE
    assert sub(case, "env-impact-filing").status == SubCase.Status.ACTIVE


def test_broken_minor_promise_cancels_dependants():
    """The sweep stops an item whose 容缺 promise passed, even before it started, and cancels what needs it.
    (No demo item depends on an item with a minor material, so the fire inspection is stopped while waiting.)"""
    case = start_restaurant()
    services.promise_material(case=case, material_code="fire-training-records", promised_by=D(2026, 9, 30),
                              actor=case.filed_by, on=ACCEPT_ON)
    case = submit_complete(case)
    accept(case)
    services.sweep(on=D(2026, 10, 8))
    inspection = sub(case, "fire-safety-inspection")
    assert inspection.status == SubCase.Status.STOPPED
    assert sub(case, "company-registration").status == SubCase.Status.ACTIVE


# --- 5. 告知承诺 -----------------------------------------------------------------------------------------------------


def test_commitment_stands_in_only_where_allowed():
    case = start_restaurant()
    with pytest.raises(InvalidInput) as caught:
        services.commit_material(case=case, material_code="food-layout", text="本人承诺布局符合要求",
                                 actor=case.filed_by)
    assert rule_of(caught) == {"commitment.not_allowed"}
    with pytest.raises(InvalidInput) as caught:
        services.commit_material(case=case, material_code="fire-safety-rules", text="", actor=case.filed_by)
    assert rule_of(caught) == {"required"}
    row = services.commit_material(case=case, material_code="fire-safety-rules",
                                   text="本单位承诺已建立消防安全制度，如有不实愿承担法律责任", actor=case.filed_by)
    assert row.status == CaseMaterial.Status.COMMITTED
    fields = {p.field for p in services.completeness_problems(case)}
    assert "materials.fire-safety-rules" not in fields and "materials.food-layout" in fields
    case = submit_complete(case)
    accept(case)
    assert case.materials.get(code="fire-safety-rules").files.count() == 0


# --- 11. cross-region acceptance ---------------------------------------------------------------------------------


def _cross_region_case(clerk="changsha-clerk", item="000117001000"):
    _, enterprise = boss_and_enterprise("zhuzhou")
    return services.start_case(actor=user(clerk), region_code="430200", item_code=item,
                               enterprise_uscc=enterprise.uscc, on=ACCEPT_ON)


def test_cross_region_acceptance_handled_by_the_other_region():
    clerk = user("changsha-clerk")
    case = _cross_region_case()
    assert (case.region_id, case.intake_region_id, case.channel) == ("430200", "430100", Case.Channel.WINDOW)
    assert case.cross_region and case.number.startswith("430100-")
    case = fill_form(case, clerk)
    for row in case.materials.filter(status=CaseMaterial.Status.MISSING, required=True):
        services.attach_file(case=case, material_code=row.code, name="scan.pdf", content=SAMPLE_PDF + row.code.encode(),
                             actor=clerk, scanned=True)
    assert MaterialFile.objects.filter(material__case=case, scanned=True).exists()
    services.submit_case(case=case, actor=clerk, on=ACCEPT_ON)
    services.accept_case(case=case, actor=clerk, on=ACCEPT_ON)
    company = sub(case, "000117001000") if case.subcases.filter(key="000117001000").exists() else case.subcases.get()
    assert company.department.region_id == "430200"
    assert company.ack_due == add_workdays(ACCEPT_ON, 1, "430200").due == D(2026, 9, 29)
    api = Client()
    api.force_login(user("zhuzhou-market"))
    [task] = [t for t in api.get("/api/v1/tasks").json()["items"] if t["id"] == company.pk]
    assert task["ack_due"] == "2026-09-29" and task["acknowledged_at"] is None  # the API says it too
    assert company.statutory_due == add_workdays(ACCEPT_ON, company.statutory_days, "430200").due
    zhuzhou_officer = officer(company)
    assert zhuzhou_officer.username == "zhuzhou-market"
    # Both regions' roles see it; the delivery window must be in 长沙.
    for name in ("changsha-clerk", "changsha-supervisor", "zhuzhou-market", "zhuzhou-supervisor"):
        assert fetch(user(name), "case", pk=case.pk) == case, name
    for name in ("changsha-clerk", "zhuzhou-market", "zhuzhou-supervisor"):
        assert fetch(user(name), "subcase", pk=company.pk) == company, name
    for name in ("xiangtan-clerk", "xiangtan-supervisor", "changsha-market"):
        with pytest.raises(NotFound):
            fetch(user(name), "case", pk=case.pk)
    zhuzhou_window = Window.objects.filter(hall__region_id="430200").first()
    with pytest.raises(InvalidInput) as caught:
        services.choose_delivery(case=case, actor=clerk, method="window", window_id=zhuzhou_window.pk)
    assert rule_of(caught) == {"delivery.window"}
    changsha_window = Window.objects.filter(hall__region_id="430100").first()
    services.choose_delivery(case=case, actor=clerk, method="window", window_id=changsha_window.pk)
    # Not acknowledged by 9-29: the sweep raises ack_overdue once.
    assert services.sweep(on=D(2026, 9, 30))["ack_overdue"] == 1
    assert services.sweep(on=D(2026, 9, 30))["ack_overdue"] == 0
    assert DeadlineAlert.objects.filter(subcase=company, kind=DeadlineAlert.Kind.ACK_OVERDUE).count() == 1
    # 株洲's officer acknowledges by acting; a 长沙 officer cannot act on it.
    with pytest.raises(NotFound):
        approve_step(company, D(2026, 9, 30), actor=user("changsha-market"))
    approve_step(company, D(2026, 9, 30), actor=zhuzhou_officer)
    assert sub(case, company.key).acknowledged_at is not None
    approve_until(sub(case, company.key), D(2026, 9, 30))
    case.refresh_from_db()
    assert case.status == Case.Status.READY and case.delivery_window == changsha_window


def test_cross_region_refused_for_items_outside_the_scope():
    with pytest.raises(InvalidInput) as caught:
        _cross_region_case(item="000117002000")  # 食品经营许可: not 跨域通办
    assert rule_of(caught) == {"cross_region.scope"}
    with pytest.raises(InvalidInput) as caught:
        _cross_region_case(clerk="xianning-clerk")  # 咸宁 is not in the 长株潭 group
    assert rule_of(caught) == {"cross_region.scope"}
    assert not Case.objects.filter(region_id="430200").exists()


# --- 15. files ---------------------------------------------------------------------------------------------------


def _media_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_files_type_size_and_content_addressed_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.TONGBAN_MAX_UPLOAD_MB = 1
    case = start_restaurant()
    boss = case.filed_by
    for content, rule in ((b"MZ\x90\x00" + b"\x00" * 100, "file.type"), ("纯文本材料".encode(), "file.type"),
                          (SAMPLE_PDF + b"\x00" * (1024 * 1024), "file.size"), (b"", "file.empty")):
        with pytest.raises(InvalidInput) as caught:
            services.attach_file(case=case, material_code="food-layout", name="x.exe", content=content, actor=boss)
        assert rule in rule_of(caught)
    assert not MaterialFile.objects.filter(material__case=case).exists()
    assert _media_files(tmp_path) == []
    assert case.materials.get(code="food-layout").status == CaseMaterial.Status.MISSING

    content = SAMPLE_PDF + b"same content"
    first = services.attach_file(case=case, material_code="food-layout", name="a.pdf", content=content, actor=boss)
    second = services.attach_file(case=case, material_code="floor-plan", name="b.pdf", content=content, actor=boss)
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    assert first.sha256 == second.sha256 == digest and first.content_type == "application/pdf"
    assert first.file.name == second.file.name == f"cases/{digest[:2]}/{digest}"
    assert _media_files(tmp_path) == [tmp_path / "cases" / digest[:2] / digest]
    assert (tmp_path / first.file.name).read_bytes() == content
    png = services.attach_file(case=case, material_code="company-application", name="p.png",
                               content=small_png(), actor=boss)
    assert png.content_type == "image/png" and len(_media_files(tmp_path)) == 2
    with pytest.raises(InvalidInput) as caught:
        services.attach_file(case=case, material_code="business-licence", name="b.pdf", content=content, actor=boss)
    assert rule_of(caught) == {"material.produced"}
