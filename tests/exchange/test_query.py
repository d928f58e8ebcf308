from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.audit.selectors import entries_about_subject, trail_for_object
from tongban.audit.services import verify_chain
from tongban.core.errors import InvalidInput, NotFound
from tongban.exchange import selectors, services
from tongban.exchange.models import Grant, LegalEntityRecord, QueryLog
from tongban.exchange.querying import Forbidden

from .conftest import in_a_year
from .factories import StaffFactory

pytestmark = pytest.mark.django_db


def ask(world, actor, *, resource="legal_entities", subject=None, fields=("name",), purpose="食品经营许可审查",
        case_ref="CS-2025-0001"):
    return services.query(resource_code=resource, subject=subject or world.enterprise.uscc, fields=list(fields),
                          purpose=purpose, case_ref=case_ref, actor=actor)


def grant_legal_entities(world, fields=("name", "address")):
    return services.grant_request(resource_code="legal_entities", consumer=world.depts["health"], fields=list(fields),
                                  purpose="公共场所卫生许可审查", valid_until=in_a_year(), actor=world.health_officer)


def last_log() -> QueryLog:
    return QueryLog.objects.order_by("-id").first()


def assert_refusal_logged(subject: str, rule: str):
    log = last_log()
    assert log.outcome == QueryLog.Outcome.REFUSED
    assert rule in log.rule
    assert log.subject_code == subject
    entry = trail_for_object("exchange.query", str(log.ref)).get()
    assert entry.action == "exchange.query_refused"
    assert entry.subject_code == subject
    return log


@pytest.mark.parametrize("missing", ["purpose", "case_ref"])
def test_query_without_purpose_or_case_is_refused_with_a_bilingual_error_and_logged(world, missing):
    grant_legal_entities(world)
    kwargs = {missing: "  "}
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer, **kwargs)
    problem = next(p for p in exc.value.problems if p.field == missing)
    assert problem.rule == "required"
    assert "必须" in problem.zh and "must" in problem.en
    log = assert_refusal_logged(world.enterprise.uscc, "required")
    assert log.consumer is None or log.consumer == world.depts["health"]


def test_query_for_a_field_not_granted_is_refused_and_logged(world):
    grant_legal_entities(world, fields=("name", "address"))
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer, fields=("name", "legal_representative_id_number"))
    problem = exc.value.problems[0]
    assert problem.rule == "fields.not_granted"
    assert "法定代表人身份证号码" in problem.zh and "legal_representative_id_number" in problem.en
    log = assert_refusal_logged(world.enterprise.uscc, "fields.not_granted")
    assert log.consumer == world.depts["health"] and log.owner == world.depts["market"]


def test_not_shared_resource_can_be_neither_granted_nor_queried(world):
    with pytest.raises(InvalidInput) as exc:
        services.grant_request(resource_code="tax_personal_income", consumer=world.depts["health"], fields=["income"],
                               purpose="核查", valid_until=in_a_year(), actor=world.health_officer)
    assert exc.value.problems[0].rule == "resource.not_shared"
    assert "不予共享" in exc.value.problems[0].zh and "not shared" in exc.value.problems[0].en
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer, resource="tax_personal_income", subject=world.rep.id_number,
            fields=("income",))
    assert exc.value.problems[0].rule == "resource.not_shared"
    assert_refusal_logged(world.rep.id_number, "resource.not_shared")


def test_no_grant_denies_by_default(world):
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer)
    assert exc.value.problems[0].rule == "grant.none"
    assert "默认拒绝" in exc.value.problems[0].zh
    assert_refusal_logged(world.enterprise.uscc, "grant.none")


def test_unconditional_resource_is_granted_on_request(world):
    grant = grant_legal_entities(world)
    assert grant.status == Grant.Status.GRANTED
    assert grant.decided_at is not None
    answer = ask(world, world.health_officer, fields=("name", "address"))
    assert answer.values == {"name": "长沙市湘味餐饮有限公司", "address": "长沙市芙蓉区五一大道100号"}
    assert trail_for_object("exchange.grant", str(grant.pk)).get().action == "exchange.grant_granted"


