"""Reads for bundles: the version in force in a region, and the plan for given answers."""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.utils import timezone

from tongban.catalog.selectors import versions_in_force
from tongban.core.errors import InvalidInput, Problem

from . import planner
from .models import Bundle, BundleVersion
from .specs import from_item_version


def bundle_version_in_force(code: str, region_code: str, on: date | None = None) -> BundleVersion:
    on = on or timezone.localdate()
    version = (
        BundleVersion.objects.filter(Q(status=BundleVersion.Status.PUBLISHED, valid_from__lte=on),
                                     bundle__code=code, regions__code=region_code)
        .select_related("bundle").order_by("-valid_from", "-version").first()
    )
    if version is None:
        raise InvalidInput(_why_no_version(code, region_code, on))
    return version


def _why_no_version(code: str, region_code: str, on: date) -> Problem:
    """Which of the three it is: no such bundle, no such region / not published there, not yet in force."""
    from tongban.regions.models import Region

    if not Bundle.objects.filter(code=code).exists():
        return Problem("bundle", "bundle.unknown", f"一件事 {code} 不存在", f"bundle {code} does not exist")
    if not Region.objects.filter(code=region_code).exists():
        return Problem("region", "region.unknown", f"区划 {region_code} 不存在", f"region {region_code} does not exist")
    published = (BundleVersion.objects.filter(status=BundleVersion.Status.PUBLISHED, bundle__code=code,
                                              regions__code=region_code)
                 .order_by("valid_from").values_list("valid_from", flat=True).first())
    if published is not None:
        return Problem("on", "bundle.not_in_force",
                       f"一件事 {code} 在区划 {region_code} 于 {on:%Y-%m-%d} 尚未施行（自 {published:%Y-%m-%d} 起施行）",
                       f"bundle {code} is not yet in force in region {region_code} on {on:%Y-%m-%d} "
                       f"(in force from {published:%Y-%m-%d})")
    return Problem("region", "bundle.region", f"一件事 {code} 在区划 {region_code} 未发布",
                   f"bundle {code} is not published in region {region_code}")


def item_specs_for(version: BundleVersion, region_code: str, on: date | None = None) -> dict:
    on = on or timezone.localdate()
    basic_codes = [bi["item"] for bi in version.definition["items"]]
    return {code: from_item_version(v) for code, v in versions_in_force(region_code, basic_codes, on).items()}


def plan_bundle(code: str, region_code: str, answers: dict, *, on: date | None = None, strict: bool = True) -> dict:
    version = bundle_version_in_force(code, region_code, on)
    items = item_specs_for(version, region_code, on)
    bundle = {"code": version.bundle.code, "name": version.bundle.name, "version": version.version,
              "theme": version.bundle.theme}
    return planner.make_plan(bundle=bundle, definition=version.definition, region_code=region_code,
                             answers=answers, items=items, strict=strict)


def published_bundles(region_code: str | None = None):
    qs = Bundle.objects.filter(versions__status=BundleVersion.Status.PUBLISHED)
    if region_code:
        qs = qs.filter(versions__regions__code=region_code)
    return qs.distinct().order_by("code")
