"""Bundle versions as objects of the access layer, for the admin (tongban.core.regionadmin): a region
administrator sees the versions that apply in their region, changes only drafts that apply in their
region alone (and below), and nobody deletes or changes a published version."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from tongban.core.access import register, register_action
from tongban.core.regionadmin import AdminAction, administered_regions, published_is_kept, require_region

from .models import BundleVersion


@register("bundle-version", BundleVersion)
def bundle_version_scope(user, qs: QuerySet) -> QuerySet:
    if user.is_superuser:
        return qs
    regions = administered_regions(user)
    applies = BundleVersion.regions.through.objects.filter(bundleversion_id=OuterRef("pk"), region_id__in=regions)
    return qs.filter(Exists(applies)) if regions else qs.none()


@register_action("bundle-version", AdminAction.ADMINISTER, AdminAction.DELETE)
def _administer_bundle_version(user, version: BundleVersion) -> None:
    if version.pk is not None:
        for code in version.regions.values_list("code", flat=True):
            require_region(user, code)
    published_is_kept(version.status == BundleVersion.Status.PUBLISHED)
