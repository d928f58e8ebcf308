"""The one-thing planner: from a bundle definition, a region's items and the applicant's answers,
compute which items apply, in which stages, one merged form, one material checklist and the savings.

Pure: no database access here (see selectors.plan_bundle for the loading). Every figure in `metrics`
is derived from the definitions, never typed in.

Material sources, in order of preference:
- `produced`: the result licence of an included item (that item then comes first);
- a source forced by the bundle (`materials: {code: {source: ...}}`); a material forced to `produced`
  that no included item produces is not needed in this plan (e.g. no fire acceptance document when the
  premises are too small to need fire acceptance);
- `licence`: the material is an electronic licence type the applicant may hold (免证办);
- `data`: obtainable from a data-sharing resource;
- `commitment`: every item needing it accepts a written commitment (告知承诺);
- `applicant`: uploaded or handed in on paper.
"""

from __future__ import annotations

from collections import defaultdict

from tongban.core.errors import InvalidInput, Problem
from tongban.core.inputs import finite_number

from . import rules
from .specs import ItemSpec

HANDED_IN_SOURCES = {"applicant", "commitment"}
# Bounds of a number question that does not state its own (`minimum` / `maximum` in the bundle file):
# answers are quantities (floor area, rooms, sign size), never negative, and never astronomically large.
NUMBER_MINIMUM = 0
NUMBER_MAXIMUM = 1_000_000_000
JSON_TYPES = {"string": "string", "text": "string", "number": "number", "integer": "integer", "boolean": "boolean",
              "date": "string"}


class CycleError(Exception):
    def __init__(self, members: list[str]):
        self.members = members
        super().__init__(" -> ".join(members))


def visible_questions(questionnaire: list[dict], answers: dict) -> list[dict]:
    """Questions shown given the answers so far (a question's show_if reads earlier answers)."""
    shown, known = [], {}
    for q in questionnaire:
        if rules.evaluate(q.get("show_if"), known):
            shown.append(q)
            if q["key"] in answers:
                known[q["key"]] = answers[q["key"]]
    return shown


def clean_answers(questionnaire: list[dict], answers: dict, *, strict: bool) -> dict:
    """Type-check the answers to the visible questions; drop answers to hidden or unknown questions."""
    problems: list[Problem] = []
    cleaned: dict = {}
    for q in visible_questions(questionnaire, answers):
        key, kind, path = q["key"], q["type"], f"answers.{q['key']}"
        if key not in answers or answers[key] is None or answers[key] == "":
            if strict and q.get("required", True):
                problems.append(Problem(path, "answer.required", f"请回答：{q['label']}", f"please answer: {q.get('label_en', key)}"))
            continue
        value = answers[key]
        if kind == "number":
            try:
                value = finite_number(value, field=path, label=q["label"], minimum=q.get("minimum", NUMBER_MINIMUM),
                                      maximum=q.get("maximum", NUMBER_MAXIMUM), rule="answer")
            except InvalidInput as exc:
                problems.extend(exc.problems)
                continue
        elif kind == "boolean":
            if isinstance(value, str) and value.lower() in {"true", "yes", "1", "是"}:
                value = True
            elif isinstance(value, str) and value.lower() in {"false", "no", "0", "否"}:
                value = False
            if not isinstance(value, bool):
                problems.append(Problem(path, "answer.boolean", f"{q['label']} 应为是或否", f"{key} must be yes or no"))
                continue
        elif kind in {"choice", "multi"}:
            allowed = {o["value"] for o in q.get("options", [])}
            values = value if isinstance(value, list) else [value]
            if kind == "choice" and isinstance(value, list) or any(v not in allowed for v in values):
                problems.append(Problem(path, "answer.option", f"{q['label']} 的取值应为 {sorted(allowed)} 之一",
                                        f"{key} must be one of {sorted(allowed)}"))
                continue
        cleaned[key] = value
    if problems:
        raise InvalidInput(problems)
    return cleaned


def dependency_edges(keys: list[str], bundle_items: dict[str, dict], specs: dict[str, ItemSpec],
                     forced_sources: dict[str, str]) -> tuple[dict[str, set[str]], dict[str, str]]:
    """For the included item keys: each item's prerequisites, and which item produces each material."""
    producer_of_type: dict[str, str] = {}
    for key in keys:
        lt = specs[key].result_licence_type
        if lt:
            producer_of_type.setdefault(lt, key)
    producers: dict[str, str] = {}
    deps: dict[str, set[str]] = {key: set() for key in keys}
    for key in keys:
        for m in specs[key].materials:
            producer = producer_of_type.get(m.licence_type) if m.licence_type else None
            if producer and producer != key:
                deps[key].add(producer)
                producers[m.code] = producer
        for before in bundle_items[key].get("after", []):
            if before in deps and before != key:
                deps[key].add(before)
    return deps, producers