def test_highly_sensitive_fields_of_an_unconditional_resource_need_approval(world):
    grant = grant_legal_entities(world, fields=("name", "legal_representative_id_number"))
    assert grant.status == Grant.Status.REQUESTED
    services.grant_approve(grant_id=grant.pk, actor=world.market_officer)
    answer = ask(world, world.health_officer, fields=("legal_representative_id_number",))
    assert answer.values == {"legal_representative_id_number": world.rep.id_number}


def test_conditional_resource_needs_the_owners_approval(world):
    grant = services.grant_request(resource_code="population", consumer=world.depts["health"],
                                   fields=["name", "address"], purpose="老年人优待证办理", valid_until=in_a_year(),
                                   actor=world.health_officer)
    assert grant.status == Grant.Status.REQUESTED
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer, resource="population", subject=world.rep.id_number, fields=("name",))
    assert exc.value.problems[0].rule == "grant.pending", exc.value.problems

    with pytest.raises(Forbidden):  # the consumer cannot approve its own request
        services.grant_approve(grant_id=grant.pk, actor=world.health_officer)
    with pytest.raises(NotFound):  # a third department does not even see it
        services.grant_approve(grant_id=grant.pk, actor=world.market_officer)
    clerk = StaffFactory(department=world.depts["police"], roles=["clerk"])
    with pytest.raises(Forbidden):  # an owner's clerk is not an approver
        services.grant_approve(grant_id=grant.pk, actor=clerk)

    services.grant_approve(grant_id=grant.pk, actor=world.police_officer, reason="符合《个人信息保护法》第三十四条")
    answer = ask(world, world.health_officer, resource="population", subject=world.rep.id_number, fields=("name",))
    assert answer.values == {"name": "李湘"}
    assert answer.subject.startswith("4301") and "*" in answer.subject  # masked in the answer


def test_denied_request_does_not_grant(world):
    grant = services.grant_request(resource_code="population", consumer=world.depts["health"], fields=["name"],
                                   purpose="核验", valid_until=in_a_year(), actor=world.health_officer)
    with pytest.raises(InvalidInput):
        services.grant_deny(grant_id=grant.pk, actor=world.police_officer, reason="")
    services.grant_deny(grant_id=grant.pk, actor=world.police_officer, reason="目的不明确")
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer, resource="population", subject=world.rep.id_number)
    assert exc.value.problems[0].rule == "grant.none"


def test_revoked_grant_denies(world):
    grant = grant_legal_entities(world)
    ask(world, world.health_officer)
    services.grant_revoke(grant_id=grant.pk, actor=world.market_officer, reason="超范围使用")
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer)
    assert exc.value.problems[0].rule == "grant.revoked"
    assert_refusal_logged(world.enterprise.uscc, "grant.revoked")


def test_expired_grant_denies(world):
    grant = grant_legal_entities(world)
    Grant.objects.filter(pk=grant.pk).update(valid_from=timezone.now() - timedelta(days=30),
                                             valid_until=timezone.now() - timedelta(days=1))
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer)
    assert exc.value.problems[0].rule == "grant.expired"
    assert "到期" in exc.value.problems[0].zh


def test_only_granted_and_requested_fields_come_back_with_provenance(world):
    grant_legal_entities(world, fields=("name", "address", "legal_representative"))
    answer = ask(world, world.health_officer, fields=("name", "legal_representative"))
    assert [f.name for f in answer.fields] == ["name", "legal_representative"]
    assert answer.standard_values == {"enterprise.name": "长沙市湘味餐饮有限公司",
                                      "enterprise.legal_representative.name": "李湘"}
    row = LegalEntityRecord.objects.get(uscc=world.enterprise.uscc)
    p = answer.provenance
    assert p.owner == "长沙市市场监督管理局" and p.owner_uscc == world.depts["market"].uscc
    assert p.updated_at == row.updated_at and p.resource == "legal_entities"
    log = QueryLog.objects.get(ref=answer.ref)
    assert log.outcome == "granted" and log.returned_fields == ["name", "legal_representative"]
    assert log.consumer == world.depts["health"] and log.owner == world.depts["market"]
    assert log.purpose == "食品经营许可审查" and log.case_ref == "CS-2025-0001" and log.actor == world.health_officer
    entry = trail_for_object("exchange.query", str(log.ref)).get()
    assert entry.action == "exchange.query" and entry.reason == "食品经营许可审查"
    assert entry.after["consumer"] == world.depts["health"].uscc and entry.after["owner"] == world.depts["market"].uscc
    assert verify_chain().ok


