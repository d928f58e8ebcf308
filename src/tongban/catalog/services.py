"""Writes to the catalogue. Each public function is one transaction.

Import is all-or-nothing: the documents are checked first (every problem reported), then written in
one transaction. Re-importing the same published version is a no-op; a published version whose content
differs is refused (published versions are immutable: publish a new version instead).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

from django.db import transaction
from django.utils import timezone

from tongban.core.errors import Conflict, InvalidInput, Problem
from tongban.regions.models import Department, Region

from . import codec
from .format import Document, check_documents
from .models import Item, ItemMaterial, ItemVersion, LicenceType, MaterialKind


def import_documents(*, documents: list[Document], actor=None, actor_label: str = "",
                     provision_issuers: bool = True) -> dict[str, int]:
    """Import catalogue documents, all or nothing. An import that changes anything is one trail entry
    (`catalog.imported`: the files with the SHA-256 of their content, and the counts), so an auditor
    can tell which catalogue a case was handled under and who loaded it."""
    from .selectors import published_version_conflicts

    problems = check_documents(documents)
    if problems:
        raise InvalidInput(problems)
    counts = {"regions": 0, "departments": 0, "licence_types": 0, "materials": 0, "item_versions": 0, "bundle_versions": 0,
              "issuer_grants": 0}
    with transaction.atomic():
        # The same reader `catalog validate` asks, inside the transaction that writes: a published
        # version is never changed, so validate says what import will say.
        conflicts = published_version_conflicts(documents)
        if conflicts:
            raise InvalidInput(conflicts)
        for doc in documents:
            counts["regions"] += _import_regions(doc.data.get("regions", []))
        for doc in documents:
            counts["departments"] += _import_departments(doc.data.get("departments", []))
            counts["licence_types"] += _import_licence_types(doc.data.get("licence_types", []))
        for doc in documents:
            counts["materials"] += _import_materials(doc.data.get("materials", []))
        for doc in documents:
            for item in doc.data.get("items", []):
                counts["item_versions"] += _import_item(item)
        from tongban.bundles.services import import_bundles

        for doc in documents:
            counts["bundle_versions"] += import_bundles(doc=doc)
        for doc in documents:
            counts["issuer_grants"] += _grant_issuers(doc.data.get("licence_types", []), actor=actor,
                                                      actor_label=actor_label, provision=provision_issuers)
        if any(counts.values()):
            _trail_import(documents, counts, actor=actor, actor_label=actor_label)
    return counts


def _trail_import(documents: list[Document], counts: dict[str, int], *, actor, actor_label: str) -> None:
    from tongban.audit.services import append_entry

    # The digest of each document's parsed content (sorted keys; dates as ISO text), so the same
    # catalogue gives the same digest whatever its YAML layout.
    files = [{"name": doc.name[-200:],
              "sha256": hashlib.sha256(json.dumps(doc.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                                  default=str).encode()).hexdigest()}
             for doc in documents]
    digest = hashlib.sha256("".join(f["sha256"] for f in files).encode()).hexdigest()
    append_entry(action="catalog.imported", actor=actor, actor_label=actor_label, object_type="catalog",
                 object_id=digest[:32], after={"files": files, "counts": counts})


def _import_regions(regions: list[dict]) -> int:
    changed = 0
    pending = list(regions)
    # Parents first: repeat until every region whose parent exists is written.
    while pending:
        progressed = False
        for r in list(pending):
            parent = r.get("parent")
            if parent and not Region.objects.filter(code=parent).exists():
                continue
            _, created = Region.objects.update_or_create(
                code=r["code"], defaults={"name": r["name"], "level": r["level"], "parent_id": parent or None})
            changed += int(created)
            pending.remove(r)
            progressed = True
        if not progressed:
            raise InvalidInput([Problem("regions", "reference.region", "区划的上级关系无法解析", "region parents cannot be resolved")])
    return changed


def _import_departments(departments: list[dict]) -> int:
    created_count = 0
    for d in departments:
        _, created = Department.objects.update_or_create(
            uscc=d["uscc"], defaults={"name": d["name"], "kind": d["kind"], "region_id": d["region"]})
        created_count += int(created)
    return created_count


def _import_licence_types(types: list[dict]) -> int:
    created_count = 0
    for raw in types:
        d = codec.normalize_licence_type(raw)
        _, created = LicenceType.objects.update_or_create(
            code=d["code"], defaults={"name": d["name"], "holder_kind": d["holder_kind"],
                                      "validity_years": d["validity_years"], "fields": d["fields"]})
        created_count += int(created)
    return created_count


def _grant_issuers(types: list[dict], *, actor, actor_label: str, provision: bool = True) -> int:
    """The departments each licence type's `issuers` name may issue it (each new grant in the trail),
    and can (`provision`): each gets a signing key (Ed25519) if it has none and is on its region's trust
    list, so a case of an item whose result is this licence type can be decided without any step in
    the admin. The demo loader provisions keys itself (its own algorithm per department)."""
    from tongban.licences import keystore, trust
    from tongban.licences.models import TrustedIssuer
    from tongban.licences.services import authorise_issuer

    granted = 0
    for t in types:
        rules = t.get("issuers") or []
        if not rules:
            continue
        licence_type = LicenceType.objects.get(code=t["code"])
        departments: dict[int, Department] = {}
        for rule in rules:
            if rule.get("department"):
                found = Department.objects.filter(uscc=rule["department"])
            else:
                found = Department.objects.filter(kind=rule["kind"])
                if rule.get("region"):
                    found = found.filter(region_id=rule["region"])
            departments.update({d.pk: d for d in found.select_related("region")})
        for department in departments.values():
            before = licence_type.issuers.filter(department=department, active=True).exists()
            authorise_issuer(licence_type=licence_type, department=department, actor=actor, actor_label=actor_label)
            granted += int(not before)
            if not provision:
                continue
            if keystore.active_key(department=department) is None:
                keystore.create_key(department=department)
            if not TrustedIssuer.objects.filter(trust_list__region=department.region, department=department).exists():
                trust.add_trusted_issuer(region=department.region, department=department)
    return granted


def _import_materials(materials: list[dict]) -> int:
    created_count = 0
    for raw in materials:
        d = codec.normalize_material(raw)
        lt = LicenceType.objects.get(code=d["licence_type"]) if d["licence_type"] else None
        _, created = MaterialKind.objects.update_or_create(
            code=d["code"], defaults={"name": d["name"], "licence_type": lt, "data_resource": d["data_resource"],
                                      "description": d["description"]})
        created_count += int(created)
    return created_count


def _import_item(raw: dict) -> int:
    department = Department.objects.get(uscc=raw["department"])
    item, _ = Item.objects.update_or_create(
        implementation_code=raw["implementation_code"],
        defaults={"basic_code": raw["basic_code"], "region_id": raw["region"], "department": department, "name": raw["name"]})
    written = 0
    for raw_version in raw["versions"]:
        wanted = codec.normalize_item_version(raw_version)
        existing = item.versions.filter(version=wanted["version"]).first()
        if existing is not None and existing.is_published:
            continue  # unchanged (published_version_conflicts refused any change)
        _write_version(item, existing, wanted)
        written += 1
    return written


def _write_version(item: Item, existing: ItemVersion | None, d: dict) -> ItemVersion:
    fields = {
        "status": d["status"],
        "valid_from": date.fromisoformat(d["valid_from"]) if d["valid_from"] else None,
        "name": d["name"],
        "item_type": d["type"],
        "legal_basis": d["legal_basis"],
        "statutory_days": d["statutory_days"],
        "promised_days": d["promised_days"],
        "notice_days": d["notice_days"],
        "handling_forms": d["handling_forms"],
        "visits": d["visits"],
        "fee": d["fee"],
        "acceptance_conditions": d["acceptance_conditions"],
        "result_name": d["result"]["name"],
        "result_licence_type": LicenceType.objects.get(code=d["result"]["licence_type"]) if d["result"]["licence_type"] else None,
        "cross_region_scope": d["cross_region"]["scope"],
        "cross_region_regions": d["cross_region"]["regions"],
        "form_fields": d["form"],
    }
    if d["status"] == ItemVersion.Status.PUBLISHED:
        fields["published_at"] = timezone.now()
    if existing is None:
        version = ItemVersion(item=item, version=d["version"], **fields)
    else:
        version = existing
        for key, value in fields.items():
            setattr(version, key, value)
        version.materials.all().delete()
    version.full_clean()
    version.save()
    kinds = {k.code: k for k in MaterialKind.objects.filter(code__in=[m["material"] for m in d["materials"]])}
    ItemMaterial.objects.bulk_create([
        ItemMaterial(item_version=version, kind=kinds[m["material"]], position=pos,
                     **{k: v for k, v in m.items() if k != "material"})
        for pos, m in enumerate(d["materials"], start=1)
    ])
    return version


@transaction.atomic
def publish_item_version(*, version: ItemVersion, valid_from: date) -> ItemVersion:
    """Publish a draft: from now on it is immutable and in force from `valid_from`."""
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise Conflict("该版本已发布", "this version is already published", rule="version.published")
    version.status = ItemVersion.Status.PUBLISHED
    version.valid_from = valid_from
    version.published_at = timezone.now()
    version.save(update_fields=["status", "valid_from", "published_at"])
    return version


@transaction.atomic
def create_draft_version(*, item: Item) -> ItemVersion:
    """Start a new draft from the newest version (copying its content and materials)."""
    Item.objects.select_for_update().get(pk=item.pk)
    latest = item.versions.order_by("-version").first()
    if latest is None:
        raise Conflict("该事项没有可复制的版本", "the item has no version to copy", rule="version.none")
    if not latest.is_published:
        raise Conflict("已有未发布的草稿版本", "a draft version already exists", rule="version.draft_exists")
    content = codec.item_version_to_dict(latest)
    content.update({"version": latest.version + 1, "status": ItemVersion.Status.DRAFT, "valid_from": None})
    return _write_version(item, None, content)


def ensure_editable(version: ItemVersion) -> None:
    """Refuse any change to a published version (callers: admin, services)."""
    if version.is_published:
        raise Conflict("已发布的版本不可修改，请创建新版本", "a published version cannot be changed; create a new version",
                       rule="version.immutable")
