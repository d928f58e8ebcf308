"""Calendar overrides as objects of the access layer, for the admin (tongban.core.regionadmin): a region
administrator sees the national overrides and their own region's, and maintains only their own."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tongban.core.access import register, register_action
from tongban.core.regionadmin import AdminAction, administered_regions, require_region

from .models import CalendarOverride


@register("calendar-override", CalendarOverride)
def calendar_override_scope(user, qs: QuerySet) -> QuerySet:
    if user.is_superuser:
        return qs
    regions = administered_regions(user)
    return qs.filter(Q(region__isnull=True) | Q(region_id__in=regions)) if regions else qs.none()


@register_action("calendar-override", AdminAction.ADMINISTER, AdminAction.DELETE)
def _administer_override(user, override: CalendarOverride) -> None:
    require_region(user, override.region_id)
