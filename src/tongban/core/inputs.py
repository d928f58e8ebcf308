"""Hostile input, refused once at the edge: text with NUL or lone surrogates, numbers that are not finite
or do not fit a database integer, JSON that is not JSON.

Used centrally so that no handler has to remember it:
- the API's body parser (`tongban.api.main.StrictParser`) parses JSON with `parse_json` and checks every
  query and form value with `check_text`;
- `HostileInputMiddleware` (tongban.core.middleware) checks the path, the query string and form data of
  every request, pages and API alike, and answers a malformed multipart body with 400.
Each refusal is a `Problem` naming the field (a dotted path such as `answers.area_sqm`) and the rule.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import InvalidInput, Problem

# The largest integer PostgreSQL's bigint (and SQLite's INTEGER) can hold: ids and counts beyond it
# cannot name anything and would make the database driver raise.
MAX_DB_INT = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_HUGE_INTEGER = re.compile(r"^[+-]?\d{19,}$")


def text_problem(value: str, field: str) -> Problem | None:
    """Why a string may not be stored (NUL, a lone surrogate), or None when it may."""
    if "\x00" in value:
        return Problem(field, "text.nul", f"字段 {field} 含有空字符（NUL），请删除后重试",
                       f"field {field} contains a NUL character")
    if _SURROGATE.search(value):
        return Problem(field, "text.surrogate", f"字段 {field} 含有无效的 Unicode 字符（孤立代理项）",
                       f"field {field} contains an invalid Unicode character (a lone surrogate)")
    return None


def check_text(value: str, field: str) -> str:
    problem = text_problem(value, field)
    if problem:
        raise InvalidInput(problem)
    return value


def number_problem(value: float | int, field: str) -> Problem | None:
    if isinstance(value, float) and not math.isfinite(value):
        return Problem(field, "number.finite", f"字段 {field} 应为有限的数字（不接受 NaN、Infinity 或超出范围的数）",
                       f"field {field} must be a finite number (NaN, Infinity and out-of-range numbers are refused)")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_DB_INT:
        return Problem(field, "number.range", f"字段 {field} 的数值过大", f"field {field} is out of range")
    return None


def query_value_problem(value: str, field: str) -> Problem | None:
    """A query or form value: clean text, and no integer too large for any id or count."""
    problem = text_problem(value, field)
    if problem is None and _HUGE_INTEGER.match(value.strip()):
        problem = Problem(field, "number.range", f"字段 {field} 的数值过大", f"field {field} is out of range")
    return problem


class _NotFinite(float):
    """What NaN, Infinity and overflowing literals parse to, so the walk can name where they were."""


def _parse_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(value)


def _parse_constant(text: str) -> float:
    return _NotFinite(text)  # NaN, Infinity, -Infinity: not JSON (RFC 8259), Python accepts them


def parse_json(raw: bytes | str, *, root: str = "body") -> Any:
    """Parse a request body as strict JSON and refuse every bad value in it at once, each by its path.

    Raises ValueError for text that is not JSON at all, InvalidInput for JSON with bad values.
    """
    data = json.loads(raw, parse_float=_parse_float, parse_constant=_parse_constant)
    problems: list[Problem] = []
    _walk(data, "", problems)
    if problems:
        raise InvalidInput(problems)
    return data


def _walk(node: Any, path: str, problems: list[Problem]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            problem = text_problem(key, here)
            if problem:
                problems.append(problem)
                continue
            _walk(value, here, problems)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, f"{path}[{i}]", problems)
    elif isinstance(node, str):
        problem = text_problem(node, path or "body")
        if problem:
            problems.append(problem)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        problem = number_problem(node, path or "body")
        if problem:
            problems.append(problem)


def finite_number(value: Any, *, field: str, label: str = "", minimum: float, maximum: float,
                  rule: str = "number") -> float | int:
    """A number within [minimum, maximum]: from a JSON number or a form's text; never NaN or infinite.
    Problems are named `<rule>.number`, `<rule>.finite`, `<rule>.minimum`, `<rule>.maximum`."""
    label = label or field
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str):
        try:
            value = float(value.strip()) if value.strip() else None
        except ValueError:
            value = None
        if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_DB_INT:
            value = int(value)
    if not isinstance(value, int | float):
        raise InvalidInput(Problem(field, f"{rule}.number", f"{label} 应为数字", f"{field} must be a number"))
    problem = number_problem(value, field)
    if problem:
        raise InvalidInput(Problem(field, f"{rule}.finite", problem.zh, problem.en))
    if value < minimum:
        raise InvalidInput(Problem(field, f"{rule}.minimum", f"{label} 不得小于 {minimum:g}",
                                   f"{field} must be at least {minimum:g}"))
    if value > maximum:
        raise InvalidInput(Problem(field, f"{rule}.maximum", f"{label} 不得大于 {maximum:g}",
                                   f"{field} must be at most {maximum:g}"))
    return value


def bounded_int(params, name: str, *, default: int, minimum: int = 1, maximum: int = 100_000) -> int:
    """An integer query parameter (e.g. `page`) within bounds; a bad value is an InvalidInput naming it."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 18:
        raise InvalidInput(Problem(name, "number.type", f"参数 {name} 应为整数", f"parameter {name} must be an integer"))
    value = int(raw)
    if not minimum <= value <= maximum:
        raise InvalidInput(Problem(name, "number.range", f"参数 {name} 应在 {minimum} 到 {maximum} 之间",
                                   f"parameter {name} must be between {minimum} and {maximum}"))
    return value


def parse_id(text: str | None, field: str) -> int | None:
    """A database id given as text (a cursor, a window number): ASCII digits that fit a bigint, else None."""
    text = (text or "").strip()
    if not text or not text.isascii() or not text.isdigit() or int(text) > MAX_DB_INT:
        return None
    return int(text)
