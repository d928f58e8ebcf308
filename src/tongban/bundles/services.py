"""Writes for bundles: import from catalogue files (called inside catalog.services.import_documents)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from tongban.catalog.format import Document
from tongban.regions.models import Region

from .models import Bundle, BundleVersion

DEFINITION_KEYS = ("questionnaire", "items", "materials", "fields")


def normalize_definition(v: dict) -> dict:
    """The stored definition of a bundle version: what the planner reads, in a fixed shape."""
    return {
        "questionnaire": list(v.get("questionnaire") or []),
        "items": [{"key": bi["key"], "item": str(bi["item"]), "include_if": bi.get("include_if"),
                   "reason": bi.get("reason", ""), "after": list(bi.get("after") or [])} for bi in v["items"]],
        "materials": dict(v.get("materials") or {}),
        "fields": dict(v.get("fields") or {}),
    }


def import_bundles(*, doc: Document) -> int:
    """Write the document's bundle versions (inside catalog.services.import_documents, which has
    already refused any change to a published version)."""
    written = 0
    for raw in doc.data.get("bundles", []):
        bundle, _ = Bundle.objects.update_or_create(
            code=raw["code"], defaults={"name": raw["name"], "theme": raw["theme"], "description": raw.get("description", ""),
                                        "keywords": list(raw.get("keywords", []))})
        for rv in raw["versions"]:
            definition = normalize_definition(rv)
            existing = bundle.versions.filter(version=rv["version"]).first()
            regions = list(Region.objects.filter(code__in=[str(r) for r in rv["regions"]]))
            if existing is not None and existing.status == BundleVersion.Status.PUBLISHED:
                existing.regions.add(*regions)  # unchanged; another region's file adds its availability
                continue
            version = existing or BundleVersion(bundle=bundle, version=rv["version"])
            version.status = rv["status"]
            version.valid_from = date.fromisoformat(rv["valid_from"]) if rv.get("valid_from") else None
            version.published_at = timezone.now() if rv["status"] == BundleVersion.Status.PUBLISHED else None
            version.definition = definition
            version.save()
            version.regions.add(*regions)
            written += 1
    return written
