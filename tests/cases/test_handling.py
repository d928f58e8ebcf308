"""Handling a bundle case: stages starting by themselves with their results attached, due dates on the
working-day calendar (National Day 2026), correction rounds, special procedures, extensions, a denied
item cancelling its dependants, withdrawal."""

from datetime import date

import pytest

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.cases import selectors, services
from tongban.cases.models import Case, CaseMaterial, DeadlineEntry, ExtensionRequest, Notice, SubCase
from tongban.cases.simulation import SAMPLE_PDF
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tongban.workdays.calendar import add_workdays

from .conftest import (
    ACCEPT_ON,
    accepted_restaurant,
    approve_step,
    approve_until,
    officer,
    rule_of,
    sub,
    user,
    workdays_after,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

CS = "430100"
D = date




def assert_dues_follow_calendar(case):
    for s in case.subcases.select_related("department"):
        if s.started_on is None:
            assert s.statutory_due is None and s.promised_due is None, s.key
            continue
        extra = s.paused_days + s.extension_days
        region = s.department.region_id
        assert s.statutory_due == add_workdays(s.started_on, s.statutory_days + extra, region).due, s.key
        assert s.promised_due == add_workdays(s.started_on, s.promised_days + extra, region).due, s.key


# --- 1. the restaurant at 800 m² ---------------------------------------------------------------------------


def test_calendar_cli_gives_the_national_day_due_date(capsys):
    from django.core.management import call_command

    call_command("workdays", "add", "--from", "2026-09-28", "--days", "20")
    assert capsys.readouterr().out.strip().endswith("2026-10-30")
    assert workdays_after(ACCEPT_ON, 20, CS) == D(2026, 10, 30)


def test_restaurant_800_stages_and_due_dates():
    case = accepted_restaurant()
    assert case.status == Case.Status.ACCEPTED and case.accepted_on == ACCEPT_ON
    keys = list(case.subcases.order_by("position").values_list("key", flat=True))
    assert keys == ["company-registration", "env-impact-filing", "food-business-licence", "fire-design-review",
                    "fire-completion-acceptance", "fire-safety-inspection"]
    company = sub(case, "company-registration")
    assert company.status == SubCase.Status.ACTIVE and company.started_on == ACCEPT_ON
    # By hand: 9-29, 9-30, (10-01..10-07 off), 10-08, 10-09, 10-10 (Saturday worked), 10-12 ... 15th = 10-23.
    assert (company.statutory_due, company.promised_due) == (D(2026, 10, 23), D(2026, 9, 29))
    assert sub(case, "env-impact-filing").promised_due == D(2026, 9, 29)
    for key in ("food-business-licence", "fire-design-review", "fire-completion-acceptance", "fire-safety-inspection"):
        assert sub(case, key).status == SubCase.Status.WAITING
    assert_dues_follow_calendar(case)

    # Company registration decided on 9-30: food licence and fire design review start that day.
    approve_step(company, D(2026, 9, 29))
    approve_until(company, D(2026, 9, 30))
    assert sub(case, "company-registration").status == SubCase.Status.APPROVED
    food = sub(case, "food-business-licence")
    assert food.status == SubCase.Status.ACTIVE and food.started_on == D(2026, 9, 30)
    # By hand (长沙 promises 7 of the statutory 20): 7th working day after 9-30 = 10-15, 20th = 11-03.
    assert (food.statutory_due, food.promised_due) == (D(2026, 11, 3), D(2026, 10, 15))
    business = case.materials.get(code="business-licence")
    assert business.status == CaseMaterial.Status.PROVIDED
    assert business.licence_id == sub(case, "company-registration").result_licence_id is not None
    assert business.licence_check["valid"] is True
    assert not business.files.exists()  # no upload
    assert sub(case, "fire-safety-inspection").status == SubCase.Status.WAITING

    design = approve_until(sub(case, "fire-design-review"), D(2026, 10, 8))
    assert design.status == SubCase.Status.APPROVED
    acceptance = sub(case, "fire-completion-acceptance")
    assert acceptance.status == SubCase.Status.ACTIVE and acceptance.started_on == D(2026, 10, 8)
    approve_until(acceptance, D(2026, 10, 9), step="decide")
    inspection = sub(case, "fire-safety-inspection")
    assert inspection.status == SubCase.Status.WAITING and inspection.started_on is None
    assert case.materials.get(code="fire-acceptance-document").status == CaseMaterial.Status.AWAITED

    approve_step(sub(case, "fire-completion-acceptance"), D(2026, 10, 12))
    acceptance = sub(case, "fire-completion-acceptance")
    assert acceptance.status == SubCase.Status.APPROVED and acceptance.decided_on == D(2026, 10, 12)
    inspection = sub(case, "fire-safety-inspection")
    assert inspection.status == SubCase.Status.ACTIVE and inspection.started_on == D(2026, 10, 12)
    document = case.materials.get(code="fire-acceptance-document")
    assert document.status == CaseMaterial.Status.PROVIDED
    assert document.licence_id == acceptance.result_licence_id is not None
    assert document.licence_check["valid"] is True
    assert_dues_follow_calendar(case)
    timeline = selectors.timeline(case)
    assert {i["key"]: i["started_on"] for i in timeline["items"]}["fire-safety-inspection"] == "2026-10-12"


# --- 2. correction round -----------------------------------------------------------------------------------


def _return_for_correction(case, on):
    company = approve_step(sub(case, "company-registration"), D(2026, 9, 29))
    assert company.step == "review"
    return services.act(subcase=company, actor=officer(company), action="return", step="review", on=on,
                        reason="申请书缺少签字", materials={"company-application": "申请书未经法定代表人签字"})


def test_applicant_can_replace_a_defective_material_after_acceptance():
    """补正 during handling: the applicant must be able to upload the corrected file (the case is accepted)."""
    case = accepted_restaurant()
    _return_for_correction(case, D(2026, 9, 30))


    services.attach_file(case=case, material_code="company-application", name="signed.pdf",
                         content=SAMPLE_PDF + b"signed", actor=case.filed_by)
    resumed = services.supply_correction(case=case, actor=case.filed_by, on=D(2026, 10, 10))
    assert [s.key for s in resumed] == ["company-registration"]


def test_correction_of_three_working_days_moves_both_due_dates_by_three():
    case = accepted_restaurant()
    company0 = sub(case, "company-registration")
    env0 = sub(case, "env-impact-filing")
    returned = _return_for_correction(case, D(2026, 9, 30))
    assert returned.hold == SubCase.Hold.CORRECTION
    handler = returned.assignee
    assert handler == officer(returned)
    row = case.materials.get(code="company-application")
    assert row.status == CaseMaterial.Status.DEFECTIVE and "签字" in row.defect
    with pytest.raises(InvalidInput) as caught:
        services.supply_correction(case=case, actor=case.filed_by, on=D(2026, 10, 10))
    assert rule_of(caught) == {"material.defective"}
    assert sub(case, "company-registration").hold == SubCase.Hold.CORRECTION
    services.attach_file(case=case, material_code="company-application", name="signed.pdf",
                         content=SAMPLE_PDF + b"signed application", actor=case.filed_by)
    assert case.materials.get(code="company-application").status == CaseMaterial.Status.PROVIDED

    services.supply_correction(case=case, actor=case.filed_by, on=D(2026, 10, 10))  # 10-08, 10-09, 10-10
    company = sub(case, "company-registration")
    assert company.hold == "" and company.paused_days == 3
    assert company.statutory_due == add_workdays(company0.statutory_due, 3, CS).due == D(2026, 10, 28)
    assert company.promised_due == add_workdays(company0.promised_due, 3, CS).due == D(2026, 10, 9)
    assert company.assignee == handler and company.step == "review"
    kinds = [(e.kind, e.hold, e.days) for e in company.ledger.all()]
    assert ("pause", "correction", 0) in kinds and ("resume", "correction", 3) in kinds
    env = sub(case, "env-impact-filing")
    assert (env.statutory_due, env.promised_due, env.paused_days) == (env0.statutory_due, env0.promised_due, 0)
    assert Notice.objects.filter(case=case, kind=Notice.Kind.CORRECTION, subcase=company).exists()
    # The same officer goes on.
    approve_step(company, D(2026, 10, 12), actor=handler)
    assert sub(case, "company-registration").step == "decide"


# --- 6. special procedure -------------------------------------------------------------------------------------


def test_special_procedure_pauses_and_its_days_move_the_due_dates():
    case = accepted_restaurant()
    company = approve_step(sub(case, "company-registration"), D(2026, 9, 29))
    before = sub(case, "company-registration")
    services.act(subcase=company, actor=officer(company), action="special", step="review", procedure="inspection",
                 reason="现场核查经营场所", on=D(2026, 9, 30))
    held = sub(case, "company-registration")
    assert held.hold == SubCase.Hold.SPECIAL
    with pytest.raises(Conflict) as caught:
        approve_step(held, D(2026, 10, 9))
    assert rule_of(caught) == {"subcase.held"}
    assert Notice.objects.filter(case=case, kind=Notice.Kind.SPECIAL, subcase=held).exists()
    assert case.messages.filter(kind="special").exists()
    with pytest.raises(InvalidInput):
        services.end_special_procedure(subcase=held, actor=officer(held), reason="", on=D(2026, 10, 13))
    services.end_special_procedure(subcase=held, actor=officer(held), reason="核查完毕", on=D(2026, 10, 13))
    ended = sub(case, "company-registration")
    taken = 5  # 10-08, 10-09, 10-10, 10-12, 10-13
    assert ended.hold == "" and ended.paused_days == taken
    assert ended.statutory_due == add_workdays(before.statutory_due, taken, CS).due
    assert ended.promised_due == add_workdays(before.promised_due, taken, CS).due
    assert ended.ledger.filter(kind=DeadlineEntry.Kind.RESUME, hold="special", days=taken).exists()
    with pytest.raises(Conflict) as caught:
        services.end_special_procedure(subcase=ended, actor=officer(ended), reason="再次结束", on=D(2026, 10, 14))
    assert rule_of(caught) == {"subcase.not_special"}


# --- 7. extension ---------------------------------------------------------------------------------------------


def test_extension_requested_approved_capped_and_rejected():
    case = accepted_restaurant()
    company = approve_step(sub(case, "company-registration"), D(2026, 9, 29))
    before = sub(case, "company-registration")
    services.act(subcase=company, actor=officer(company), action="extend", step="review", days=4,
                 reason="情况复杂需要延长", on=D(2026, 9, 30))
    request = ExtensionRequest.objects.get(subcase=company)
    assert request.status == ExtensionRequest.Status.PENDING
    # A clerk and a supervisor of another region do not see the request (404); the department's officer
    # sees it but may not decide it (403).
    for outsider in ("changsha-clerk", "zhuzhou-supervisor"):
        with pytest.raises(NotFound):
            services.decide_extension(request=request, actor=user(outsider), approve=True, on=D(2026, 9, 30))
    with pytest.raises(Forbidden) as refused:
        services.decide_extension(request=request, actor=user("changsha-market"), approve=True, on=D(2026, 9, 30))
    assert refused.value.problem.rule == "access.extension.decide"
    supervisor = user("changsha-supervisor")
    services.decide_extension(request=request, actor=supervisor, approve=True, on=D(2026, 9, 30))
    extended = sub(case, "company-registration")
    assert extended.extension_days == 4
    assert extended.statutory_due == add_workdays(before.statutory_due, 4, CS).due
    assert extended.promised_due == add_workdays(before.promised_due, 4, CS).due
    assert extended.ledger.filter(kind=DeadlineEntry.Kind.EXTENSION, days=4).exists()
    assert Notice.objects.filter(case=case, kind=Notice.Kind.EXTENSION).count() == 1
    with pytest.raises(Conflict) as caught:
        services.decide_extension(request=request, actor=supervisor, approve=True, on=D(2026, 9, 30))
    assert rule_of(caught) == {"extension.decided"}
    # Over the cap of 10: 4 granted, 7 more refused.
    with pytest.raises(InvalidInput) as caught:
        services.act(subcase=extended, actor=officer(extended), action="extend", step="review", days=7,
                     reason="再延长", on=D(2026, 10, 8))
    assert rule_of(caught) == {"extension.cap"}
    services.act(subcase=extended, actor=officer(extended), action="extend", step="review", days=6,
                 reason="再延长", on=D(2026, 10, 8))
    second = ExtensionRequest.objects.get(subcase=company, status=ExtensionRequest.Status.PENDING)
    with pytest.raises(InvalidInput) as caught:
        services.decide_extension(request=second, actor=supervisor, approve=False, reason="", on=D(2026, 10, 8))
    assert rule_of(caught) == {"required"}
    services.decide_extension(request=second, actor=supervisor, approve=False, reason="理由不充分", on=D(2026, 10, 8))
    assert sub(case, "company-registration").extension_days == 4
    assert sub(case, "company-registration").statutory_due == extended.statutory_due


# --- 8. deny cascades ------------------------------------------------------------------------------------------


def test_denying_company_registration_cancels_its_dependants_only():
    case = accepted_restaurant()
    company = approve_until(sub(case, "company-registration"), D(2026, 9, 29), step="decide")
    with pytest.raises(InvalidInput):
        services.act(subcase=company, actor=officer(company), action="deny", step="decide", reason=" ", on=D(2026, 9, 30))
    services.act(subcase=company, actor=officer(company), action="deny", step="decide", reason="名称与在先企业重复",
                 on=D(2026, 9, 30))
    states = dict(case.subcases.values_list("key", "status"))
    assert states == {"company-registration": "denied", "env-impact-filing": "active",
                      "food-business-licence": "cancelled", "fire-design-review": "cancelled",
                      "fire-completion-acceptance": "cancelled", "fire-safety-inspection": "cancelled"}
    cancelled = Notice.objects.filter(case=case, kind=Notice.Kind.CANCELLATION)
    assert sorted(cancelled.values_list("subcase__key", flat=True)) == [
        "fire-completion-acceptance", "fire-design-review", "fire-safety-inspection", "food-business-licence"]
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    approve_until(sub(case, "env-impact-filing"), D(2026, 10, 8))
    case.refresh_from_db()
    assert case.status in (Case.Status.READY, Case.Status.DELIVERED)
    assert sub(case, "env-impact-filing").status == SubCase.Status.APPROVED


# --- 9. withdrawal ---------------------------------------------------------------------------------------------


def test_withdraw_item_cancels_dependants_only_and_staff_cannot_withdraw():
    case = accepted_restaurant()
    company = approve_until(sub(case, "company-registration"), D(2026, 9, 29))
    assert company.status == SubCase.Status.APPROVED
    design = sub(case, "fire-design-review")
    for staff in ("changsha-clerk", "changsha-housing", "changsha-supervisor"):  # they see it: 403, not 404
        with pytest.raises(Forbidden):
            services.withdraw_item(subcase=design, actor=user(staff), reason="撤回", on=D(2026, 9, 30))
    services.withdraw_item(subcase=design, actor=case.filed_by, reason="暂不装修", on=D(2026, 9, 30))
    states = dict(case.subcases.values_list("key", "status"))
    assert states["fire-design-review"] == "withdrawn"
    assert states["fire-completion-acceptance"] == states["fire-safety-inspection"] == "cancelled"
    assert states["food-business-licence"] == states["env-impact-filing"] == "active"
    with pytest.raises(Conflict) as caught:
        services.withdraw_item(subcase=sub(case, "company-registration"), actor=case.filed_by, reason="撤",
                               on=D(2026, 9, 30))
    assert rule_of(caught) == {"subcase.finished"}


def test_withdraw_case_stops_every_open_item():
    case = accepted_restaurant()
    approve_until(sub(case, "env-impact-filing"), D(2026, 9, 29))
    with pytest.raises(Forbidden):
        services.withdraw_case(case=case, actor=user("changsha-clerk"), reason="撤回", on=D(2026, 9, 30))
    with pytest.raises(NotFound):
        services.withdraw_case(case=case, actor=user("zhuzhou-boss"), reason="撤回", on=D(2026, 9, 30))
    services.withdraw_case(case=case, actor=case.filed_by, reason="不再开店", on=D(2026, 9, 30))
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN
    states = dict(case.subcases.values_list("key", "status"))
    assert states.pop("env-impact-filing") == "approved"  # a decision made is not undone
    assert set(states.values()) == {"withdrawn"}
    assert not case.subcases.filter(status__in=SubCase.OPEN).exists()
    assert Notice.objects.filter(case=case, kind=Notice.Kind.WITHDRAWAL).count() == 1
    with pytest.raises(Conflict) as caught:
        services.withdraw_case(case=case, actor=case.filed_by, reason="再撤", on=D(2026, 9, 30))
    assert rule_of(caught) == {"case.closed"}
