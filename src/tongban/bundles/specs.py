"""Plain, immutable views of catalogue content used by the planner (no database access inside).

Built either from stored item versions (`from_item_version`) or from a catalogue file being validated
(`from_file_item`), so planning and validation share one dependency and stage computation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MaterialSpec:
    code: str
    name: str
    licence_type: str | None
    data_resource: str
    requirement: str
    commitment_allowed: bool
    minor: bool


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    standard: str
    required: bool


@dataclass(frozen=True)
class ItemSpec:
    basic_code: str
    implementation_code: str
    name: str
    department_uscc: str
    department_name: str
    statutory_days: int
    promised_days: int
    visits: int
    result_licence_type: str | None
    result_name: str
    form: tuple[FieldSpec, ...]
    materials: tuple[MaterialSpec, ...]
    version: int = 0


def from_item_version(version) -> ItemSpec:
    item = version.item
    return ItemSpec(
        basic_code=item.basic_code,
        implementation_code=item.implementation_code,
        name=version.name,
        department_uscc=item.department.uscc,
        department_name=item.department.name,
        statutory_days=version.statutory_days,
        promised_days=version.promised_days,
        visits=version.visits,
        result_licence_type=version.result_licence_type.code if version.result_licence_type_id else None,
        result_name=version.result_name,
        form=tuple(FieldSpec(f["name"], f["label"], f["type"], f.get("standard", ""), bool(f.get("required", True)))
                   for f in version.form_fields),
        materials=tuple(
            MaterialSpec(m.kind.code, m.kind.name, m.kind.licence_type.code if m.kind.licence_type_id else None,
                         m.kind.data_resource, m.requirement, m.commitment_allowed, m.minor)
            for m in version.materials.all()
        ),
        version=version.version,
    )


def from_file_item(item: dict, version: dict, materials: dict[str, dict], department_name: str = "") -> ItemSpec:
    def material(m: dict) -> MaterialSpec:
        kind = materials.get(m.get("material"), {})
        return MaterialSpec(str(m.get("material")), kind.get("name", str(m.get("material"))), kind.get("licence_type"),
                            kind.get("data_resource", ""), m.get("requirement", "required"),
                            bool(m.get("commitment_allowed")), bool(m.get("minor")))

    result = version.get("result") if isinstance(version.get("result"), dict) else {}
    return ItemSpec(
        basic_code=str(item.get("basic_code")),
        implementation_code=str(item.get("implementation_code")),
        name=str(version.get("name", item.get("name", ""))),
        department_uscc=str(item.get("department")),
        department_name=department_name,
        statutory_days=int(version.get("statutory_days") or 0),
        promised_days=int(version.get("promised_days") or 0),
        visits=int(version.get("visits", 1) or 0),
        result_licence_type=result.get("licence_type"),
        result_name=result.get("name", ""),
        form=tuple(FieldSpec(f["name"], f.get("label", f["name"]), f.get("type", "string"), f.get("standard", ""),
                             bool(f.get("required", True)))
                   for f in version.get("form", []) if isinstance(f, dict) and "name" in f),
        materials=tuple(material(m) for m in version.get("materials", []) if isinstance(m, dict)),
        version=int(version.get("version") or 0),
    )
