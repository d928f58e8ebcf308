"""Intake (收件): start a case online or at a window, fill the merged form, hand in materials, submit;
then the comprehensive window's completeness check: acceptance (受理), a one-time notice (一次性告知)
or a reasoned refusal (不予受理), per 行政许可法 Art. 32."""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from tongban.accounts.models import Enterprise, User
from tongban.accounts.roles import Role
from tongban.bundles import planner
from tongban.bundles.selectors import bundle_version_in_force, plan_bundle
from tongban.bundles.specs import from_item_version
from tongban.catalog import standard_fields
from tongban.catalog.models import ItemVersion
from tongban.catalog.selectors import versions_in_force
from tongban.core.codes import check_id_number, check_uscc
from tongban.core.errors import Conflict, InvalidInput, NotFound, Problem
from tongban.core.transactions import service
from tongban.regions.models import Region
from tongban.workdays.calendar import add_workdays

from .. import numbers, uploads, workflows
from ..models import Case, CaseMaterial, MaterialFile, SubCase
from ..notices import sentence
from ._common import (
    REMEDY,
    CaseAction,
    issue_notice,
    lock_case,
    require_case,
    require_reason,
    require_status,
    require_system,
    snapshot,
    tell,
    today,
    trail,
)
from .parties import check_may_file_for

log = logging.getLogger(__name__)

EDITABLE = (Case.Status.DRAFT, Case.Status.CORRECTION)
max_upload_bytes = uploads.max_upload_bytes


# --- starting a case ---------------------------------------------------------------------------------


def _single_item_plan(basic_code: str, region_code: str, on: date) -> dict:
    version = versions_in_force(region_code, [basic_code], on).get(basic_code) if basic_code else None
    if version is None:
        raise InvalidInput(Problem("item", "item.unknown", f"事项 {basic_code} 在区划 {region_code} 未实施",
                                   f"item {basic_code} is not implemented in region {region_code}"))
    spec = from_item_version(version)
    return planner.make_plan(bundle={"code": basic_code, "name": version.name, "version": version.version, "theme": ""},
                             definition={"items": [{"key": basic_code, "item": basic_code}]}, region_code=region_code,
                             answers={}, items={basic_code: spec}, strict=False)


def _identify_applicant(actor, *, enterprise_uscc: str, applicant_id_number: str, applicant_name: str,
                        basic_codes: list[str], on: date) -> dict:
    """Who applies: online the actor (or an enterprise they may act for); at a window the clerk names them."""
    enterprise = None
    if enterprise_uscc:
        problems = check_uscc(enterprise_uscc, "enterprise")
        if problems:
            raise InvalidInput(problems)
        enterprise = Enterprise.objects.filter(uscc=enterprise_uscc).select_related("legal_representative").first()
        if enterprise is None:
            raise InvalidInput(Problem("enterprise", "enterprise.unknown", "未找到该统一社会信用代码对应的企业",
                                       "no enterprise with this unified social credit code"))
    if actor.kind == User.Kind.STAFF:
        if not actor.has_role(Role.CLERK):
            raise InvalidInput(Problem("actor", "role.clerk", "只有综合窗口人员可以代为收件",
                                       "only a window clerk may file on an applicant's behalf"))
        if enterprise is not None:
            return {"applicant_kind": Case.ApplicantKind.ENTERPRISE, "applicant_code": enterprise.uscc,
                    "applicant_name": enterprise.name, "enterprise": enterprise,
                    "applicant_user": enterprise.legal_representative, "agent": None}
        problems = check_id_number(applicant_id_number, "applicant_id_number") if applicant_id_number else [
            Problem("applicant_id_number", "required", "请填写申请人身份证号码或企业统一社会信用代码",
                    "the applicant's ID number or the enterprise's credit code is required")]
        if problems:
            raise InvalidInput(problems)
        person = User.objects.filter(id_number=applicant_id_number.upper()).first()
        name = (person.real_name if person else "") or (applicant_name or "").strip()
        if not name:
            raise InvalidInput(Problem("applicant_name", "required", "请填写申请人姓名", "the applicant's name is required"))
        return {"applicant_kind": Case.ApplicantKind.PERSON, "applicant_code": applicant_id_number.upper(),
                "applicant_name": name, "enterprise": None, "applicant_user": person, "agent": None}
    if enterprise is not None:
        mandate = check_may_file_for(actor, enterprise, basic_codes, on)
        return {"applicant_kind": Case.ApplicantKind.ENTERPRISE, "applicant_code": enterprise.uscc,
                "applicant_name": enterprise.name, "enterprise": enterprise, "mandate": mandate,
                "applicant_user": enterprise.legal_representative, "agent": actor if mandate else None}
    if not actor.id_number:
        raise InvalidInput(Problem("actor", "identity.real_name", "请先完成实名认证（身份证号码）",
                                   "complete real-name verification (ID number) first"))
    return {"applicant_kind": Case.ApplicantKind.PERSON, "applicant_code": actor.id_number,
            "applicant_name": actor.real_name or actor.get_username(), "enterprise": None, "applicant_user": actor,
            "agent": None}


