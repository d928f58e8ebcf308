"""REST API of case handling, mounted at /api/v1/: cases, materials, notices, tasks, actions, the board.

Thin: parse, fetch through the access layer, call one service or selector, render. Objects the user
may not see answer 404 (never 403-with-details). Errors name the field and the rule (422/409).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from tongban.api.auth import api_auth, require_scope
from tongban.core.errors import NotFound

from . import notices, selectors, services
from .access import (
    CaseAction,
    ExtensionAction,
    FileAction,
    SubcaseAction,
    SupervisionAction,
    access_case_for,
    access_extension_for,
    access_file_for,
    access_notice_for,
    access_subcase_for,
    access_supervision_for,
)
from .models import Case, CaseMaterial, ExtensionRequest, SubCase

router = Router(tags=["cases"], auth=api_auth)
READ = require_scope("cases:read")
WRITE = require_scope("cases:write")


# --- schemas -------------------------------------------------------------------------------------------


class CaseStartIn(Schema):
    region: str
    bundle: str = ""
    item: str = ""
    answers: dict[str, Any] = {}
    enterprise_uscc: str = ""
    applicant_id_number: str = ""
    applicant_name: str = ""


class CaseUpdateIn(Schema):
    answers: dict[str, Any] | None = None
    form: dict[str, Any] | None = None


class CaseSummaryOut(Schema):
    number: str
    title: str
    kind: str
    status: str
    status_label: str
    channel: str
    region: str
    intake_region: str
    applicant_name: str
    accepted_on: date | None
    created_at: datetime


class CasePageOut(Schema):
    items: list[CaseSummaryOut]
    next_cursor: str | None


class FileOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    scanned: bool
    uploaded_at: datetime


class MaterialOut(Schema):
    code: str
    name: str
    source: str
    status: str
    status_label: str
    required: bool
    minor: bool
    commitment_allowed: bool
    used_by: list[str]
    producer: str
    defect: str
    promised_by: date | None
    commitment: str
    licence: str | None
    licence_check: dict
    files: list[FileOut]


class ProgressOut(Schema):
    key: str
    item: str
    basic_code: str
    stage: int
    after: list[str]
    department: str
    status: str
    status_label: str
    step: str
    step_name: str
    acting_role: str
    hold: str
    started_on: date | None
    statutory_due: date | None
    promised_due: date | None
    due_provisional: bool
    overdue: bool
    awaiting: dict | None
    decided_on: date | None
    finished_on: date | None
    outcome_reason: str
    result: str | None
    remote: dict | None = None


class NoticeOut(Schema):
    id: int
    kind: str
    kind_label: str
    number: str
    issued_on: date
    issuer: str
    title: str
    verify_url: str


class CaseOut(CaseSummaryOut):
    applicant_kind: str
    answers: dict
    form: dict
    form_sources: dict
    plan: dict
    notice_due: date | None
    deemed_accepted: bool
    delivery_method: str
    tracking_number: str
    delivered_at: datetime | None
    materials: list[MaterialOut]
    progress: list[ProgressOut]
    notices: list[NoticeOut]
    origin: dict | None = None  # a case handled for a peer node: accepting node, region, window, collab id


class ProblemsOut(Schema):
    detail: list[dict]


class LicenceUseIn(Schema):
    licence_id: int


class CommitmentIn(Schema):
    text: str


class PromiseIn(Schema):
    promised_by: date


class DefectsIn(Schema):
    defects: dict[str, str] = {}


class ReasonIn(Schema):
    reason: str = ""


class DeliveryIn(Schema):
    method: Literal["window", "post", "electronic"]
    window_id: int | None = None
    address: str = ""


class DeliverIn(Schema):
    tracking_number: str = ""


class TaskOut(Schema):
    id: int
    case: str
    case_title: str
    applicant_name: str
    key: str
    item: str
    step: str
    hold: str
    assignee: str | None
    started_on: date | None
    statutory_due: date | None
    promised_due: date | None
    revision: int
    ack_due: date | None = Field(None, description="cross-region: confirm receipt (确认接收) by this day (限时反馈)")
    acknowledged_at: datetime | None = None


class TaskPageOut(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class ActionIn(Schema):
    action: Literal["approve", "deny", "return", "special", "extend"]
    step: str
    reason: str = ""
    days: int | None = None
    procedure: str = ""
    materials: dict[str, str] = {}
    decision: dict[str, str | int] = {}
    key: str | None = None


class DecisionFieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    choices: list[str] = []
    max_length: int | None = None
    example: str | int | None = None


class SubCaseOut(Schema):
    id: int
    case: str
    key: str
    status: str
    step: str
    hold: str
    assignee: str | None
    statutory_due: date | None
    promised_due: date | None
    paused_days: int
    extension_days: int
    revision: int
    ack_due: date | None = Field(None, description="cross-region: the handling department confirms receipt "
                                                    "(确认接收) by this day (限时反馈)")
    acknowledged_at: datetime | None = None


class LedgerOut(Schema):
    kind: str
    hold: str
    on: date
    days: int
    reason: str
    statutory_due: date | None
    promised_due: date | None


class ExtensionDecisionIn(Schema):
    approve: bool
    reason: str = ""


class ExtensionOut(Schema):
    id: int
    subcase: int
    days: int
    status: str
    reason: str
    decision_reason: str


class SupervisionIn(Schema):
    department_id: int
    subcase_id: int | None = None
    text: str
    respond_days: int = 2


class SupervisionOut(Schema):
    id: int
    department: str
    subcase: int | None
    text: str
    respond_by: date | None
    acknowledged_at: datetime | None
    response: str


class AcknowledgeIn(Schema):
    response: str


class BoardRowOut(Schema):
    department_id: int
    department: str
    item: str
    open: int
    due_soon: int
    promised_overdue: int
    statutory_overdue: int
    paused: int


class BoardOut(Schema):
    on: date
    rows: list[BoardRowOut]
    overdue: list[TaskOut]
    extensions: list[ExtensionOut]
    supervision: list[SupervisionOut]
    cross_node_out: list[dict] = []


class TrailOut(Schema):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    object_id: str
    reason: str
    before: dict | None
    after: dict | None


class NoticeVerifyOut(Schema):
    valid: bool
    number: str | None = None
    kind: str | None = None
    title: str | None = None
    issued_on: date | None = None
    issuer: str | None = None
    case: str | None = None
    digest: str | None = None
    signed: bool | None = None
    signature: str | None = None
    signature_en: str | None = None
    alg: str | None = None
    kid: str | None = None
    issuer_department: str | None = None
    issuer_uscc: str | None = None


# --- rendering -----------------------------------------------------------------------------------------


def _summary(case: Case) -> dict:
    return {"number": case.number, "title": case.title, "kind": case.kind, "status": case.status,
            "status_label": str(case.get_status_display()), "channel": case.channel, "region": case.region_id,
            "intake_region": case.intake_region_id, "applicant_name": case.applicant_name,
            "accepted_on": case.accepted_on, "created_at": case.created_at}


def _material(row: CaseMaterial) -> dict:
    return {"code": row.code, "name": row.name, "source": row.source, "status": row.status,
            "status_label": str(row.get_status_display()), "required": row.required, "minor": row.minor,
            "commitment_allowed": row.commitment_allowed, "used_by": row.used_by, "producer": row.producer,
            "defect": row.defect, "promised_by": row.promised_by, "commitment": row.commitment,
            "licence": row.licence.identifier if row.licence_id else None, "licence_check": row.licence_check,
            "files": [_file(f) for f in row.files.all() if f.removed_at is None]}


def _file(f) -> dict:
    return {"id": f.pk, "name": f.name, "content_type": f.content_type, "size": f.size, "sha256": f.sha256,
            "scanned": f.scanned, "uploaded_at": f.uploaded_at}


def _notice(n) -> dict:
    return {"id": n.pk, "kind": n.kind, "kind_label": str(n.get_kind_display()), "number": n.number,
            "issued_on": n.issued_on, "issuer": n.issuer_name, "title": n.content.get("title", ""),
            "verify_url": notices.verify_path(n)}


def _detail(case: Case) -> dict:
    materials = case.materials.select_related("licence").prefetch_related("files")
    return {**_summary(case), "applicant_kind": case.applicant_kind, "answers": case.answers, "form": case.form,
            "form_sources": case.form_sources, "plan": case.plan, "notice_due": case.notice_due,
            "deemed_accepted": case.deemed_accepted, "delivery_method": case.delivery_method,
            "tracking_number": case.tracking_number, "delivered_at": case.delivered_at,
            "materials": [_material(m) for m in materials], "progress": selectors.progress(case),
            "notices": [_notice(n) for n in case.notices.all()], "origin": selectors.origin(case)}


def _task(sub: SubCase) -> dict:
    return {"id": sub.pk, "case": sub.case.number, "case_title": sub.case.title, "applicant_name": sub.case.applicant_name,
            "key": sub.key, "item": sub.item_version.name, "step": sub.step, "hold": sub.hold,
            "assignee": sub.assignee.get_username() if sub.assignee_id else None, "started_on": sub.started_on,
            "statutory_due": sub.statutory_due, "promised_due": sub.promised_due, "revision": sub.revision,
            "ack_due": sub.ack_due, "acknowledged_at": sub.acknowledged_at}


def _subcase(sub: SubCase) -> dict:
    return {"id": sub.pk, "case": sub.case.number, "key": sub.key, "status": sub.status, "step": sub.step,
            "hold": sub.hold, "assignee": sub.assignee.get_username() if sub.assignee_id else None,
            "statutory_due": sub.statutory_due, "promised_due": sub.promised_due, "paused_days": sub.paused_days,
            "extension_days": sub.extension_days, "revision": sub.revision, "ack_due": sub.ack_due,
            "acknowledged_at": sub.acknowledged_at}


def _extension(r: ExtensionRequest) -> dict:
    return {"id": r.pk, "subcase": r.subcase_id, "days": r.days, "status": r.status, "reason": r.reason,
            "decision_reason": r.decision_reason}


def _supervision(n) -> dict:
    return {"id": n.pk, "department": n.department.name, "subcase": n.subcase_id, "text": n.text,
            "respond_by": n.respond_by, "acknowledged_at": n.acknowledged_at, "response": n.response}


def _case(request: HttpRequest, number: str, to: CaseAction = CaseAction.READ) -> Case:
    return access_case_for(request.user, number, to=to)


def _sub(request: HttpRequest, subcase_id: int, to: SubcaseAction = SubcaseAction.READ) -> SubCase:
    return access_subcase_for(request.user, subcase_id, to=to)


def _fresh(case: Case) -> dict:
    return _detail(Case.objects.select_related("region", "intake_region").get(pk=case.pk))


ERRORS = {403: ProblemsOut, 404: ProblemsOut, 409: ProblemsOut, 422: ProblemsOut}


# --- cases -----------------------------------------------------------------------------------------------


@router.post("/cases", response={201: CaseOut, **ERRORS}, auth=WRITE, summary="Start a case (draft)")
def start_case(request, payload: CaseStartIn):
    case = services.start_case(actor=request.user, region_code=payload.region, bundle_code=payload.bundle,
                               item_code=payload.item, answers=payload.answers, enterprise_uscc=payload.enterprise_uscc,
                               applicant_id_number=payload.applicant_id_number, applicant_name=payload.applicant_name)
    return Status(201, _fresh(case))


@router.get("/cases", response={200: CasePageOut, 422: ProblemsOut}, auth=READ,
            summary="Cases I may see, newest first (keyset: pass next_cursor)")
def list_cases(request, cursor: str | None = None, limit: int = 50, status: str | None = None):
    page = selectors.cases_for(request.user, cursor=cursor, limit=limit, status=status)
    return {"items": [_summary(c) for c in page.rows], "next_cursor": page.next_cursor}


@router.get("/cases/{number}", response={200: CaseOut, 404: ProblemsOut}, auth=READ)
def get_case(request, number: str):
    return _detail(_case(request, number))


@router.patch("/cases/{number}", response={200: CaseOut, **ERRORS}, auth=WRITE, summary="Save a draft")
def update_case(request, number: str, payload: CaseUpdateIn):
    case = services.update_draft(case=_case(request, number, CaseAction.EDIT), actor=request.user, answers=payload.answers,
                                 form=payload.form)
    return _fresh(case)


@router.get("/cases/{number}/completeness", response={200: ProblemsOut, 404: ProblemsOut}, auth=READ,
            summary="What is still missing or defective (empty list: complete)")
def completeness(request, number: str):
    return {"detail": [p.as_dict() for p in services.completeness_problems(_case(request, number))]}


@router.post("/cases/{number}/materials/{code}/files", response={201: FileOut, **ERRORS}, auth=WRITE,
             summary="Upload (or, at a window, scan in) a file for a material")
def upload_file(request, number: str, code: str, file: File[UploadedFile], scanned: Form[bool] = False):
    content = file.read(services.intake.max_upload_bytes() + 1)
    record = services.attach_file(case=_case(request, number, CaseAction.EDIT), material_code=code, name=file.name or "", content=content,
                                  actor=request.user, scanned=scanned)
    return Status(201, _file(record))


@router.delete("/cases/{number}/files/{file_id}", response={204: None, **ERRORS}, auth=WRITE)
def delete_file(request, number: str, file_id: int):
    case = _case(request, number)
    record = access_file_for(request.user, file_id, to=FileAction.REMOVE, case=case)
    services.remove_file(file=record, actor=request.user)
    return Status(204, None)


@router.get("/files/{file_id}", response={200: None, 404: ProblemsOut}, auth=READ,
            summary="Download a material file (reads by staff are recorded in the trail)")
def download_file(request, file_id: int):
    record = services.open_material_file(file_id=file_id, actor=request.user)
    response = FileResponse(record.file.open("rb"), content_type=record.content_type, as_attachment=True,
                            filename=record.name)
    response["X-Content-SHA256"] = record.sha256
    return response


@router.post("/cases/{number}/materials/{code}/licence", response={200: MaterialOut, **ERRORS}, auth=WRITE,
             summary="免证办: use an electronic licence the applicant holds instead of a copy")
def use_licence(request, number: str, code: str, payload: LicenceUseIn):
    row = services.use_licence(case=_case(request, number, CaseAction.EDIT), material_code=code, licence_id=payload.licence_id,
                               actor=request.user)
    return _material(row)


@router.post("/cases/{number}/materials/{code}/fetch", response={200: MaterialOut, **ERRORS}, auth=WRITE,
             summary="Officer: fetch a material with source `data` from shared data (logged) instead of an upload")
def fetch_data(request, number: str, code: str):
    return _material(services.fetch_shared_material(case=_case(request, number, CaseAction.FETCH_SHARED), material_code=code,
                                                    actor=request.user))


@router.post("/cases/{number}/materials/{code}/commitment", response={200: MaterialOut, **ERRORS}, auth=WRITE,
             summary="告知承诺: a written commitment instead of a proof")
def commit(request, number: str, code: str, payload: CommitmentIn):
    return _material(services.commit_material(case=_case(request, number, CaseAction.EDIT), material_code=code, text=payload.text,
                                              actor=request.user))


@router.post("/cases/{number}/materials/{code}/promise", response={200: MaterialOut, **ERRORS}, auth=WRITE,
             summary="容缺: promise a minor material by a date")
def promise(request, number: str, code: str, payload: PromiseIn):
    return _material(services.promise_material(case=_case(request, number, CaseAction.EDIT), material_code=code,
                                               promised_by=payload.promised_by, actor=request.user))


@router.post("/cases/{number}/materials/{code}/supplied", response={200: MaterialOut, **ERRORS}, auth=WRITE,
             summary="容缺: the promised minor material has been attached; held items resume")
def minor_supplied(request, number: str, code: str):
    return _material(services.supply_minor_material(case=_case(request, number, CaseAction.SUPPLY), material_code=code,
                                                    actor=request.user))


@router.post("/cases/{number}/submit", response={200: CaseOut, **ERRORS}, auth=WRITE)
def submit(request, number: str):
    return _fresh(services.submit_case(case=_case(request, number, CaseAction.EDIT), actor=request.user))


@router.post("/cases/{number}/accept", response={200: CaseOut, **ERRORS}, auth=WRITE, summary="受理 (window clerk)")
def accept(request, number: str):
    case = _case(request, number, CaseAction.ACCEPT)
    services.accept_case(case=case, actor=request.user)
    return _fresh(case)


@router.post("/cases/{number}/one-time-notice", response={200: CaseOut, **ERRORS}, auth=WRITE,
             summary="一次性告知 (window clerk): every missing or defective material, with why")
def one_time_notice(request, number: str, payload: DefectsIn):
    case = _case(request, number, CaseAction.NOTIFY_DEFECTS)
    services.issue_one_time_notice(case=case, actor=request.user, defects=payload.defects)
    return _fresh(case)


@router.post("/cases/{number}/refuse", response={200: CaseOut, **ERRORS}, auth=WRITE, summary="不予受理 (window clerk)")
def refuse(request, number: str, payload: ReasonIn):
    case = _case(request, number, CaseAction.REFUSE)
    services.refuse_case(case=case, actor=request.user, reason=payload.reason)
    return _fresh(case)


@router.post("/cases/{number}/correction-supplied", response={200: CaseOut, **ERRORS}, auth=WRITE,
             summary="补正 done: the held items resume with their officer")
def correction_supplied(request, number: str):
    case = _case(request, number, CaseAction.SUPPLY)
    services.supply_correction(case=case, actor=request.user)
    return _fresh(case)


@router.post("/cases/{number}/withdraw", response={200: CaseOut, **ERRORS}, auth=WRITE)
def withdraw(request, number: str, payload: ReasonIn):
    return _fresh(services.withdraw_case(case=_case(request, number, CaseAction.WITHDRAW), actor=request.user, reason=payload.reason))


@router.post("/cases/{number}/delivery", response={200: CaseOut, **ERRORS}, auth=WRITE,
             summary="Choose how the results are delivered (统一出件)")
def choose_delivery(request, number: str, payload: DeliveryIn):
    case = services.choose_delivery(case=_case(request, number, CaseAction.CHOOSE_DELIVERY), actor=request.user, method=payload.method,
                                    window_id=payload.window_id, address=payload.address)
    return _fresh(case)


@router.post("/cases/{number}/deliver", response={200: CaseOut, **ERRORS}, auth=WRITE,
             summary="Hand over at the window, or record the post's tracking number")
def deliver(request, number: str, payload: DeliverIn):
    return _fresh(services.deliver_case(case=_case(request, number, CaseAction.DELIVER), actor=request.user,
                                        tracking_number=payload.tracking_number))


@router.get("/cases/{number}/progress", response={200: list[ProgressOut], 404: ProblemsOut}, auth=READ)
def progress(request, number: str):
    return selectors.progress(_case(request, number))


@router.get("/cases/{number}/timeline", response={200: dict, 404: ProblemsOut}, auth=READ)
def timeline(request, number: str):
    return selectors.timeline(_case(request, number))


@router.get("/cases/{number}/notices", response={200: list[NoticeOut], 404: ProblemsOut}, auth=READ)
def case_notices(request, number: str):
    return [_notice(n) for n in _case(request, number).notices.all()]


@router.get("/notices/{notice_id}/pdf", response={200: None, 404: ProblemsOut}, auth=READ,
            summary="A notice as PDF (Chinese, with a QR code to its verification page)")
def notice_pdf(request, notice_id: int):
    notice = access_notice_for(request.user, notice_id)
    response = HttpResponse(notices.render_pdf(notice, request), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    return response


@router.get("/notices/{notice_id}/signed", response={200: dict, 404: ProblemsOut}, auth=READ,
            summary="A notice as its signed JSON document (payload + proof), to keep or verify offline with "
                    "`tongban notice verify FILE --trust BUNDLE`; 404 for a notice issued before signing")
def notice_signed(request, notice_id: int):
    document = notices.signed_document(access_notice_for(request.user, notice_id))
    if document is None:
        raise NotFound("notice")
    return document


@router.get("/notices/verify/{token}", response={200: NoticeVerifyOut}, auth=None,
            summary="Public: is this notice genuine? (the QR code on every notice)")
def verify_notice(request, token: str):
    return notices.verify(token)


@router.get("/cases/{number}/trail", response={200: list[TrailOut], 403: ProblemsOut, 404: ProblemsOut}, auth=READ,
            summary="全过程留痕: the case's entries of the hash-chained trail (staff only)")
def trail(request, number: str):
    case = _case(request, number, CaseAction.READ_TRAIL)
    from tongban.audit.selectors import trail_for_case

    return [{"seq": e.seq, "at": e.at, "actor": e.actor_label, "role": e.role, "action": e.action,
             "object_id": e.object_id, "reason": e.reason, "before": e.before, "after": e.after}
            for e in trail_for_case(case.number)[:1000]]


# --- officers: tasks and actions ---------------------------------------------------------------------------


@router.get("/tasks", response={200: TaskPageOut, 422: ProblemsOut}, auth=READ,
            summary="My department's open items, most urgent first (keyset: pass next_cursor)")
def tasks(request, cursor: str | None = None, limit: int = 50, mine: bool = False):
    page = selectors.officer_queue(request.user, cursor=cursor, limit=limit, mine=mine)
    return {"items": [_task(s) for s in page.rows], "next_cursor": page.next_cursor}


@router.get("/intake-queue", response={200: CasePageOut, 422: ProblemsOut}, auth=READ,
            summary="Window: submissions waiting for the completeness check, and results ready for delivery")
def intake_queue(request, cursor: str | None = None, limit: int = 50):
    page = selectors.intake_queue(request.user, cursor=cursor, limit=limit)
    return {"items": [_summary(c) for c in page.rows], "next_cursor": page.next_cursor}


@router.post("/subcases/{subcase_id}/claim", response={200: SubCaseOut, **ERRORS}, auth=WRITE)
def claim(request, subcase_id: int):
    return _subcase(services.claim(subcase=_sub(request, subcase_id, SubcaseAction.HANDLE), actor=request.user))


@router.post("/subcases/{subcase_id}/actions", response={200: SubCaseOut, **ERRORS}, auth=WRITE,
             summary="Act at the step you saw: approve, deny, return (补正), special, extend. "
                     "Send an Idempotency-Key header (or `key`) so that a retry does not act twice.")
def act(request, subcase_id: int, payload: ActionIn):
    key = payload.key or request.headers.get("Idempotency-Key") or None
    sub = services.act(subcase=_sub(request, subcase_id, SubcaseAction.HANDLE), actor=request.user, action=payload.action, step=payload.step,
                       reason=payload.reason, days=payload.days, procedure=payload.procedure,
                       materials=payload.materials, decision=payload.decision, key=key)
    return _subcase(SubCase.objects.select_related("case", "assignee").get(pk=sub.pk))


@router.get("/subcases/{subcase_id}/decision-fields", response={200: list[DecisionFieldOut], 404: ProblemsOut},
            auth=READ, summary="The fields the officer enters when approving at the decision step (from the result "
                               "licence type's declared sources); `example` is a sample, never a default")
def decision_fields(request, subcase_id: int):
    return [_decision_field(s) for s in selectors.decision_fields(_sub(request, subcase_id))]


def _decision_field(spec) -> dict:
    return {"name": spec.name, "label": spec.decision.get("label", spec.label), "type": spec.decision.get("type", "string"),
            "required": spec.required, "choices": list(spec.decision.get("choices") or []),
            "max_length": spec.decision.get("max_length"), "example": spec.decision.get("example")}


@router.post("/subcases/{subcase_id}/end-special", response={200: SubCaseOut, **ERRORS}, auth=WRITE)
def end_special(request, subcase_id: int, payload: ReasonIn):
    return _subcase(services.end_special_procedure(subcase=_sub(request, subcase_id, SubcaseAction.HANDLE), actor=request.user,
                                                   reason=payload.reason))


@router.post("/subcases/{subcase_id}/withdraw", response={200: SubCaseOut, **ERRORS}, auth=WRITE,
             summary="The applicant withdraws one item (its dependants are cancelled)")
def withdraw_item(request, subcase_id: int, payload: ReasonIn):
    return _subcase(services.withdraw_item(subcase=_sub(request, subcase_id, SubcaseAction.WITHDRAW), actor=request.user,
                                           reason=payload.reason))


@router.get("/subcases/{subcase_id}/ledger", response={200: list[LedgerOut], 404: ProblemsOut}, auth=READ,
            summary="The deadline ledger: every pause, resume and extension with its effect")
def ledger(request, subcase_id: int):
    return selectors.ledger(_sub(request, subcase_id))


@router.post("/extensions/{request_id}/decision", response={200: ExtensionOut, **ERRORS}, auth=WRITE,
             summary="Supervisor: approve or reject an extension (capped by 行政许可法 Art. 42)")
def decide_extension(request, request_id: int, payload: ExtensionDecisionIn):
    ext = access_extension_for(request.user, request_id, to=ExtensionAction.DECIDE)
    return _extension(services.decide_extension(request=ext, actor=request.user, approve=payload.approve,
                                                reason=payload.reason))


@router.get("/board", response={200: BoardOut}, auth=READ,
            summary="Supervisor board: due and overdue by department and item, extensions, supervision notices")
def board(request):
    data = selectors.board(request.user)
    return {"on": data["on"], "rows": [{"department_id": r["department_id"], "department": r["department__name"],
                                        "item": r["item_version__name"], **{k: r[k] for k in (
                                            "open", "due_soon", "promised_overdue", "statutory_overdue", "paused")}}
                                       for r in data["rows"]],
            "overdue": [_task(s) for s in data["overdue"]], "extensions": [_extension(e) for e in data["extensions"]],
            "supervision": [_supervision(n) for n in data["supervision"]],
            "cross_node_out": [{"case": s["case__number"], "key": s["key"], "node": s["remote_node"],
                                "region": s["remote_region"], "remote_status": s["remote_status"],
                                "collab_id": s["collab_id"], "ack_due": s["ack_due"],
                                "acknowledged_at": s["acknowledged_at"], "decision_due": s["promised_due"],
                                "remote_case": s["remote_case_number"],
                                "ack_late_held_by": s["ack_late_held_by"], "holder": s["hop_holder"] or "",
                                "held_since": s["hop_since"]} for s in data["cross_node_out"]]}


@router.post("/supervision-notices", response={201: SupervisionOut, **ERRORS}, auth=WRITE, summary="督办")
def supervise(request, payload: SupervisionIn):
    sub = _sub(request, payload.subcase_id, SubcaseAction.SUPERVISE) if payload.subcase_id else None
    notice = services.send_supervision_notice(actor=request.user, department_id=payload.department_id, text=payload.text,
                                              subcase=sub, respond_days=payload.respond_days)
    return Status(201, _supervision(notice))


@router.post("/supervision-notices/{notice_id}/acknowledge", response={200: SupervisionOut, **ERRORS}, auth=WRITE)
def acknowledge(request, notice_id: int, payload: AcknowledgeIn):
    notice = access_supervision_for(request.user, notice_id, to=SupervisionAction.ACKNOWLEDGE)
    return _supervision(services.acknowledge_supervision(notice=notice, actor=request.user, response=payload.response))
