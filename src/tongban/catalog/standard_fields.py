"""The standard field vocabulary (标准字段): standard field name -> kind and checks, as data.

The vocabulary lives in `standard-fields.yaml` beside this module (documented there and in
docs/catalog-format.md). The merged form of a case (bundles.planner) marks each field with its
standard name (`x-standard`); `check_value` checks a value typed into that field, in the API and on the
pages alike, because both save through cases.services.update_draft. A field without a standard name, or
with one the vocabulary does not know yet, is checked by its JSON type only (finite numbers, text
without NUL, at most 1000 characters).
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tongban.core.codes import check_id_number, check_uscc
from tongban.core.errors import InvalidInput, Problem
from tongban.core.inputs import finite_number, text_problem

VOCABULARY_FILE = Path(__file__).with_name("standard-fields.yaml")
KINDS = {"text", "id_number", "uscc", "phone", "date", "number", "integer", "boolean"}
TEXT_MAX_LENGTH = 1000
NUMBER_BOUND = 1e15  # a number field with no stated bounds: finite, and within this either side of 0
# Mobile: 11 digits from 13-19 (optionally +86); landline: area code 0 + 2-3 digits, 7-8 digit number,
# optional extension (010-12345678, 0731-8888888-123).
_MOBILE = re.compile(r"^(?:\+?86[- ]?)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")


@cache
def vocabulary() -> dict[str, dict]:
    data = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))
    fields = data["fields"]
    for name, spec in fields.items():
        if spec.get("kind") not in KINDS:
            raise ValueError(f"{VOCABULARY_FILE.name}: {name} has unknown kind {spec.get('kind')!r}")
    return fields


def spec_of(standard: str | None) -> dict | None:
    return vocabulary().get(standard) if standard else None


def example(standard: str | None) -> Any:
    spec = spec_of(standard)
    return spec.get("example") if spec else None


def json_schema_for(standard: str) -> dict:
    """The JSON Schema keywords the vocabulary adds to a merged-form property (documentation for clients)."""
    spec = spec_of(standard) or {}
    out: dict[str, Any] = {}
    for key in ("minimum", "maximum"):
        if key in spec:
            out[key] = spec[key]
    if "max_length" in spec:
        out["maxLength"] = spec["max_length"]
    if spec.get("kind") in {"id_number", "uscc", "phone"}:
        out["x-check"] = {"id_number": "GB 11643", "uscc": "GB 32100", "phone": "mobile or landline"}[spec["kind"]]
    if spec.get("not_future"):
        out["x-not-future"] = True
    return out


def check_value(name: str, prop: dict, value: Any, *, on: date | None = None) -> Any:
    """The value of merged-form field `name` (its JSON Schema property `prop`) cleaned, or InvalidInput
    naming `form.<name>` and the rule. None clears the field."""
    field = f"form.{name}"
    label = prop.get("title", name)
    if value is None:
        return None
    spec = spec_of(prop.get("x-standard")) or {}
    kind = spec.get("kind") or {"integer": "integer", "number": "number", "boolean": "boolean"}.get(
        prop.get("type", "string"), "date" if prop.get("format") == "date" else "text")
    if kind in {"number", "integer"}:
        # A JSON number; text only where the item declared the field as text (the vocabulary types it).
        textual = isinstance(value, str) and prop.get("type") == "string"
        if isinstance(value, bool) or not (isinstance(value, int | float) or textual):
            raise InvalidInput(Problem(field, "form.type", f"{label} 应为数字", f"{name} must be a number"))
        number = finite_number(value, field=field, label=label, minimum=spec.get("minimum", -NUMBER_BOUND),
                               maximum=spec.get("maximum", NUMBER_BOUND), rule="form")
        if kind == "integer" and not float(number).is_integer():
            raise InvalidInput(Problem(field, "form.integer", f"{label} 应为整数", f"{name} must be a whole number"))
        return int(number) if kind == "integer" else number
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(Problem(field, "form.type", f"{label} 应为是或否", f"{name} must be true or false"))
        return value
    if not isinstance(value, str):
        raise InvalidInput(Problem(field, "form.type", f"{label} 应为文字", f"{name} must be text"))
    value = value.strip()
    problem = text_problem(value, field)
    if problem:
        raise InvalidInput(problem)
    limit = spec.get("max_length", TEXT_MAX_LENGTH)
    if len(value) > limit:
        raise InvalidInput(Problem(field, "form.max_length", f"{label} 不能超过 {limit} 字",
                                   f"{name} is limited to {limit} characters"))
    if value == "":
        return value
    problems: list[Problem] = []
    if kind == "id_number":
        problems = check_id_number(value, field, on=on)
        value = value.upper()
    elif kind == "uscc":
        problems = check_uscc(value.upper(), field)
        value = value.upper()
    elif kind == "phone":
        compact = value.replace(" ", "")
        if not (_MOBILE.match(compact) or _LANDLINE.match(compact)):
            problems = [Problem(field, "phone.format", f"{label} 应为手机号码（11 位）或固定电话（区号-号码）",
                                f"{name} must be a mobile number (11 digits) or a landline (area code-number)")]
    elif kind == "date":
        problems = _date_problems(value, field, label, name, spec, on or date.today())
    if problems:
        raise InvalidInput(problems)
    return value


def _date_problems(value: str, field: str, label: str, name: str, spec: dict, today: date) -> list[Problem]:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return [Problem(field, "date.format", f"{label} 应为日期 YYYY-MM-DD", f"{name} must be a date YYYY-MM-DD")]
    if len(value) != 10:
        return [Problem(field, "date.format", f"{label} 应为日期 YYYY-MM-DD", f"{name} must be a date YYYY-MM-DD")]
    if spec.get("not_future") and day > today:
        return [Problem(field, "date.not_future", f"{label} 不能晚于今天", f"{name} cannot be in the future")]
    not_before = spec.get("not_before")
    if not_before and day < date.fromisoformat(str(not_before)):
        return [Problem(field, "date.not_before", f"{label} 不能早于 {not_before}", f"{name} cannot be before {not_before}")]
    return []
