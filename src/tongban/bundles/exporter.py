"""Bundles in the catalogue file format, as available in one region."""

from __future__ import annotations

from .models import Bundle


def version_to_dict(version, region_codes: list[str]) -> dict:
    d = version.definition
    return {
        "version": version.version,
        "status": version.status,
        "valid_from": version.valid_from.isoformat() if version.valid_from else None,
        "regions": region_codes,
        "questionnaire": d.get("questionnaire", []),
        "items": d["items"],
        "materials": d.get("materials", {}),
        "fields": d.get("fields", {}),
    }


def bundles_for_region(region_code: str) -> list[dict]:
    out = []
    for bundle in Bundle.objects.filter(versions__regions__code=region_code).distinct().order_by("code"):
        versions = [version_to_dict(v, [region_code])
                    for v in bundle.versions.filter(regions__code=region_code).order_by("version")]
        out.append({"code": bundle.code, "name": bundle.name, "theme": bundle.theme, "keywords": list(bundle.keywords),
                    "description": bundle.description, "versions": versions})
    return out
