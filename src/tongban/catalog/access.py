"""Catalogue items and their versions as objects of the access layer, for the admin (tongban.core.regionadmin):
a region administrator sees and maintains their own region's items; published versions are kept."""

from __future__ import annotations

from django.db.models import QuerySet

from tongban.core.access import register, register_action
from tongban.core.regionadmin import AdminAction, published_is_kept, region_scope, require_region

from .models import Item, ItemVersion


@register("catalog-item", Item)
def item_scope(user, qs: QuerySet) -> QuerySet:
    return region_scope(user, qs, "region_id")


@register_action("catalog-item", AdminAction.ADMINISTER, AdminAction.DELETE)
def _administer_item(user, item: Item) -> None:
    require_region(user, item.region_id)


@register("catalog-item-version", ItemVersion)
def item_version_scope(user, qs: QuerySet) -> QuerySet:
    return region_scope(user, qs, "item__region_id")


@register_action("catalog-item-version", AdminAction.ADMINISTER, AdminAction.DELETE)
def _administer_item_version(user, version: ItemVersion) -> None:
    require_region(user, version.item.region_id if version.item_id else None)
    published_is_kept(version.pk is not None and version.is_published)