def _check_cross_region(plan: dict, region_code: str, intake_region: Region, on: date) -> None:
    """A window of region A may accept region B's items only where B lists them as 跨域通办 for A."""
    if intake_region.code == region_code:
        return
    versions = versions_in_force(region_code, [i["basic_code"] for i in plan["items"]], on)
    lineage = set(intake_region.lineage_codes())
    handling = Region.objects.get(code=region_code)
    province = next((r.code for r in [handling, *handling.ancestors()] if r.level == Region.Level.PROVINCE), None)
    scope = ItemVersion.CrossRegionScope

    def allowed(v: ItemVersion) -> bool:
        if v.cross_region_scope == scope.NATIONAL:
            return True
        if v.cross_region_scope == scope.PROVINCE:
            return province is not None and province in lineage
        return v.cross_region_scope == scope.LISTED and bool(lineage & set(v.cross_region_regions))

    refused = [v.name for v in versions.values() if not allowed(v)]
    if refused:
        raise InvalidInput(Problem("region", "cross_region.scope",
                                   f"以下事项不在本地可跨域受理的范围内：{'、'.join(refused)}",
                                   f"these items cannot be accepted here across regions: {', '.join(refused)}"))


def start_case(*, actor, region_code: str, bundle_code: str = "", item_code: str = "", answers: dict | None = None,
               enterprise_uscc: str = "", applicant_id_number: str = "", applicant_name: str = "",
               prefill: bool = True, on: date | None = None) -> Case:
    """A draft case for a bundle or a single item; the plan and the checklist are computed, the form
    prefilled from shared data where granted. The versions in force today stay with the case.

    Not one transaction: the draft is committed first (the case number's counter row is locked only
    that long), then the prefill queries the registers outside any transaction (an HTTP adapter may
    take seconds) and writes what it got in a short transaction of its own."""
    on = today(on)
    if bool(bundle_code) == bool(item_code):
        raise InvalidInput(Problem("bundle", "bundle_or_item", "请选择一件事或一个事项（二选一）",
                                   "choose either a bundle or a single item"))
    from .remote import agreed_remote_item, refuse_unserved_region

    remote = agreed_remote_item(region_code, item_code) if item_code else None
    if remote is None:
        refuse_unserved_region(region_code)
    else:
        return _start_remote_case(actor=actor, agreed=remote, item_code=item_code, enterprise_uscc=enterprise_uscc,
                                  applicant_id_number=applicant_id_number, applicant_name=applicant_name,
                                  prefill=prefill, on=on)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise InvalidInput(Problem("region", "region.unknown", f"区划 {region_code} 不存在", f"no region {region_code}"))
    bundle_version = bundle_version_in_force(bundle_code, region_code, on) if bundle_code else None
    plan = (plan_bundle(bundle_code, region_code, answers or {}, on=on, strict=False) if bundle_code
            else _single_item_plan(item_code, region_code, on))
    if not plan["items"]:
        raise InvalidInput(Problem("answers", "plan.empty", "按当前情形没有需要办理的事项",
                                   "these answers leave no item to apply for"))
    party = _identify_applicant(actor, enterprise_uscc=enterprise_uscc, applicant_id_number=applicant_id_number,
                                applicant_name=applicant_name, basic_codes=[i["basic_code"] for i in plan["items"]],
                                on=on)
    window = actor.kind == User.Kind.STAFF
    intake_region = actor.region if window else region
    if window and intake_region is None:
        raise InvalidInput(Problem("actor", "clerk.region", "窗口人员未配置所属区划", "the clerk has no region"))
    _check_cross_region(plan, region_code, intake_region, on)
    case = _create_draft(actor=actor, plan=plan, party=party, bundle_code=bundle_code, item_code=item_code,
                         bundle_version=bundle_version, region=region, intake_region=intake_region, window=window,
                         on=on)
    if prefill:
        prefill_case(case, actor)
    return case