def stages_of(deps: dict[str, set[str]], order: list[str]) -> list[list[str]]:
    """Layer the items: stage = 1 + the latest stage among prerequisites. Raises CycleError."""
    level: dict[str, int] = {}
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(key: str, path: list[str]) -> int:
        if state.get(key) == 2:
            return level[key]
        if state.get(key) == 1:
            raise CycleError(path[path.index(key):] + [key])
        state[key] = 1
        level[key] = 1 + max((visit(d, [*path, key]) for d in sorted(deps[key])), default=-1)
        state[key] = 2
        return level[key]

    for key in order:
        visit(key, [])
    stages: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for key in order:
        stages[level[key]].append(key)
    return stages


def critical_path_days(deps: dict[str, set[str]], stages: list[list[str]], days: dict[str, int]) -> int:
    """Longest path through the dependency graph, weighted by days (stages give a topological order)."""
    finish: dict[str, int] = {}
    for stage in stages:
        for key in stage:
            finish[key] = days[key] + max((finish[d] for d in deps[key]), default=0)
    return max(finish.values(), default=0)


def make_plan(*, bundle: dict, definition: dict, region_code: str, answers: dict, items: dict[str, ItemSpec],
              strict: bool = True) -> dict:
    """`items` maps basic code -> the region's item in force. Returns the plan as a JSON-ready dict."""
    questionnaire = definition.get("questionnaire", [])
    cleaned = clean_answers(questionnaire, answers, strict=strict)
    bundle_items = {bi["key"]: bi for bi in definition["items"]}
    forced_sources = {code: o["source"] for code, o in (definition.get("materials") or {}).items() if o.get("source")}

    included: list[str] = []
    specs: dict[str, ItemSpec] = {}
    reasons: dict[str, str] = {}
    whys: dict[str, dict] = {}
    excluded: list[dict] = []
    for key, bi in bundle_items.items():
        spec = items.get(bi["item"])
        rule = bi.get("include_if")
        if spec is None:
            excluded.append({"code": key, "basic_code": bi["item"], "name": bi.get("name", bi["item"]),
                             "reason": f"本区划（{region_code}）未实施该事项 / not implemented in region {region_code}",
                             "why": "本地区未开展该事项", "why_en": "not offered in this region"})
            continue
        if rules.evaluate(rule, cleaned):
            included.append(key)
            specs[key] = spec
            reasons[key] = (bi.get("reason") or "一件事必办事项 / always part of this bundle") + (
                f" [{rules.describe(rule)}]" if rule is not None else "")
            whys[key] = _why_included(bi, rule, questionnaire)
        else:
            excluded.append({"code": key, "basic_code": spec.basic_code, "name": spec.name,
                             "reason": f"条件不满足 / condition not met: {rules.describe(rule)}"
                                       + (f" ({bi['reason']})" if bi.get("reason") else ""),
                             **_why_excluded(bi, rule, questionnaire)})

    deps, producers = dependency_edges(included, bundle_items, specs, forced_sources)
    stages = stages_of(deps, included)
    stage_of = {key: n for n, stage in enumerate(stages, start=1) for key in stage}

    dropped = {code for code, o in (definition.get("materials") or {}).items()
               if "include_if" in o and not rules.evaluate(o["include_if"], cleaned)}
    materials, used_counts = _checklist(included, specs, producers, forced_sources, dropped)
    form, mapping = _merged_form(included, specs, definition.get("fields") or {})

    departments = {specs[k].department_uscc for k in included}
    metrics = {
        "departments": len(departments),
        "items": len(included),
        "stages": len(stages),
        "materials_separately": used_counts,
        "materials_bundled": sum(1 for m in materials if m["source"] in HANDED_IN_SOURCES),
        "visits_separately": sum(specs[k].visits for k in included),
        "visits_bundled": max((specs[k].visits for k in included), default=0),
        "statutory_days_serial": sum(specs[k].statutory_days for k in included),
        "statutory_days_critical_path": critical_path_days(deps, stages, {k: specs[k].statutory_days for k in included}),
        "promised_days_serial": sum(specs[k].promised_days for k in included),
        "promised_days_critical_path": critical_path_days(deps, stages, {k: specs[k].promised_days for k in included}),
    }
    return {
        "bundle": bundle,
        "region": region_code,
        "answers": cleaned,
        "items": [
            {"code": k, "basic_code": specs[k].basic_code, "implementation_code": specs[k].implementation_code,
             "name": specs[k].name, "department": specs[k].department_name, "department_uscc": specs[k].department_uscc,
             "stage": stage_of[k], "after": sorted(deps[k]), "reason": reasons[k], **whys[k], "version": specs[k].version,
             "statutory_days": specs[k].statutory_days, "promised_days": specs[k].promised_days,
             "result": specs[k].result_name, "result_licence_type": specs[k].result_licence_type}
            for stage in stages for k in stage
        ],
        "excluded": excluded,
        "stages": stages,
        "form": form,
        "form_mapping": mapping,
        "materials": materials,
        "metrics": metrics,
    }


