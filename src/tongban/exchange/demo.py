"""Demo data of the exchange: vocabulary, catalogue, registers and the platform's grants.

`load_registers()` is idempotent and runs after the demo people and enterprises exist:
1. the standard vocabulary (standard fields, the social-security status code list, regional aliases);
2. the owner departments (existing ones of the home region by kind; created only if missing) and the
   catalogue: 人口库 `population`, 法人库 `legal_entities`, 社保 `social_security`, 不动产 `real_estate`
   (local tables served by the local adapters) and one 不予共享 resource, `tax_personal_income`;
3. register rows built from `accounts.User` (persons with an ID number) and `accounts.Enterprise`, with
   deterministic generated details (same input, same rows);
4. grants for every government-services department (the platform consumer used by prefill).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tongban.accounts.models import Enterprise, User
from tongban.core.codes import make_uscc
from tongban.regions.models import Department, Region

from . import models

HOME_REGION = "430100"

# name: (label, label_en, type, code list)
STANDARD_FIELDS = {
    "enterprise.name": ("企业名称", "enterprise name", "string"),
    "enterprise.uscc": ("统一社会信用代码", "unified social credit code", "string"),
    "enterprise.legal_representative.name": ("法定代表人", "legal representative", "string"),
    "enterprise.legal_representative.id_number": ("法定代表人身份证号码", "legal representative's ID number", "string"),
    "enterprise.address": ("住所", "registered address", "string"),
    "enterprise.registered_capital": ("注册资本（万元）", "registered capital (10k CNY)", "decimal"),
    "enterprise.type": ("企业类型", "enterprise type", "string"),
    "enterprise.established_on": ("成立日期", "date of establishment", "date"),
    "enterprise.business_scope": ("经营范围", "business scope", "string"),
    "enterprise.status": ("登记状态", "registration status", "string"),
    "person.name": ("姓名", "name", "string"),
    "person.id_number": ("公民身份号码", "ID number", "string"),
    "person.gender": ("性别", "gender", "string"),
    "person.birth_date": ("出生日期", "date of birth", "date"),
    "person.ethnicity": ("民族", "ethnicity", "string"),
    "person.address": ("住址", "address", "string"),
    "person.phone": ("联系电话", "phone", "string"),
    "property.certificate_number": ("不动产权证书号", "property certificate number", "string"),
    "property.owner_name": ("权利人", "owner", "string"),
    "property.address": ("坐落", "property address", "string"),
    "property.area_sqm": ("建筑面积（平方米）", "floor area (m²)", "decimal"),
    "property.usage": ("用途", "usage", "string"),
    "property.registered_on": ("登记日期", "registration date", "date"),
    "social_security.status": ("参保状态", "social insurance status", "code"),
    "social_security.insured_since": ("参保日期", "insured since", "date"),
    "social_security.employer_name": ("参保单位", "insuring employer", "string"),
}
SOCIAL_SECURITY_STATUS = [("active", "正常参保"), ("suspended", "暂停缴费"), ("terminated", "终止参保")]
# The demo social-security system uses 1/2/3 (a regional code list) for these.
SOCIAL_SECURITY_LOCAL = {"1": "active", "2": "suspended", "3": "terminated"}
# Regional field names of department systems elsewhere (e.g. a city's market-regulation database).
ALIASES = [
    (None, "qymc", "enterprise.name"), (None, "tyshxydm", "enterprise.uscc"), (None, "zs", "enterprise.address"),
    (None, "zczb", "enterprise.registered_capital"), (None, "jyfw", "enterprise.business_scope"),
    ("430100", "fddbr", "enterprise.legal_representative.name"),
    ("430200", "frdb", "enterprise.legal_representative.name"),
    ("430300", "fddbr", "enterprise.legal_representative.name"),
    ("430200", "frdb_sfzh", "enterprise.legal_representative.id_number"),
]

# code: (name, owner kind, subject kind, sharing type, frequency, legal basis, fields)
# fields: (name, label, type, sensitivity, standard)
RESOURCES = {
    "population": (
        "人口基础信息（人口库）", Department.Kind.PUBLIC_SECURITY, models.SubjectKind.PERSON, models.SharingType.CONDITIONAL,
        models.UpdateFrequency.DAILY, "《国务院关于加快推进政务服务标准化规范化便利化的指导意见》；《个人信息保护法》第三十四条",
        [("id_number", "公民身份号码", "string", "highly_sensitive", "person.id_number"),
         ("name", "姓名", "string", "sensitive", "person.name"),
         ("gender", "性别", "string", "sensitive", "person.gender"),
         ("birth_date", "出生日期", "date", "sensitive", "person.birth_date"),
         ("ethnicity", "民族", "string", "sensitive", "person.ethnicity"),
         ("address", "户籍地址", "string", "sensitive", "person.address"),
         ("phone", "联系电话", "string", "sensitive", "person.phone")]),
    "legal_entities": (
        "法人基础信息（法人库）", Department.Kind.MARKET_REGULATION, models.SubjectKind.ENTERPRISE,
        models.SharingType.UNCONDITIONAL, models.UpdateFrequency.REALTIME,
        "《企业信息公示暂行条例》第六条（登记信息依法公示）",
        [("uscc", "统一社会信用代码", "string", "public", "enterprise.uscc"),
         ("name", "名称", "string", "public", "enterprise.name"),
         ("legal_representative", "法定代表人", "string", "public", "enterprise.legal_representative.name"),
         ("legal_representative_id_number", "法定代表人身份证号码", "string", "highly_sensitive",
          "enterprise.legal_representative.id_number"),
         ("address", "住所", "string", "public", "enterprise.address"),
         ("registered_capital", "注册资本（万元）", "decimal", "public", "enterprise.registered_capital"),
         ("entity_type", "企业类型", "string", "public", "enterprise.type"),
         ("established_on", "成立日期", "date", "public", "enterprise.established_on"),
         ("business_scope", "经营范围", "string", "public", "enterprise.business_scope"),
         ("status", "登记状态", "string", "public", "enterprise.status")]),
    "social_security": (
        "社会保险参保信息", Department.Kind.HUMAN_RESOURCES, models.SubjectKind.PERSON, models.SharingType.CONDITIONAL,
        models.UpdateFrequency.DAILY, "《社会保险法》第七十四条",
        [("name", "姓名", "string", "sensitive", "person.name"),
         ("status", "参保状态", "code", "sensitive", "social_security.status"),
         ("insured_since", "参保日期", "date", "sensitive", "social_security.insured_since"),
         ("employer_name", "参保单位", "string", "internal", "social_security.employer_name")]),
    "real_estate": (
        "不动产登记信息", Department.Kind.NATURAL_RESOURCES, models.SubjectKind.ANY, models.SharingType.CONDITIONAL,
        models.UpdateFrequency.DAILY, "《不动产登记暂行条例》第二十五条、第二十七条",
        [("certificate_number", "不动产权证书号", "string", "internal", "property.certificate_number"),
         ("owner_name", "权利人", "string", "sensitive", "property.owner_name"),
         ("address", "坐落", "string", "internal", "property.address"),
         ("area", "建筑面积（平方米）", "decimal", "internal", "property.area_sqm"),
         ("usage", "用途", "string", "internal", "property.usage"),
         ("registered_on", "登记日期", "date", "internal", "property.registered_on")]),
    "tax_personal_income": (
        "个人所得税纳税明细", Department.Kind.TAX, models.SubjectKind.PERSON, models.SharingType.NOT_SHARED,
        models.UpdateFrequency.MONTHLY, "《税收征收管理法》第八条（纳税人信息保密）",
        [("income", "年度收入额", "decimal", "highly_sensitive", None),
         ("tax_paid", "已缴税额", "decimal", "highly_sensitive", None)]),
}
ADAPTERS = {"population": "population", "legal_entities": "legal_entities", "social_security": "social_security",
            "real_estate": "real_estate", "tax_personal_income": ""}
# Platform (government-services department) grants: resource -> fields.
PLATFORM_GRANTS = {
    "population": ["id_number", "name", "gender", "birth_date", "address", "phone"],
    "legal_entities": ["uscc", "name", "legal_representative", "legal_representative_id_number", "address",
                       "registered_capital", "entity_type", "established_on", "business_scope", "status"],
    "social_security": ["status", "insured_since", "employer_name"],
    "real_estate": ["certificate_number", "owner_name", "address", "area", "usage"],
}
PLATFORM_PURPOSE = "一网通办：申请表自动填报与免提交材料核验（申请人确认后使用）"
CASE_PURPOSE = "办件审查：核验申请人免于提交的材料"

_STREETS = ["芙蓉中路", "五一大道", "人民东路", "韶山北路", "湘江中路", "解放西路", "建设北路", "书院路", "车站北路",
            "万家丽路", "劳动西路", "桐梓坡路"]


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def department_uscc(region_code: str, serial: int) -> str:
    """A valid, unused USCC for a government body (登记管理部门 1, 机关 1): 11 + region + 9 + check."""
    for attempt in range(100):
        code = make_uscc(registration="11", region=region_code, serial=_h(f"{region_code}-{serial}-{attempt}") % 10**8)
        if not Department.objects.filter(uscc=code).exists():
            return code
    raise RuntimeError("could not generate a free department USCC")


def _home_region() -> Region:
    region = Region.objects.filter(code=HOME_REGION).first() or Region.objects.order_by("code").first()
    if region is None:
        province, _ = Region.objects.get_or_create(code="430000", defaults={"name": "湖南省", "level": "province"})
        region, _ = Region.objects.get_or_create(code=HOME_REGION, defaults={"name": "长沙市", "level": "city",
                                                                              "parent": province})
    return region


def _owner(kind: str, region: Region) -> Department:
    dept = Department.objects.filter(kind=kind, region=region).order_by("pk").first()
    if dept is None:
        label = dict(Department.Kind.choices)[kind]
        dept = Department.objects.create(uscc=department_uscc(region.code, len(Department.Kind.values)
                                                              + list(Department.Kind.values).index(kind)),
                                         name=f"{region.name}{label}部门", kind=kind, region=region)
    return dept


def load_vocabulary() -> None:
    status_list, _ = models.CodeList.objects.get_or_create(name="social_security.status",
                                                           defaults={"label": "社会保险参保状态"})
    values = {}
    for code, label in SOCIAL_SECURITY_STATUS:
        values[code], _ = models.CodeValue.objects.update_or_create(code_list=status_list, code=code,
                                                                    defaults={"label": label})
    for local, standard in SOCIAL_SECURITY_LOCAL.items():
        models.CodeMapping.objects.update_or_create(code_list=status_list, region=None, local_code=local,
                                                    defaults={"value": values[standard]})
    for name, (label, label_en, kind) in STANDARD_FIELDS.items():
        models.StandardField.objects.update_or_create(
            name=name, defaults={"label": label, "label_en": label_en, "type": kind,
                                 "code_list": status_list if name == "social_security.status" else None})
    regions = set(Region.objects.filter(code__in=[r for r, _, _ in ALIASES if r]).values_list("code", flat=True))
    for region, local, standard in ALIASES:
        if region and region not in regions:
            continue
        models.FieldAlias.objects.update_or_create(
            region_id=region, local_name=local,
            defaults={"standard": models.StandardField.objects.get(name=standard)})


def load_catalogue() -> dict[str, models.DataResource]:
    region = _home_region()
    out = {}
    for code, (name, owner_kind, subject_kind, sharing, frequency, basis, fields) in RESOURCES.items():
        resource, _ = models.DataResource.objects.update_or_create(
            code=code, defaults={
                "name": name, "owner": _owner(owner_kind, region), "subject_kind": subject_kind,
                "sharing_type": sharing, "update_frequency": frequency, "legal_basis": basis,
                "adapter": ADAPTERS[code],
                "not_shared_reason": "涉及纳税人商业秘密和个人隐私，依法保密" if sharing == models.SharingType.NOT_SHARED else "",
            })
        for position, (fname, label, ftype, sensitivity, standard) in enumerate(fields):
            models.ResourceField.objects.update_or_create(
                resource=resource, name=fname,
                defaults={"label": label, "type": ftype, "sensitivity": sensitivity, "position": position,
                          "standard": models.StandardField.objects.filter(name=standard).first() if standard else None})
        out[code] = resource
    return out


def _person_rows(person: User, now) -> None:
    n = _h(person.id_number)
    region_code = person.region_id or person.id_number[:6]
    birth = date(int(person.id_number[6:10]), int(person.id_number[10:12]), int(person.id_number[12:14]))
    address = f"{person.region.name if person.region_id else ''}{_STREETS[n % len(_STREETS)]}{n % 300 + 1}号"
    updated = now - timedelta(days=n % 90 + 1)
    values = {"name": person.real_name or person.username, "gender": "男" if int(person.id_number[16]) % 2 else "女",
              "birth_date": birth, "ethnicity": "汉族", "address": address,
              "phone": person.phone or f"13{n % 10}{n % 10**8:08d}", "region_code": region_code[:6]}
    models.PopulationRecord.objects.update_or_create(id_number=person.id_number, defaults=values,
                                                     create_defaults={**values, "updated_at": updated})
    employer = person.represented_enterprises.order_by("uscc").first()
    status = "1" if n % 7 else "2"
    models.SocialSecurityRecord.objects.get_or_create(
        id_number=person.id_number,
        defaults={"name": person.real_name or person.username, "status": status,
                  "insured_since": date(2010 + n % 12, n % 12 + 1, 1),
                  "employer_uscc": employer.uscc if employer else "",
                  "employer_name": employer.name if employer else "灵活就业人员",
                  "region_code": region_code[:6], "updated_at": now - timedelta(days=n % 30 + 1)})
    if n % 3:  # two in three people own a home
        models.RealEstateRecord.objects.get_or_create(
            certificate_number=_certificate_number(person.region, n),
            defaults={"owner_code": person.id_number, "owner_name": person.real_name or person.username,
                      "address": f"{address}{n % 20 + 1}栋{n % 30 + 1}0{n % 4 + 1}室",
                      "area": Decimal(60 + n % 90) + Decimal("0.50"), "usage": "住宅",
                      "registered_on": date(2012 + n % 11, n % 12 + 1, n % 28 + 1), "region_code": region_code[:6],
                      "updated_at": now - timedelta(days=n % 200 + 1)})


_PROVINCE_ABBREVIATIONS = {"43": "湘", "42": "鄂", "31": "沪", "32": "苏", "33": "浙"}


def _certificate_number(region: Region | None, n: int) -> str:
    """不动产权证书号 in the usual form: 湘(2019)长沙市不动产权第0012345号."""
    code = region.code if region else HOME_REGION
    place = region.name if region else "长沙市"
    return f"{_PROVINCE_ABBREVIATIONS.get(code[:2], '湘')}({2012 + n % 11}){place}不动产权第{n % 10**7:07d}号"


def _enterprise_rows(enterprise: Enterprise, now) -> None:
    n = _h(enterprise.uscc)
    rep = enterprise.legal_representative
    founded = date(2015 + n % 9, n % 12 + 1, n % 28 + 1)
    models.LegalEntityRecord.objects.get_or_create(
        uscc=enterprise.uscc,
        defaults={"name": enterprise.name, "legal_representative": rep.real_name or rep.username,
                  "legal_representative_id_number": rep.id_number, "address": enterprise.address,
                  "registered_capital": Decimal(10 + (n % 50) * 10), "entity_type": "有限责任公司（自然人投资或控股）",
                  "established_on": founded, "business_scope": "餐饮服务；食品销售；住宿服务（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
                  "status": "存续", "region_code": enterprise.region_id, "updated_at": now - timedelta(days=n % 60 + 1)})
    if enterprise.address:
        models.RealEstateRecord.objects.get_or_create(
            certificate_number=_certificate_number(enterprise.region, n + 1),
            defaults={"owner_code": enterprise.uscc, "owner_name": enterprise.name, "address": enterprise.address,
                      "area": Decimal(120 + n % 600) + Decimal("0.00"), "usage": "商业服务",
                      "registered_on": founded, "region_code": enterprise.region_id,
                      "updated_at": now - timedelta(days=n % 200 + 1)})


def load_platform_grants(resources: dict[str, models.DataResource]) -> int:
    """Grants of every government-services department (the platform consumer of prefill)."""
    now = timezone.now()
    made = 0
    for dept in Department.objects.filter(kind=Department.Kind.GOVERNMENT_SERVICES):
        for code, field_names in PLATFORM_GRANTS.items():
            resource = resources[code]
            if resource.owner_id == dept.pk:
                continue
            made += _ensure_grant(resource, dept.pk, field_names, PLATFORM_PURPOSE,
                                  "演示数据：平台自动填报授权 / demo data: platform prefill grant", now)
    return made


def _ensure_grant(resource: models.DataResource, department_id: int, field_names: list[str], purpose: str,
                  reason: str, now) -> int:
    """A granted three-year grant of these fields unless one is in force already; 1 if made."""
    if models.Grant.objects.filter(resource=resource, consumer_id=department_id, status=models.Grant.Status.GRANTED,
                                   valid_until__gt=now).exists():
        return 0
    grant = models.Grant.objects.create(
        resource=resource, consumer_id=department_id, purpose=purpose, valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=3 * 365), status=models.Grant.Status.GRANTED, decided_at=now,
        decision_reason=reason)
    grant.fields.set(resource.fields.filter(name__in=field_names))
    return 1


def load_department_grants(resources: dict[str, models.DataResource]) -> int:
    """Grants of each department whose items take a material from shared data (source `data`), so its
    officers can fetch it for a case instead of asking the applicant to upload it."""
    from tongban.catalog.models import ItemMaterial

    now = timezone.now()
    made = 0
    pairs = set(ItemMaterial.objects.exclude(kind__data_resource="")
                .values_list("item_version__item__department_id", "kind__data_resource"))
    for department_id, code in sorted(pairs):
        resource = resources.get(code)
        if resource is None or resource.owner_id == department_id:
            continue
        made += _ensure_grant(resource, department_id, PLATFORM_GRANTS.get(code, []), CASE_PURPOSE,
                              "演示数据：办件材料核验授权 / demo data: grant for checking case materials", now)
    return made


def load_registers() -> dict[str, int]:
    """Build (or refresh) the demo vocabulary, catalogue, registers and platform grants. Idempotent."""
    now = timezone.now()
    with transaction.atomic():
        load_vocabulary()
        resources = load_catalogue()
        people = User.objects.filter(kind=User.Kind.PERSON).exclude(id_number="").select_related("region")
        for person in people:
            _person_rows(person, now)
        enterprises = Enterprise.objects.select_related("legal_representative", "region")
        for enterprise in enterprises:
            _enterprise_rows(enterprise, now)
        grants = load_platform_grants(resources) + load_department_grants(resources)
    return {"people": people.count(), "enterprises": enterprises.count(), "grants": grants,
            "resources": len(resources)}