def _start_remote_case(*, actor, agreed, item_code: str, enterprise_uscc: str, applicant_id_number: str,
                       applicant_name: str, prefill: bool, on: date) -> Case:
    """异地代收代办: an item of a region a peer node serves, filed at this node's window. The window
    examines it against this node's counterpart item (same basic code); the sub-case is remote."""
    from .remote import remote_plan_entry, require_window

    require_window(actor)
    intake_region = actor.region
    if intake_region is None:
        raise InvalidInput(Problem("actor", "clerk.region", "窗口人员未配置所属区划", "the clerk has no region"))
    try:
        plan = _single_item_plan(item_code, intake_region.code, on)
    except InvalidInput:
        raise InvalidInput(Problem("item", "cross_node.no_counterpart",
                                   f"本地未实施事项 {item_code}，无法对照审查材料，不能代收",
                                   f"item {item_code} has no counterpart here to examine the application against")) from None
    plan["items"][0]["remote"] = remote_plan_entry(agreed)
    if agreed.name:
        plan["bundle"]["name"] = agreed.name
    party = _identify_applicant(actor, enterprise_uscc=enterprise_uscc, applicant_id_number=applicant_id_number,
                                applicant_name=applicant_name, basic_codes=[item_code], on=on)
    case = _create_draft(actor=actor, plan=plan, party=party, bundle_code="", item_code=item_code, bundle_version=None,
                         region=intake_region, intake_region=intake_region, window=True, on=on)
    if prefill:
        prefill_case(case, actor)
    return case


@service
def _create_draft(*, actor, plan: dict, party: dict, bundle_code: str, item_code: str, bundle_version, region: Region,
                  intake_region: Region, window: bool, on: date) -> Case:
    """The draft's rows in one short transaction: the case number's counter row is locked from here to commit."""
    case = Case.objects.create(
        number=numbers.reserve_case_number(intake_region.code, on), kind=Case.Kind.BUNDLE if bundle_code else Case.Kind.ITEM,
        channel=Case.Channel.WINDOW if window else Case.Channel.ONLINE, title=plan["bundle"]["name"],
        bundle_version=bundle_version, item_code=item_code, region=region, intake_region=intake_region,
        intake_hall=actor.hall if window else None, plan_date=on, filed_by=actor, answers=plan["answers"], plan=plan,
        **party)
    _fill_from_answers(case)
    _sync_materials(case)
    trail("started", case, actor=actor, after={"plan_items": [i["code"] for i in plan["items"]],
                                               "channel": case.channel, "intake_region": intake_region.code})
    return case


ANSWERED = {"prefill": "answers"}
IDENTIFIED = {"prefill": "identity"}


def _fill_from_answers(case: Case) -> None:
    """What the applicant already said is not asked again (issue 14, finding 7): a form field whose
    standard meaning ends in a question's key (premises.area_sqm ← area_sqm, premises.central_ac ←
    central_ac) starts with that answer, and a person applicant's name and ID number (person.name,
    person.id_number) with the identity filed; each marked with where it came from."""
    answers = case.answers or {}
    # The applicant identified at filing (signed in, or checked by the window clerk) is not typed again.
    identity = ({"person.name": case.applicant_name, "person.id_number": case.applicant_code}
                if case.applicant_kind == Case.ApplicantKind.PERSON else {})
    for name, prop in case.plan.get("form", {}).get("properties", {}).items():
        standard = prop.get("x-standard") or ""
        key = standard.rsplit(".", 1)[-1]
        if standard in identity and identity[standard]:
            value, source = identity[standard], IDENTIFIED
        elif key and key in answers:
            value, source = answers[key], ANSWERED
        else:
            continue
        if case.form.get(name) not in (None, ""):
            continue
        try:
            case.form[name] = standard_fields.check_value(name, prop, value)
        except InvalidInput:
            continue  # a value the field would refuse is left for the applicant to type
        case.form_sources[name] = dict(source)
    case.save(update_fields=["form", "form_sources", "updated_at"])


