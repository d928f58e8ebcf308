"""Reading and checking catalogue files (tongban.catalog/v1).

`load_documents(path)` reads one file or every *.yaml / *.yml / *.json file of a folder;
`check_documents(docs)` returns every problem found (structure per the JSON Schema, then codes and
references across all documents and the database), each naming the file, the path of the field
inside it and the rule, in Chinese and English. Nothing is written here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from tongban.core.codes import (
    ITEM_TYPES,
    check_basic_code,
    check_implementation_code,
    check_region_code,
    check_uscc,
)
from tongban.core.errors import Problem
from tongban.licences.sources import APPLICANT_STANDARDS, check_declarations, field_sources

FORMAT = "tongban.catalog/v1"
SCHEMA_PATH = Path(__file__).parent / "schema" / "catalog-v1.schema.json"


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that keeps dates as text (the format's dates are ISO strings)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_text(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@dataclass
class Document:
    name: str
    data: dict


@dataclass
class CheckContext:
    """Everything declared across the documents (plus what the database already holds)."""

    regions: dict[str, dict] = field(default_factory=dict)
    departments: dict[str, dict] = field(default_factory=dict)
    licence_types: dict[str, dict] = field(default_factory=dict)
    materials: dict[str, dict] = field(default_factory=dict)
    items: dict[tuple[str, str], dict] = field(default_factory=dict)  # (region, basic_code) -> item
    issuer_grants: set[tuple[str, str]] = field(default_factory=set)  # (licence type, USCC) held in the database
    bundles_by_item: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (region, basic_code) -> bundles
    use_database: bool = False


def load_documents(path: str | Path) -> tuple[list[Document], list[Problem]]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml", ".json"} and p.is_file())
    elif path.is_file():
        files = [path]
    else:
        return [], [Problem("path", "file.missing", f"找不到文件或目录 {path}", f"no such file or folder {path}", file=str(path))]
    docs, problems = [], []
    for file in files:
        try:
            data = parse_text(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(Problem("(file)", "file.syntax", f"无法解析 YAML/JSON：{exc}", f"cannot parse YAML/JSON: {exc}", file=str(file)))
            continue
        if not isinstance(data, dict):
            problems.append(Problem("(file)", "file.object", "文件内容应为一个对象", "the file must hold one object", file=str(file)))
            continue
        docs.append(Document(str(file), data))
    return docs, problems


def _json_path(error: jsonschema.ValidationError) -> str:
    parts: list[str] = []
    for p in error.absolute_path:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(document)"


# YAML reads an unquoted code such as 000138152448 as a number (and drops its leading zeros).
QUOTE_HINT = ("YAML 把未加引号的编码读成了数字（前导 0 会丢失），请给编码加引号，如 \"000117001000\"",
              "YAML read an unquoted code as a number (leading zeros are lost): quote it, e.g. \"000117001000\"")


def _schema_problem(doc: Document, error: jsonschema.ValidationError) -> Problem:
    path = _json_path(error)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        path = f"{path}.{missing}" if path != "(document)" else missing
        return Problem(path, "schema.required", f"缺少必填字段 {missing}", f"required field {missing} is missing", file=doc.name)
    if error.validator == "minimum":
        return Problem(path, "schema.minimum", f"取值 {error.instance} 小于最小值 {error.validator_value}",
                       f"value {error.instance} is below the minimum {error.validator_value}", file=doc.name)
    if error.validator == "additionalProperties":
        return Problem(path, "schema.unknown_field", f"未知字段：{error.message}", f"unknown field: {error.message}", file=doc.name)
    if error.validator in {"enum", "const"}:
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        return Problem(path, f"schema.{error.validator}", f"取值 {error.instance!r} 不在允许范围 {allowed}",
                       f"value {error.instance!r} is not one of {allowed}", file=doc.name)
    if error.validator == "type":
        zh, en = f"类型应为 {error.validator_value}", f"must be of type {error.validator_value}"
        if "string" in error.validator_value and isinstance(error.instance, int | float) \
                and not isinstance(error.instance, bool):
            zh, en = zh + "；" + QUOTE_HINT[0], en + "; " + QUOTE_HINT[1]
        return Problem(path, "schema.type", zh, en, file=doc.name)
    if error.validator == "pattern":
        return Problem(path, "schema.pattern", f"取值 {error.instance!r} 不符合格式 {error.validator_value}",
                       f"value {error.instance!r} does not match {error.validator_value}", file=doc.name)
    return Problem(path, f"schema.{error.validator}", f"不符合格式要求：{error.message}", f"does not match the format: {error.message}", file=doc.name)


def check_documents(docs: list[Document], *, use_database: bool = True) -> list[Problem]:
    """Every problem in the documents; an empty list means they can be imported."""
    validator = jsonschema.Draft202012Validator(schema())
    problems: list[Problem] = []
    for doc in docs:
        problems.extend(_schema_problem(doc, e) for e in sorted(validator.iter_errors(doc.data), key=lambda e: list(e.absolute_path)))
    ctx = _collect(docs, use_database)
    for doc in docs:
        problems.extend(_check_references(doc, ctx))
    from tongban.bundles.validation import check_bundle_documents

    problems.extend(check_bundle_documents(docs, ctx))
    return problems


def _collect(docs: list[Document], use_database: bool) -> CheckContext:
    ctx = CheckContext(use_database=use_database)
    if use_database:
        _collect_from_database(ctx)
    for doc in docs:
        d = doc.data
        for r in _dicts(d.get("regions")):
            ctx.regions[str(r.get("code"))] = r
        for dep in _dicts(d.get("departments")):
            ctx.departments[str(dep.get("uscc"))] = dep
        for lt in _dicts(d.get("licence_types")):
            ctx.licence_types[str(lt.get("code"))] = lt
        for m in _dicts(d.get("materials")):
            ctx.materials[str(m.get("code"))] = m
        for it in _dicts(d.get("items")):
            ctx.items[(str(it.get("region")), str(it.get("basic_code")))] = it
        for bundle in _dicts(d.get("bundles")):
            for version in _dicts(bundle.get("versions")):
                for region in version.get("regions") or []:
                    for entry in _dicts(version.get("items")):
                        users = ctx.bundles_by_item.setdefault((str(region), str(entry.get("item"))), [])
                        if bundle.get("code") not in users:
                            users.append(str(bundle.get("code")))
    return ctx


def _collect_from_database(ctx: CheckContext) -> None:
    from tongban.catalog.models import Item, LicenceType, MaterialKind
    from tongban.regions.models import Department, Region

    for code, name, level, parent in Region.objects.values_list("code", "name", "level", "parent_id"):
        ctx.regions[code] = {"code": code, "name": name, "level": level, "parent": parent}
    for uscc, region, kind in Department.objects.values_list("uscc", "region_id", "kind"):
        ctx.departments[uscc] = {"uscc": uscc, "region": region, "kind": kind}
    from tongban.licences.models import LicenceTypeIssuer

    ctx.issuer_grants = set(LicenceTypeIssuer.objects.filter(active=True)
                            .values_list("licence_type__code", "department__uscc"))
    for code, fields in LicenceType.objects.values_list("code", "fields"):
        ctx.licence_types[code] = {"code": code, "fields": fields}
    for code, name, licence_type, data_resource in MaterialKind.objects.values_list(
            "code", "name", "licence_type__code", "data_resource"):
        ctx.materials[code] = {"code": code, "name": name, "licence_type": licence_type, "data_resource": data_resource}
    for region, basic_code, dep_uscc in Item.objects.values_list("region_id", "basic_code", "department__uscc"):
        ctx.items[(region, basic_code)] = {"region": region, "basic_code": basic_code, "department": dep_uscc, "from_db": True}


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _check_references(doc: Document, ctx: CheckContext) -> list[Problem]:
    d, out = doc.data, []

    def add(problems: list[Problem], path: str):
        for p in problems:
            out.append(Problem(path, p.rule, p.zh, p.en, file=doc.name))

    for i, r in enumerate(_dicts(d.get("regions"))):
        add(check_region_code(str(r.get("code", ""))), f"regions[{i}].code")
        parent = r.get("parent")
        if parent and str(parent) not in ctx.regions:
            out.append(Problem(f"regions[{i}].parent", "reference.region", f"上级区划 {parent} 未定义",
                               f"parent region {parent} is not defined", file=doc.name))
    for i, dep in enumerate(_dicts(d.get("departments"))):
        add(check_uscc(str(dep.get("uscc", ""))), f"departments[{i}].uscc")
        if str(dep.get("region")) not in ctx.regions:
            out.append(Problem(f"departments[{i}].region", "reference.region", f"区划 {dep.get('region')} 未定义",
                               f"region {dep.get('region')} is not defined", file=doc.name))
        from tongban.regions.models import Department

        if dep.get("kind") not in Department.Kind.values:
            out.append(Problem(f"departments[{i}].kind", "department.kind", f"部门类别 {dep.get('kind')} 未知，可选：{', '.join(Department.Kind.values)}",
                               f"unknown department kind {dep.get('kind')}; one of {', '.join(Department.Kind.values)}", file=doc.name))
    for i, m in enumerate(_dicts(d.get("materials"))):
        lt = m.get("licence_type")
        if lt and lt not in ctx.licence_types:
            out.append(Problem(f"materials[{i}].licence_type", "reference.licence_type", f"证照类型 {lt} 未定义",
                               f"licence type {lt} is not defined", file=doc.name))
    for i, lt in enumerate(_dicts(d.get("licence_types"))):
        code = str(lt.get("code", ""))
        if len(code) == 21 and check_uscc(code[:18]):
            out.append(Problem(f"licence_types[{i}].code", "licence_type.uscc", f"证照类型代码前 18 位 {code[:18]} 不是有效的统一社会信用代码",
                               f"the first 18 characters {code[:18]} of the licence type code are not a valid USCC", file=doc.name))
        for path, p in check_declarations(lt.get("fields")):
            out.append(Problem(f"licence_types[{i}].fields{path}", p.rule, p.zh, p.en, file=doc.name))
        out.extend(_check_issuer_rules(doc, ctx, i, lt))
    for i, it in enumerate(_dicts(d.get("items"))):
        out.extend(_check_item(doc, ctx, i, it))
    return out


def _check_issuer_rules(doc: Document, ctx: CheckContext, i: int, lt: dict) -> list[Problem]:
    from tongban.regions.models import Department

    out = []
    for k, rule in enumerate(_dicts(lt.get("issuers"))):
        path = f"licence_types[{i}].issuers[{k}]"
        uscc, kind, region = rule.get("department"), rule.get("kind"), rule.get("region")
        if uscc and str(uscc) not in ctx.departments:
            out.append(Problem(f"{path}.department", "reference.department", f"发证部门 {uscc} 未定义",
                               f"issuing department {uscc} is not defined", file=doc.name))
        if kind and kind not in Department.Kind.values:
            out.append(Problem(f"{path}.kind", "department.kind", f"部门类别 {kind} 未知，可选：{', '.join(Department.Kind.values)}",
                               f"unknown department kind {kind}; one of {', '.join(Department.Kind.values)}", file=doc.name))
        if region and str(region) not in ctx.regions:
            out.append(Problem(f"{path}.region", "reference.region", f"区划 {region} 未定义", f"region {region} is not defined",
                               file=doc.name))
    return out


def may_issue(ctx: CheckContext, licence_type: str, uscc: str) -> bool:
    """Whether the department `uscc` may issue `licence_type`: a rule of the licence type in the
    documents names it or its kind (and region), or the database already holds the grant."""
    department = ctx.departments.get(uscc) or {}
    for rule in _dicts((ctx.licence_types.get(licence_type) or {}).get("issuers")):
        if rule.get("department") and str(rule["department"]) == uscc:
            return True
        if rule.get("kind") and rule["kind"] == department.get("kind") and \
                (not rule.get("region") or str(rule["region"]) == str(department.get("region"))):
            return True
    return (licence_type, uscc) in ctx.issuer_grants


def _check_result_issuer(doc: Document, ctx: CheckContext, path: str, item: dict, licence_type: str) -> list[Problem]:
    """A result nobody may sign fails at the decision step, with the case half done: refuse it here.
    Without the database (--offline) only licence types that declare their issuers are checked."""
    declared = "issuers" in (ctx.licence_types.get(licence_type) or {})
    uscc = str(item.get("department"))
    if (not ctx.use_database and not declared) or may_issue(ctx, licence_type, uscc):
        return []
    region, basic = str(item.get("region")), str(item.get("basic_code"))
    bundles = ctx.bundles_by_item.get((region, basic), [])
    used_zh = f"；一件事 {', '.join(bundles)} 在该区划因此无法出证" if bundles else ""
    used_en = f"; so bundle(s) {', '.join(bundles)} cannot deliver it in that region" if bundles else ""
    name = (ctx.licence_types.get(licence_type) or {}).get("name", licence_type)
    return [Problem(path, "licence.issuer.missing",
                    f"事项 {basic}（区划 {region}）的结果证照“{name}”({licence_type}) 没有获授权的发证部门："
                    f"实施主体 {uscc} 未获授权（在证照类型的 issuers 中声明）{used_zh}",
                    f"item {basic} (region {region}): nobody may issue its result licence {licence_type}: the "
                    f"implementing department {uscc} is not authorised (declare it in the licence type's issuers){used_en}",
                    file=doc.name)]


def _check_form_sources(doc: Document, path: str, licence_type: dict, version: dict) -> list[Problem]:
    """Every licence field taken from the form names a standard field this version's form has (or one
    the applicant's own record answers): otherwise approval could never sign the licence."""
    standards = {f.get("standard") for f in _dicts(version.get("form"))} | set(APPLICANT_STANDARDS)
    out = []
    for spec in field_sources(licence_type.get("fields") or []):
        if spec.kind == "form" and spec.required and not any(name in standards for name in spec.ref):
            out.append(Problem(path, "licence_field.form_missing",
                               f"结果证照“{licence_type.get('name', licence_type.get('code'))}”的字段“{spec.name}”取自申请表"
                               f"“{'/'.join(spec.ref)}”，但本事项的申请表没有该标准字段",
                               f"the result licence's field {spec.name} comes from the form's {'/'.join(spec.ref)}, "
                               "which this item's form does not have", file=doc.name))
    return out


