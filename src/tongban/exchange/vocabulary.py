"""Standard vocabulary resolution: regional field names and codes -> one standard.

A resource field's standard name is its explicit `standard`, else the `FieldAlias` for its local name in
the owner department's region (nearest region first, then its ancestors, then the national alias).
A value of a field whose standard has a code list is translated through `CodeMapping` the same way;
a value that already is a standard code stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from tongban.regions.models import Region

from . import models


def region_lineage(region_code: str | None) -> tuple[str, ...]:
    """The region and its ancestors, nearest first (GB/T 2260 has three levels: one query with joins)."""
    if not region_code:
        return ()
    row = (Region.objects.filter(code=region_code)
           .values_list("code", "parent_id", "parent__parent_id", "parent__parent__parent_id").first())
    return tuple(code for code in (row or (region_code,)) if code)


def _rank(region_id: str | None, lineage: tuple[str, ...]) -> int:
    return lineage.index(region_id) if region_id in lineage else len(lineage)


@dataclass(frozen=True)
class Standard:
    name: str
    label: str
    code_list_id: int | None


def standards_for(resource: models.DataResource, fields: list[models.ResourceField]) -> dict[str, Standard]:
    """Standard for each of `fields` (by local name); fields with no standard are left out."""
    found: dict[str, Standard] = {}
    missing = []
    for f in fields:
        if f.standard_id:
            found[f.name] = Standard(f.standard.name, f.standard.label, f.standard.code_list_id)
        else:
            missing.append(f.name)
    if missing:
        lineage = region_lineage(resource.owner.region_id)
        aliases = (models.FieldAlias.objects.filter(local_name__in=missing)
                   .filter(Q(region__isnull=True) | Q(region_id__in=lineage)).select_related("standard"))
        best: dict[str, models.FieldAlias] = {}
        for alias in aliases:
            current = best.get(alias.local_name)
            if current is None or _rank(alias.region_id, lineage) < _rank(current.region_id, lineage):
                best[alias.local_name] = alias
        for name, alias in best.items():
            found[name] = Standard(alias.standard.name, alias.standard.label, alias.standard.code_list_id)
    return found


def translate_codes(resource: models.DataResource, values: dict[str, object],
                    standards: dict[str, Standard]) -> dict[str, tuple[object, str]]:
    """For fields with a standard code list: local name -> (standard code, its label)."""
    coded = {name: std for name, std in standards.items() if std.code_list_id and values.get(name) not in (None, "")}
    if not coded:
        return {}
    lineage = region_lineage(resource.owner.region_id)
    local_values = {str(values[name]) for name in coded}
    list_ids = {std.code_list_id for std in coded.values()}
    mappings = (models.CodeMapping.objects.filter(code_list_id__in=list_ids, local_code__in=local_values)
                .filter(Q(region__isnull=True) | Q(region_id__in=lineage)).select_related("value"))
    best: dict[tuple[int, str], models.CodeMapping] = {}
    for m in mappings:
        key = (m.code_list_id, m.local_code)
        if key not in best or _rank(m.region_id, lineage) < _rank(best[key].region_id, lineage):
            best[key] = m
    standard_values = {(v.code_list_id, v.code): v.label for v in
                       models.CodeValue.objects.filter(code_list_id__in=list_ids, code__in=local_values)}
    out: dict[str, tuple[object, str]] = {}
    for name, std in coded.items():
        raw = str(values[name])
        mapping = best.get((std.code_list_id, raw))
        if mapping is not None:
            out[name] = (mapping.value.code, mapping.value.label)
        elif (std.code_list_id, raw) in standard_values:
            out[name] = (raw, standard_values[(std.code_list_id, raw)])
    return out


def suppliers(standard_names: list[str]) -> list[tuple[models.ResourceField, str]]:
    """Every active, shareable resource field that supplies one of `standard_names`, with that name."""
    wanted = set(standard_names)
    fields = list(models.ResourceField.objects.filter(resource__active=True)
                  .filter(Q(standard__name__in=wanted) | Q(standard__isnull=True))
                  .exclude(resource__sharing_type=models.SharingType.NOT_SHARED)
                  .select_related("resource__owner", "standard")
                  .order_by("resource__code", "position", "name"))
    by_resource: dict[int, list[models.ResourceField]] = {}
    for f in fields:
        by_resource.setdefault(f.resource_id, []).append(f)
    out = []
    for group in by_resource.values():
        resource = group[0].resource
        standards = standards_for(resource, group)
        for f in group:
            std = standards.get(f.name)
            if std is not None and std.name in wanted:
                out.append((f, std.name))
    return out