def prefill_case(case: Case, actor) -> list[str]:
    """Fill the merged form's standard fields from shared data (自动填报), each marked with its source,
    and return the names of the fields that could not be prefilled (the applicant types them).

    Runs outside any transaction. A refusal (not granted, no record) is normal and logged at INFO; a
    failing register is logged at ERROR with the case number, and the fields it should have filled are
    marked in `form_sources` as not prefilled (with why) so the applicant sees it; intake goes on."""
    from tongban.exchange.querying import prefill as exchange_prefill

    properties = case.plan.get("form", {}).get("properties", {})
    standard = [p["x-standard"] for p in properties.values() if p.get("x-standard")]
    if not standard:
        return []
    failure = None
    try:
        values = exchange_prefill(subject=case.applicant_code, standard_fields=standard, actor=actor,
                                  case_ref=case.number)
    except (InvalidInput, NotFound, Conflict, PermissionError) as exc:
        log.info("prefill refused for case %s: %s", case.number, exc)
        values, failure = {}, "refused"
    except Exception:  # an unreachable register must not stop the applicant from starting
        log.exception("prefill failed for case %s: fields %s not prefilled", case.number, ", ".join(standard))
        values, failure = {}, "failed"
    got = {name: values[prop["x-standard"]] for name, prop in properties.items()
           if prop.get("x-standard") and (values.get(prop["x-standard"]) or {}).get("value") not in (None, "")}
    missing = [name for name, prop in properties.items() if prop.get("x-standard") and name not in got]
    if got or (failure == "failed" and missing):
        _store_prefill(case.pk, got, missing if failure == "failed" else [])
        case.refresh_from_db(fields=["form", "form_sources", "updated_at"])
    return missing


PREFILL_FAILED = {"prefill": "failed", "zh": "共享数据暂时无法获取，请手工填写", "en": "shared data unavailable; please type it"}


@service
def _store_prefill(case_pk: int, got: dict[str, dict], failed: list[str]) -> None:
    """Write the prefill result: only into fields still empty (the applicant may have typed meanwhile)."""
    case = lock_case(case_pk)
    for name, answer in got.items():
        if case.form.get(name) in (None, ""):
            case.form[name] = answer["value"]
            case.form_sources[name] = {k: v for k, v in answer.items() if k != "value"}
    for name in failed:
        if case.form.get(name) in (None, ""):
            case.form_sources[name] = dict(PREFILL_FAILED)
    case.save(update_fields=["form", "form_sources", "updated_at"])


def _sync_materials(case: Case) -> None:
    """Make the checklist rows match the plan, keeping what was already handed in."""
    wanted = {m["code"]: m for m in case.plan["materials"]}
    existing = {m.code: m for m in case.materials.all()}
    for code, row in existing.items():
        if code not in wanted:
            row.delete()
    for code, m in wanted.items():
        row = existing.get(code) or CaseMaterial(case=case, code=code)
        row.name, row.source, row.required = m["name"], m["source"], m["required"]
        row.minor, row.commitment_allowed = m["minor"], m["commitment_allowed"]
        row.licence_type_code, row.data_resource = m.get("licence_type") or "", m.get("data_resource") or ""
        row.used_by, row.producer = m["used_by"], m.get("producer") or ""
        if row.pk is None:
            row.status = _initial_status(row)
        row.save()


def _initial_status(row: CaseMaterial) -> str:
    if row.source == CaseMaterial.Source.PRODUCED:
        return CaseMaterial.Status.AWAITED
    if row.source == CaseMaterial.Source.DATA:
        return CaseMaterial.Status.SHARED
    return CaseMaterial.Status.MISSING


def _editable(case: Case, actor) -> Case:
    case = lock_case(case)
    require_status(case, *EDITABLE)
    require_case(actor, case, CaseAction.EDIT)
    return case


@service
def update_draft(*, case: Case, actor, answers: dict | None = None, form: dict | None = None) -> Case:
    """Save answers (drafts only: they change the plan) and form values (drafts and corrections)."""
    case = _editable(case, actor)
    before = {"answers": case.answers}
    if answers is not None:
        if case.status != Case.Status.DRAFT:
            raise Conflict("已提交的申请不能更改情形问答", "answers cannot change after submission", rule="case.answers")
        if case.kind == Case.Kind.BUNDLE:
            case.plan = plan_bundle(case.bundle_version.bundle.code, case.region_id, answers, on=case.plan_date,
                                    strict=False)
            case.answers = case.plan["answers"]
            if not case.plan["items"]:
                raise InvalidInput(Problem("answers", "plan.empty", "按当前情形没有需要办理的事项",
                                           "these answers leave no item to apply for"))
            _sync_materials(case)
    if form is not None:
        case.form = {**case.form, **_check_form_values(case, form)}
        for name in form:  # a value the applicant typed is no longer the register's
            case.form_sources.pop(name, None)
    case.save()
    trail("draft_saved", case, actor=actor, before=before, after={"answers": case.answers,
                                                                  "form_fields": sorted((form or {}).keys())})
    return case


