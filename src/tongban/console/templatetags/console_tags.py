"""Template helpers of the staff consoles: problems next to their field, due-date colours."""

from __future__ import annotations

from datetime import date

from django import template

register = template.Library()


def _matches(problem_field: str, fields: list[str]) -> bool:
    return any(problem_field == f or problem_field.startswith(f + ".") for f in fields)


@register.inclusion_tag("console/_field_errors.html", takes_context=True)
def field_errors(context, form: str, fields: str):
    """The problems of the form `form` (the one just posted) whose field is one of `fields` (comma
    separated; `materials` also matches `materials.<code>`)."""
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    problems = context.get("problems") or []
    shown = [p for p in problems if context.get("posted") == form and _matches(p.field, wanted)]
    return {"problems": shown, "id": f"{form}-{wanted[0] if wanted else 'x'}-error".replace(".", "-")}


@register.simple_tag(takes_context=True)
def has_error(context, form: str, field: str) -> bool:
    return context.get("posted") == form and any(_matches(p.field, [field]) for p in context.get("problems") or [])


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def due_class(due: date | None, today_and_soon: tuple) -> str:
    """`overdue` before today, `near` within the warning window (<= 2 working days), else ''."""
    if due is None:
        return ""
    today, soon = today_and_soon
    if due < today:
        return "overdue"
    if due <= soon:
        return "near"
    return ""


@register.filter
def step_name(sub) -> str:
    """The name of a sub-case's current step (受理, 审查, 决定...), never its key."""
    if not getattr(sub, "step", ""):
        return "—"
    try:
        return sub.workflow.step(sub.step).get("name") or "—"
    except KeyError:
        return "—"


@register.filter
def when(value) -> str:
    """An ISO timestamp (as stored in JSON) as people read it: 2026-11-29 21:04, local time."""
    from datetime import datetime

    from django.utils import timezone

    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)
