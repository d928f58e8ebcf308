"""Demo data: seven regions, their departments, items, bundles, halls, staff and applicants.

The catalogue part is built as tongban.catalog/v1 documents from data/demo/*.yaml and imported through
the same all-or-nothing import as any region's files, so the demo exercises the real format.
Everything is idempotent: loading twice changes nothing.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from tongban.accounts.models import Enterprise, Role, User
from tongban.catalog.format import Document, load_documents, parse_text
from tongban.catalog.services import import_documents
from tongban.core.codes import make_id_number, make_uscc
from tongban.regions.models import Department, ServiceHall, Window

DEMO_DIR = Path(settings.PROJECT_DIR) / "data" / "demo"
DEMO_PASSWORD = "tongban-demo"  # noqa: S105 - published demo credential, development data only
MINISTRIES = {  # defining bodies of licence types (national level, region 100000)
    "samr": 1, "mps": 2, "mohurd": 3, "mem": 4, "nhc": 5, "mnr": 6, "mee": 7, "mohrss": 8, "mca": 9,
}
PEOPLE = [  # per region: a citizen and an entrepreneur (legal representative of a demo enterprise)
    ("citizen", "市民", "19580312", 13),
    ("boss", "经营者", "19860921", 25),
    ("agent", "代办人", "19920505", 37),
]
SURNAMES = {"changsha": "刘", "zhuzhou": "陈", "xiangtan": "彭", "xianning": "张", "qingpu": "沈", "wujiang": "徐", "jiashan": "钱"}
GIVEN = {"citizen": "秀英", "boss": "伟", "agent": "敏"}


def _read(name: str, source: Path = DEMO_DIR) -> dict:
    return parse_text((Path(source) / name).read_text(encoding="utf-8"))


def is_demo_source(path) -> bool:
    """A directory in the demo's generator format (data/demo): regions.yaml with provinces, cities and
    the departments every region runs, items.yaml with item templates, vocabulary.yaml; expanded by
    `build_documents` into tongban.catalog/v1 documents, one per region."""
    path = Path(path)
    if not (path.is_dir() and all((path / n).is_file() for n in ("regions.yaml", "items.yaml", "vocabulary.yaml"))):
        return False
    head = _read("regions.yaml", path)
    return isinstance(head, dict) and "provinces" in head and "format" not in head


def ministry_uscc(key: str) -> str:
    return make_uscc(registration="11", region="100000", serial=MINISTRIES[key])


def department_uscc(region_code: str, index: int) -> str:
    return make_uscc(registration="11", region=region_code, serial=int(region_code) * 100 + index)


def _substitute(value):
    text = json.dumps(value, ensure_ascii=False)
    for key in MINISTRIES:
        text = text.replace("{" + key + "}", ministry_uscc(key))
    return json.loads(text)


def demo_regions(only: list[str] | None = None, source: Path = DEMO_DIR) -> list[dict]:
    """The demo regions (regions.yaml), or only those with the given codes (a federation node's own)."""
    regions = _read("regions.yaml", source)["regions"]
    if not only:
        return regions
    unknown = sorted(set(only) - {r["code"] for r in regions})
    if unknown:
        raise ValueError(f"not a demo region: {', '.join(unknown)}")
    return [r for r in regions if r["code"] in only]


def build_documents(regions: list[str] | None = None, source: Path = DEMO_DIR) -> list[Document]:
    regions_cfg = _read("regions.yaml", source)
    vocab, items_cfg = _substitute(_read("vocabulary.yaml", source)), _substitute(_read("items.yaml", source))
    regions_cfg["regions"] = demo_regions(regions, source)
    selected = {r["code"] for r in regions_cfg["regions"]}
    docs = [Document("demo:vocabulary", {"format": "tongban.catalog/v1", "licence_types": vocab["licence_types"],
                                         "materials": vocab["materials"]})]
    provinces = {p["code"]: {**p, "level": "province", "parent": None} for p in regions_cfg["provinces"]}
    cities = {c["code"]: {**c, "level": "city"} for c in regions_cfg["cities"]}
    for region in regions_cfg["regions"]:
        chain, parent = [], region["parent"]
        while parent:
            node = cities.get(parent) or provinces[parent]
            chain.insert(0, {"code": node["code"], "name": node["name"], "level": node["level"], "parent": node.get("parent")})
            parent = node.get("parent")
        own = {"code": region["code"], "name": region["name"], "level": region["level"], "parent": region["parent"]}
        departments = [
            {"uscc": department_uscc(region["code"], i), "name": region["name"] + d["name"], "kind": d["kind"], "region": region["code"]}
            for i, d in enumerate(regions_cfg["departments"], start=1)
        ]
        by_kind = {d["kind"]: d for d in departments}
        level = "3" if region["level"] == "city" else "4"
        group = regions_cfg["groups"].get(region["group"], [])
        variations = items_cfg.get("variations", {}).get(region["slug"], {})
        items = [
            _item(t, region["code"], by_kind[t["department"]]["uscc"], level, group, items_cfg["defaults"], variations.get(t["key"], {}))
            for t in items_cfg["items"]
        ]
        docs.append(Document(f"demo:{region['slug']}", {"format": "tongban.catalog/v1", "regions": [*chain, own],
                                                         "departments": departments, "items": items}))
    bundle_docs, problems = load_documents(Path(source) / "bundles")
    assert not problems, problems
    if regions:  # a bundle is published only in the loaded regions
        for doc in bundle_docs:
            for bundle in doc.data.get("bundles", []):
                for version in bundle.get("versions", []):
                    if "regions" in version:
                        version["regions"] = [c for c in version["regions"] if c in selected]
    return docs + bundle_docs


def _item(t: dict, region: str, uscc: str, level: str, group: list[str], defaults: dict, variation: dict) -> dict:
    cross = t.get("cross_region", {"scope": "none"})
    if cross.get("scope") == "group":
        cross = {"scope": "listed", "regions": group} if group else {"scope": "none", "regions": []}
    version = {
        "version": 1, "status": "published", "valid_from": defaults["valid_from"], "name": t["name"], "type": t["type"],
        "legal_basis": t.get("legal_basis", ""), "statutory_days": t["statutory_days"], "promised_days": t["promised_days"],
        "notice_days": defaults["notice_days"], "handling_forms": t.get("handling_forms", defaults["handling_forms"]),
        "visits": t.get("visits", 1), "fee": t.get("fee", defaults["fee"]), "acceptance_conditions": t.get("acceptance_conditions", ""),
        "result": t.get("result", {"name": "", "licence_type": None}), "cross_region": cross,
        "form": copy.deepcopy(t.get("form", [])), "materials": copy.deepcopy(t.get("materials", [])),
    }
    for key, value in variation.items():
        if key == "add_materials":
            version["materials"].extend(value)
        else:
            version[key] = value
    return {"basic_code": t["basic_code"], "implementation_code": f"{uscc}{level}{t['basic_code']}", "region": region,
            "department": uscc, "name": t["name"], "versions": [version]}


def load(regions: list[str] | None = None) -> dict:
    """Load everything (idempotent), or only the given demo regions (with their provinces and
    cities; a federation node loads its own). Returns counts for the command's output."""
    # Keys come from ensure_demo_keys (SM2 for some departments), not from the import's Ed25519 default.
    counts = import_documents(documents=build_documents(regions), provision_issuers=False)
    with transaction.atomic():
        counts.update(_load_people(regions))
    counts.update(_load_integrations())
    counts.update(_load_identity())
    return counts


def _load_identity() -> dict:
    """Mandates (each region's agent acts for its demo enterprise), the demo OIDC relying party and a
    department system with client credentials (tongban.accounts.demo; see docs/identity.md)."""
    from tongban.accounts.demo import load as load_identity

    with transaction.atomic():
        return {f"identity_{k}": v for k, v in load_identity().items()}


def _load_integrations() -> dict:
    """Other capabilities' demo data, once regions, departments and people exist: signing keys and trust
    lists for the licence library, the shared-data registers and platform grants for the exchange."""
    from tongban.exchange.demo import load_registers
    from tongban.licences.demo import ensure_demo_keys, issue_demo_id_cards

    counts: dict = {}
    with transaction.atomic():
        counts.update({f"licences_{k}": v for k, v in ensure_demo_keys().items()})
    with transaction.atomic():
        counts.update({f"exchange_{k}": v for k, v in load_registers().items()})
    counts["licences_id_cards"] = issue_demo_id_cards()  # durable services, one per licence
    return counts


def _load_people(only: list[str] | None = None) -> dict:
    regions_cfg = _read("regions.yaml")
    for role in Role.values:
        Group.objects.get_or_create(name=role)
    staff = people = 0
    for n, region in enumerate(regions_cfg["regions"], start=1):  # n stays the region's position in the file
        if only and region["code"] not in only:
            continue
        code, slug = region["code"], region["slug"]
        hall, _ = ServiceHall.objects.update_or_create(
            code=f"{code}-hall", defaults={"name": f"{region['name']}政务服务中心", "region_id": code,
                                           "address": f"{region['name']}市民之家"})
        for number, (name, cats) in enumerate([("综合窗口（企业）", "enterprise"), ("综合窗口（个人）", "personal"),
                                              ("跨域通办窗口", "cross-region"), ("统一出件窗口", "delivery")], start=1):
            Window.objects.update_or_create(hall=hall, number=f"{number:02d}", defaults={"name": name, "categories": cats})
        for i, d in enumerate(regions_cfg["departments"], start=1):
            department = Department.objects.get(uscc=department_uscc(code, i))
            staff += _staff(f"{slug}-{d['short']}", f"{department.name}审批员", code, [Role.OFFICER], department=department)
        staff += _staff(f"{slug}-clerk", f"{region['name']}综合窗口", code, [Role.CLERK], hall=hall)
        staff += _staff(f"{slug}-supervisor", f"{region['name']}效能监督", code, [Role.SUPERVISOR])
        staff += _staff(f"{slug}-admin", f"{region['name']}管理员", code, [Role.ADMINISTRATOR], staff_flag=True)
        staff += _staff(f"{slug}-auditor", f"{region['name']}审计员", code, [Role.AUDITOR])
        for kind, _label, birth, seq in PEOPLE:
            user, created = User.objects.update_or_create(
                username=f"{slug}-{kind}",
                defaults={"kind": User.Kind.PERSON, "real_name": SURNAMES[slug] + GIVEN[kind], "region_id": code,
                          "id_number": _demo_id_number(code, birth, seq + n),
                          "phone": f"139{int(code):08d}"[:11]})
            if created:
                _set_demo_password(user)
            people += int(created)
            if kind == "boss":
                Enterprise.objects.update_or_create(
                    uscc=make_uscc(registration="91", region=code, serial=70000 + n),
                    defaults={"name": f"{region['name']}{SURNAMES[slug]}记餐饮管理有限公司", "legal_representative": user,
                              "address": f"{region['name']}人民路{100 + n}号", "region_id": code})
    admin, created = User.objects.get_or_create(username="admin", defaults={"kind": User.Kind.STAFF, "real_name": "平台管理员",
                                                                          "is_staff": True, "is_superuser": True})
    if created:
        _set_demo_password(admin)
    return {"staff": staff, "people": people}


def demo_person(region_code: str, kind: str = "citizen") -> tuple[str, str]:
    """The (ID number, name) the demo gives its `kind` resident of `region_code`, computed from the demo
    files alone: on a federation node that loaded only its own region, a window can still file for
    a neighbouring node's demo resident (`tongban simulate --intake-region`)."""
    for n, region in enumerate(_read("regions.yaml")["regions"], start=1):
        if region["code"] == region_code:
            _kind, _label, birth, seq = next(p for p in PEOPLE if p[0] == kind)
            return _demo_id_number(region_code, birth, seq + n), SURNAMES[region["slug"]] + GIVEN[kind]
    raise ValueError(f"not a demo region: {region_code}")


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # Hash once: ~150 demo accounts share the published demo password (PBKDF2 per user would take a minute).
    return make_password(DEMO_PASSWORD)


def _set_demo_password(user: User) -> None:
    user.password = _demo_password_hash()
    user.save(update_fields=["password"])


def _demo_id_number(code: str, birth: str, sequence: int) -> str:
    """A valid 居民身份证号码 for a demo resident of the region.

    GB 11643 checkers (python-stdnum) validate the place code against the birth date (codes change over
    the years), so try the region's county-level codes, then a birth year after the latest code change.
    """
    from stdnum.cn import ric

    for year in (birth[:4], "2000"):
        for place in (code, code[:4] + "02", code[:4] + "01", code[:4] + "21"):
            number = make_id_number(region=place, birth=year + birth[4:], sequence=sequence)
            if ric.is_valid(number):
                return number
    raise ValueError(f"no valid demo ID number for region {code}")


def _staff(username: str, name: str, region: str, roles: list[str], *, department=None, hall=None, staff_flag=False) -> int:
    user, created = User.objects.update_or_create(
        username=username, defaults={"kind": User.Kind.STAFF, "real_name": name, "region_id": region,
                                     "department": department, "hall": hall, "is_staff": staff_flag})
    if created:
        _set_demo_password(user)
    user.groups.set(Group.objects.filter(name__in=roles))
    return int(created)


@lru_cache(maxsize=1)
def demo_accounts() -> tuple[dict, ...]:
    """The demo accounts shown on the home page (development data only)."""
    regions_cfg = _read("regions.yaml")
    rows = []
    for region in regions_cfg["regions"]:
        slug = region["slug"]
        rows.append({"region": region["name"], "citizen": f"{slug}-citizen", "boss": f"{slug}-boss",
                     "clerk": f"{slug}-clerk", "market": f"{slug}-market", "fire": f"{slug}-fire",
                     "housing": f"{slug}-housing", "supervisor": f"{slug}-supervisor"})
    return tuple(rows)
