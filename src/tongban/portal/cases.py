"""The applicant's case pages: start an application from a bundle or a single item, fill the merged
form (prefilled fields marked with their source), hand in materials, submit, answer a one-time notice
or a correction request, withdraw, choose delivery, and follow each item to its result.

Views parse the request, read through tongban.cases.selectors (access-checked) and write only through
tongban.cases.services; bad input comes back as 422 with the field and the rule in both languages.
Uploads with a progress bar go to the API (POST /api/v1/cases/{number}/materials/{code}/files, session
+ CSRF header, see static/portal/js/cases.js); the same form posts here without JavaScript.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from tongban.accounts.models import User
from tongban.accounts.roles import Role
from tongban.accounts.selectors import parties_for
from tongban.bundles import selectors as bundle_selectors
from tongban.cases import selectors as case_selectors
from tongban.cases import services as case_services
from tongban.cases.access import CaseAction, FileAction, access_case_for, access_file_for
from tongban.cases.models import Case, CaseMaterial, MaterialFile, SubCase
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from tongban.licences import selectors as licence_selectors

from . import modes
from .my import signed_in

LIST_PAGE_SIZE = 20
EDITABLE = (Case.Status.DRAFT, Case.Status.CORRECTION)
CLOSED = (Case.Status.DELIVERED, Case.Status.REFUSED, Case.Status.WITHDRAWN)

CASE_STATUS = {
    "draft": _("草稿"), "submitted": _("已提交，待预审"), "correction": _("待补正"), "accepted": _("办理中"),
    "ready": _("已办结，待出件"), "delivered": _("已出件"), "refused": _("不予受理"), "withdrawn": _("已撤回"),
}
ITEM_STATUS = {
    "pending": _("待受理"), "waiting": _("等待前序事项"), "active": _("办理中"), "approved": _("准予许可"),
    "denied": _("不予许可"), "cancelled": _("已取消"), "withdrawn": _("已撤回"), "stopped": _("已终止"),
}
HOLD_LABELS = {"correction": _("补正中，暂停计时"), "special": _("特别程序，暂停计时"), "minor": _("容缺材料待补，暂停计时")}
MATERIAL_STATUS = {
    "missing": _("未提交"), "provided": _("已提交"), "defective": _("需补正"), "pending": _("容缺待补"),
    "committed": _("已承诺"), "awaited": _("由前序事项产生"), "shared": _("共享获取"),
}
AWAITED_FROM = {"applicant": _("需要您处理"), "department": _("部门办理中"), "window": _("综合窗口"),
                "remote": _("办理地节点办理中")}
DELIVERY_LABELS = {"window": _("窗口领取"), "post": _("邮寄送达"), "electronic": _("电子送达（在“我的证照”查看）")}
ROLE_LABELS = {Role.CLERK: _("综合窗口"), Role.OFFICER: _("审批人员"), Role.SUPERVISOR: _("督办人员")}
FIELD_TYPES = {"number", "integer", "boolean", "string"}
OK_TEXT = {
    "save": _("已保存。您可以随时回来继续填写。"), "upload": _("文件已上传。"), "remove-file": _("文件已删除。"),
    "licence": _("已使用您的电子证照，无需再提交复印件。"), "commit": _("已签署告知承诺。"),
    "promise": _("已承诺补齐日期（容缺受理）。"), "submit": _("申请已提交，请等待综合窗口预审。"),
    "withdraw": _("申请已撤回。"), "delivery": _("出件方式已保存。"),
    "correction-done": _("已提交补正，原承办人将继续审查。"), "minor-supplied": _("容缺材料已补齐。"),
}


# Each applicant form names the action it needs (tongban.cases.access: one rule per action).
ACTIONS = {"save": CaseAction.EDIT, "upload": CaseAction.EDIT, "remove-file": CaseAction.EDIT,
           "licence": CaseAction.EDIT, "commit": CaseAction.EDIT, "promise": CaseAction.EDIT,
           "submit": CaseAction.EDIT, "withdraw": CaseAction.WITHDRAW, "delivery": CaseAction.CHOOSE_DELIVERY,
           "correction-done": CaseAction.SUPPLY, "minor-supplied": CaseAction.SUPPLY}


def _problems(exc: Exception) -> list[Problem]:
    if isinstance(exc, InvalidInput):
        return list(exc.problems)
    if isinstance(exc, (Conflict, Forbidden)):
        return [exc.problem]
    raise exc


# --- starting an application ----------------------------------------------------------------------------


def applicant_parties(request) -> list[dict]:
    """Who the signed-in applicant may apply as; the session's acting party is preselected."""
    user = request.user
    if not user.is_authenticated or getattr(user, "kind", "") != User.Kind.PERSON:
        return []
    acting = getattr(request, "acting_as", None)
    current = acting.key if acting is not None else "person"
    return [{"key": p.key, "name": p.name, "kind": p.kind, "code": p.masked_code, "checked": p.key == current,
             "mandate": p.mandate is not None} for p in parties_for(user)]


