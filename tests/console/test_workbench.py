"""Officer workbench and supervisor board: access per department and region, every action form
calling its service with errors by field and rule, idempotent double submits, query counts."""

from __future__ import annotations

import re

import pytest

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.cases import services
from tongban.cases.models import Action, Case, ExtensionRequest, SubCase, SupervisionNotice
from tongban.cases.simulation import sample_decision

from .conftest import accepted_restaurant, active_subcase, problems_in, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


def _key(html: str) -> str:
    return re.search(r'name="key" value="([0-9a-f]{32})"', html).group(1)


def test_queue_sorted_by_due_date_with_mine_filter_and_pages(as_user, django_assert_max_num_queries):
    case = accepted_restaurant()
    sub = active_subcase(case)
    officer = sub.department.staff.filter(groups__name="officer").first()
    client = as_user(officer.username)
    with django_assert_max_num_queries(12):
        response = client.get("/console/tasks/")
    html = response.content.decode()
    assert response.status_code == 200 and case.number in html and f"/console/tasks/{sub.pk}/" in html
    assert case.number not in client.get("/console/tasks/?mine=1").content.decode()
    client.post(f"/console/tasks/{sub.pk}/claim/")
    assert case.number in client.get("/console/tasks/?mine=1").content.decode()
    bad = client.get("/console/tasks/?cursor=nonsense")
    assert bad.status_code == 422 and "cursor.invalid" in bad.content.decode()


def test_keyset_next_page_link(as_user):
    from tongban.cases.selectors import officer_queue

    for _ in range(2):
        accepted_restaurant()
    sub = SubCase.objects.filter(status=SubCase.Status.ACTIVE).first()
    officer = sub.department.staff.filter(groups__name="officer").first()
    page = officer_queue(officer, limit=1)
    assert page.next_cursor
    client = as_user(officer.username)
    second = client.get(f"/console/tasks/?cursor={page.next_cursor}")
    assert second.status_code == 200


