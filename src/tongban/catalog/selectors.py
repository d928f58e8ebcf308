"""Reads of the catalogue. Everything that shows items goes through here."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Prefetch, Q

from tongban.regions.models import Region

from .models import Item, ItemMaterial, ItemVersion


def regions_with_counts():
    # Both counts distinct: two joins in one query multiply each other's rows (issue 14, finding 5).
    return Region.objects.annotate(item_count=Count("items", distinct=True),
                                   department_count=Count("departments", distinct=True)).order_by("code")


def published_versions_in_force(on: date):
    """Filter for the published versions whose validity has started by `on`."""
    return Q(status=ItemVersion.Status.PUBLISHED, valid_from__lte=on)


def version_in_force(item: Item, on: date) -> ItemVersion | None:
    """The published version of `item` in force on `on`: the latest one whose valid_from has come."""
    return (
        item.versions.filter(published_versions_in_force(on))
        .select_related("result_licence_type")
        .order_by("-valid_from", "-version")
        .first()
    )


def versions_in_force(region_code: str, basic_codes: list[str], on: date) -> dict[str, ItemVersion]:
    """For one region, the version in force of each listed standard item, keyed by basic code (one query)."""
    versions = (
        ItemVersion.objects.filter(published_versions_in_force(on), item__region_id=region_code,
                                   item__basic_code__in=basic_codes)
        .select_related("item__department", "result_licence_type")
        .prefetch_related(Prefetch("materials", queryset=ItemMaterial.objects.select_related("kind__licence_type")))
        .order_by("item__basic_code", "-valid_from", "-version")
    )
    chosen: dict[str, ItemVersion] = {}
    for version in versions:
        chosen.setdefault(version.item.basic_code, version)
    return chosen