def _party_uscc(request) -> str:
    key = (request.POST.get("party") or "").strip()
    if not key:
        acting = getattr(request, "acting_as", None)
        key = acting.key if acting is not None else "person"
    if key == "person":
        return ""
    allowed = {p["key"] for p in applicant_parties(request)}
    if key not in allowed:
        raise InvalidInput(Problem("party", "party.not_allowed", "您不能以该主体身份申请",
                                   "you may not apply as this party"))
    return key.removeprefix("enterprise:")


def _require_applicant(request) -> None:
    if getattr(request.user, "kind", "") != User.Kind.PERSON:
        raise InvalidInput(Problem("actor", "actor.applicant", "工作人员请在综合窗口控制台为申请人收件",
                                   "staff file applications for applicants in the window console"))


def _posted_answers(request, questionnaire: list[dict]) -> dict:
    answers: dict = {}
    for q in questionnaire:
        key = q["key"]
        if q.get("type") == "multi":
            values = [v for v in request.POST.getlist(key) if v]
            if values:
                answers[key] = values
        else:
            value = (request.POST.get(key) or "").strip()
            if value:
                answers[key] = value
    return answers


def _start(request, **kwargs):
    try:
        _require_applicant(request)
        case = case_services.start_case(actor=request.user, enterprise_uscc=_party_uscc(request), **kwargs)
    except (InvalidInput, Conflict) as exc:
        return render(request, "portal/apply_failed.html", {"problems": _problems(exc)}, status=422)
    messages.success(request, gettext("已创建申请草稿。请核对自动填入的内容，补充其余信息并提交材料。"))
    return HttpResponseRedirect(reverse("portal:my-case", args=[case.number]))


@signed_in
@require_POST
def apply_bundle(request, code: str):
    """开始申请: a draft for the bundle with the answers and region shown on the bundle page."""
    region = (request.POST.get("region") or settings.TONGBAN_DEFAULT_REGION).strip()
    try:
        version = bundle_selectors.bundle_version_in_force(code, region)
    except InvalidInput as exc:
        return render(request, "portal/apply_failed.html", {"problems": exc.problems}, status=422)
    answers = _posted_answers(request, version.definition.get("questionnaire", []))
    return _start(request, region_code=region, bundle_code=code, answers=answers)


@signed_in
@require_POST
def apply_item(request, code: str):
    """A single item (from the search results), in the posted region or the applicant's own."""
    region = (request.POST.get("region") or getattr(request.user, "region_id", None) or settings.TONGBAN_DEFAULT_REGION).strip()
    return _start(request, region_code=region, item_code=code)


# --- my cases ---------------------------------------------------------------------------------------------


@signed_in
@modes.remember_modes
@require_GET
def case_list(request):
    """Newest first, keyset pages (`?cursor=` is the last id shown): no COUNT over the cases."""
    cursor = (request.GET.get("cursor") or "").strip() or None
    try:
        page = case_selectors.cases_for(request.user, cursor=cursor, limit=LIST_PAGE_SIZE)
    except InvalidInput as exc:
        return render(request, "portal/my_cases.html", {"rows": [], "problems": exc.problems}, status=422)
    rows = [{"case": c, "status_label": CASE_STATUS.get(c.status, c.status),
             "editable": c.status in EDITABLE} for c in page.rows]
    return render(request, "portal/my_cases.html", {"rows": rows, "next_cursor": page.next_cursor,
                                                    "first_page": cursor is None})


