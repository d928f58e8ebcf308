"""Planning the demo bundles: the reference scenarios of seed 003."""

import copy
import json

import pytest
from django.core.management import call_command

from tests.demo_fixtures import demo_catalog  # noqa: F401 - fixture
from tongban.bundles.selectors import plan_bundle
from tongban.catalog.format import Document, check_documents
from tongban.core.errors import InvalidInput

pytestmark = pytest.mark.usefixtures("demo_catalog")

FIRE = {"fire-design-review", "fire-completion-acceptance", "fire-completion-filing"}
HOTEL_ALL_YES = {"area_sqm": 800, "serves_food": True, "outdoor_sign": True, "central_ac": True}


def restaurant(area):
    return plan_bundle("open-restaurant", "421200", {"area_sqm": area})


def keys(plan):
    return {i["code"] for i in plan["items"]}


def stage_of(plan, key):
    return next(i["stage"] for i in plan["items"] if i["code"] == key)


def material(plan, code):
    return next((m for m in plan["materials"] if m["code"] == code), None)


@pytest.mark.django_db
@pytest.mark.parametrize(("area", "fire_items"), [
    (200, set()),
    (400, {"fire-completion-filing"}),
    (800, {"fire-design-review", "fire-completion-acceptance"}),
])
def test_restaurant_fire_review_depends_on_floor_area(area, fire_items):
    plan = restaurant(area)
    assert keys(plan) & FIRE == fire_items
    assert {e["code"] for e in plan["excluded"]} == FIRE - fire_items
    assert all("area_sqm" in e["reason"] for e in plan["excluded"])
    assert stage_of(plan, "company-registration") == 1
    inspection = stage_of(plan, "fire-safety-inspection")
    assert all(inspection > stage_of(plan, k) for k in fire_items)
    if "fire-completion-acceptance" in fire_items:
        assert stage_of(plan, "fire-completion-acceptance") > stage_of(plan, "fire-design-review")


@pytest.mark.django_db
@pytest.mark.parametrize("area", [200, 400, 800])
def test_restaurant_never_asks_for_the_business_licence_and_asks_id_once(area):
    plan = restaurant(area)
    licence = material(plan, "business-licence")
    assert licence["source"] == "produced" and licence["producer"] == "company-registration"
    assert [m["code"] for m in plan["materials"]].count("id-card") == 1
    assert material(plan, "id-card")["source"] in {"licence", "applicant"}
    assert plan["metrics"]["materials_bundled"] < plan["metrics"]["materials_separately"]


@pytest.mark.django_db
def test_fire_acceptance_document_is_only_needed_when_produced():
    assert material(restaurant(200), "fire-acceptance-document") is None
    doc = material(restaurant(800), "fire-acceptance-document")
    assert doc["source"] == "produced" and doc["producer"] == "fire-completion-acceptance"


@pytest.mark.django_db
def test_hotel_with_all_answers_yes_has_every_item_of_seed_003():
    plan = plan_bundle("open-hotel", "421200", HOTEL_ALL_YES)
    assert keys(plan) == {"company-registration", "special-trade-licence", "food-business-licence", "fire-design-review",
                          "fire-completion-acceptance", "env-impact-filing", "fire-safety-inspection",
                          "outdoor-advertising", "public-place-hygiene"}
    m = plan["metrics"]
    assert m["departments"] >= 7
    # Separately the business licence is handed in at least twice and the ID at least twice (seed 003) ...
    assert len(material(plan, "business-licence")["used_by"]) >= 2
    assert len(material(plan, "id-card")["used_by"]) >= 2
    # ... in the bundle the licence is never asked and the ID once.
    assert material(plan, "business-licence")["source"] == "produced"
    assert material(plan, "ventilation-hygiene-report")["used_by"] == ["public-place-hygiene"]
    assert m["visits_bundled"] <= 1 < m["visits_separately"]
    assert m["statutory_days_critical_path"] < m["statutory_days_serial"]
    assert m["stages"] == len(plan["stages"]) and m["items"] == len(plan["items"])


@pytest.mark.django_db
def test_hotel_without_central_ac_does_not_ask_for_the_ventilation_report():
    plan = plan_bundle("open-hotel", "421200", {**HOTEL_ALL_YES, "central_ac": False, "serves_food": False})
    assert material(plan, "ventilation-hygiene-report") is None
    assert "food-business-licence" not in keys(plan)