def test_both_sides_see_the_query_in_their_log(world):
    grant_legal_entities(world)
    answer = ask(world, world.health_officer)
    consumer_side = selectors.query_log_for_department(world.depts["health"].pk, side="consumer")
    owner_side = selectors.query_log_for_department(world.depts["market"].pk, side="owner")
    assert [str(q.ref) for q in consumer_side] == [answer.ref]
    assert [str(q.ref) for q in owner_side] == [answer.ref]
    assert not selectors.query_log_for_department(world.depts["police"].pk).exists()


def test_unknown_and_invalid_subjects_are_refused_and_logged(world):
    grant_legal_entities(world)
    from .factories import uscc_for

    stranger = uscc_for(999_999)
    with pytest.raises(NotFound) as exc:
        ask(world, world.health_officer, subject=stranger)
    assert exc.value.problem.rule == "subject.unknown"
    assert_refusal_logged(stranger, "subject.unknown")
    with pytest.raises(InvalidInput) as exc:
        ask(world, world.health_officer, subject="91430100ABCDEFGHIJ")
    assert exc.value.problems[0].rule == "subject.invalid"
    assert "GB 11643" in exc.value.problems[0].zh and "GB 32100" in exc.value.problems[0].en


def test_unknown_resource_is_refused_and_logged(world):
    with pytest.raises(NotFound) as exc:
        ask(world, world.health_officer, resource="no_such_register")
    assert exc.value.problem.rule == "resource.unknown"
    assert last_log().resource_code == "no_such_register"


def test_only_clerks_and_officers_query_and_applicants_only_through_prefill(world):
    grant_legal_entities(world)
    auditor = StaffFactory(department=world.depts["health"], roles=["auditor"])
    with pytest.raises(Forbidden):
        ask(world, auditor)
    with pytest.raises(Forbidden):
        ask(world, world.rep)  # a person without the platform department
    with pytest.raises(Forbidden):  # an officer acts for their own department only
        services.query(resource_code="legal_entities", subject=world.enterprise.uscc, fields=["name"], purpose="x",
                       case_ref="c", actor=world.health_officer, on_behalf_of_department=world.depts["gov"])
    assert QueryLog.objects.filter(outcome="refused", rule__startswith="actor").count() == 3


def test_every_query_is_in_the_subjects_trail(world):
    grant_legal_entities(world)
    ask(world, world.health_officer)
    with pytest.raises(InvalidInput):
        ask(world, world.health_officer, fields=("legal_representative_id_number",))
    actions = [e.action for e in entries_about_subject(world.enterprise.uscc, action_prefix="exchange.")]
    assert actions == ["exchange.query", "exchange.query_refused"]
    assert QueryLog.objects.filter(subject_code=world.enterprise.uscc).count() == 2


def test_social_security_status_is_translated_to_the_standard_code_list(world):
    services.grant_request(resource_code="social_security", consumer=world.depts["health"], fields=["status"],
                           purpose="医保待遇核验", valid_until=in_a_year(), actor=world.health_officer)
    grant = Grant.objects.get(resource__code="social_security", consumer=world.depts["health"])
    services.grant_approve(grant_id=grant.pk, actor=StaffFactory(department=world.depts["hrss"], roles=["officer"]))
    answer = ask(world, world.health_officer, resource="social_security", subject=world.rep.id_number,
                 fields=("status",))
    field = answer.fields[0]
    assert field.standard_name == "social_security.status"
    assert (field.value, field.code_label) in {("active", "正常参保"), ("suspended", "暂停缴费")}