def _check_form_values(case: Case, values: dict) -> dict:
    """Each value checked by its field's standard meaning (tongban.catalog.standard_fields): every
    problem at once, each naming form.<field> and the rule."""
    properties = case.plan["form"]["properties"]
    problems = []
    clean = {}
    for name, value in (values or {}).items():
        prop = properties.get(name)
        if prop is None:
            problems.append(Problem(f"form.{name}", "form.unknown_field", f"申请表没有字段 {name}",
                                    f"the form has no field {name}"))
            continue
        try:
            clean[name] = standard_fields.check_value(name, prop, value)
        except InvalidInput as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidInput(problems)
    return clean


def _material(case: Case, code: str) -> CaseMaterial:
    row = case.materials.filter(code=code).first()
    if row is None:
        raise InvalidInput(Problem("material", "material.unknown", f"本申请的材料清单中没有 {code}",
                                   f"material {code} is not on this application's checklist"))
    return row


@service
def attach_file(*, case: Case, material_code: str, name: str, content: bytes, actor, scanned: bool = False,
                on: date | None = None) -> MaterialFile:
    """Store an uploaded (or, at a window, scanned) file for a material: type checked by its content,
    size limited, stored under its SHA-256 (the same file twice is stored once). A 容缺 material of an
    accepted case is supplied by its file: the items held for it resume (no second step)."""
    case = lock_case(case)
    require_case(actor, case, CaseAction.EDIT)
    row = _material(case, material_code)
    if case.status not in EDITABLE and not (
            case.status == Case.Status.ACCEPTED and row.status in (CaseMaterial.Status.DEFECTIVE, CaseMaterial.Status.PENDING)):
        raise Conflict("只有草稿、待补正的申请，或受理后要求补正、容缺待补的材料可以上传文件",
                       "files can be added to drafts and corrections, or after acceptance to materials asked for",
                       rule="case.status")
    problems = []
    name = (name or "").strip()[:200] or "upload"
    try:
        content_type = uploads.inspect(content, "file")
    except InvalidInput as exc:
        problems += exc.problems
    if row.source == CaseMaterial.Source.PRODUCED:
        problems.append(Problem("material", "material.produced", "该材料由前序事项办结后自动提供，无需上传",
                                "this material comes from an earlier item of the case; no upload is needed"))
    if problems:
        raise InvalidInput(problems)
    digest = hashlib.sha256(content).hexdigest()
    record = MaterialFile(material=row, name=name, content_type=content_type, size=len(content), sha256=digest,
                          scanned=scanned and actor.kind == User.Kind.STAFF, uploaded_by=actor)
    path = f"cases/{digest[:2]}/{digest}"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(content))
    record.file.name = path
    record.save()
    pending_after_acceptance = row.status == CaseMaterial.Status.PENDING and case.status == Case.Status.ACCEPTED
    if row.status != CaseMaterial.Status.PENDING:  # a 容缺 material before acceptance stays promised
        row.status, row.defect = CaseMaterial.Status.PROVIDED, ""
        row.save(update_fields=["status", "defect", "updated_at"])
    trail("material_file_added", case, actor=actor, after={"material": row.code, "sha256": digest, "size": len(content),
                                                           "scanned": record.scanned})
    if pending_after_acceptance:
        from .handling import supply_minor_material

        supply_minor_material.inner(case=case, material_code=row.code, actor=actor, on=on)
    return record


@service
def remove_file(*, file: MaterialFile, actor) -> None:
    case = _editable(file.material.case, actor)
    row = file.material
    file.removed_at = timezone.now()
    file.save(update_fields=["removed_at"])
    if not row.files.filter(removed_at__isnull=True).exists() and row.status == CaseMaterial.Status.PROVIDED:
        row.status = CaseMaterial.Status.MISSING
        row.save(update_fields=["status", "updated_at"])
    trail("material_file_removed", case, actor=actor, before={"material": row.code, "sha256": file.sha256})


