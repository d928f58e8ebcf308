"""The one access-check layer, for reads and writes: every object a user reaches is fetched through
`fetch` / `visible` (reads) or `access_for` (an action on it), and services re-check with `require`.

Each app registers, per object kind ("case", "subcase", "material-file", "licence", "notice", ...),
a scope function `(user, queryset) -> queryset` that keeps only what that user may see. Anything
outside the scope is indistinguishable from a missing object: `fetch` raises `NotFound` (the API and
pages answer 404, never 403-with-details). Routes that return an object must go through here; the
table-driven test in tests/access/ enumerates every route and fails for one without a rule.

Writes: each app also registers, per kind and action, one predicate `(user, obj) -> None` that raises
`Forbidden` (403, bilingual) when a user who may see the object may not do that to it, or `Conflict`
(409, named rule) where the object's state forbids it for everyone (docs/decisions/0011-write-access.md). The order
is always: not visible -> 404, visible but not allowed -> 403, allowed but not now -> 409.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet

from .errors import NotFound

Scope = Callable[[object, QuerySet], QuerySet]
Check = Callable[..., object]


@dataclass(frozen=True)
class Rule:
    kind: str
    model: type[Model]
    scope: Scope


_RULES: dict[str, Rule] = {}
_ACTIONS: dict[tuple[str, str], Check] = {}


def register(kind: str, model: type[Model]) -> Callable[[Scope], Scope]:
    """Decorator: `@register("case", Case)` on `def scope(user, qs) -> qs`."""

    def decorate(scope: Scope) -> Scope:
        if kind in _RULES and _RULES[kind].scope is not scope:
            raise RuntimeError(f"access rule for {kind!r} registered twice")
        _RULES[kind] = Rule(kind, model, scope)
        return scope

    return decorate


def rule_for(kind: str) -> Rule:
    try:
        return _RULES[kind]
    except KeyError:
        raise LookupError(f"no access rule for {kind!r}") from None


def kinds() -> list[str]:
    return sorted(_RULES)


def visible(user, kind: str, queryset: QuerySet | None = None) -> QuerySet:
    """The objects of `kind` that `user` may see (an anonymous or inactive user sees nothing)."""
    rule = rule_for(kind)
    qs = rule.model._default_manager.all() if queryset is None else queryset
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    return rule.scope(user, qs)


def fetch(user, kind: str, queryset: QuerySet | None = None, **lookup) -> Model:
    """One object of `kind` by `lookup` if `user` may see it, else `NotFound` (whether or not it exists)."""
    try:
        return visible(user, kind, queryset).get(**lookup)
    except (rule_for(kind).model.DoesNotExist, ValueError, TypeError):
        raise NotFound(kind) from None


def register_action(kind: str, *actions: str) -> Callable[[Check], Check]:
    """Decorator: `@register_action("case", CaseAction.ACCEPT)` on `def check(user, obj, **context)`.
    The check raises Forbidden / Conflict (or returns a value, e.g. the role the user acts in)."""

    def decorate(check: Check) -> Check:
        for action in actions:
            key = (kind, str(action))
            if key in _ACTIONS and _ACTIONS[key] is not check:
                raise RuntimeError(f"access check for {kind!r} / {action!r} registered twice")
            _ACTIONS[key] = check
        return check

    return decorate


def actions(kind: str) -> list[str]:
    return sorted(action for k, action in _ACTIONS if k == kind)


def _check(kind: str, action: str) -> Check:
    try:
        return _ACTIONS[(kind, str(action))]
    except KeyError:
        raise LookupError(f"no access check for {kind!r} / {action!r}") from None


def access_for(user, kind: str, action: str, queryset: QuerySet | None = None, *, context: dict | None = None,
               **lookup) -> Model:
    """One object of `kind` by `lookup` on which `user` may do `action`: NotFound if they may not see it,
    Forbidden / Conflict from the action's check otherwise."""
    check = _check(kind, action)
    obj = fetch(user, kind, queryset, **lookup)
    check(user, obj, **(context or {}))
    return obj


def check(user, kind: str, action: str, obj: Model, **context):
    """Only the action's predicate, for an object just fetched through `fetch` / `access_for` by the
    same user (its visibility already checked). Returns what the check returns."""
    return _check(kind, action)(user, obj, **context)


def require(user, kind: str, action: str, obj: Model, **context):
    """The services' re-check on an object they already hold (maybe freshly locked): the same scope and
    the same predicate as `access_for`, so a service called directly cannot be misused. Returns what the
    check returns (e.g. the role the user acts in)."""
    check = _check(kind, action)
    if obj is None or obj.pk is None or not visible(user, kind, type(obj)._default_manager.filter(pk=obj.pk)).exists():
        raise NotFound(kind)
    return check(user, obj, **context)
