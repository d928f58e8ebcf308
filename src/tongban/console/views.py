"""Staff consoles: the window console (综合窗口), the officer workbench and the supervisor board.

Server-rendered pages. Every write goes through tongban.cases.services (or console.services for the
hall queue); every read through tongban.cases.selectors or tongban.core.access, so another
department's, region's or hall's objects answer 404. A failed POST re-renders its page with the
problems next to their fields (422) or a banner for a state conflict (409); a successful one
redirects (post/redirect/get). See docs/console.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.accounts.roles import Role
from tongban.bundles import planner
from tongban.bundles import selectors as bundle_selectors
from tongban.cases import selectors
from tongban.cases import services as case_services
from tongban.cases.access import (
    CaseAction,
    DepartmentAction,
    ExtensionAction,
    FileAction,
    SubcaseAction,
    SupervisionAction,
    access_case_for,
    access_department_for,
    access_extension_for,
    access_file_for,
    access_subcase_for,
    access_supervision_for,
    region_subtree,
)
from tongban.cases.models import Case, CaseMaterial, DeadlineEntry, SubCase
from tongban.cases.services.handling import SPECIAL_PROCEDURES
from tongban.cases.services.intake import max_upload_bytes
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from tongban.core.inputs import parse_id
from tongban.regions.models import Department, Region, ServiceHall, Window
from tongban.workdays.calendar import add_workdays

from . import services
from .models import Ticket

EDITABLE = (Case.Status.DRAFT, Case.Status.CORRECTION)


# --- helpers -----------------------------------------------------------------------------------------------


def _staff(request: HttpRequest, *roles: str):
    """The signed-in staff member with one of `roles`; anyone else gets 404 (never a hint)."""
    user = request.user
    if not user.is_authenticated or getattr(user, "kind", "") != "staff":
        raise Http404
    if roles and not any(user.has_role(r) for r in roles):
        raise Http404
    return user


def _attempt(action: Callable[[], object], *, posted: str, on_error: Callable[..., HttpResponse],
             success: Callable[[object], HttpResponse]) -> HttpResponse:
    """Run one service call; bad input re-renders with field problems (422), a conflict with a banner (409),
    an action the user may not take on an object they see with a banner too (403)."""
    try:
        result = action()
    except InvalidInput as exc:
        return on_error(problems=exc.problems, posted=posted, status=422)
    except Conflict as exc:
        return on_error(conflict=exc.problem, posted=posted, status=409)
    except Forbidden as exc:
        return on_error(conflict=exc.problem, posted=posted, status=403)
    except NotFound:
        raise Http404 from None
    return success(result)


def _soon(on: date, region: str | None) -> tuple[date, date]:
    return on, add_workdays(on, 2, region).due


def _page_error(context: dict, problems=None, conflict=None, posted: str = "") -> dict:
    return {**context, "problems": problems or [], "conflict": conflict, "posted": posted}


def _text(request: HttpRequest, name: str) -> str:
    return (request.POST.get(name) or "").strip()


# --- landing ------------------------------------------------------------------------------------------------


CONSOLES = ((Role.CLERK, "console:window"), (Role.OFFICER, "console:tasks"), (Role.SUPERVISOR, "console:board"))


def index(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    mine = [(role, name) for role, name in CONSOLES if user.has_role(role)]
    if len(mine) == 1:
        return redirect(mine[0][1])
    return render(request, "console/index.html", {"consoles": [name for _, name in mine]})


# --- queue tickets ------------------------------------------------------------------------------------------


def take_ticket(request: HttpRequest) -> HttpResponse:
    """Kiosk page of a hall (public inside the hall): choose a category, get a number."""
    code = (request.GET.get("hall") or request.POST.get("hall") or "").strip()
    hall = ServiceHall.objects.filter(code=code).first() if code else None
    if hall is None and request.user.is_authenticated and getattr(request.user, "hall_id", None):
        hall = request.user.hall
    if hall is None:
        raise Http404
    today = timezone.localdate()
    context = {"hall": hall, "categories": Ticket.Category.choices, "ticket": None, "problems": [], "posted": "take"}
    status = 200
    if request.method == "POST":
        try:
            ticket = services.take_ticket(hall=hall, category=_text(request, "category"))
        except InvalidInput as exc:
            context["problems"], status = exc.problems, 422
        else:
            context["ticket"] = ticket
            context["ahead"] = Ticket.objects.filter(hall=hall, day=today, category=ticket.category,
                                                     status=Ticket.Status.WAITING, number__lt=ticket.number).count()
    return render(request, "console/take_ticket.html", context, status=status)


@require_POST
def call_next(request: HttpRequest) -> HttpResponse:
    clerk = _staff(request, Role.CLERK)
    window_id = parse_id(request.POST.get("window"), "window")
    if window_id is None:
        return window_page(request, problems=[Problem("window", "window.id", "请选择本大厅的一个窗口",
                                                      "choose one of this hall's windows")], posted="call", status=422)
    window = Window.objects.filter(pk=window_id, hall_id=clerk.hall_id).select_related("hall").first()
    if window is None:
        raise Http404  # another hall's window is not the clerk's to call to

    def done(ticket):
        if ticket is None:
            messages.info(request, _("当前没有等候的号码"))
        else:
            messages.success(request, _("请 %(label)s 号到 %(window)s 号窗口") % {"label": ticket.label,
                                                                             "window": window.number})
        return redirect("console:window")

    return _attempt(lambda: services.call_next(window=window, actor=clerk), posted="call",
                    on_error=lambda **kw: window_page(request, **kw), success=done)


# --- window console -------------------------------------------------------------------------------------------


def window_page(request: HttpRequest, *, problems=None, conflict=None, posted: str = "", status: int = 200,
                intake: dict | None = None) -> HttpResponse:
    clerk = _staff(request, Role.CLERK)
    today = timezone.localdate()
    windows, waiting, serving = [], {}, {}
    if clerk.hall_id:
        windows = list(Window.objects.filter(hall_id=clerk.hall_id).order_by("number"))
        waiting = dict(Ticket.objects.filter(hall_id=clerk.hall_id, day=today, status=Ticket.Status.WAITING)
                       .values_list("category").annotate(n=Count("id")))
        serving = {t.window_id: t for t in Ticket.objects.filter(hall_id=clerk.hall_id, day=today,
                                                                 status=Ticket.Status.CALLED)}
    try:
        queue = selectors.intake_queue(clerk, cursor=request.GET.get("cursor"), limit=20)
    except InvalidInput as exc:
        queue, problems = selectors.Page([], None), [*(problems or []), *exc.problems]
    drafts = selectors.cases_for(clerk, status=Case.Status.DRAFT, limit=10).rows
    context = _page_error({
        "section": "window", "clerk": clerk, "windows": [{"window": w, "serving": serving.get(w.pk),
                                     "categories": services.window_categories(w)} for w in windows],
        "waiting": [{"code": c, "label": label, "count": waiting.get(c, 0)} for c, label in Ticket.Category.choices],
        "queue": queue, "drafts": drafts, "intake": intake or {},
        "regions": Region.objects.order_by("code"), "bundles": bundle_selectors.published_bundles(),
    }, problems, conflict, posted)
    return render(request, "console/window.html", context, status=status)


def window(request: HttpRequest) -> HttpResponse:
    return window_page(request)


def _answers(request: HttpRequest, questionnaire: list[dict]) -> dict:
    answers: dict = {}
    source = request.POST if request.method == "POST" else request.GET
    for q in questionnaire:
        key = f"q-{q['key']}"
        if q.get("type") == "multi":
            values = [v for v in source.getlist(key) if v]
            if values:
                answers[q["key"]] = values
        elif (source.get(key) or "").strip():
            answers[q["key"]] = source.get(key).strip()
    return answers


def intake(request: HttpRequest) -> HttpResponse:
    """Intake of a walk-in applicant: identify, choose a bundle (answer its questions) or one item, and the
    handling region (another region's code = 跨域通办); POST starts the draft and opens the case page."""
    clerk = _staff(request, Role.CLERK)
    source = request.POST if request.method == "POST" else request.GET
    data = {k: (source.get(k) or "").strip() for k in ("bundle", "item", "region", "applicant_id_number",
                                                       "applicant_name", "enterprise_uscc")}
    data["region"] = data["region"] or clerk.region_id or ""
    questions, problems = [], []
    answers: dict = {}
    if data["bundle"]:
        try:
            version = bundle_selectors.bundle_version_in_force(data["bundle"], data["region"])
            questionnaire = version.definition.get("questionnaire", [])
            answers = _answers(request, questionnaire)
            questions = planner.visible_questions(questionnaire, answers)
        except InvalidInput as exc:
            problems = exc.problems
    context = {"section": "window", "data": data, "questions": questions, "answers": answers, "regions": Region.objects.order_by("code"),
               "bundles": bundle_selectors.published_bundles(), "problems": problems, "posted": "intake",
               "conflict": None}
    if request.method != "POST" or problems:
        return render(request, "console/intake.html", context, status=422 if problems else 200)

    def start():
        return case_services.start_case(actor=clerk, region_code=data["region"], bundle_code=data["bundle"],
                                        item_code=data["item"], answers=answers,
                                        enterprise_uscc=data["enterprise_uscc"].upper(),
                                        applicant_id_number=data["applicant_id_number"],
                                        applicant_name=data["applicant_name"])

    def failed(**kw):
        status = kw.pop("status")
        return render(request, "console/intake.html", {**context, **kw}, status=status)

    def started(case):
        messages.success(request, _("已建立办件 %(number)s") % {"number": case.number})
        return redirect("console:case", number=case.number)

    return _attempt(start, posted="intake", on_error=failed, success=started)


def _form_rows(case: Case) -> list[dict]:
    form = case.plan.get("form", {})
    required = set(form.get("required", []))
    rows = []
    for name, prop in form.get("properties", {}).items():
        rows.append({"name": name, "title": prop.get("title", name), "type": prop.get("type", "string"),
                     "format": prop.get("format", ""), "enum": prop.get("enum"), "required": name in required,
                     "value": case.form.get(name), "source": case.form_sources.get(name)})
    return rows


def case_page(request: HttpRequest, number: str, *, problems=None, conflict=None, posted: str = "",
              status: int = 200) -> HttpResponse:
    clerk = _staff(request, Role.CLERK)
    case = _case_for(clerk, number)
    materials = list(case.materials.select_related("licence").prefetch_related("files"))
    missing = case_services.completeness_problems(case) if case.status in (*EDITABLE, Case.Status.SUBMITTED) else []
    subcases = selectors.progress(case) if case.status not in EDITABLE or case.submitted_at else []
    context = _page_error({
        "section": "window", "case": case, "materials": materials, "form_rows": _form_rows(case), "missing": missing,
        "progress": subcases, "notices": list(case.notices.all()),
        "editable": case.status in EDITABLE,
        "held_for_correction": any(s["hold"] == SubCase.Hold.CORRECTION for s in subcases),
        "windows": list(Window.objects.filter(hall__region_id=case.intake_region_id).select_related("hall")),
        "delivery_methods": Case.Delivery.choices, "max_upload_mb": max_upload_bytes() // 1048576,
    }, problems, conflict, posted)
    return render(request, "console/case.html", context, status=status)


def _case_for(user, number: str) -> Case:
    try:
        return access_case_for(user, number)
    except NotFound:
        raise Http404 from None


# The window's forms and the action each needs (tongban.cases.access: one rule per action).
WINDOW_ACTIONS = {"form": CaseAction.EDIT, "upload": CaseAction.EDIT, "commit": CaseAction.EDIT,
                  "promise": CaseAction.EDIT, "remove-file": CaseAction.EDIT, "submit": CaseAction.EDIT,
                  "accept": CaseAction.ACCEPT, "one-time-notice": CaseAction.NOTIFY_DEFECTS,
                  "refuse": CaseAction.REFUSE, "correction-supplied": CaseAction.SUPPLY,
                  "delivery": CaseAction.CHOOSE_DELIVERY, "deliver": CaseAction.DELIVER,
                  "discard": CaseAction.WITHDRAW}


def case(request: HttpRequest, number: str) -> HttpResponse:
    return case_page(request, number)


def _form_values(request: HttpRequest, case: Case) -> dict:
    """The merged form's posted values, converted to their JSON types where they parse (else passed on
    as typed, so the service names the field and the rule)."""
    values = {}
    for row in _form_rows(case):
        raw = request.POST.get(f"f-{row['name']}")
        if raw is None:
            continue
        raw = raw.strip()
        if raw == "" and row["value"] in (None, ""):
            continue
        value: object = raw
        try:
            if row["type"] == "integer" and raw:
                value = int(raw)
            elif row["type"] == "number" and raw:
                value = float(raw) if "." in raw else int(raw)
            elif row["type"] == "boolean":
                value = raw == "true"
        except ValueError:
            value = raw
        values[row["name"]] = value
    return values


@require_POST
def case_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """The window's actions on a case: form, upload, remove-file, submit, accept, one-time-notice, refuse,
    correction-supplied, delivery, deliver."""
    clerk = _staff(request, Role.CLERK)
    case = _case_for(clerk, number)
    needs = WINDOW_ACTIONS.get(action)
    if needs is None:
        raise Http404
    if action == "form":
        def run():
            return case_services.update_draft(case=case, actor=clerk, form=_form_values(request, case))
        done = _("申请表已保存")
    elif action == "upload":
        upload = request.FILES.get("file")
        code = _text(request, "material")

        def run():
            if upload is None:
                raise InvalidInput(Problem("file", "required", "请选择扫描文件", "choose the scanned file"))
            return case_services.attach_file(case=case, material_code=code, name=upload.name or "",
                                             content=upload.read(max_upload_bytes() + 1), actor=clerk, scanned=True)
        action = f"upload-{code}"
        done = _("扫描件已上传")
    elif action == "commit":
        code = _text(request, "material")

        def run():
            return case_services.commit_material(case=case, material_code=code, text=_text(request, "text"), actor=clerk)
        action = f"commit-{code}"
        done = _("告知承诺已记录")
    elif action == "promise":
        code = _text(request, "material")

        def run():
            try:
                promised_by = date.fromisoformat(_text(request, "promised_by"))
            except ValueError:
                raise InvalidInput(Problem("promised_by", "date", "请填写承诺补齐日期（年-月-日）",
                                           "enter the promised date (YYYY-MM-DD)")) from None
            return case_services.promise_material(case=case, material_code=code, promised_by=promised_by, actor=clerk)
        action = f"promise-{code}"
        done = _("容缺承诺已记录")
    elif action == "remove-file":
        def run():
            record = access_file_for(clerk, request.POST.get("file") or 0, to=FileAction.REMOVE, case=case)
            return case_services.remove_file(file=record, actor=clerk)
        done = _("文件已移除")
    elif action == "submit":
        def run():
            return case_services.submit_case(case=case, actor=clerk)
        done = _("已提交，待预审")
    elif action == "discard":
        def run():
            return case_services.withdraw_case(case=case, actor=clerk,
                                               reason=_text(request, "reason") or "申请人未继续办理，窗口撤销草稿")
        done = _("草稿已撤销")
    elif action == "accept":
        def run():
            return case_services.accept_case(case=case, actor=clerk)
        done = _("已受理，受理通知书已生成")
    elif action == "one-time-notice":
        codes = request.POST.getlist("defect")

        def run():
            return case_services.issue_one_time_notice(
                case=case, actor=clerk, defects={c: _text(request, f"why-{c}") for c in codes})
        done = _("一次性告知书已生成")
    elif action == "refuse":
        def run():
            return case_services.refuse_case(case=case, actor=clerk, reason=_text(request, "reason"))
        done = _("不予受理通知书已生成")
    elif action == "correction-supplied":
        def run():
            return case_services.supply_correction(case=case, actor=clerk)
        done = _("补正材料已收齐，事项恢复办理")
    elif action == "delivery":
        def run():
            window_id = request.POST.get("window_id") or None
            return case_services.choose_delivery(case=case, actor=clerk, method=_text(request, "method"),
                                                 window_id=int(window_id) if (window_id or "").isdigit() else None,
                                                 address=_text(request, "address"))
        done = _("出件方式已保存")
    elif action == "deliver":
        def run():
            return case_services.deliver_case(case=case, actor=clerk, tracking_number=_text(request, "tracking_number"))
        done = _("已出件")
    else:
        raise Http404

    def success(_result):
        messages.success(request, done)
        return redirect("console:case", number=case.number)

    def checked_run():
        access_case_for(clerk, number, to=needs)
        return run()

    return _attempt(checked_run, posted=action, on_error=lambda **kw: case_page(request, number, **kw), success=success)


# --- officer workbench --------------------------------------------------------------------------------------


def tasks(request: HttpRequest, *, problems=None, conflict=None, posted: str = "", status: int = 200) -> HttpResponse:
    officer = _staff(request, Role.OFFICER)
    mine = request.GET.get("mine") == "1"
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.officer_queue(officer, cursor=cursor, limit=25, mine=mine)
    except InvalidInput as exc:
        page, problems, status = selectors.Page([], None), exc.problems, 422
    prefetch_related_objects(page.rows, "workflow")  # the step's name, not its key
    notices = [n for n in selectors.supervision_notices_for_department(officer)
               if n.department_id == officer.department_id]
    for n in notices:
        n.form_key = f"ack-{n.pk}"
    context = _page_error({"section": "tasks", "page": page, "mine": mine, "cursor": cursor, "due": _soon(timezone.localdate(),
                                                                                      officer.region_id),
                           "notices": notices}, problems, conflict, posted)
    return render(request, "console/tasks.html", context, status=status)


def _subcase_for(user, subcase_id: int) -> SubCase:
    try:
        return access_subcase_for(user, subcase_id, queryset=SubCase.objects.select_related(
            "case__region", "case__intake_region", "case__enterprise", "item_version__item", "department",
            "workflow", "assignee"))
    except NotFound:
        raise Http404 from None


def task_page(request: HttpRequest, subcase_id: int, *, problems=None, conflict=None, posted: str = "",
              status: int = 200) -> HttpResponse:
    officer = _staff(request, Role.OFFICER)
    sub = _subcase_for(officer, subcase_id)
    case = sub.case
    step = sub.workflow.step(sub.step) if sub.step else None
    materials = list(case.materials.select_related("licence").prefetch_related("files"))
    context = _page_error({
        "section": "tasks", "sub": sub, "case": case, "step": step, "actions": step.get("actions", []) if step else [],
        "form_rows": _form_rows(case),
        "materials": [m for m in materials if sub.key in m.used_by] + [m for m in materials if sub.key not in m.used_by],
        "ledger": [{**e, "kind_label": DeadlineEntry.Kind(e["kind"]).label,
                    "hold_label": SubCase.Hold(e["hold"]).label if e["hold"] else ""} for e in selectors.ledger(sub)],
        "progress": selectors.progress(case),
        "extensions": list(sub.extension_requests.order_by("-id")),
        "procedures": SPECIAL_PROCEDURES.items(), "key": uuid.uuid4().hex, "due": _soon(timezone.localdate(),
                                                                                         sub.department.region_id),
        "mine": sub.assignee_id == officer.pk, "notices": list(case.notices.filter(subcase=sub)),
        "origin": selectors.origin(case),
        "decision_fields": _decision_inputs(request, sub, step),
        # 容缺: what the held item waits for (it resumes by itself when the applicant uploads it).
        "awaited_minor": [m for m in materials if m.status == CaseMaterial.Status.PENDING and sub.key in m.used_by]
        if sub.hold == SubCase.Hold.MINOR else [],
    }, problems, conflict, posted)
    return render(request, "console/task.html", context, status=status)


def _decision_inputs(request: HttpRequest, sub: SubCase, step: dict | None) -> list[dict]:
    """The decision fields of the item's result licence, for the approve form at the decision step
    (with what the officer typed, when the page comes back with errors)."""
    if not step or not step.get("decision"):
        return []
    return [{"name": spec.name, "input": f"decision-{spec.name}", "error_field": f"decision.{spec.name}",
             "label": spec.decision.get("label", spec.label), "type": spec.decision.get("type", "string"),
             "choices": spec.decision.get("choices") or [], "required": spec.required,
             "example": spec.decision.get("example", ""), "value": request.POST.get(f"decision-{spec.name}", "")
             if request.method == "POST" else ""}
            for spec in selectors.decision_fields(sub)]


def task(request: HttpRequest, subcase_id: int) -> HttpResponse:
    return task_page(request, subcase_id)


ACTS = {"approve", "deny", "return", "special", "extend"}


@require_POST
def task_action(request: HttpRequest, subcase_id: int, action: str) -> HttpResponse:
    """The officer's forms: claim, approve, deny, return (补正), special, end-special, extend, fetch (shared data)."""
    officer = _staff(request, Role.OFFICER)
    sub = _subcase_for(officer, subcase_id)
    if action == "claim":
        def run():
            return case_services.claim(subcase=sub, actor=officer)
        done = _("已认领")
    elif action in ACTS:
        codes = request.POST.getlist("material")
        days = _text(request, "days")

        def run():
            return case_services.act(
                subcase=sub, actor=officer, action=action, step=_text(request, "step"), reason=_text(request, "reason"),
                key=_text(request, "key") or None, procedure=_text(request, "procedure"),
                days=int(days) if days.lstrip("-").isdigit() else (days or None),
                materials={c: _text(request, f"what-{c}") for c in codes},
                decision={spec.name: _text(request, f"decision-{spec.name}") for spec in selectors.decision_fields(sub)}
                if action == "approve" and sub.step and sub.workflow.step(sub.step).get("decision") else None)
        done = {"approve": _("已通过本环节"), "deny": _("已作出不予许可决定"), "return": _("已退回补正，计时暂停"),
                "special": _("已进入特别程序，计时暂停"), "extend": _("延期申请已提交，待效能监督审批")}[action]
    elif action == "end-special":
        def run():
            return case_services.end_special_procedure(subcase=sub, actor=officer, reason=_text(request, "reason"))
        done = _("特别程序已结束，恢复计时")
    elif action == "fetch":
        def run():
            case = access_case_for(officer, sub.case_id, to=CaseAction.FETCH_SHARED)
            return case_services.fetch_shared_material(case=case, material_code=_text(request, "material"),
                                                       actor=officer)
        done = _("已通过数据共享获取")
    else:
        raise Http404

    def success(_result):
        messages.success(request, done)
        return redirect("console:task", subcase_id=sub.pk)

    def checked_run():
        if action != "fetch":
            access_subcase_for(officer, sub.pk, to=SubcaseAction.HANDLE)
        return run()

    return _attempt(checked_run, posted=action, on_error=lambda **kw: task_page(request, subcase_id, **kw), success=success)


@require_POST
def acknowledge(request: HttpRequest, notice_id: int) -> HttpResponse:
    officer = _staff(request, Role.OFFICER)
    try:
        notice = access_supervision_for(officer, notice_id, to=SupervisionAction.ACKNOWLEDGE)
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None

    def success(_result):
        messages.success(request, _("督办已反馈"))
        return redirect("console:tasks")

    return _attempt(lambda: case_services.acknowledge_supervision(notice=notice, actor=officer,
                                                                  response=_text(request, "response")),
                    posted=f"ack-{notice.pk}", on_error=lambda **kw: tasks(request, **kw), success=success)


# --- supervisor board ---------------------------------------------------------------------------------------


def board_page(request: HttpRequest, *, problems=None, conflict=None, posted: str = "", status: int = 200):
    supervisor = _staff(request, Role.SUPERVISOR)
    data = selectors.board(supervisor)
    for e in data["extensions"]:
        e.form_key = f"ext-{e.pk}"
    departments = Department.objects.filter(region_id__in=region_subtree(supervisor.region_id)).order_by("region_id",
                                                                                                         "name")
    context = _page_error({"section": "board", "board": data, "departments": departments, "due": _soon(data["on"], supervisor.region_id),
                           "form": {k: _text(request, k) for k in ("department", "subcase", "text", "respond_days")}
                           if request.method == "POST" else {}},
                          problems, conflict, posted)
    return render(request, "console/board.html", context, status=status)


def board(request: HttpRequest) -> HttpResponse:
    return board_page(request)


@require_POST
def decide_extension(request: HttpRequest, request_id: int) -> HttpResponse:
    supervisor = _staff(request, Role.SUPERVISOR)
    try:
        ext = access_extension_for(supervisor, request_id, to=ExtensionAction.DECIDE)
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    approve = request.POST.get("decision") == "approve"

    def success(result):
        messages.success(request, _("已批准延期") if approve else _("已驳回延期申请"))
        return redirect("console:board")

    return _attempt(lambda: case_services.decide_extension(request=ext, actor=supervisor, approve=approve,
                                                           reason=_text(request, "reason")),
                    posted=f"ext-{ext.pk}", on_error=lambda **kw: board_page(request, **kw), success=success)


@require_POST
def supervise(request: HttpRequest) -> HttpResponse:
    supervisor = _staff(request, Role.SUPERVISOR)
    department = _text(request, "department")
    subcase_id = _text(request, "subcase")
    days = _text(request, "respond_days") or "2"

    def run():
        problems = []
        if not department.isdigit():
            problems.append(Problem("department", "required", "请选择督办部门", "choose the department"))
        if subcase_id and not subcase_id.isdigit():
            problems.append(Problem("subcase", "format", "子办件编号应为数字", "the item id must be a number"))
        if not days.isdigit():
            problems.append(Problem("respond_days", "range", "反馈期限须为 1 至 10 个工作日",
                                    "the response period must be 1 to 10 working days"))
        if problems:
            raise InvalidInput(problems)
        access_department_for(supervisor, int(department), to=DepartmentAction.SUPERVISE)
        sub = access_subcase_for(supervisor, int(subcase_id), to=SubcaseAction.SUPERVISE) if subcase_id else None
        return case_services.send_supervision_notice(actor=supervisor, department_id=int(department), text=_text(
            request, "text"), subcase=sub, respond_days=int(days))

    def success(_result):
        messages.success(request, _("督办通知已发送"))
        return redirect("console:board")

    return _attempt(run, posted="supervise", on_error=lambda **kw: board_page(request, **kw), success=success)