@pytest.mark.django_db
def test_savings_are_computed_from_the_definitions():
    plan = restaurant(800)
    items = plan["items"]
    assert plan["metrics"]["statutory_days_serial"] == sum(i["statutory_days"] for i in items)
    # critical path: company 15 -> design 15 -> acceptance 15 -> inspection 10
    assert plan["metrics"]["statutory_days_critical_path"] == 15 + 15 + 15 + 10
    assert plan["metrics"]["departments"] == len({i["department_uscc"] for i in items})


@pytest.mark.django_db
def test_merged_form_asks_each_field_once_and_maps_back_to_every_item():
    plan = restaurant(800)
    props = plan["form"]["properties"]
    assert "enterprise.name" in props and props["enterprise.name"]["x-standard"] == "enterprise.name"
    assert props["enterprise.name"]["x-items"] == [i["code"] for i in plan["items"]]  # asked once, used by all
    for item in plan["items"]:
        for field, bundle_field in plan["form_mapping"][item["code"]].items():
            assert bundle_field in props, (item["code"], field)


@pytest.mark.django_db
def test_answers_are_checked_with_bilingual_field_named_errors():
    with pytest.raises(InvalidInput) as exc:
        plan_bundle("open-hotel", "421200", {"area_sqm": "big", "serves_food": "perhaps"})
    by_field = {p.field: p for p in exc.value.problems}
    assert by_field["answers.area_sqm"].rule == "answer.number"
    assert by_field["answers.serves_food"].rule == "answer.boolean"
    assert by_field["answers.outdoor_sign"].rule == "answer.required"
    with pytest.raises(InvalidInput) as exc:
        plan_bundle("no-such-bundle", "421200", {})
    assert exc.value.problems[0].rule == "bundle.unknown"


@pytest.mark.django_db
def test_every_demo_bundle_plans_in_every_region():
    answers = {"open-restaurant": {"area_sqm": 450}, "open-hotel": HOTEL_ALL_YES, "start-company": {"has_employees": True},
               "sell-house": {"transfer_water": True, "transfer_power": True, "transfer_gas": True},
               "newborn": {"apply_card": True}}
    for region in ["430100", "430200", "430300", "421200", "310118", "320509", "330421"]:
        for code, a in answers.items():
            plan = plan_bundle(code, region, a)
            assert plan["excluded"] == [] or all("condition" in e["reason"] for e in plan["excluded"])
    newborn = plan_bundle("newborn", "421200", {"apply_card": True})
    assert newborn["stages"][0] == ["birth-medical-certificate"]
    house = plan_bundle("sell-house", "310118", answers["sell-house"])
    assert house["stages"] == [["property-transfer"], ["water-transfer", "power-transfer", "gas-transfer"]]


@pytest.mark.django_db
def test_plan_command_prints_the_plan_as_json(capsys):
    call_command("plan", "open-restaurant", "--region", "421200", "--answers", '{"area_sqm": 400}')
    plan = json.loads(capsys.readouterr().out)
    assert set(plan) >= {"bundle", "items", "excluded", "stages", "form", "materials", "metrics"}
    assert plan["bundle"] == {"code": "open-restaurant", "name": "我要开饭馆", "version": 1, "theme": "enterprise"}
    assert set(plan["metrics"]) >= {"departments", "items", "stages", "materials_separately", "materials_bundled",
                                    "visits_separately", "visits_bundled", "statutory_days_serial",
                                    "statutory_days_critical_path"}


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "rule"), [
    (["nosuch", "--region", "421200"], "[bundle.unknown]"),
    (["open-restaurant", "--region", "999999"], "[region.unknown] 区划 999999 不存在"),
    (["open-restaurant", "--region", "421200", "--on", "2020-01-01"], "[bundle.not_in_force]"),
])
def test_plan_command_says_which_of_bundle_region_or_date_is_wrong(capsys, args, rule):
    with pytest.raises(SystemExit):
        call_command("plan", *args)
    err = capsys.readouterr().err
    assert rule in err and "/" in err  # Chinese, then English


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["2026-02-30", "tomorrow"])
def test_plan_command_refuses_an_impossible_date_by_rule_not_traceback(value):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是有效日期.*not a valid date"):
        call_command("plan", "open-restaurant", "--region", "421200", "--on", value)


