"""Conversion between catalogue rows and the file format's dictionaries.

Export writes exactly what `normalize_*` produce from a file, so a published version read from a
file can be compared with the stored one field by field, and export -> import -> export is identical.
"""

from __future__ import annotations

from .models import ItemVersion, LicenceType, MaterialKind


def normalize_item_version(v: dict) -> dict:
    result = v.get("result") or {}
    cross = v.get("cross_region") or {}
    return {
        "version": int(v["version"]),
        "status": v["status"],
        "valid_from": str(v["valid_from"]) if v.get("valid_from") else None,
        "name": v["name"],
        "type": v["type"],
        "legal_basis": v.get("legal_basis", ""),
        "statutory_days": int(v["statutory_days"]),
        "promised_days": int(v["promised_days"]),
        "notice_days": int(v.get("notice_days", 5)),
        "handling_forms": list(v.get("handling_forms", [])),
        "visits": int(v.get("visits", 1)),
        "fee": v.get("fee", "不收费"),
        "acceptance_conditions": v.get("acceptance_conditions", ""),
        "result": {"name": result.get("name", ""), "licence_type": result.get("licence_type")},
        "cross_region": {"scope": cross.get("scope", "none"), "regions": [str(r) for r in cross.get("regions", [])]},
        "form": [normalize_form_field(f) for f in v.get("form", [])],
        "materials": [normalize_item_material(m) for m in v.get("materials", [])],
    }


def normalize_form_field(f: dict) -> dict:
    return {"name": f["name"], "label": f["label"], "type": f["type"], "standard": f.get("standard", ""),
            "required": bool(f.get("required", True))}


def normalize_item_material(m: dict) -> dict:
    return {
        "material": m["material"],
        "requirement": m.get("requirement", "required"),
        "condition": m.get("condition", ""),
        "originals": int(m.get("originals", 0)),
        "copies": int(m.get("copies", 1)),
        "issuing_body": m.get("issuing_body", ""),
        "commitment_allowed": bool(m.get("commitment_allowed", False)),
        "minor": bool(m.get("minor", False)),
        "notes": m.get("notes", ""),
    }


def item_version_to_dict(v: ItemVersion) -> dict:
    return {
        "version": v.version,
        "status": v.status,
        "valid_from": v.valid_from.isoformat() if v.valid_from else None,
        "name": v.name,
        "type": v.item_type,
        "legal_basis": v.legal_basis,
        "statutory_days": v.statutory_days,
        "promised_days": v.promised_days,
        "notice_days": v.notice_days,
        "handling_forms": list(v.handling_forms),
        "visits": v.visits,
        "fee": v.fee,
        "acceptance_conditions": v.acceptance_conditions,
        "result": {"name": v.result_name, "licence_type": v.result_licence_type.code if v.result_licence_type_id else None},
        "cross_region": {"scope": v.cross_region_scope, "regions": list(v.cross_region_regions)},
        "form": [normalize_form_field(f) for f in v.form_fields],
        "materials": [
            {
                "material": m.kind.code,
                "requirement": m.requirement,
                "condition": m.condition,
                "originals": m.originals,
                "copies": m.copies,
                "issuing_body": m.issuing_body,
                "commitment_allowed": m.commitment_allowed,
                "minor": m.minor,
                "notes": m.notes,
            }
            for m in v.materials.all()
        ],
    }


def licence_type_to_dict(lt: LicenceType) -> dict:
    return {"code": lt.code, "name": lt.name, "holder_kind": lt.holder_kind, "validity_years": lt.validity_years,
            "fields": list(lt.fields)}


def normalize_licence_type(d: dict) -> dict:
    return {"code": d["code"], "name": d["name"], "holder_kind": d["holder_kind"],
            "validity_years": d.get("validity_years"), "fields": list(d.get("fields", []))}


def material_to_dict(m: MaterialKind) -> dict:
    return {"code": m.code, "name": m.name, "licence_type": m.licence_type.code if m.licence_type_id else None,
            "data_resource": m.data_resource, "description": m.description}


def normalize_material(d: dict) -> dict:
    return {"code": d["code"], "name": d["name"], "licence_type": d.get("licence_type"),
            "data_resource": d.get("data_resource", ""), "description": d.get("description", "")}
