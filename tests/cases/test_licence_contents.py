"""Licence contents come only from the sources their type declares: the case's form and record, the
officer's decision, the case, the issuer or the catalogue. Approval without a declared decision field
is refused naming the field, and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401
from tongban.cases import services, simulation
from tongban.cases.models import Action, Case, Notice, SubCase
from tongban.core.errors import InvalidInput
from tongban.licences import sources
from tongban.licences.models import Licence

from .conftest import ACCEPT_ON, accepted_restaurant, officer, sub

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

PLACEHOLDER_MARKS = ("见办件", "示例值", "placeholder", "TODO")


def _allowed_values(case: Case, subcase: SubCase, licence: Licence, decision: dict) -> dict[str, object]:
    """What each field of the licence may hold, computed from its declaration independently of issuance."""
    from tongban.cases.services.results import standard_values

    standard = standard_values(case)
    out = {}
    for spec in sources.field_sources(licence.licence_type.fields):
        if spec.kind == "form":
            out[spec.name] = next(standard[s] for s in spec.ref if s in standard)
        elif spec.kind == "decision":
            out[spec.name] = decision[spec.name]
        elif spec.kind == "case":
            out[spec.name] = {"number": case.number, "decided_on": subcase.decided_on.isoformat(),
                              "applicant_code": case.applicant_code, "applicant_name": case.applicant_name,
                              "title": case.title, "accepted_on": case.accepted_on.isoformat()}[spec.ref]
        elif spec.kind == "issuer":
            out[spec.name] = {"name": licence.issuer.name, "uscc": licence.issuer.uscc,
                              "region": licence.issuer.region_id}[spec.ref]
        else:
            out[spec.name] = spec.ref
    return out


def _same(value: object, expected: object) -> bool:
    if isinstance(expected, float) and expected.is_integer():
        expected = int(expected)
    return value == expected or (isinstance(value, str) and value == str(expected))


def test_restaurant_licences_hold_only_declared_sources():
    boss, enterprise = simulation.demo_applicant("changsha")
    case = services.start_case(actor=boss, region_code="430100", bundle_code="open-restaurant",
                               answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc, on=ACCEPT_ON)
    officers_input = {"company-registration": {"类型": "股份有限公司"},
                      "food-business-licence": {"经营项目": "热食类食品制售；自制饮品制售"}}
    case = simulation.drive(case, accept_on=ACCEPT_ON, decisions=officers_input)
    assert case.status == Case.Status.DELIVERED
    subcases = list(case.subcases.select_related("result_licence__licence_type", "result_licence__issuer"))
    issued = [s for s in subcases if s.result_licence_id]
    assert len(issued) >= 5, [s.key for s in subcases]
    for subcase in issued:
        licence = subcase.result_licence
        decision = {**{s.name: s.decision.get("example") for s in sources.decision_fields(licence.licence_type.fields)},
                    **officers_input.get(subcase.key, {})}  # what the simulated officers entered
        expected = _allowed_values(case, subcase, licence, decision)
        assert set(licence.data) == set(expected), (subcase.key, licence.data)
        for name, value in licence.data.items():
            assert _same(value, expected[name]), (subcase.key, name, value, expected[name])
            assert not any(mark in str(value) for mark in PLACEHOLDER_MARKS), (subcase.key, name, value)
        assert "见办件" not in licence.payload
    company = next(s for s in issued if s.key == "company-registration").result_licence
    assert company.data["类型"] == "股份有限公司"  # the officer's decision, not a constant
    assert company.data["成立日期"] == next(s for s in issued if s.key == "company-registration").decided_on.isoformat()
    food = next(s for s in issued if s.key == "food-business-licence").result_licence
    assert food.data["经营项目"] == "热食类食品制售；自制饮品制售"


def _at_decision(case, key: str) -> SubCase:
    current = sub(case, key)
    for _ in range(6):
        if current.workflow.step(current.step).get("decision"):
            return current
        current = _approve_plain(current)
    raise AssertionError("no decision step")


def _approve_plain(current: SubCase) -> SubCase:
    services.act(subcase=current, actor=officer(current), action="approve", step=current.step, on=date(2026, 9, 29))
    return sub(current.case, current.key)


def _nothing_written(company: SubCase, counts: tuple) -> None:
    after = sub(company.case, company.key)
    assert after.revision == company.revision and after.status == SubCase.Status.ACTIVE
    assert after.step == company.step and after.result_licence_id is None
    assert (Licence.objects.count(), Notice.objects.count(), Action.objects.count()) == counts


def _counts() -> tuple:
    return Licence.objects.count(), Notice.objects.count(), Action.objects.count()


def test_approval_without_a_decision_field_is_a_422_naming_it_and_writes_nothing():
    case = accepted_restaurant()
    company = _at_decision(case, "company-registration")
    counts = _counts()
    client = Client()
    client.force_login(officer(company))
    url = f"/api/v1/subcases/{company.pk}/actions"
    fields = client.get(f"/api/v1/subcases/{company.pk}/decision-fields").json()
    assert {f["name"]: f["type"] for f in fields} == {"类型": "choice"}
    assert fields[0]["label"] == "主体类型" and "股份有限公司" in fields[0]["choices"]

    answer = client.post(url, {"action": "approve", "step": company.step}, content_type="application/json")
    assert answer.status_code == 422
    assert [(p["field"], p["rule"]) for p in answer.json()["detail"]] == [("decision.类型", "required")]
    _nothing_written(company, counts)

    wrong = client.post(url, {"action": "approve", "step": company.step, "decision": {"类型": "有限公司", "颜色": "红"}},
                        content_type="application/json")
    assert wrong.status_code == 422
    assert {(p["field"], p["rule"]) for p in wrong.json()["detail"]} == {
        ("decision.类型", "decision.choice"), ("decision.颜色", "decision.unknown")}
    _nothing_written(company, counts)

    done = client.post(url, {"action": "approve", "step": company.step, "decision": {"类型": "个人独资企业"}},
                       content_type="application/json")
    assert done.status_code == 200
    assert sub(case, "company-registration").result_licence.data["类型"] == "个人独资企业"


def test_decision_fields_only_at_the_decision_step():
    case = accepted_restaurant()
    company = sub(case, "company-registration")
    assert not company.workflow.step(company.step).get("decision")
    with pytest.raises(InvalidInput) as excinfo:
        services.act(subcase=company, actor=officer(company), action="approve", step=company.step,
                     decision={"类型": "股份有限公司"}, on=date(2026, 9, 29))
    assert [p.field for p in excinfo.value.problems] == ["decision"]


def test_console_approve_form_asks_for_the_decision_fields():
    case = accepted_restaurant()
    company = _at_decision(case, "company-registration")
    client = Client()
    client.force_login(officer(company))
    page = client.get(f"/console/tasks/{company.pk}/")
    assert page.status_code == 200 and 'name="decision-类型"' in page.content.decode()
    refused = client.post(f"/console/tasks/{company.pk}/approve/", {"step": company.step, "key": "k1"})
    assert refused.status_code == 422 and "请填写“主体类型”" in refused.content.decode()
    assert sub(case, "company-registration").result_licence_id is None
    done = client.post(f"/console/tasks/{company.pk}/approve/", {"step": company.step, "key": "k2",
                                                                "decision-类型": "合伙企业"})
    assert done.status_code == 302
    assert sub(case, "company-registration").result_licence.data["类型"] == "合伙企业"


def test_a_form_source_without_a_value_is_named_not_filled_in():
    fields = [{"name": "名称", "source": {"form": "enterprise.name"}},
              {"name": "工程名称", "source": {"form": ["project.name", "project.title"]}},
              {"name": "备注", "required": False, "source": {"form": "project.remark"}},
              {"name": "发证机关", "source": {"issuer": "name"}},
              {"name": "结论", "source": {"fixed": "合格"}}]
    data, problems = sources.resolve(fields, sources.Values(standard={"enterprise.name": "某公司"},
                                                            issuer={"name": "某局"}))
    assert data == {"名称": "某公司", "发证机关": "某局", "结论": "合格"}
    assert [(p.field, p.rule) for p in problems] == [("form.project.name", "licence.source.form")]


def test_bare_field_names_of_older_catalogues_are_officer_fields():
    """A catalogue written before field sources (bare names) still works: its fields are typed by the
    officer at the decision step instead of being made up."""
    specs = sources.decision_fields(["名称", {"name": "日期", "type": "date", "source": {"case": "decided_on"}}])
    assert [(s.name, s.kind, s.declared) for s in specs] == [("名称", "decision", False)]
    clean, problems = sources.clean_decision(["名称"], {})
    assert clean == {} and [(p.field, p.rule) for p in problems] == [("decision.名称", "required")]
