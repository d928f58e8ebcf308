"""Checks of bundle definitions in catalogue files: questions, rules, items, ordering, dependencies.

Called by `tongban catalog validate` (through catalog.format.check_documents). For every region a
bundle version names, the dependency graph with every item included must be acyclic and every
material forced to `produced` must have a producer among the bundle's items.
"""

from __future__ import annotations

from tongban.catalog.format import CheckContext, Document
from tongban.core.errors import Problem

from . import rules
from .planner import CycleError, dependency_edges, stages_of
from .specs import ItemSpec, from_file_item, from_item_version


def check_bundle_documents(docs: list[Document], ctx: CheckContext) -> list[Problem]:
    problems: list[Problem] = []
    for doc in docs:
        bundles = doc.data.get("bundles")
        if not isinstance(bundles, list):
            continue
        for i, bundle in enumerate(bundles):
            if not isinstance(bundle, dict):
                continue
            for j, version in enumerate(bundle.get("versions") or []):
                if isinstance(version, dict):
                    problems.extend(_check_version(doc, ctx, f"bundles[{i}].versions[{j}]", version))
    return problems


def _check_version(doc: Document, ctx: CheckContext, base: str, v: dict) -> list[Problem]:
    out: list[Problem] = []

    def add(path: str, rule: str, zh: str, en: str) -> None:
        out.append(Problem(f"{base}.{path}", rule, zh, en, file=doc.name))

    if v.get("status") == "published" and not v.get("valid_from"):
        add("valid_from", "version.valid_from", "已发布版本必须有生效日期", "a published version needs valid_from")
    regions = [str(r) for r in v.get("regions") or []]
    for k, code in enumerate(regions):
        if code not in ctx.regions:
            add(f"regions[{k}]", "reference.region", f"区划 {code} 未定义", f"region {code} is not defined")

    questions = [q for q in v.get("questionnaire") or [] if isinstance(q, dict)]
    seen: list[str] = []
    for k, q in enumerate(questions):
        key = q.get("key")
        if key in seen:
            add(f"questionnaire[{k}].key", "question.duplicate", f"问题 {key} 重复", f"question {key} appears twice")
        if q.get("type") in {"choice", "multi"} and not q.get("options"):
            add(f"questionnaire[{k}].options", "question.options", f"选择题 {key} 需要选项", f"choice question {key} needs options")
        out.extend(_check_rule(doc, f"{base}.questionnaire[{k}].show_if", q.get("show_if"), set(seen),
                               "只能引用前面的问题", "may only refer to earlier questions"))
        seen.append(key)
    question_keys = set(seen)

    bundle_items = [bi for bi in v.get("items") or [] if isinstance(bi, dict)]
    keys = [bi.get("key") for bi in bundle_items]
    for k, bi in enumerate(bundle_items):
        if keys.count(bi.get("key")) > 1 and keys.index(bi.get("key")) != k:
            add(f"items[{k}].key", "bundle_item.duplicate", f"事项键 {bi.get('key')} 重复", f"item key {bi.get('key')} appears twice")
        basic = str(bi.get("item"))
        implemented_in = {r for (r, b) in ctx.items if b == basic}
        if not implemented_in:
            add(f"items[{k}].item", "reference.item", f"未知事项 {basic}（没有任何区划实施该基本编码）",
                f"unknown item {basic} (no region implements this basic code)")
        else:
            for code in regions:
                if code in ctx.regions and code not in implemented_in:
                    add(f"items[{k}].item", "reference.item_region", f"区划 {code} 未实施事项 {basic}",
                        f"region {code} does not implement item {basic}")
        out.extend(_check_rule(doc, f"{base}.items[{k}].include_if", bi.get("include_if"), question_keys,
                               "引用了未定义的问题", "names a question that is not defined"))
        for after in bi.get("after") or []:
            if after not in keys:
                add(f"items[{k}].after", "reference.bundle_item", f"排序依赖 {after} 不是本一件事中的事项",
                    f"ordering dependency {after} is not an item of this bundle")
    for code, override in (v.get("materials") or {}).items():
        if code not in ctx.materials:
            add(f"materials.{code}", "reference.material", f"材料 {code} 未定义", f"material {code} is not defined")
        if isinstance(override, dict):
            out.extend(_check_rule(doc, f"{base}.materials.{code}.include_if", override.get("include_if"), question_keys,
                                   "引用了未定义的问题", "names a question that is not defined"))
    if not out:
        for code in regions:
            out.extend(_check_graph(doc, ctx, base, v, bundle_items, code))
    return out


def _check_rule(doc: Document, path: str, rule, known: set[str], zh_tail: str, en_tail: str) -> list[Problem]:
    if rule is None:
        return []
    out = []
    for op in sorted(rules.unknown_operators(rule)):
        out.append(Problem(path, "rule.operator", f"规则使用了不支持的运算符 {op}", f"the rule uses an unsupported operator {op}", file=doc.name))
    for name in sorted(rules.variables(rule) - known):
        out.append(Problem(path, "rule.unknown_question", f"规则中的问题 {name} {zh_tail}", f"the rule's question {name} {en_tail}", file=doc.name))
    return out


def _check_graph(doc: Document, ctx: CheckContext, base: str, v: dict, bundle_items: list[dict], region: str) -> list[Problem]:
    specs = {bi["key"]: spec for bi in bundle_items if (spec := _spec(ctx, region, str(bi["item"]))) is not None}
    items_by_key = {bi["key"]: bi for bi in bundle_items}
    keys = [bi["key"] for bi in bundle_items if bi["key"] in specs]
    forced = {code: o.get("source") for code, o in (v.get("materials") or {}).items() if isinstance(o, dict) and o.get("source")}
    deps, _ = dependency_edges(keys, items_by_key, specs, forced)
    out: list[Problem] = []
    try:
        stages_of(deps, keys)
    except CycleError as exc:
        cycle = " -> ".join(exc.members)
        out.append(Problem(f"{base}.items", "bundle.cycle", f"区划 {region} 的事项依赖存在循环：{cycle}",
                           f"the items' dependencies form a cycle in region {region}: {cycle}", file=doc.name))
    produced_types = {s.result_licence_type for s in specs.values() if s.result_licence_type}
    for code, source in forced.items():
        lt = (ctx.materials.get(code) or {}).get("licence_type")
        if source == "produced" and (not lt or lt not in produced_types):
            out.append(Problem(f"{base}.materials.{code}", "bundle.missing_producer",
                               f"材料 {code} 标为由前序事项产生，但区划 {region} 的事项中没有产生它的事项",
                               f"material {code} is marked produced, but no item of the bundle produces it in region {region}", file=doc.name))
    return out


def _spec(ctx: CheckContext, region: str, basic: str) -> ItemSpec | None:
    item = ctx.items.get((region, basic))
    if item is None:
        return None
    if item.get("from_db"):
        from tongban.catalog.models import ItemVersion

        version = (ItemVersion.objects.filter(item__region_id=region, item__basic_code=basic)
                   .select_related("item__department", "result_licence_type")
                   .prefetch_related("materials__kind__licence_type").order_by("-version").first())
        return from_item_version(version) if version else None
    versions = [x for x in item.get("versions") or [] if isinstance(x, dict)]
    if not versions:
        return None
    latest = max(versions, key=lambda x: x.get("version") or 0)
    return from_file_item(item, latest, ctx.materials)