@service
def use_licence(*, case: Case, material_code: str, licence_id: int, actor) -> CaseMaterial:
    """免证办: the applicant lets the case use an electronic licence they hold instead of a copy. The
    licence is verified now (signature, issuer trust in the handling region, status, validity)."""
    from tongban.licences.models import Licence
    from tongban.licences.selectors import licence_document
    from tongban.licences.verification import verify_licence_document

    case = _editable(case, actor)
    row = _material(case, material_code)
    holders = {case.applicant_code, getattr(actor, "id_number", "") or case.applicant_code}
    if case.enterprise_id and case.enterprise.legal_representative_id:
        holders.add(case.enterprise.legal_representative.id_number)  # 法定代表人身份证件
    licence = Licence.objects.filter(pk=licence_id, holder_code__in=holders).select_related("licence_type").first()
    if licence is None:
        raise InvalidInput(Problem("licence", "licence.not_held", "申请人名下没有该电子证照",
                                   "the applicant holds no such licence"))
    if not row.licence_type_code or licence.licence_type.code != row.licence_type_code:
        raise InvalidInput(Problem("licence", "licence.type", f"该证照不是本材料要求的证照类型（{row.name}）",
                                   f"this licence is not of the type the material {row.code} needs"))
    result = verify_licence_document(licence_document(licence), trust=case.region_id)
    if not result.valid:
        raise InvalidInput(Problem("licence", f"licence.{result.reason_code}", f"证照核验未通过：{result.reason_zh}",
                                   f"the licence did not verify: {result.reason_en}"))
    row.licence, row.licence_check = licence, {**result.as_dict(), "checked_at": timezone.now().isoformat()}
    row.status, row.defect = CaseMaterial.Status.PROVIDED, ""
    row.save()
    from .results import record_licence_use

    record_licence_use(licence, case, None, f"申请人授权用于“{row.name}”，免交复印件", actor=None)
    trail("material_licence_used", case, actor=actor, after={"material": row.code, "licence": licence.identifier})
    return row


@service
def commit_material(*, case: Case, material_code: str, text: str, actor) -> CaseMaterial:
    """告知承诺: a written commitment stands in for a proof where every item using it allows that."""
    case = _editable(case, actor)
    row = _material(case, material_code)
    if not row.commitment_allowed:
        raise InvalidInput(Problem("material", "commitment.not_allowed", f"材料“{row.name}”不适用告知承诺",
                                   f"material {row.code} cannot be replaced by a commitment"))
    row.commitment = require_reason(text, "text")
    row.status, row.defect = CaseMaterial.Status.COMMITTED, ""
    row.save()
    trail("material_committed", case, actor=actor, after={"material": row.code, "commitment": row.commitment})
    return row


@service
def promise_material(*, case: Case, material_code: str, promised_by: date, actor, on: date | None = None) -> CaseMaterial:
    """容缺受理: a minor material may follow later, on a written promise with a due date."""
    case = _editable(case, actor)
    row = _material(case, material_code)
    if not row.minor:
        raise InvalidInput(Problem("material", "minor.not_allowed", f"材料“{row.name}”不是可容缺材料",
                                   f"material {row.code} is not a minor material"))
    if promised_by is None or promised_by <= today(on):
        raise InvalidInput(Problem("promised_by", "date.future", "承诺补齐日期须晚于今天",
                                   "the promised date must be after today"))
    row.promised_by, row.status = promised_by, CaseMaterial.Status.PENDING
    row.save()
    trail("material_promised", case, actor=actor, after={"material": row.code, "promised_by": promised_by.isoformat()})
    return row


# --- submission and the completeness check ------------------------------------------------------------


SATISFIED = {CaseMaterial.Status.PROVIDED, CaseMaterial.Status.COMMITTED, CaseMaterial.Status.PENDING,
             CaseMaterial.Status.SHARED, CaseMaterial.Status.AWAITED}


def completeness_problems(case: Case) -> list[Problem]:
    """Every required material not yet satisfied, and every form field still empty, by name."""
    problems = []
    for row in case.materials.all():
        if row.required and row.status not in SATISFIED:
            why = f"（{row.defect}）" if row.defect else ""
            problems.append(Problem(f"materials.{row.code}", "material.missing" if not row.defect else "material.defective",
                                    f"缺少或需补正材料：{row.name}{why}", f"material missing or defective: {row.code}"))
    form = case.plan["form"]
    for name in form.get("required", []):
        if case.form.get(name) in (None, ""):
            title = form["properties"][name].get("title", name)
            problems.append(Problem(f"form.{name}", "form.required", f"申请表未填写：{title}",
                                    f"form field {name} is required"))
    return problems


@service
def submit_case(*, case: Case, actor, on: date | None = None) -> Case:
    """Hand the application in (again, after a one-time notice). The window has `notice_days` working
    days to issue a one-time notice, or the case counts as accepted on receipt (Art. 32)."""
    on = today(on)
    case = _editable(case, actor)
    if case.kind == Case.Kind.BUNDLE and case.status == Case.Status.DRAFT:
        plan_bundle(case.bundle_version.bundle.code, case.region_id, case.answers, on=case.plan_date, strict=True)
    before = snapshot(case)
    if not case.subcases.exists():
        _create_subcases(case)
    notice_days = min(ItemVersion.objects.filter(subcases__case=case).values_list("notice_days", flat=True))
    case.status, case.submitted_at, case.submitted_on = Case.Status.SUBMITTED, timezone.now(), on
    case.notice_due = add_workdays(on, notice_days, case.intake_region_id).due if notice_days else on
    case.save()
    trail("submitted", case, actor=actor, before=before, after={**snapshot(case), "notice_due": case.notice_due.isoformat()})
    return case


