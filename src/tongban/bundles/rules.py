"""Inclusion and visibility rules in JsonLogic: data, never code (no eval).

Rules are checked when a catalogue file is validated (known operators, variables that name questions),
and evaluated against the applicant's answers when a plan is made.
"""

from __future__ import annotations

from typing import Any

from json_logic import jsonLogic

ALLOWED_OPERATORS = {
    "var", "missing", "missing_some", "if", "?:", "==", "===", "!=", "!==", "!", "!!", "or", "and",
    ">", ">=", "<", "<=", "max", "min", "+", "-", "*", "/", "%", "in", "cat", "some", "all", "none",
}


def variables(rule: Any) -> set[str]:
    """The question keys a rule reads (top-level names of every var)."""
    found: set[str] = set()
    _walk(rule, found, set())
    return found


def unknown_operators(rule: Any) -> set[str]:
    ops: set[str] = set()
    _walk(rule, set(), ops)
    return ops - ALLOWED_OPERATORS


def _walk(node: Any, found: set[str], ops: set[str]) -> None:
    if isinstance(node, list):
        for x in node:
            _walk(x, found, ops)
        return
    if not isinstance(node, dict) or len(node) != 1:
        return
    (op, args), = node.items()
    ops.add(op)
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if isinstance(name, str) and name:
            found.add(name.split(".")[0])
        return
    _walk(args, found, ops)


def evaluate(rule: Any, answers: dict) -> bool:
    if rule is None:
        return True
    return bool(jsonLogic(rule, answers))


def describe(rule: Any) -> str:
    """A compact human-readable form of a rule, e.g. `area_sqm >= 500`."""
    if rule is None:
        return "always"
    if isinstance(rule, dict) and len(rule) == 1:
        (op, args), = rule.items()
        if op == "var":
            return str(args[0] if isinstance(args, list) else args)
        if op in {"and", "or"}:
            return "(" + f" {op} ".join(describe(a) for a in args) + ")"
        if op in {"!", "!!"}:
            return f"{op}{describe(args[0] if isinstance(args, list) else args)}"
        if isinstance(args, list) and len(args) == 2:
            return f"{describe(args[0])} {op} {describe(args[1])}"
        if isinstance(args, list) and len(args) == 3 and op in {"<", "<="}:
            return f"{describe(args[0])} {op} {describe(args[1])} {op} {describe(args[2])}"
    return repr(rule) if not isinstance(rule, str) else rule


_PLAIN_OPS = {">=": ("不少于", "at least"), ">": ("大于", "more than"), "<=": ("不超过", "at most"),
              "<": ("小于", "less than"), "==": ("为", "is"), "===": ("为", "is"), "!=": ("不为", "is not"),
              "!==": ("不为", "is not")}


def plain(rule: Any, questionnaire: list[dict], *, english: bool = False) -> str | None:
    """A rule in words for people, with the questions' labels and units ("经营场所建筑面积不少于 500 ㎡",
    "是否提供餐饮服务：是"), or None when it has no plain form (the caller then says less, never the rule)."""
    questions = {q["key"]: q for q in questionnaire}

    def label(name: str) -> str:
        q = questions.get(name.split(".")[0], {})
        return (q.get("label_en") if english else None) or q.get("label") or ""

    def value(q: dict, v: Any) -> str:
        if isinstance(v, bool):
            return ("yes" if v else "no") if english else ("是" if v else "否")
        for option in q.get("options") or []:
            if option.get("value") == v:
                return str(option.get("label") or v)
        unit = q.get("unit") or ""
        return f"{v} {unit}".strip() if unit else str(v)

    def words(node: Any) -> str | None:
        if not isinstance(node, dict) or len(node) != 1:
            return None
        (op, args), = node.items()
        if op in {"and", "or"}:
            parts = [words(a) for a in args]
            if not parts or None in parts:
                return None
            joiner = f" {op} " if english else ("，且" if op == "and" else "，或")
            return joiner.join(parts)  # type: ignore[arg-type]
        if op == "var":
            name = args[0] if isinstance(args, list) else args
            return f"{label(name)}: yes" if english else f"{label(name)}：是"
        if op in _PLAIN_OPS and isinstance(args, list) and len(args) == 2 and isinstance(args[0], dict) \
                and "var" in args[0] and not isinstance(args[1], dict):
            name = args[0]["var"][0] if isinstance(args[0]["var"], list) else args[0]["var"]
            q = questions.get(str(name).split(".")[0])
            if q is None or not label(str(name)):
                return None
            zh, en = _PLAIN_OPS[op]
            if isinstance(args[1], bool) and op in {"==", "==="}:
                return f"{label(name)}: {value(q, args[1])}" if english else f"{label(name)}：{value(q, args[1])}"
            return f"{label(name)} {en} {value(q, args[1])}" if english else f"{label(name)}{zh} {value(q, args[1])}"
        return None

    return words(rule)
