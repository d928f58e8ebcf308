"""Reads of the catalogue. Everything that shows items goes through here."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Prefetch, Q

from tongban.core.errors import Problem
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


def published_version_conflicts(documents) -> list[Problem]:
    """Published item and bundle versions are immutable: every version in `documents` that the database
    already holds as published with other content, as a field-named problem. `validate` and `import`
    both ask this, so validate says what import will say."""
    from tongban.bundles.models import BundleVersion
    from tongban.bundles.services import normalize_definition

    from . import codec

    problems: list[Problem] = []
    for doc in documents:
        for i, raw in enumerate(doc.data.get("items", []) or []):
            published = {v.version: v for v in ItemVersion.objects.filter(
                item__implementation_code=raw.get("implementation_code"), status=ItemVersion.Status.PUBLISHED)}
            for j, raw_version in enumerate(raw.get("versions", []) or []):
                existing = published.get(raw_version.get("version"))
                if existing is not None and codec.item_version_to_dict(existing) != codec.normalize_item_version(raw_version):
                    problems.append(Problem(
                        f"items[{i}].versions[{j}]", "version.immutable",
                        f"事项 {raw['implementation_code']} 的第 {existing.version} 版已发布，不可修改；请发布新版本",
                        f"version {existing.version} of item {raw['implementation_code']} is published and immutable; "
                        "publish a new version", file=doc.name))
        for i, raw in enumerate(doc.data.get("bundles", []) or []):
            published = {v.version: v for v in BundleVersion.objects.filter(
                bundle__code=raw.get("code"), status=BundleVersion.Status.PUBLISHED)}
            for j, raw_version in enumerate(raw.get("versions", []) or []):
                existing = published.get(raw_version.get("version"))
                if existing is not None and existing.definition != normalize_definition(raw_version):
                    problems.append(Problem(
                        f"bundles[{i}].versions[{j}]", "version.immutable",
                        f"一件事 {raw['code']} 的第 {existing.version} 版已发布，不可修改；请发布新版本",
                        f"version {existing.version} of bundle {raw['code']} is published and immutable; "
                        "publish a new version", file=doc.name))
    return problems