def _create_subcases(case: Case) -> None:
    items = case.plan["items"]
    versions = {v.item.basic_code: v for v in ItemVersion.objects.filter(
        item__region_id=case.region_id, item__basic_code__in=[i["basic_code"] for i in items],
        version__in=[i["version"] for i in items]).select_related("item__department")}
    rows = []
    for n, item in enumerate(items, start=1):
        version = versions.get(item["basic_code"])
        if version is None or version.version != item["version"]:
            raise Conflict("事项版本已变化，请重新生成办理方案", "an item version changed; start again", rule="plan.stale")
        remote = item.get("remote")
        if remote:  # handled by a peer node (services.remote): no local department or workflow
            rows.append(SubCase(case=case, key=item["code"], position=n, stage=item["stage"], after=item["after"],
                                item_version=version, statutory_days=version.statutory_days,
                                promised_days=version.promised_days, remote_node=remote["node"],
                                remote_region=remote["region"], remote_item_code=remote["item_code"],
                                remote_item_version=remote["version"]))
            continue
        rows.append(SubCase(case=case, key=item["code"], position=n, stage=item["stage"], after=item["after"],
                            item_version=version, department=version.item.department,
                            workflow=workflows.workflow_for(item["basic_code"], case.region_id),
                            statutory_days=version.statutory_days, promised_days=version.promised_days))
    SubCase.objects.bulk_create(rows)


@service
def issue_one_time_notice(*, case: Case, actor, defects: dict[str, str] | None = None, on: date | None = None):
    """一次性告知: every missing or defective material and empty required field, with why, in one notice."""
    on = today(on)
    case = lock_case(case)
    require_case(actor, case, CaseAction.NOTIFY_DEFECTS)
    require_status(case, Case.Status.SUBMITTED)
    if case.notice_due and on > case.notice_due:
        raise Conflict(f"已超过补正告知期限（{case.notice_due}），依法自收到申请材料之日起即为受理",
                       f"the notice period ended on {case.notice_due}; the case counts as accepted on receipt",
                       rule="notice.late")
    defects = {code: require_reason(text, f"defects.{code}") for code, text in (defects or {}).items()}
    for code, text in defects.items():
        row = _material(case, code)
        row.status, row.defect = CaseMaterial.Status.DEFECTIVE, text
        row.save(update_fields=["status", "defect", "updated_at"])
    problems = completeness_problems(case)
    if not problems:
        raise InvalidInput(Problem("defects", "notice.nothing", "材料齐全，无需一次性告知，请受理",
                                   "nothing is missing or defective: accept the case instead"))
    case.status = Case.Status.CORRECTION
    case.save(update_fields=["status", "updated_at"])
    lines = [p.zh for p in problems]
    notice = issue_notice(case, "one_time", title="一次性告知书", issuer=_issuer_name(case, actor), on=on, actor=actor,
                          paragraphs=[f"{case.applicant_name}：", f"你（单位）提交的“{case.title}”申请（编号 {case.number}）"
                                      "经审查，申请材料不齐全或者不符合法定形式，现一次性告知需要补正的全部内容如下：",
                                      *[f"{n}. {sentence(line)}" for n, line in enumerate(lines, start=1)],
                                      "请补正后重新提交。补正材料齐全、符合法定形式后予以受理。"])
    tell(case, "one_time_notice", f"您的申请 {case.number} 需要补正 {len(lines)} 项内容，详见一次性告知书 {notice.number}。")
    trail("one_time_notice", case, actor=actor, reason="; ".join(lines), after={"notice": notice.number,
                                                                                "items": [p.field for p in problems]})
    return notice


def _issuer_name(case: Case, actor) -> str:
    hall = getattr(actor, "hall", None) or case.intake_hall
    return hall.name if hall else f"{case.intake_region.name}政务服务中心"


