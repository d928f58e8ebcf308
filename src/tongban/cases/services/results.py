"""Results of approved items: the item's result licence, made from the case data (no re-typing) and
signed by the issuing department's key (tongban.licences)."""

from __future__ import annotations

from datetime import date

from tongban.licences.documents import field_specs
from tongban.licences.services import issue_licence

from ..models import Case, SubCase

# Licence field labels -> the merged form's standard fields that hold them (first non-empty wins).
FIELD_SOURCES: dict[str, tuple[str, ...]] = {
    "名称": ("enterprise.name",), "经营者名称": ("enterprise.name",), "单位名称": ("enterprise.name",),
    "建设单位": ("enterprise.name",), "设置单位": ("enterprise.name",),
    "统一社会信用代码": ("enterprise.uscc",),
    "法定代表人": ("enterprise.legal_representative.name",),
    "住所": ("enterprise.address", "premises.address"),
    "经营场所": ("premises.address",), "场所地址": ("premises.address",), "工程地址": ("premises.address",),
    "地址": ("premises.address", "enterprise.address", "person.address"), "设置地点": ("premises.address",),
    "注册资本": ("enterprise.registered_capital",), "经营范围": ("enterprise.business_scope",),
    "主体业态": ("food.business_form",), "使用面积": ("premises.area_sqm",),
    "工程名称": ("project.name",), "项目名称": ("project.name",),
    "姓名": ("person.name",), "公民身份号码": ("person.id_number",), "权利人": ("person.name",),
    "坐落": ("property.address",), "不动产单元号": ("property.certificate_number",),
    "新生儿姓名": ("newborn.name",), "出生日期": ("newborn.birth_date",), "规格": ("sign.size_sqm",),
}
# Fields the decision itself determines.
DECIDED = {"成立日期": "date", "发证日期": "date", "审查结论": "合格", "验收结论": "合格", "期限": "长期",
           "类型": "有限责任公司", "经营项目": "热食类食品制售", "许可项目": "经营", "行业类别": "旅馆业"}


def _standard_values(case: Case) -> dict[str, object]:
    values = {}
    for name, prop in case.plan.get("form", {}).get("properties", {}).items():
        if case.form.get(name) not in (None, ""):
            values[prop.get("x-standard") or name] = case.form[name]
            values.setdefault(prop.get("title", name), case.form[name])
    if case.enterprise_id:
        enterprise = case.enterprise
        values.setdefault("enterprise.name", enterprise.name)
        values.setdefault("enterprise.uscc", enterprise.uscc)
        values.setdefault("enterprise.address", enterprise.address)
        values.setdefault("enterprise.legal_representative.name",
                          enterprise.legal_representative.real_name if enterprise.legal_representative_id else "")
    else:
        values.setdefault("person.name", case.applicant_name)
        values.setdefault("person.id_number", case.applicant_code)
    return values


def licence_data(case: Case, sub: SubCase, fields: list, on: date) -> dict:
    values = _standard_values(case)
    data = {}
    for spec in field_specs(fields):
        label = spec["name"]
        value = next((values[s] for s in FIELD_SOURCES.get(label, ()) if values.get(s) not in (None, "")), None)
        if value is None:
            value = values.get(label)
        if value is None and label in DECIDED:
            value = on.isoformat() if DECIDED[label] == "date" else DECIDED[label]
        if value is None:
            value = f"见办件 {case.number}"
        data[label] = str(value) if spec["type"] == "string" or isinstance(value, float) else value
    return data


def record_licence_use(licence, case: Case, sub: SubCase | None, reason: str, actor=None) -> None:
    """The holder sees every use of their licence: which department, when, for which case, why."""
    from tongban.licences.models import LicenceUse

    LicenceUse.objects.create(licence=licence, kind=LicenceUse.Kind.CASE, officer=actor,
                              department=sub.department if sub else None,
                              item_basic_code=sub.item_version.item.basic_code if sub else "", case_ref=case.number,
                              reason=reason[:256])


def produce_result(sub: SubCase, case: Case, actor, on: date):
    """The signed result licence of an approved item, or None when the item's result is not a licence."""
    licence_type = sub.item_version.result_licence_type
    if licence_type is None:
        return None
    enterprise = case.applicant_kind == Case.ApplicantKind.ENTERPRISE
    return issue_licence(licence_type=licence_type, issuer=sub.department,
                         holder_code_type="001" if enterprise else "111", holder_code=case.applicant_code,
                         holder_name=case.applicant_name, data=licence_data(case, sub, licence_type.fields, on),
                         valid_from=on, source_ref=case.number, actor=actor)
