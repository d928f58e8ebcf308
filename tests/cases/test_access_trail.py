"""Who sees what (tongban.core.access), agents under a mandate, the hash-chained trail and the sweep."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.accounts.models import Mandate
from tongban.accounts.services import revoke_mandate
from tongban.audit.models import AuditEntry
from tongban.cases import selectors, services
from tongban.cases.models import DeadlineAlert, MaterialFile, Notice
from tongban.cases.simulation import SAMPLE_PDF
from tongban.core.access import fetch, visible
from tongban.core.errors import Forbidden, InvalidInput, NotFound

from .conftest import (
    ACCEPT_ON,
    accepted_restaurant,
    approve_step,
    boss_and_enterprise,
    start_restaurant,
    sub,
    submit_complete,
    user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

D = date


def _objects(case):
    company = sub(case, "company-registration")
    file = MaterialFile.objects.filter(material__case=case, material__code="company-application").get()
    notice = Notice.objects.filter(case=case, kind=Notice.Kind.ACCEPTANCE).get()
    return {"case": case, "subcase": company, "material-file": file, "notice": notice}


# --- 12. access -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["changsha-citizen", "zhuzhou-boss", "zhuzhou-agent", "changsha-police",
                                      "changsha-health", "zhuzhou-clerk", "zhuzhou-supervisor", "zhuzhou-market",
                                      "xiangtan-auditor"])
def test_outsiders_get_not_found_for_every_kind(outsider):
    case = accepted_restaurant()
    actor = user(outsider)
    for kind, obj in _objects(case).items():
        with pytest.raises(NotFound):
            fetch(actor, kind, pk=obj.pk)
        assert not visible(actor, kind).filter(pk=obj.pk).exists(), kind
    with pytest.raises(NotFound):
        services.open_material_file(file_id=_objects(case)["material-file"].pk, actor=actor)
    with pytest.raises(NotFound):
        selectors.get_case(actor, case.number)


def test_insiders_see_their_part():
    case = accepted_restaurant()
    objects = _objects(case)
    for name in ("changsha-boss", "changsha-clerk", "changsha-supervisor", "changsha-market", "changsha-auditor"):
        actor = user(name)
        for kind, obj in objects.items():
            assert fetch(actor, kind, pk=obj.pk) == obj, (name, kind)
    # The fire brigade sees the case (its item is in it) but not the market regulator's sub-case.
    fire = user("changsha-fire")
    assert fetch(fire, "case", pk=case.pk) == case
    assert fetch(fire, "subcase", pk=sub(case, "fire-safety-inspection").pk)
    with pytest.raises(NotFound):
        fetch(fire, "subcase", pk=objects["subcase"].pk)
    # An officer of another department cannot act on the sub-case either: the service re-checks what the
    # API checks (404 for who may not see it; 403 naming the step's roles for an auditor who may).
    with pytest.raises(NotFound):
        approve_step(objects["subcase"], D(2026, 9, 29), actor=user("changsha-police"))
    with pytest.raises(Forbidden) as caught:
        approve_step(objects["subcase"], D(2026, 9, 29), actor=user("changsha-auditor"))
    assert caught.value.problem.rule == "step.role"
    with pytest.raises(NotFound):
        approve_step(objects["subcase"], D(2026, 9, 29), actor=user("zhuzhou-market"))


def test_agent_with_a_mandate_files_and_is_refused_once_revoked():
    boss, enterprise = boss_and_enterprise("changsha")
    agent = user("changsha-agent")
    mandate = Mandate.objects.filter(agent=agent, principal=enterprise, revoked_at__isnull=True).first()
    assert mandate is not None
    case = services.start_case(actor=agent, region_code="430100", bundle_code="open-restaurant",
                               answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc)
    assert case.agent == agent and case.mandate == mandate and case.enterprise == enterprise
    assert fetch(agent, "case", pk=case.pk) == case
    record = services.attach_file(case=case, material_code="food-layout", name="layout.pdf",
                                  content=SAMPLE_PDF + b"layout", actor=agent)
    assert fetch(agent, "material-file", pk=record.pk) == record
    assert fetch(boss, "case", pk=case.pk) == case
    revoke_mandate(mandate=mandate, revoked_by=boss, reason="不再委托")
    with pytest.raises((InvalidInput, NotFound)) as caught:
        services.attach_file(case=case, material_code="floor-plan", name="plan.pdf", content=SAMPLE_PDF + b"plan",
                             actor=agent)
    if caught.type is InvalidInput:
        assert {p.field for p in caught.value.problems} == {"acting_as"}
    with pytest.raises((InvalidInput, NotFound)):
        services.start_case(actor=agent, region_code="430100", bundle_code="open-restaurant",
                            answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc)
    with pytest.raises((InvalidInput, NotFound)):
        services.submit_case(case=case, actor=agent)
    # The agent filed the case, so it still appears in their list, but the enterprise's other cases do not.
    other = services.start_case(actor=boss, region_code="430100", bundle_code="open-restaurant",
                                answers={"area_sqm": 100}, enterprise_uscc=enterprise.uscc)
    with pytest.raises(NotFound):
        fetch(agent, "case", pk=other.pk)
    assert case.materials.get(code="floor-plan").files.count() == 0


# --- 13. trail --------------------------------------------------------------------------------------------------


def test_every_state_change_is_in_the_trail_and_material_reads_by_staff():
    case = accepted_restaurant()
    company = approve_step(sub(case, "company-registration"), D(2026, 9, 29))
    entries = AuditEntry.objects.filter(case_ref=case.number)
    actions = list(entries.values_list("action", flat=True))
    for action in ("case.started", "case.draft_saved", "case.material_file_added", "case.submitted", "case.accepted",
                   "case.subcase_started", "case.subcase_approve"):
        assert action in actions, action
    assert actions.count("case.subcase_started") == 2  # company registration and the environment filing
    approved = entries.get(action="case.subcase_approve")
    assert approved.object_id == f"{case.number}/company-registration"
    assert approved.before["step"] == "accept" and approved.after["step"] == company.step == "review"
    assert approved.actor_id == company.assignee_id
    file = MaterialFile.objects.filter(material__case=case).first()
    before = entries.filter(action="case.material_read").count()
    assert before == 0
    services.open_material_file(file_id=file.pk, actor=case.filed_by)  # the applicant's own read is logged too
    mine = entries.get(action="case.material_read")
    assert mine.actor_id == case.filed_by_id and mine.role == "applicant"
    market = user("changsha-market")
    assert services.open_material_file(file_id=file.pk, actor=market) == file
    read = entries.filter(action="case.material_read").exclude(pk=mine.pk).get()
    assert read.actor_id == market.pk and read.after["sha256"] == file.sha256 and read.role == "officer"


def test_editing_one_trail_row_makes_audit_verify_fail_and_name_it(capsys):
    case = accepted_restaurant()
    call_command("audit", "verify")
    assert capsys.readouterr().out.startswith("ok:")
    target = AuditEntry.objects.filter(case_ref=case.number, action="case.accepted").get()
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(AuditEntry._meta.db_table)
        cursor.execute(f"UPDATE {table} SET reason = %s WHERE id = %s", ["篡改", target.pk])  # noqa: S608
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify")
    assert f"seq {target.seq}" in str(caught.value) and "case.accepted" in str(caught.value)


# --- 14. sweep -------------------------------------------------------------------------------------------------


def test_sweep_raises_each_warning_and_overdue_once():
    case = accepted_restaurant()
    first = services.sweep(on=D(2026, 9, 29))
    assert first["warnings"] == 2  # both started items are promised for 9-29
    assert services.sweep(on=D(2026, 9, 29))["warnings"] == 0
    second = services.sweep(on=D(2026, 9, 30))
    assert (second["warnings"], second["promised_overdue"], second["statutory_overdue"]) == (0, 2, 1)
    again = services.sweep(on=D(2026, 9, 30))
    assert (again["promised_overdue"], again["statutory_overdue"]) == (0, 0)
    alerts = DeadlineAlert.objects.filter(subcase__case=case)
    assert alerts.count() == 5
    assert set(alerts.values_list("subcase__key", "kind")) == {
        ("company-registration", "warning"), ("env-impact-filing", "warning"),
        ("company-registration", "promised_overdue"), ("env-impact-filing", "promised_overdue"),
        ("env-impact-filing", "statutory_overdue")}
    assert AuditEntry.objects.filter(case_ref=case.number, action__startswith="case.alert_").count() == 5
    board = selectors.board(user("changsha-supervisor"), on=D(2026, 9, 30))
    assert {s.key for s in board["overdue"]} == {"company-registration", "env-impact-filing"}


def test_online_drafts_reach_the_window_only_when_submitted():
    """access.py: window clerks see cases received at their hall "and online submissions to their region"."""
    draft = start_restaurant()
    clerk = user("changsha-clerk")
    with pytest.raises(NotFound):
        fetch(clerk, "case", pk=draft.pk)
    case = submit_complete(draft)
    assert fetch(clerk, "case", pk=case.pk) == case
    assert case in selectors.intake_queue(clerk).rows
    assert case.plan_date == ACCEPT_ON
