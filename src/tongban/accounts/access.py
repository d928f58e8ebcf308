"""Mandates as objects of the access layer (tongban.core.access): who sees one, who may revoke it.

Seen by its agent, its granter and the enterprise's legal representative, and by administrators of
the enterprise's region or above; each of them may revoke it (the agent renouncing it). Anyone else
gets 404.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q, QuerySet

from tongban.core import access
from tongban.core.access import register, register_action
from tongban.core.regionadmin import AdminAction, region_scope, require_region

from .models import Mandate, User
from .roles import Role


class MandateAction(StrEnum):
    READ = "read"
    REVOKE = "revoke"


def _administered_regions(user) -> list[str]:
    from tongban.cases.access import region_subtree

    if user.kind != User.Kind.STAFF or not user.has_role(Role.ADMINISTRATOR):
        return []
    return region_subtree(user.region_id)


@register("mandate", Mandate)
def mandate_scope(user, qs: QuerySet) -> QuerySet:
    q = Q(agent=user) | Q(granted_by=user) | Q(principal__legal_representative=user)
    regions = _administered_regions(user)
    if regions:
        q |= Q(principal__region_id__in=regions)
    return qs.filter(q).distinct()


@register_action("mandate", MandateAction.READ, MandateAction.REVOKE)
def _may_revoke(user, mandate: Mandate) -> None:
    """Everyone who sees a mandate may revoke it (or, as its agent, renounce it)."""


def access_mandate_for(user, mandate_id: int, *, to: MandateAction = MandateAction.READ) -> Mandate:
    return access.access_for(user, "mandate", to, Mandate.objects.select_related("principal"), pk=mandate_id)


def require_mandate(user, mandate: Mandate, to: MandateAction) -> None:
    access.require(user, "mandate", to, mandate)


# --- staff accounts in the admin (tongban.core.regionadmin) -----------------------------------------


@register("staff-user", User)
def staff_scope(user, qs: QuerySet) -> QuerySet:
    """Superusers see every account; a region administrator the staff of their region and below."""
    if user.is_superuser:
        return qs
    return region_scope(user, qs.filter(kind=User.Kind.STAFF, is_superuser=False), "region_id")


@register_action("staff-user", AdminAction.ADMINISTER, AdminAction.DELETE)
def _administer_staff(user, staff: User) -> None:
    if staff.is_superuser and not user.is_superuser:
        require_region(user, None)  # refused: a superuser is nobody's region staff
    require_region(user, staff.region_id)