@pytest.mark.django_db
def test_plan_api_returns_the_plan_and_field_named_errors(client):
    response = client.post("/api/v1/plans", {"bundle": "open-restaurant", "region": "421200", "answers": {"area_sqm": 800}},
                           content_type="application/json")
    assert response.status_code == 200
    assert response.json()["metrics"]["stages"] == 4
    response = client.post("/api/v1/plans", {"bundle": "open-restaurant", "region": "421200", "answers": {"area_sqm": -5}},
                           content_type="application/json")
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["field"] == "answers.area_sqm" and problem["zh"] and problem["en"]


def bundle_doc(**changes):
    bundle = {"code": "bad-bundle", "name": "坏的一件事", "theme": "enterprise", "versions": [{
        "version": 1, "status": "published", "valid_from": "2026-01-01", "regions": ["421200"],
        "questionnaire": [{"key": "area_sqm", "type": "number", "label": "面积"}],
        "items": [{"key": "company-registration", "item": "000117001000"},
                  {"key": "food-business-licence", "item": "000117002000"}]}]}
    version = bundle["versions"][0]
    for key, value in changes.items():
        version[key] = value
    return Document("bad.yaml", {"format": "tongban.catalog/v1", "bundles": [bundle]})


@pytest.mark.django_db
def test_validation_names_a_cycle_an_unknown_item_and_an_unknown_question():
    items = [{"key": "company-registration", "item": "000117001000", "after": ["food-business-licence"]},
             {"key": "food-business-licence", "item": "000117002000"},
             {"key": "mystery", "item": "000199999000"},
             {"key": "fire-design-review", "item": "000118001000", "include_if": {">=": [{"var": "floor_size"}, 500]}}]
    problems = check_documents([bundle_doc(items=items)])
    rules = {p.rule: p for p in problems}
    assert "reference.item" in rules and "000199999000" in rules["reference.item"].zh
    assert "rule.unknown_question" in rules and "floor_size" in rules["rule.unknown_question"].en
    assert rules["rule.unknown_question"].field.endswith("items[3].include_if")
    # With the unknown item and question fixed, the cycle is reported with its members.
    problems = check_documents([bundle_doc(items=[items[0], items[1]])])
    [cycle] = problems
    assert cycle.rule == "bundle.cycle"
    assert "company-registration" in cycle.en and "food-business-licence" in cycle.en


@pytest.mark.django_db
def test_validation_reports_a_missing_producer():
    problems = check_documents([bundle_doc(materials={"fire-acceptance-document": {"source": "produced"}})])
    assert [p.rule for p in problems] == ["bundle.missing_producer"]


@pytest.mark.django_db
def test_validate_command_rejects_bad_bundle_file(tmp_path, capsys):
    import yaml

    doc = copy.deepcopy(bundle_doc(items=[{"key": "x", "item": "000199999000"}]).data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("catalog", "validate", str(path))
    assert "reference.item" in capsys.readouterr().err


def test_rules_in_plain_words_for_people():
    from tongban.bundles.rules import plain

    questions = [{"key": "area_sqm", "type": "number", "unit": "㎡", "label": "经营场所建筑面积", "label_en": "floor area"},
                 {"key": "serves_food", "type": "boolean", "label": "是否提供餐饮服务"}]
    assert plain({">=": [{"var": "area_sqm"}, 500]}, questions) == "经营场所建筑面积不少于 500 ㎡"
    assert plain({">=": [{"var": "area_sqm"}, 500]}, questions, english=True) == "floor area at least 500 ㎡"
    assert plain({"==": [{"var": "serves_food"}, True]}, questions) == "是否提供餐饮服务：是"
    assert plain({"and": [{">=": [{"var": "area_sqm"}, 300]}, {"<": [{"var": "area_sqm"}, 500]}]}, questions) == \
        "经营场所建筑面积不少于 300 ㎡，且经营场所建筑面积小于 500 ㎡"
    assert plain({"in": [{"var": "x"}, ["a"]]}, questions) is None  # no plain form: the caller says less