@service
def refuse_case(*, case: Case, actor, reason: str, on: date | None = None):
    """不予受理: the application is outside the items' scope or the authority's competence; in writing, with why."""
    on = today(on)
    case = lock_case(case)
    require_case(actor, case, CaseAction.REFUSE)
    require_status(case, Case.Status.SUBMITTED, Case.Status.CORRECTION)
    reason = require_reason(reason)
    before = snapshot(case)
    case.status, case.closed_at = Case.Status.REFUSED, timezone.now()
    case.save(update_fields=["status", "closed_at", "updated_at"])
    case.subcases.update(status=SubCase.Status.CANCELLED, finished_on=on, outcome_reason=reason)
    notice = issue_notice(case, "refusal", title="不予受理通知书", issuer=_issuer_name(case, actor), on=on, actor=actor,
                          paragraphs=[f"{case.applicant_name}：", f"你（单位）提交的“{case.title}”申请（编号 {case.number}），"
                                      f"经审查，决定不予受理。理由：{sentence(reason)}", REMEDY])
    tell(case, "refusal", f"您的申请 {case.number} 不予受理，理由：{reason}")
    trail("refused", case, actor=actor, reason=reason, before=before, after={**snapshot(case), "notice": notice.number})
    return notice


def accept_case(*, case: Case, actor, on: date | None = None):
    """受理 at the window: all required materials are satisfied (容缺 promises count); the acceptance
    notice is issued and the first stage's items start in their departments in parallel."""
    return _accept(case=case, actor=actor, on=on, deemed=False)


def deem_accepted(*, case: Case, actor, on: date | None = None):
    """Art. 32: no one-time notice within the period, so the case counts as accepted on receipt. Only the
    platform's sweep does this (`actor` must be tongban.core.system.SYSTEM); the trail says role "system"."""
    return _accept(case=case, actor=actor, on=on, deemed=True)


@service
def _accept(*, case: Case, actor, on: date | None, deemed: bool):
    from .handling import start_ready_subcases

    on = today(on)
    if deemed:
        require_system(actor)
        actor = None  # no user accepted it: rows keep no actor, the trail records the platform
    case = lock_case(case)
    if not deemed:
        require_case(actor, case, CaseAction.ACCEPT)
    require_status(case, Case.Status.SUBMITTED)
    problems = [] if deemed else completeness_problems(case)
    if problems:
        raise InvalidInput(problems)
    before = snapshot(case)
    case.status, case.accepted_by, case.deemed_accepted = Case.Status.ACCEPTED, actor, deemed
    case.accepted_on = case.submitted_on if deemed else on  # Art. 32: accepted on receipt
    case.save()
    pending = [f"{m.name}（承诺于 {m.promised_by} 前补齐）" for m in case.materials.filter(status=CaseMaterial.Status.PENDING)]
    rows = [(s.item_version.name, f"{s.department.name}，法定 {s.statutory_days} / 承诺 {s.promised_days} 个工作日"
             if s.department_id else f"异地代收代办：移交办理地（{s.remote_region}）办理，办理地受理后按其时限办结")
            for s in case.subcases.select_related("item_version", "department")]
    notice = issue_notice(
        case, "acceptance", title="受理通知书", issuer=_issuer_name(case, actor), on=case.accepted_on, actor=actor, rows=rows,
        paragraphs=[f"{case.applicant_name}：",
                    f"你（单位）提交的“{case.title}”申请（编号 {case.number}）材料齐全、符合法定形式，"
                    f"{'因未在法定期限内一次性告知补正，依法自收到申请材料之日起即为受理' if deemed else '决定予以受理'}。"
                    f"受理日期：{case.accepted_on:%Y年%m月%d日}。办理期限自受理（或前序事项办结）之次日起按工作日计算。",
                    *([f"容缺受理，请按承诺补齐：{'；'.join(pending)}。逾期未补齐的，相关事项终止办理。"] if pending else []),
                    "可通过办件编号随时查询办理进度。"])
    tell(case, "accepted", f"您的申请 {case.number} 已受理（{case.accepted_on}），受理通知书 {notice.number}。")
    trail("deemed_accepted" if deemed else "accepted", case, actor=actor, before=before,
          after={**snapshot(case), "notice": notice.number})
    start_ready_subcases(case, on=case.accepted_on, actor=actor)
    return notice


def open_material_file(*, file_id: int, actor) -> MaterialFile:
    """A material file for reading; every read (staff, applicant, agent, department system) is appended
    to the trail: who looked at what, when."""
    from ..access import access_file_for

    record = access_file_for(actor, file_id)
    _trail_read(record, actor)
    return record


@service
def _trail_read(record: MaterialFile, actor) -> None:
    trail("material_read", record.material.case, actor=actor,
          after={"material": record.material.code, "file": record.pk, "sha256": record.sha256})
