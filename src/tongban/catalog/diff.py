"""Regional comparison of one standard item (同一事项无差别受理、同标准办理).

For a basic code, put side by side the version in force of every region implementing it and show
where their implementation lists differ: materials, time limits, fees, visits, handling forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from tongban.core.errors import NotFound

from .models import Item, ItemMaterial, ItemVersion
from .selectors import published_versions_in_force

COMPARED = [
    ("statutory_days", "法定时限（工作日）", "statutory limit (working days)"),
    ("promised_days", "承诺时限（工作日）", "promised limit (working days)"),
    ("fee", "收费", "fee"),
    ("visits", "到现场次数", "on-site visits"),
    ("handling_forms", "办理形式", "handling forms"),
    ("cross_region_scope", "通办范围", "cross-region scope"),
]


@dataclass
class ItemComparison:
    basic_code: str
    name: str
    regions: list[dict] = field(default_factory=list)  # [{code, name, department, version}]
    attributes: list[dict] = field(default_factory=list)  # [{key, zh, en, values: {region: v}, differs}]
    materials: list[dict] = field(default_factory=list)  # [{code, name, regions: {region: "原件1/复印件1" | None}, differs}]

    @property
    def differences(self) -> int:
        return sum(a["differs"] for a in self.attributes) + sum(m["differs"] for m in self.materials)

    def as_dict(self) -> dict:
        return {"basic_code": self.basic_code, "name": self.name, "regions": self.regions,
                "attributes": self.attributes, "materials": self.materials, "differences": self.differences}


def compare_item(basic_code: str, on: date | None = None) -> ItemComparison:
    on = on or timezone.localdate()
    items = list(Item.objects.filter(basic_code=basic_code).select_related("region", "department").order_by("region_id"))
    if not items:
        raise NotFound(basic_code)
    comparison = ItemComparison(basic_code=basic_code, name=items[0].name)
    in_force: dict[int, ItemVersion] = {}
    for version in (ItemVersion.objects.filter(published_versions_in_force(on), item__in=items)
                    .prefetch_related(_materials()).order_by("item_id", "-valid_from", "-version")):
        in_force.setdefault(version.item_id, version)
    versions: dict[str, ItemVersion] = {}
    for item in items:
        version = in_force.get(item.pk)
        if version is None:
            continue
        versions[item.region_id] = version
        comparison.regions.append({"code": item.region_id, "name": item.region.name, "department": item.department.name,
                                   "version": version.version})
    for key, zh, en in COMPARED:
        values = {code: _value(getattr(v, key)) for code, v in versions.items()}
        comparison.attributes.append({"key": key, "zh": zh, "en": en, "values": values,
                                      "differs": len({repr(x) for x in values.values()}) > 1})
    per_material: dict[str, dict] = {}
    for code, v in versions.items():
        for m in v.materials.all():
            entry = per_material.setdefault(m.kind.code, {"code": m.kind.code, "name": m.kind.name, "regions": {}})
            entry["regions"][code] = f"{m.get_requirement_display()} 原件{m.originals}/复印件{m.copies}"
    for entry in sorted(per_material.values(), key=lambda e: e["code"]):
        for code in versions:
            entry["regions"].setdefault(code, None)
        entry["differs"] = len({entry["regions"][c] for c in versions}) > 1
        comparison.materials.append(entry)
    return comparison


def _materials():
    from django.db.models import Prefetch

    return Prefetch("materials", queryset=ItemMaterial.objects.select_related("kind"))


def _value(value):
    return list(value) if isinstance(value, list) else value


def format_text(c: ItemComparison) -> str:
    lines = [f"{c.name} ({c.basic_code}): {len(c.regions)} 个区划实施 / regions implementing, {c.differences} 处差异 / differences"]
    lines.append("regions: " + ", ".join(f"{r['name']}({r['code']}) v{r['version']}" for r in c.regions))
    for a in c.attributes:
        mark = "≠" if a["differs"] else "="
        lines.append(f"{mark} {a['zh']} / {a['en']}: " + "; ".join(f"{k}={v}" for k, v in a["values"].items()))
    for m in c.materials:
        mark = "≠" if m["differs"] else "="
        lines.append(f"{mark} 材料 material {m['name']} ({m['code']}): " + "; ".join(f"{k}={v or '—不要求/not required'}" for k, v in m["regions"].items()))
    return "\n".join(lines)