def _load(request, number: str, to: CaseAction = CaseAction.READ) -> Case:
    try:
        case = access_case_for(request.user, number, to=to)
    except NotFound:
        raise Http404("case") from None
    files = MaterialFile.objects.filter(removed_at__isnull=True).order_by("id")
    prefetch_related_objects([case], Prefetch(
        "materials", queryset=CaseMaterial.objects.select_related("licence").prefetch_related(
            Prefetch("files", queryset=files, to_attr="current_files"))))
    return case


def _field_id(name: str) -> str:
    return "f-" + name.replace(".", "-").replace("_", "-")


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def form_rows(case: Case, problems: dict | None = None, posted=None) -> list[dict]:
    form = case.plan.get("form", {}) or {}
    required = set(form.get("required", []))
    rows = []
    for name, prop in (form.get("properties") or {}).items():
        kind = prop.get("type", "string") if prop.get("type") in FIELD_TYPES else "string"
        value = case.form.get(name)
        if posted is not None and _field_id(name) in posted:
            value = posted.get(_field_id(name))
        elif kind in ("number", "integer") and value not in (None, ""):
            number = _number(value)
            if number is not None and number.is_integer():
                value = int(number)
        source = case.form_sources.get(name)
        rows.append({"name": name, "id": _field_id(name), "title": prop.get("title", name), "type": kind,
                     "value": "" if value is None else value, "required": name in required, "source": source,
                     "updated": (source or {}).get("updated_at", "")[:10],
                     "problem": (problems or {}).get(name)})
    return rows


def _coerce(raw: str, kind: str):
    raw = raw.strip()
    if raw == "":
        return None
    if kind == "number":
        value = float(raw)
        return int(value) if value.is_integer() else value
    if kind == "integer":
        return int(raw)
    if kind == "boolean":
        return raw in ("true", "1", "on")
    return raw


def _same(new, old, kind: str) -> bool:
    if kind in ("number", "integer"):
        return (new is None and old in (None, "")) or (new is not None and _number(old) == float(new))
    return (new or None) == (old or None)


def posted_form(request, case: Case) -> dict:
    """Only the fields the applicant changed: an unchanged prefilled field keeps its source (confirmed)."""
    changed, problems = {}, []
    for row in form_rows(case):
        if row["id"] not in request.POST:
            continue
        raw = request.POST.get(row["id"], "")
        try:
            value = _coerce(raw, row["type"])
        except ValueError:
            problems.append(Problem(f"form.{row['name']}", "form.type", f"{row['title']} 应为数字",
                                    f"{row['name']} must be a number"))
            continue
        if not _same(value, case.form.get(row["name"]), row["type"]):
            changed[row["name"]] = value
    if problems:
        raise InvalidInput(problems)
    return changed


def _material_row(m: CaseMaterial, case: Case, held: dict, highlighted: set) -> dict:
    files = getattr(m, "current_files", [])
    editable = case.status in EDITABLE
    after_acceptance = case.status == Case.Status.ACCEPTED and m.status in (CaseMaterial.Status.DEFECTIVE,
                                                                             CaseMaterial.Status.PENDING)
    return {
        "m": m, "files": files, "status_label": MATERIAL_STATUS.get(m.status, m.status),
        "licences": held.get(m.licence_type_code, []) if m.source == CaseMaterial.Source.LICENCE else [],
        # "您无需任何操作" is never shown beside an upload box: a produced material is never uploaded, a
        # shared-data one only when it was found wanting (issue 14, finding 8).
        "can_upload": m.source != CaseMaterial.Source.PRODUCED and (editable or after_acceptance) and (
            m.source != CaseMaterial.Source.DATA or m.status in (CaseMaterial.Status.MISSING, CaseMaterial.Status.DEFECTIVE)),
        "can_remove": editable, "editable": editable,
        "can_commit": editable and m.commitment_allowed and m.status != CaseMaterial.Status.COMMITTED,
        "can_promise": editable and m.minor and m.status != CaseMaterial.Status.PENDING,
        "highlight": m.code in highlighted or m.status == CaseMaterial.Status.DEFECTIVE,
        "commitment_text": m.commitment or gettext("本人（本单位）承诺：{name}真实、有效，相关制度已建立并落实；"
                                              "如有不实，愿意承担相应法律责任。").format(name=m.name),
    }


