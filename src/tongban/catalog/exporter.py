"""Export one region's catalogue as a self-contained tongban.catalog/v1 document.

Self-contained: the region and its ancestors, its departments, every licence type and material its
items use, its items with all versions, and the bundles available in the region. Ordering is fixed
(by code), so exporting twice, or exporting what was imported from an export, gives the same bytes.
"""

from __future__ import annotations

import yaml
from django.db.models import Prefetch

from tongban.core.errors import NotFound
from tongban.regions.models import Department, Region

from . import codec
from .format import FORMAT
from .models import Item, ItemMaterial, ItemVersion, LicenceType, MaterialKind


def export_region(code: str) -> dict:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFound(code)
    chain = [*reversed(region.ancestors()), region]
    items = list(
        Item.objects.filter(region=region)
        .select_related("department")
        .prefetch_related(Prefetch("versions", queryset=ItemVersion.objects.select_related("result_licence_type")
                                   .prefetch_related(Prefetch("materials", queryset=ItemMaterial.objects.select_related("kind")))
                                   .order_by("version")))
        .order_by("basic_code")
    )
    item_dicts, material_codes, licence_codes = [], set(), set()
    for item in items:
        versions = [codec.item_version_to_dict(v) for v in item.versions.all()]
        for v in versions:
            material_codes.update(m["material"] for m in v["materials"])
            if v["result"]["licence_type"]:
                licence_codes.add(v["result"]["licence_type"])
        item_dicts.append({"basic_code": item.basic_code, "implementation_code": item.implementation_code,
                           "region": item.region_id, "department": item.department.uscc, "name": item.name,
                           "versions": versions})
    materials = list(MaterialKind.objects.filter(code__in=material_codes).select_related("licence_type").order_by("code"))
    licence_codes.update(m.licence_type.code for m in materials if m.licence_type_id)
    from tongban.bundles.exporter import bundles_for_region

    return {
        "format": FORMAT,
        "regions": [{"code": r.code, "name": r.name, "level": r.level, "parent": r.parent_id} for r in chain],
        "departments": [{"uscc": d.uscc, "name": d.name, "kind": d.kind, "region": d.region_id}
                        for d in Department.objects.filter(region=region).order_by("uscc")],
        "licence_types": [_with_issuers(codec.licence_type_to_dict(lt), lt, region)
                          for lt in LicenceType.objects.filter(code__in=licence_codes).order_by("code")],
        "materials": [codec.material_to_dict(m) for m in materials],
        "items": item_dicts,
        "bundles": bundles_for_region(region.code),
    }


def _with_issuers(data: dict, licence_type: LicenceType, region: Region) -> dict:
    """The region's departments that may issue the licence type, by USCC (what the grants say; a rule
    by kind in the imported file is not kept, only its effect)."""
    usccs = sorted(licence_type.issuers.filter(active=True, department__region=region)
                   .values_list("department__uscc", flat=True))
    if usccs:
        data["issuers"] = [{"department": uscc} for uscc in usccs]
    return data


def dump_yaml(document: dict) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)