def _check_item(doc: Document, ctx: CheckContext, i: int, it: dict) -> list[Problem]:
    out: list[Problem] = []
    base = f"items[{i}]"
    basic = str(it.get("basic_code", ""))
    for p in check_basic_code(basic):
        out.append(Problem(f"{base}.basic_code", p.rule, p.zh, p.en, file=doc.name))
    dep_uscc = str(it.get("department", ""))
    department = ctx.departments.get(dep_uscc)
    if department is None:
        out.append(Problem(f"{base}.department", "reference.department", f"实施主体 {dep_uscc} 未定义（不在本文件的 departments 中，也不在数据库中）",
                           f"implementing department {dep_uscc} is not defined (neither in the file's departments nor in the database)", file=doc.name))
    elif str(department.get("region")) != str(it.get("region")):
        out.append(Problem(f"{base}.department", "reference.department_region", f"实施主体 {dep_uscc} 不属于区划 {it.get('region')}",
                           f"implementing department {dep_uscc} does not belong to region {it.get('region')}", file=doc.name))
    if str(it.get("region")) not in ctx.regions:
        out.append(Problem(f"{base}.region", "reference.region", f"区划 {it.get('region')} 未定义", f"region {it.get('region')} is not defined", file=doc.name))
    for p in check_implementation_code(str(it.get("implementation_code", "")), basic_code=basic, department_uscc=dep_uscc if department else ""):
        out.append(Problem(f"{base}.implementation_code", p.rule, p.zh, p.en, file=doc.name))
    seen_versions: set[int] = set()
    for j, v in enumerate(_dicts(it.get("versions"))):
        vpath = f"{base}.versions[{j}]"
        number = v.get("version")
        if number in seen_versions:
            out.append(Problem(f"{vpath}.version", "version.duplicate", f"版本号 {number} 重复", f"version {number} appears twice", file=doc.name))
        seen_versions.add(number)
        if v.get("status") == "published" and not v.get("valid_from"):
            out.append(Problem(f"{vpath}.valid_from", "version.valid_from", "已发布版本必须有生效日期", "a published version needs valid_from", file=doc.name))
        if isinstance(v.get("type"), str) and v["type"] not in ITEM_TYPES:
            out.append(Problem(f"{vpath}.type", "item.type", f"事项类型 {v['type']} 不在 GB/T 39046 类型表中", f"item type {v['type']} is not a GB/T 39046 type", file=doc.name))
        elif basic[2:4].isdigit() and isinstance(v.get("type"), str) and v["type"] != basic[2:4]:
            out.append(Problem(f"{vpath}.type", "item.type_mismatch", f"事项类型 {v['type']} 与基本编码中的类型 {basic[2:4]} 不一致",
                               f"item type {v['type']} differs from the type {basic[2:4]} in the basic code", file=doc.name))
        sd, pd = v.get("statutory_days"), v.get("promised_days")
        if isinstance(sd, int) and isinstance(pd, int) and pd > sd:
            out.append(Problem(f"{vpath}.promised_days", "time_limit.promised", f"承诺时限 {pd} 个工作日不得超过法定时限 {sd} 个工作日",
                               f"the promised limit of {pd} working days must not exceed the statutory limit of {sd}", file=doc.name))
        result_type = (v.get("result") or {}).get("licence_type") if isinstance(v.get("result"), dict) else None
        if result_type and result_type not in ctx.licence_types:
            out.append(Problem(f"{vpath}.result.licence_type", "reference.licence_type", f"结果证照类型 {result_type} 未定义",
                               f"result licence type {result_type} is not defined", file=doc.name))
        elif result_type:
            out.extend(_check_form_sources(doc, f"{vpath}.result.licence_type", ctx.licence_types[result_type], v))
            if department is not None:
                out.extend(_check_result_issuer(doc, ctx, f"{vpath}.result.licence_type", it, result_type))
        for code in ((v.get("cross_region") or {}).get("regions") or []) if isinstance(v.get("cross_region"), dict) else []:
            if str(code) not in ctx.regions and check_region_code(str(code)):
                out.append(Problem(f"{vpath}.cross_region.regions", "reference.region", f"通办区域 {code} 不是有效的区划代码",
                                   f"cross-region scope entry {code} is not a valid region code", file=doc.name))
        seen_materials: set[str] = set()
        for k, m in enumerate(_dicts(v.get("materials"))):
            code = str(m.get("material"))
            if code not in ctx.materials:
                out.append(Problem(f"{vpath}.materials[{k}].material", "reference.material", f"材料 {code} 未在材料目录中定义",
                                   f"material {code} is not defined in the materials list", file=doc.name))
            if code in seen_materials:
                out.append(Problem(f"{vpath}.materials[{k}].material", "material.duplicate", f"材料 {code} 重复", f"material {code} is listed twice", file=doc.name))
            seen_materials.add(code)
        names = [f.get("name") for f in _dicts(v.get("form"))]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            out.append(Problem(f"{vpath}.form", "form.duplicate", f"申请表字段 {dup} 重复", f"form field {dup} appears twice", file=doc.name))
    return out