def test_task_page_404_for_other_departments_regions_and_applicants(as_user, django_assert_max_num_queries):
    case = accepted_restaurant()
    sub = active_subcase(case)
    officer = sub.department.staff.filter(groups__name="officer").first()
    client = as_user(officer.username)
    with django_assert_max_num_queries(16):
        response = client.get(f"/console/tasks/{sub.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "时限台账" in html and "/api/v1/files/" in html
    other = "changsha-housing" if officer.username != "changsha-housing" else "changsha-fire"
    for name in (other, "xiangtan-market", "changsha-boss", "changsha-clerk"):
        assert as_user(name).get(f"/console/tasks/{sub.pk}/").status_code == 404, name
        assert as_user(name).post(f"/console/tasks/{sub.pk}/approve/", {"step": sub.step}).status_code == 404, name


def test_approve_double_submit_acts_once_and_stale_step_is_a_conflict(as_user):
    case = accepted_restaurant()
    sub = active_subcase(case)
    officer = sub.department.staff.filter(groups__name="officer").first()
    client = as_user(officer.username)
    key = _key(client.get(f"/console/tasks/{sub.pk}/").content.decode())
    form = {"step": sub.step, "key": key}
    first = client.post(f"/console/tasks/{sub.pk}/approve/", form)
    second = client.post(f"/console/tasks/{sub.pk}/approve/", form)
    assert first.status_code == second.status_code == 302
    assert Action.objects.filter(subcase=sub, action="approve").count() == 1
    stale = client.post(f"/console/tasks/{sub.pk}/approve/", {"step": sub.step, "key": "f" * 32})
    assert stale.status_code == 409 and 'data-rule="step.stale"' in stale.content.decode()


def test_deny_return_special_and_extend_show_field_errors(as_user):
    case = accepted_restaurant()
    sub = active_subcase(case)
    officer = sub.department.staff.filter(groups__name="officer").first()
    client = as_user(officer.username)
    url = f"/console/tasks/{sub.pk}/"
    step = sub.workflow.step(sub.step)
    if "deny" in step["actions"]:
        response = client.post(url + "deny/", {"step": sub.step, "key": "a" * 32, "reason": ""})
        assert response.status_code == 422 and ("reason", "required") in problems_in(response)
    if "special" in step["actions"]:
        response = client.post(url + "special/", {"step": sub.step, "key": "b" * 32, "reason": "需要核查",
                                                  "procedure": "séance"})
        assert response.status_code == 422 and ("procedure", "procedure.unknown") in problems_in(response)
    if "extend" in step["actions"]:
        response = client.post(url + "extend/", {"step": sub.step, "key": "c" * 32, "reason": "复杂", "days": "99"})
        assert response.status_code == 422 and ("days", "extension.cap") in problems_in(response)
    if "return" in step["actions"]:
        code = next(m.code for m in case.materials.all() if sub.key in m.used_by and m.source == "applicant")
        response = client.post(url + "return/", {"step": sub.step, "key": "d" * 32, "reason": "材料有误",
                                                 "material": [code], f"what-{code}": ""})
        assert response.status_code == 422 and (f"materials.{code}", "required") in problems_in(response)
    sub.refresh_from_db()
    assert sub.hold == "" and not sub.extension_requests.exists()


def _at_step_with(case, action: str):
    """Approve steps (as the department's officer) until an active item's step allows `action`."""
    from tongban.cases.simulation import officer_for

    for _ in range(6):
        sub = active_subcase(case)
        if action in sub.workflow.step(sub.step)["actions"]:
            return sub
        services.act(subcase=sub, actor=officer_for(sub), action="approve", step=sub.step,
                     decision=sample_decision(sub))
    raise AssertionError(f"no step allows {action}")


def test_special_procedure_and_its_end(as_user):
    case = accepted_restaurant()
    sub = _at_step_with(case, "special")
    officer = sub.department.staff.filter(groups__name="officer").first()
    client = as_user(officer.username)
    url = f"/console/tasks/{sub.pk}/"
    assert client.post(url + "special/", {"step": sub.step, "key": "e" * 32, "reason": "现场核查经营场所",
                                          "procedure": "inspection"}).status_code == 302
    sub.refresh_from_db()
    assert sub.hold == SubCase.Hold.SPECIAL
    response = client.post(url + "end-special/", {"reason": ""})
    assert response.status_code == 422 and ("reason", "required") in problems_in(response)
    assert client.post(url + "end-special/", {"reason": "核查通过"}).status_code == 302
    sub.refresh_from_db()
    assert sub.hold == ""


def test_extension_requested_by_officer_decided_on_the_board(as_user, django_assert_max_num_queries):
    case = accepted_restaurant()
    sub = _at_step_with(case, "extend")
    officer = sub.department.staff.filter(groups__name="officer").first()
    response = as_user(officer.username).post(f"/console/tasks/{sub.pk}/extend/", {
        "step": sub.step, "key": "1" * 32, "reason": "需要补充调查", "days": "5"})
    assert response.status_code == 302
    ext = ExtensionRequest.objects.get(subcase=sub)
    supervisor = as_user("changsha-supervisor")
    with django_assert_max_num_queries(20):  # + cross-region acknowledgements overdue, cross-node cases
        board = supervisor.get("/console/board/")
    assert board.status_code == 200 and "需要补充调查" in board.content.decode()
    # Rejecting needs a reason, shown next to that request's field.
    bad = supervisor.post(f"/console/board/extensions/{ext.pk}/", {"decision": "reject", "reason": ""})
    assert bad.status_code == 422 and ("reason", "required") in problems_in(bad)
    assert as_user("xiangtan-supervisor").post(f"/console/board/extensions/{ext.pk}/",
                                               {"decision": "approve"}).status_code == 404
    assert as_user("changsha-supervisor").post(f"/console/board/extensions/{ext.pk}/",
                                               {"decision": "approve"}).status_code == 302
    ext.refresh_from_db()
    sub.refresh_from_db()
    assert ext.status == ExtensionRequest.Status.APPROVED and sub.extension_days == 5


def test_board_is_for_supervisors_only(as_user):
    assert as_user("changsha-market").get("/console/board/").status_code == 404
    assert as_user("changsha-clerk").get("/console/board/").status_code == 404
    assert as_user("changsha-supervisor").get("/console/board/").status_code == 200


def test_supervision_notice_sent_and_acknowledged(as_user):
    case = accepted_restaurant()
    sub = active_subcase(case)
    supervisor = as_user("changsha-supervisor")
    bad = supervisor.post("/console/board/supervise/", {"department": "", "text": ""})
    assert bad.status_code == 422 and ("department", "required") in problems_in(bad)
    bad = supervisor.post("/console/board/supervise/", {"department": sub.department_id, "text": ""})
    assert bad.status_code == 422 and ("text", "required") in problems_in(bad)
    other = SubCase.objects.exclude(department=sub.department).filter(case=case).first()
    if other is not None:
        wrong = supervisor.post("/console/board/supervise/", {"department": sub.department_id, "subcase": other.pk,
                                                              "text": "请加快"})
        assert wrong.status_code == 422 and ("subcase", "supervision.department") in problems_in(wrong)
    assert supervisor.post("/console/board/supervise/", {"department": sub.department_id, "subcase": sub.pk,
                                                         "text": "请于两日内办结", "respond_days": "2"}).status_code == 302
    notice = SupervisionNotice.objects.get(department=sub.department)
    officer = sub.department.staff.filter(groups__name="officer").first()
    client = as_user(officer.username)
    assert "请于两日内办结" in client.get("/console/tasks/").content.decode()
    bad = client.post(f"/console/supervision/{notice.pk}/acknowledge/", {"response": ""})
    assert bad.status_code == 422 and ("response", "required") in problems_in(bad)
    assert as_user("xiangtan-market").post(f"/console/supervision/{notice.pk}/acknowledge/",
                                           {"response": "好"}).status_code == 404
    client = as_user(officer.username)
    assert client.post(f"/console/supervision/{notice.pk}/acknowledge/", {"response": "已安排"}).status_code == 302
    notice.refresh_from_db()
    assert notice.acknowledged_at and notice.response == "已安排"


def test_delivery_at_the_window_after_every_item(as_user):
    from tongban.cases.simulation import officer_for

    case = accepted_restaurant()
    clerk = as_user("changsha-clerk")
    url = f"/console/cases/{case.number}/"
    bad = clerk.post(url + "delivery/", {"method": "post", "address": ""})
    assert bad.status_code == 422 and ("address", "required") in problems_in(bad)
    assert clerk.post(url + "delivery/", {"method": "post", "address": "长沙市人民路 1 号"}).status_code == 302
    for _ in range(40):
        sub = (SubCase.objects.filter(case=case, status=SubCase.Status.ACTIVE, hold="")
               .select_related("department", "workflow").first())
        if sub is None:
            break
        services.act(subcase=sub, actor=officer_for(sub), action="approve", step=sub.step,
                     decision=sample_decision(sub))
    case.refresh_from_db()
    assert case.status == Case.Status.READY
    bad = clerk.post(url + "deliver/", {"tracking_number": ""})
    assert bad.status_code == 422 and ("tracking_number", "required") in problems_in(bad)
    assert clerk.post(url + "deliver/", {"tracking_number": "SF1234567890"}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.tracking_number) == (Case.Status.DELIVERED, "SF1234567890")
    assert user("changsha-clerk")  # still the same clerk
