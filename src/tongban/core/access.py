"""The one access-check layer: every object a user can reach is fetched through `fetch` or `visible`.

Each app registers, per object kind ("case", "subcase", "material-file", "licence", "notice", ...),
a scope function `(user, queryset) -> queryset` that keeps only what that user may see. Anything
outside the scope is indistinguishable from a missing object: `fetch` raises `NotFound` (the API and
pages answer 404, never 403-with-details). Routes that return an object must go through here; the
table-driven test in tests/access/ enumerates every route and fails for one without a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet

from .errors import NotFound

Scope = Callable[[object, QuerySet], QuerySet]


@dataclass(frozen=True)
class Rule:
    kind: str
    model: type[Model]
    scope: Scope


_RULES: dict[str, Rule] = {}


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
