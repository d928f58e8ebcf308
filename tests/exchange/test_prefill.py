from __future__ import annotations

import pytest

from tongban.exchange import selectors, services
from tongban.exchange.models import QueryLog
from tongban.exchange.querying import Forbidden

from .factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

ENTERPRISE_FIELDS = ["enterprise.name", "enterprise.legal_representative.name", "enterprise.address"]


def test_prefill_takes_the_enterprise_from_the_legal_entity_register_with_its_source(world):
    values = services.prefill(subject=world.enterprise.uscc, standard_fields=[*ENTERPRISE_FIELDS, "premises.address"],
                              actor=world.rep, case_ref="YJS-2025-000123")
    assert {k: v["value"] for k, v in values.items()} == {
        "enterprise.name": "长沙市湘味餐饮有限公司",
        "enterprise.legal_representative.name": "李湘",
        "enterprise.address": "长沙市芙蓉区五一大道100号",
    }  # premises.address is supplied by nobody: absent
    for item in values.values():
        assert item["source"] == "长沙市市场监督管理局"
        assert item["resource"] == "legal_entities"
        assert item["updated_at"]


def test_the_enterprise_sees_the_prefill_queries_and_another_person_does_not(world, client):
    services.prefill(subject=world.enterprise.uscc, standard_fields=ENTERPRISE_FIELDS, actor=world.rep,
                     case_ref="YJS-2025-000123")
    log = list(selectors.queries_about_subject(world.enterprise.uscc))
    assert len(log) == 1
    q = log[0]
    assert q.consumer == world.depts["gov"] and q.owner == world.depts["market"]
    assert q.purpose == "自动填报 form prefill" and q.case_ref == "YJS-2025-000123"
    assert sorted(q.fields) == ["address", "legal_representative", "name"] and q.outcome == "granted"

    client.force_login(world.rep)
    body = client.get("/api/v1/exchange/my-queries").json()
    assert [item["subject"] for item in body["items"]] == [world.enterprise.uscc]
    item = body["items"][0]
    assert item["consumer"] == "长沙市政务服务和大数据管理局" and item["case_ref"] == "YJS-2025-000123"
    assert item["outcome"] == "granted" and set(item["fields"]) == {"名称", "法定代表人", "住所"}

    client.force_login(world.other)
    assert client.get("/api/v1/exchange/my-queries").json()["items"] == []
    assert not selectors.queries_about_user(world.other).exists()


def test_an_applicant_cannot_prefill_someone_elses_enterprise_and_the_attempt_is_logged(world):
    foreign = EnterpriseFactory(name="别人的公司")
    with pytest.raises(Forbidden) as exc:
        services.prefill(subject=foreign.uscc, standard_fields=ENTERPRISE_FIELDS, actor=world.other,
                         case_ref="YJS-2025-000124")
    assert exc.value.problems[0].rule == "subject.not_own"
    refused = selectors.queries_about_subject(foreign.uscc).get()
    assert refused.outcome == QueryLog.Outcome.REFUSED and refused.actor == world.other


def test_prefill_of_a_person_uses_the_population_and_social_security_registers(world):
    values = services.prefill(subject=world.rep.id_number,
                              standard_fields=["person.name", "person.id_number", "person.phone",
                                               "social_security.status", "enterprise.name"],
                              actor=world.rep, case_ref="YJS-2025-000125")
    assert values["person.name"]["value"] == "李湘"
    assert values["person.id_number"]["value"] == world.rep.id_number
    assert values["person.phone"]["value"] == "13800000001"
    assert values["person.name"]["source"] == "长沙市公安局"
    status = values["social_security.status"]
    assert status["value"] in {"active", "suspended"} and status["label"] in {"正常参保", "暂停缴费"}
    assert "enterprise.name" not in values  # an enterprise field is not asked of a person's registers
    assert {q.resource_code for q in selectors.queries_about_subject(world.rep.id_number)} == {
        "population", "social_security"}


def test_staff_prefill_uses_their_own_departments_grants(world):
    values = services.prefill(subject=world.enterprise.uscc, standard_fields=ENTERPRISE_FIELDS,
                              actor=world.gov_clerk, case_ref="CK-1")
    assert set(values) == set(ENTERPRISE_FIELDS)
    # the health department holds no grant: nothing is prefilled, nothing is disclosed
    assert services.prefill(subject=world.enterprise.uscc, standard_fields=ENTERPRISE_FIELDS,
                            actor=world.health_officer, case_ref="CK-2") == {}
