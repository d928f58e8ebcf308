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
