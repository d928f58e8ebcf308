"""Item workflows as data: the default 受理 -> 审查 -> 决定 -> 制证/送达, and per-item configurations.

A step: code, name (zh), name_en, roles allowed to act, working-day budget (`days`, null = the rest of
the item's time), actions allowed, `decision` (approving it decides the item and produces its result)
and `auto` (performed by the platform as soon as it is reached, e.g. issuing the licence).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from tongban.accounts.roles import Role
from tongban.core.errors import InvalidInput, Problem

from .models import Workflow, WorkflowAssignment

ACTIONS = {"approve", "deny", "return", "special", "extend"}
ROLES = {Role.OFFICER, Role.SUPERVISOR, Role.CLERK}  # roles a step may name (stored as their values)

DEFAULT_CODE = "default"
DEFAULT_DEFINITION = {
    "steps": [
        {"code": "accept", "name": "受理", "name_en": "receipt by the department", "roles": ["officer"], "days": 1,
         "actions": ["approve", "deny", "return"]},
        {"code": "review", "name": "审查", "name_en": "review", "roles": ["officer"], "days": None,
         "actions": ["approve", "deny", "return", "special", "extend"]},
        {"code": "decide", "name": "决定", "name_en": "decision", "roles": ["officer", "supervisor"], "days": 2,
         "decision": True, "actions": ["approve", "deny", "special", "extend"]},
        {"code": "issue", "name": "制证/送达", "name_en": "issuing the result", "roles": ["officer"], "days": 1,
         "auto": True, "actions": ["approve"]},
    ]
}


def check_definition(definition: object) -> list[Problem]:
    problems: list[Problem] = []
    steps = definition.get("steps") if isinstance(definition, dict) else None
    if not isinstance(steps, list) or not steps:
        return [Problem("definition.steps", "required", "流程至少需要一个环节", "a workflow needs at least one step")]
    codes = set()
    decisions = 0
    for n, step in enumerate(steps):
        where = f"definition.steps[{n}]"
        if not isinstance(step, dict) or not step.get("code") or not step.get("name"):
            problems.append(Problem(where, "step.fields", "环节须有编码和名称", "a step needs a code and a name"))
            continue
        if step["code"] in codes:
            problems.append(Problem(f"{where}.code", "step.unique", f"环节编码 {step['code']} 重复",
                                    f"step code {step['code']} is repeated"))
        codes.add(step["code"])
        bad_actions = set(step.get("actions", [])) - ACTIONS
        if bad_actions or "approve" not in step.get("actions", []):
            problems.append(Problem(f"{where}.actions", "step.actions",
                                    f"环节动作须包含 approve，且只能取 {sorted(ACTIONS)}",
                                    f"actions must include approve and be among {sorted(ACTIONS)}"))
        if not step.get("roles") or set(step["roles"]) - ROLES:
            problems.append(Problem(f"{where}.roles", "step.roles", f"环节角色须取自 {sorted(ROLES)}",
                                    f"roles must be among {sorted(ROLES)}"))
        days = step.get("days")
        if days is not None and (not isinstance(days, int) or days < 0):
            problems.append(Problem(f"{where}.days", "step.days", "环节时限须为非负整数（工作日）",
                                    "a step's budget must be a non-negative number of working days"))
        decisions += bool(step.get("decision"))
    if decisions != 1:
        problems.append(Problem("definition.steps", "step.decision", "流程须有且只有一个决定环节",
                                "a workflow needs exactly one decision step"))
    return problems


def ensure_default() -> Workflow:
    workflow = Workflow.objects.filter(code=DEFAULT_CODE).order_by("-version").first()
    if workflow is None:
        # Two first submissions at once both find none: the second insert waits for the first, fails on
        # the unique (code, version) and reads the row the first made (was a 500 under load).
        try:
            with transaction.atomic():
                workflow = Workflow.objects.create(code=DEFAULT_CODE, version=1, name="默认审批流程",
                                                   definition=DEFAULT_DEFINITION)
        except IntegrityError:
            workflow = Workflow.objects.filter(code=DEFAULT_CODE).order_by("-version").first()
    return workflow


def publish_workflow(*, code: str, name: str, definition: dict) -> Workflow:
    """A new version of a workflow (versions are never edited: running sub-cases keep theirs)."""
    problems = check_definition(definition)
    if problems:
        raise InvalidInput(problems)
    last = Workflow.objects.filter(code=code).order_by("-version").first()
    return Workflow.objects.create(code=code, version=(last.version + 1) if last else 1, name=name,
                                   definition=definition)


def workflow_for(basic_code: str, region_id: str) -> Workflow:
    """The latest version of the workflow assigned to the item (regional assignment first)."""
    assignments = {a.region_id: a.workflow_code for a in
                   WorkflowAssignment.objects.filter(basic_code=basic_code, region_id__in=[region_id, None])}
    code = assignments.get(region_id) or assignments.get(None) or DEFAULT_CODE
    workflow = Workflow.objects.filter(code=code).order_by("-version").first()
    return workflow or ensure_default()


def next_step(workflow: Workflow, code: str) -> dict | None:
    steps = workflow.steps()
    for n, step in enumerate(steps):
        if step["code"] == code:
            return steps[n + 1] if n + 1 < len(steps) else None
    raise KeyError(code)
