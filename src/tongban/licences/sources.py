"""Where each field of a licence comes from (证照字段来源), as the catalogue declares it.

A licence type's `fields` list holds, per field, either a bare name (catalogue files written before
field sources existed) or a declaration:

    {name: 经营项目, type: string, source: {decision: {label: 经营项目, type: choice, choices: [...]}}}

Sources (exactly one per field):
- `form: <standard name>` (or a list: the first that has a value): the merged application form's
  standard field, or the applicant's own record for the applicant standards (`APPLICANT_STANDARDS`);
- `decision: {label, type, ...}`: entered by the officer at the decision step;
- `case: <key>` (`CASE_KEYS`): the case itself (number, decision date, applicant ...);
- `issuer: <key>` (`ISSUER_KEYS`): the issuing department;
- `fixed: <value>`: the catalogue fixes the value for every licence of the type.
A bare name is treated as a free-text decision field labelled with its name: an old catalogue keeps
working, and what it did not declare is typed by an officer instead of being made up.

Nothing here reads the database: `resolve()` gets the values it may use and returns the licence data
or every problem (a missing value is an error naming its source, never a placeholder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tongban.core.errors import Problem

SOURCE_KINDS = ("form", "decision", "case", "issuer", "fixed")
CASE_KEYS = {
    "number": ("办件编号", "case number"),
    "title": ("办件名称", "case title"),
    "accepted_on": ("受理日期", "acceptance date"),
    "decided_on": ("决定日期", "decision date"),
    "applicant_name": ("申请人名称", "applicant name"),
    "applicant_code": ("申请人证件号码或统一社会信用代码", "applicant ID number or USCC"),
}
ISSUER_KEYS = {
    "name": ("发证部门名称", "issuing department name"),
    "uscc": ("发证部门统一社会信用代码", "issuing department USCC"),
    "region": ("发证部门区划代码", "issuing department region code"),
}
# Standards every case can answer from its applicant's own record (enterprise or person).
APPLICANT_STANDARDS = ("enterprise.name", "enterprise.uscc", "enterprise.address",
                       "enterprise.legal_representative.name", "person.name", "person.id_number")
LICENCE_TYPES = ("string", "date", "integer", "boolean")
DECISION_TYPES = {"string": "string", "text": "string", "choice": "string", "date": "date", "integer": "integer"}
MAX_LENGTH = {"string": 200, "text": 2000, "choice": 200}


@dataclass(frozen=True)
class FieldSource:
    name: str
    label: str
    type: str
    required: bool
    kind: str
    ref: object  # standard names (tuple), case / issuer key, fixed value, or the decision declaration (dict)
    declared: bool = True

    @property
    def decision(self) -> dict:
        return self.ref if self.kind == "decision" else {}


@dataclass
class Values:
    """What a licence's data may be made from."""

    standard: dict[str, object] = field(default_factory=dict)
    case: dict[str, object] = field(default_factory=dict)
    issuer: dict[str, object] = field(default_factory=dict)
    decision: dict[str, object] = field(default_factory=dict)


def field_sources(fields: list) -> list[FieldSource]:
    """The declared (or, for bare names, implied) source of every field of a licence type."""
    out = []
    for f in fields or []:
        if isinstance(f, str):
            out.append(FieldSource(f, f, "string", True, "decision", {"label": f, "type": "string"}, declared=False))
            continue
        if not isinstance(f, dict) or not f.get("name"):
            continue
        name = str(f["name"])
        source = f.get("source") if isinstance(f.get("source"), dict) else {}
        kind = next((k for k in SOURCE_KINDS if k in source), "decision")
        ref = source.get(kind) if source else {"label": f.get("label", name), "type": "string"}
        if kind == "form":
            ref = tuple(ref) if isinstance(ref, list) else (ref,)
        if kind == "decision" and not isinstance(ref, dict):
            ref = {"label": f.get("label", name), "type": "string"}
        ltype = f.get("type") or (DECISION_TYPES.get(ref.get("type", "string"), "string") if kind == "decision" else "string")
        out.append(FieldSource(name, str(f.get("label", name)), ltype, bool(f.get("required", True)), kind, ref,
                               declared=bool(source)))
    return out


def decision_fields(fields: list) -> list[FieldSource]:
    return [s for s in field_sources(fields) if s.kind == "decision"]


# --- checking declarations (catalogue validate) ----------------------------------------------------------