def checklist(case: Case, held: dict, highlighted: set) -> list[dict]:
    """The materials grouped by where they come from, each group with what the applicant has to do."""
    rows = [_material_row(m, case, held, highlighted) for m in case.materials.all()]
    groups = [
        ("upload", _("需要上传的材料"), _("上传清晰的 PDF、JPEG、PNG 或 OFD 文件。"),
         [r for r in rows if r["m"].source == CaseMaterial.Source.APPLICANT]),
        ("licence", _("电子证照（免提交复印件）"), _("可直接使用您名下的电子证照，经核验后无需再提交复印件；没有证照的请上传。"),
         [r for r in rows if r["m"].source == CaseMaterial.Source.LICENCE]),
        ("commitment", _("告知承诺"), _("签署告知承诺书即可代替证明材料，部门事后核查。"),
         [r for r in rows if r["m"].source == CaseMaterial.Source.COMMITMENT]),
        ("none", _("无需您提交"), _("由前序事项办结后自动提供，或由部门通过共享数据获取。"),
         [r for r in rows if r["m"].source in (CaseMaterial.Source.PRODUCED, CaseMaterial.Source.DATA)]),
    ]
    return [{"key": k, "title": t, "help": h, "rows": r} for k, t, h, r in groups if r]


def _held_licences(request, case: Case) -> dict:
    codes = {m.licence_type_code for m in case.materials.all()
             if m.source == CaseMaterial.Source.LICENCE and m.licence_type_code}
    if not codes or case.status not in EDITABLE:
        return {}
    held: dict[str, list] = {}
    for lic in licence_selectors.licences_of_holder(request.user).filter(licence_type__code__in=codes).order_by("pk"):
        if licence_selectors.display_status(lic) == "valid":
            held.setdefault(lic.licence_type.code, []).append(lic)
    return held


def _progress(case: Case) -> list[dict]:
    if case.status in (Case.Status.DRAFT, Case.Status.SUBMITTED, Case.Status.CORRECTION):
        return []
    rows = case_selectors.progress(case)
    for row in rows:
        row["status_text"] = ITEM_STATUS.get(row["status"], row["status_label"])
        row["hold_text"] = HOLD_LABELS.get(row["hold"], "")
        roles = [r for r in row["acting_role"].split(",") if r]
        row["role_text"] = "、".join(str(ROLE_LABELS.get(r, r)) for r in roles)
        if row["awaiting"]:
            row["awaiting_from"] = AWAITED_FROM.get(row["awaiting"]["from"], "")
    return rows


def _anchor(field: str) -> str:
    if field.startswith("form."):
        return _field_id(field.removeprefix("form."))
    return "m-" + field.removeprefix("materials.")


def case_context(request, case: Case, *, problems: list[Problem] | None = None, posted=None) -> dict:
    problems = problems or []
    form_problems = {p.field.removeprefix("form."): p for p in problems if p.field.startswith("form.")}
    editable = case.status in EDITABLE
    missing = case_services.completeness_problems(case) if editable else []
    highlighted = {p.field.removeprefix("materials.") for p in missing} if case.status == Case.Status.CORRECTION else set()
    notices = list(case.notices.all())
    results = []
    progress = _progress(case)
    if progress:
        results = [r for r in progress if r["result"]]
    correction_open = case.status == Case.Status.ACCEPTED and any(r["hold"] == SubCase.Hold.CORRECTION for r in progress)
    return {
        "case": case, "status_label": CASE_STATUS.get(case.status, case.status), "editable": editable,
        "draft": case.status == Case.Status.DRAFT, "correction": case.status == Case.Status.CORRECTION,
        "closed": case.status in CLOSED, "form_rows": form_rows(case, form_problems, posted),
        "groups": checklist(case, _held_licences(request, case), highlighted),
        "missing": [{"p": p, "anchor": _anchor(p.field)} for p in missing],
        "problems": problems, "other_problems": [p for p in problems if not p.field.startswith("form.")],
        "notices": notices, "one_time_notice": next((n for n in reversed(notices) if n.kind == "one_time"), None),
        "case_messages": list(case.messages.order_by("-id")[:20]) if case.status != Case.Status.DRAFT else [],
        "progress": progress, "results": results, "correction_open": correction_open,
        "owed": owed_after_acceptance(case),
        "owed_minor": case.status == Case.Status.ACCEPTED and any(
            m.status == CaseMaterial.Status.PENDING for m in case.materials.all()),
        "delivery_labels": DELIVERY_LABELS, "delivery_label": DELIVERY_LABELS.get(case.delivery_method, ""),
        "max_upload_mb": case_services.intake.max_upload_bytes() // 1048576,
        "upload_url": f"/api/v1/cases/{case.number}/materials/",
    }