def _checklist(included: list[str], specs: dict[str, ItemSpec], producers: dict[str, str],
               forced: dict[str, str], dropped: set[str]) -> tuple[list[dict], int]:
    entries: dict[str, dict] = {}
    users: dict[str, list[str]] = defaultdict(list)
    separately = 0
    for key in included:
        for m in specs[key].materials:
            producer = producers.get(m.code)
            if m.code in dropped or (forced.get(m.code) == "produced" and producer is None):
                continue  # not needed for these answers, or only when an included item produces it
            separately += 1
            users[m.code].append(key)
            entry = entries.get(m.code)
            if entry is None:
                entry = entries[m.code] = {"code": m.code, "name": m.name, "licence_type": m.licence_type,
                                           "data_resource": m.data_resource or None, "required": False,
                                           "commitment_allowed": True, "minor": True, "producer": producer}
            entry["required"] |= m.requirement == "required"
            entry["commitment_allowed"] &= m.commitment_allowed
            entry["minor"] &= m.minor
    for code, entry in entries.items():
        entry["used_by"] = users[code]
        entry["source"] = _source(entry, forced.get(code))
    return list(entries.values()), separately


def _why_included(bi: dict, rule, questionnaire: list[dict]) -> dict:
    """Why an item is in the plan, for people ("reason" keeps the rule for developers and the API)."""
    condition_en = rules.plain(rule, questionnaire, english=True) if rule is not None else None
    return {"why": bi.get("reason") or ("根据您的回答需要办理" if rule is not None else "一件事必办事项"),
            "why_en": f"needed because {condition_en}" if condition_en else
            ("needed for your answers" if rule is not None else "always part of this bundle")}


def _why_excluded(bi: dict, rule, questionnaire: list[dict]) -> dict:
    """Why an item is not in the plan, in words: the case in which it would be needed."""
    condition = rules.plain(rule, questionnaire)
    condition_en = rules.plain(rule, questionnaire, english=True)
    when = bi.get("reason") or (f"{condition}时办理" if condition else "")
    return {"why": "根据您的回答，本次无需办理" + (f"（{when}）" if when else ""),
            "why_en": "not needed for your answers" + (f" (needed when {condition_en})" if condition_en else "")}


def _source(entry: dict, forced: str | None) -> str:
    if entry["producer"]:
        return "produced"
    if forced and forced != "produced":
        return forced
    if entry["licence_type"]:
        return "licence"
    if entry["data_resource"]:
        return "data"
    if entry["commitment_allowed"]:
        return "commitment"
    return "applicant"


def _merged_form(included: list[str], specs: dict[str, ItemSpec], overrides: dict) -> tuple[dict, dict]:
    properties: dict[str, dict] = {}
    required: set[str] = set()
    mapping: dict[str, dict[str, str]] = {}
    for key in included:
        mapping[key] = {}
        for f in specs[key].form:
            name = f.standard or f"{key}.{f.name}"
            mapping[key][f.name] = name
            prop = properties.get(name)
            if prop is None:
                override = overrides.get(name, {})
                prop = properties[name] = {"type": JSON_TYPES.get(override.get("type", f.type), "string"),
                                           "title": override.get("label", f.label), "x-items": []}
                if f.type == "date":
                    prop["format"] = "date"
                if f.standard:
                    prop["x-standard"] = f.standard
            prop["x-items"].append(key)
            if f.required:
                required.add(name)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": properties, "required": sorted(required)}
    return schema, mapping