def check_declarations(fields: object) -> list[tuple[str, Problem]]:
    """Problems in a licence type's field declarations, each with its path below `fields`."""
    if not isinstance(fields, list):
        return []
    out: list[tuple[str, Problem]] = []
    seen: set[str] = set()
    for i, f in enumerate(fields):
        name = f if isinstance(f, str) else (f.get("name") if isinstance(f, dict) else None)
        if name in seen:
            out.append((f"[{i}].name", Problem("", "licence_field.duplicate", f"证照字段 {name} 重复",
                                               f"licence field {name} appears twice")))
        seen.add(name)
        if not isinstance(f, dict):
            continue
        source = f.get("source")
        kinds = [k for k in SOURCE_KINDS if isinstance(source, dict) and k in source]
        if len(kinds) != 1:
            out.append((f"[{i}].source", Problem("", "licence_field.source",
                                                 f"证照字段 {name} 须声明且只声明一种来源：{'、'.join(SOURCE_KINDS)}",
                                                 f"licence field {name} must declare exactly one source: {', '.join(SOURCE_KINDS)}")))
            continue
        kind, ref = kinds[0], source[kinds[0]]
        out.extend((f"[{i}].source.{kind}{p}", problem) for p, problem in _check_ref(str(name), kind, ref, f.get("type")))
    return out


def _check_ref(name: str, kind: str, ref: object, ltype: object) -> list[tuple[str, Problem]]:
    if kind == "form":
        names = ref if isinstance(ref, list) else [ref]
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            return [("", Problem("", "licence_field.form", f"证照字段 {name} 的申请表来源应为标准字段名（或其列表）",
                                 f"the form source of {name} must be a standard field name (or a list of them)"))]
    elif kind == "case" and ref not in CASE_KEYS:
        return [("", Problem("", "licence_field.case", f"办件来源 {ref!r} 未知，可选：{', '.join(CASE_KEYS)}",
                             f"unknown case source {ref!r}; one of {', '.join(CASE_KEYS)}"))]
    elif kind == "issuer" and ref not in ISSUER_KEYS:
        return [("", Problem("", "licence_field.issuer", f"发证部门来源 {ref!r} 未知，可选：{', '.join(ISSUER_KEYS)}",
                             f"unknown issuer source {ref!r}; one of {', '.join(ISSUER_KEYS)}"))]
    elif kind == "fixed" and (not isinstance(ref, (str, int, bool)) or ref == ""):
        return [("", Problem("", "licence_field.fixed", f"证照字段 {name} 的固定值应为非空文本、整数或是/否",
                             f"the fixed value of {name} must be non-empty text, an integer or a boolean"))]
    elif kind == "decision":
        return _check_decision_declaration(name, ref, ltype)
    return []


def _check_decision_declaration(name: str, ref: object, ltype: object) -> list[tuple[str, Problem]]:
    if not isinstance(ref, dict):
        return [("", Problem("", "licence_field.decision", f"证照字段 {name} 的决定来源应为对象（label、type）",
                             f"the decision source of {name} must be an object (label, type)"))]
    out = []
    if not str(ref.get("label") or "").strip():
        out.append((".label", Problem("", "required", "请填写决定字段的标签", "the decision field needs a label")))
    kind = ref.get("type", "string")
    if kind not in DECISION_TYPES:
        out.append((".type", Problem("", "licence_field.decision_type", f"决定字段类型 {kind!r} 未知，可选：{', '.join(DECISION_TYPES)}",
                                     f"unknown decision field type {kind!r}; one of {', '.join(DECISION_TYPES)}")))
        return out
    choices = ref.get("choices")
    if kind == "choice" and not (isinstance(choices, list) and choices and all(isinstance(c, str) and c for c in choices)):
        out.append((".choices", Problem("", "licence_field.choices", "选择型决定字段须列出可选值",
                                        "a choice decision field must list its choices")))
    if ltype is not None and ltype != DECISION_TYPES[kind]:
        out.append((".type", Problem("", "licence_field.type_mismatch",
                                     f"决定字段类型 {kind} 与证照字段类型 {ltype} 不一致",
                                     f"decision type {kind} does not give the licence field type {ltype}")))
    if "example" in ref and not out:
        _, problem = clean_decision_value(FieldSource(name, name, DECISION_TYPES[kind], True, "decision", ref),
                                          ref["example"])
        if problem is not None:
            out.append((".example", Problem("", problem.rule, f"示例值不合要求：{problem.zh}",
                                            f"the example does not pass: {problem.en}")))
    return out


# --- the officer's input ------------------------------------------------------------------------------------