def owed_after_acceptance(case: Case) -> list[dict]:
    """After acceptance: materials the applicant still owes (a correction request or a 容缺 promise)."""
    if case.status != Case.Status.ACCEPTED:
        return []
    return [_material_row(m, case, {}, set()) for m in case.materials.all()
            if m.status in (CaseMaterial.Status.DEFECTIVE, CaseMaterial.Status.PENDING)]


@signed_in
@modes.remember_modes
@require_GET
def case_page(request, number: str):
    case = _load(request, number)
    return render(request, "portal/case.html", case_context(request, case))


@signed_in
@require_GET
def checklist_part(request, number: str):
    """The checklist and the completeness list, re-read after an upload through the API (htmx)."""
    case = _load(request, number)
    return render(request, "portal/_checklist.html", {**case_context(request, case), "oob": True})


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(Problem(field, "date.format", "请按 年-月-日 填写日期", "enter the date as YYYY-MM-DD")) from None


def _int(text: str, field: str) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        raise InvalidInput(Problem(field, "required", "请选择一项", "choose one")) from None


def _run(request, case: Case, action: str):
    user, post, code = request.user, request.POST, (request.POST.get("material") or "").strip()
    if action == "save":
        return case_services.update_draft(case=case, actor=user, form=posted_form(request, case))
    if action == "upload":
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(Problem("file", "required", "请选择要上传的文件", "choose a file to upload"))
        return case_services.attach_file(case=case, material_code=code, name=upload.name or "", actor=user,
                                         content=upload.read(case_services.intake.max_upload_bytes() + 1))
    if action == "remove-file":
        try:
            record = access_file_for(user, _int(post.get("file"), "file"), to=FileAction.REMOVE, case=case)
        except NotFound:
            raise Http404("file") from None
        return case_services.remove_file(file=record, actor=user)
    if action == "licence":
        return case_services.use_licence(case=case, material_code=code, actor=user,
                                         licence_id=_int(post.get("licence"), "licence"))
    if action == "commit":
        return case_services.commit_material(case=case, material_code=code, text=post.get("text", ""), actor=user)
    if action == "promise":
        return case_services.promise_material(case=case, material_code=code, actor=user,
                                              promised_by=_date(post.get("promised_by"), "promised_by"))
    if action == "submit":
        problems = case_services.completeness_problems(case)
        if problems:
            raise InvalidInput(problems)
        return case_services.submit_case(case=case, actor=user)
    if action == "withdraw":
        return case_services.withdraw_case(case=case, actor=user, reason=post.get("reason", ""))
    if action == "delivery":
        return case_services.choose_delivery(case=case, actor=user, method=(post.get("method") or "").strip(),
                                             address=post.get("address", ""))
    if action == "correction-done":
        return case_services.supply_correction(case=case, actor=user)
    if action == "minor-supplied":
        return case_services.supply_minor_material(case=case, material_code=code, actor=user)
    raise Http404(action)


@signed_in
@require_POST
def case_action(request, number: str, action: str):
    """One applicant action on the case; success redirects back (or re-renders the form for htmx saves)."""
    if action not in OK_TEXT:
        raise Http404(action)
    try:
        case = _load(request, number, to=ACTIONS[action])
        _run(request, case, action)
    except (InvalidInput, Conflict, Forbidden) as exc:
        problems = _problems(exc)
        case = _load(request, number)
        context = case_context(request, case, problems=problems, posted=request.POST if action == "save" else None)
        template = "portal/_form.html" if request.htmx and action == "save" else "portal/case.html"
        return render(request, template, context, status=403 if isinstance(exc, Forbidden) else 422)
    if request.htmx and action == "save":
        case = _load(request, number)
        return render(request, "portal/_form.html", {**case_context(request, case), "saved": True, "oob": True})
    messages.success(request, str(OK_TEXT[action]))
    anchor = {"save": "#application-form", "withdraw": "", "submit": ""}.get(action, "#materials")
    return HttpResponseRedirect(reverse("portal:my-case", args=[case.number]) + anchor)