def clean_decision_value(spec: FieldSource, value: object) -> tuple[object, Problem | None]:
    """One decision value, typed and checked: (value, None) or (None, problem)."""
    path, label = f"decision.{spec.name}", spec.decision.get("label", spec.label)
    kind = spec.decision.get("type", "string")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, Problem(path, "required", f"请填写“{label}”", f"{spec.name} ({label}) is required")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 16:
                value = int(value.strip())
            else:
                return None, Problem(path, "decision.integer", f"“{label}”应为整数", f"{spec.name} must be an integer")
        low, high = spec.decision.get("min"), spec.decision.get("max")
        if (isinstance(low, int) and value < low) or (isinstance(high, int) and value > high):
            return None, Problem(path, "decision.range", f"“{label}”应在 {low}～{high} 之间",
                                 f"{spec.name} must be between {low} and {high}")
        return value, None
    if not isinstance(value, str):
        return None, Problem(path, "decision.string", f"“{label}”应为文本", f"{spec.name} must be text")
    text = value.strip()
    if any(ord(c) < 32 and c not in "\n\t" or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        return None, Problem(path, "decision.control", f"“{label}”含有不可见控制字符", f"{spec.name} holds control characters")
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, Problem(path, "decision.date", f"“{label}”应为日期 YYYY-MM-DD", f"{spec.name} must be a date YYYY-MM-DD")
    limit = int(spec.decision.get("max_length") or MAX_LENGTH.get(kind, 200))
    if len(text) > limit:
        return None, Problem(path, "decision.max_length", f"“{label}”不能超过 {limit} 字",
                             f"{spec.name} is limited to {limit} characters")
    if kind == "choice" and text not in (spec.decision.get("choices") or []):
        choices = spec.decision.get("choices") or []
        return None, Problem(path, "decision.choice", f"“{label}”须为：{'、'.join(choices)}",
                             f"{spec.name} must be one of {', '.join(choices)}")
    return text, None


def clean_decision(fields: list, values: object) -> tuple[dict, list[Problem]]:
    """The officer's decision input for a licence type: every declared decision field present and
    valid, nothing else."""
    specs = {s.name: s for s in decision_fields(fields)}
    values = values if isinstance(values, dict) else {}
    problems = [Problem(f"decision.{k}", "decision.unknown", f"本事项的决定没有字段 {k}",
                        f"this item's decision has no field {k}") for k in values if k not in specs]
    clean = {}
    for name, spec in specs.items():
        value = values.get(name)
        if (value is None or value == "") and not spec.required:
            continue
        value, problem = clean_decision_value(spec, value)
        if problem is not None:
            problems.append(problem)
        else:
            clean[name] = value
    return clean, problems


# --- making the data ------------------------------------------------------------------------------------------


def _present(value: object) -> bool:
    return value is not None and value != ""


def _coerce(value: object, ltype: str) -> object:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if ltype == "string":
        return value if isinstance(value, str) else str(value)
    if ltype == "date" and isinstance(value, date):
        return value.isoformat()
    if ltype == "integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def resolve(fields: list, values: Values) -> tuple[dict, list[Problem]]:
    """The licence data from its declared sources, or every field that has no value (named with the
    place it should have come from)."""
    data: dict = {}
    problems: list[Problem] = []
    for spec in field_sources(fields):
        value, where = None, None
        if spec.kind == "form":
            value = next((values.standard[s] for s in spec.ref if _present(values.standard.get(s))), None)
            where = ("form." + spec.ref[0], "licence.source.form", f"申请表的“{spec.ref[0]}”", f"the form's {spec.ref[0]}")
        elif spec.kind == "case":
            value = values.case.get(spec.ref)
            where = (f"case.{spec.ref}", "licence.source.case", CASE_KEYS[spec.ref][0], CASE_KEYS[spec.ref][1])
        elif spec.kind == "issuer":
            value = values.issuer.get(spec.ref)
            where = (f"issuer.{spec.ref}", "licence.source.issuer", ISSUER_KEYS[spec.ref][0], ISSUER_KEYS[spec.ref][1])
        elif spec.kind == "fixed":
            value = spec.ref
        else:
            value = values.decision.get(spec.name)
            where = (f"decision.{spec.name}", "required", f"决定字段“{spec.decision.get('label', spec.name)}”",
                     f"the decision field {spec.name}")
        if _present(value):
            data[spec.name] = _coerce(value, spec.type)
        elif spec.required and where is not None:
            path, rule, zh, en = where
            problems.append(Problem(path, rule, f"证照字段“{spec.label}”取自{zh}，本件没有该值，不能签发",
                                    f"licence field {spec.name} comes from {en}, which this case has no value for"))
    return data, problems
