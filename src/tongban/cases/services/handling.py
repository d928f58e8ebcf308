"""Handling (办理): officers move sub-cases through their item's workflow; stages start by themselves;
pauses and extensions move the deadlines; a denied or withdrawn item cancels what depends on it.

Concurrency: every action locks the case row, then the sub-case row (the lock order of
docs/decisions/0008-lock-rule.md) and names the step the officer saw, so of two officers acting at once
one wins and the other gets a 409; an idempotency key makes a repeated request return the first answer
without acting twice.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from tongban.accounts.roles import Role
from tongban.core.access import require
from tongban.core.errors import Conflict, InvalidInput, NotFound, Problem
from tongban.core.transactions import service

from .. import deadlines, signals, workflows
from ..access import ExtensionAction, SubcaseAction
from ..models import Action, Case, CaseMaterial, DeadlineEntry, ExtensionRequest, SubCase
from ..notices import clause, sentence
from ._common import (
    REMEDY,
    CaseAction,
    issue_notice,
    lock_case,
    lock_subcase,
    lock_subcases,
    require_case,
    require_reason,
    require_subcase,
    snapshot,
    tell,
    today,
    trail,
)
from .results import licence_contents, produce_result, record_licence_use

SPECIAL_PROCEDURES = {"hearing": "听证", "testing": "检验检测", "inspection": "现场核查", "expert": "专家评审",
                      "quarantine": "检疫", "appraisal": "鉴定"}
TERMINAL_BAD = (SubCase.Status.DENIED, SubCase.Status.CANCELLED, SubCase.Status.WITHDRAWN, SubCase.Status.STOPPED)


def max_extension_days() -> int:
    """行政许可法 Art. 42: 20 working days, extendable by 10 with the approval of the head of the organ."""
    return int(getattr(settings, "TONGBAN_MAX_EXTENSION_DAYS", 10))


# --- starting and finishing sub-cases -------------------------------------------------------------------


def _ledger(subcase: SubCase, kind: str, on: date, *, days: int = 0, hold: str = "", reason: str = "",
            actor=None) -> None:
    deadlines.refresh_due(subcase)
    DeadlineEntry.objects.create(subcase=subcase, kind=kind, on=on, days=days, hold=hold, reason=reason[:512],
                                 statutory_due=subcase.statutory_due, promised_due=subcase.promised_due, actor=actor)


def start_ready_subcases(case: Case, *, on: date, actor=None) -> list[SubCase]:
    """Start every pending or waiting sub-case whose prerequisites are all approved, attaching their
    results as its materials; the rest wait. Called at acceptance and after every decision."""
    subcases = list(case.subcases.select_related("department", "workflow", "item_version").order_by("position"))
    by_key = {s.key: s for s in subcases}
    started = []
    for sub in subcases:
        if sub.status not in (SubCase.Status.PENDING, SubCase.Status.WAITING):
            continue
        if all(by_key[k].status == SubCase.Status.APPROVED for k in sub.after if k in by_key):
            sub = lock_subcase(sub, case=case)
            if sub.is_remote:  # handed over to its node, the message queued in this transaction
                from .remote import start_remote

                start_remote(case, sub, on=on, actor=actor)
                started.append(sub)
                continue
            _attach_results(case, sub, by_key)
            sub.status, sub.started_on = SubCase.Status.ACTIVE, on
            sub.step = sub.workflow.steps()[0]["code"]
            if case.cross_region:
                sub.ack_due = _ack_due(sub, on)
            _ledger(sub, DeadlineEntry.Kind.START, on, reason="受理" if not sub.after else "前序事项办结，自动启动",
                    actor=actor)
            sub.revision += 1
            sub.save()
            trail("subcase_started", case, subcase=sub, actor=actor,
                  after={**snapshot(sub), "started_on": on.isoformat(), "after": sub.after})
            started.append(sub)
        elif sub.status == SubCase.Status.PENDING:
            sub.status = SubCase.Status.WAITING
            sub.save(update_fields=["status"])
    return started


def _ack_due(sub: SubCase, on: date) -> date:
    from tongban.workdays.calendar import add_workdays

    return add_workdays(on, int(getattr(settings, "TONGBAN_CROSS_REGION_ACK_DAYS", 1)), sub.department.region_id).due


def _attach_results(case: Case, sub: SubCase, by_key: dict[str, SubCase]) -> None:
    """The results of the items this one waited for become its materials (no upload, verified licence)."""
    for row in case.materials.filter(source=CaseMaterial.Source.PRODUCED, producer__in=sub.after):
        producer = by_key[row.producer]
        if producer.result_licence_id and row.licence_id is None:
            from tongban.licences.selectors import licence_document
            from tongban.licences.verification import verify_licence_document

            result = verify_licence_document(licence_document(producer.result_licence), trust=case.region_id)
            row.licence_id = producer.result_licence_id
            row.licence_check = {**result.as_dict(), "checked_at": timezone.now().isoformat()}
            record_licence_use(producer.result_licence, case, sub, f"前序事项结果作为“{row.name}”自动提供")
        row.status = CaseMaterial.Status.PROVIDED
        row.save()


def fetch_shared_material(*, case: Case, material_code: str, actor) -> CaseMaterial:
    """A material with source `data` is fetched for the officer from the owning department's register
    (through the exchange: purpose-bound, granted fields only, logged on both sides) instead of an upload.

    The register is queried outside any transaction (it may be a slow HTTP call, and no case row may stay
    locked meanwhile); the answer is then written in a short transaction of its own."""
    from tongban.exchange import selectors as exchange_selectors
    from tongban.exchange.querying import query

    case = (Case.objects.select_related("region", "intake_region", "enterprise__legal_representative")
            .filter(pk=case.pk).first())
    if case is None:
        raise NotFound("case")
    require_case(actor, case, CaseAction.FETCH_SHARED)
    row = case.materials.filter(code=material_code).first()
    if row is None or not row.data_resource:
        raise InvalidInput(Problem("material", "material.not_shared", "该材料不能通过数据共享获取",
                                   "this material cannot be fetched from shared data"))
    resource = exchange_selectors.get_resource(row.data_resource)
    subject = case.applicant_code
    if resource.subject_kind == "person" and case.enterprise_id and case.enterprise.legal_representative_id:
        subject = case.enterprise.legal_representative.id_number  # 法定代表人身份信息
    granted = {fid for ids in exchange_selectors.granted_field_ids(resource, actor.department_id).values() for fid in ids}
    fields = list(resource.fields.filter(pk__in=granted).values_list("name", flat=True))
    answer = query(resource_code=resource.code, subject=subject, fields=fields,
                   purpose=f"办件 {case.number} 审查：核验免提交材料“{row.name}”", case_ref=case.number, actor=actor)
    return _store_shared_material(case_pk=case.pk, material_code=row.code, resource_code=resource.code,
                                  answer=answer, actor=actor)


@service
def _store_shared_material(*, case_pk: int, material_code: str, resource_code: str, answer, actor) -> CaseMaterial:
    case = lock_case(case_pk)
    require_case(actor, case, CaseAction.FETCH_SHARED)  # again: the case may have moved on meanwhile
    row = case.materials.select_for_update(of=("self",)).filter(code=material_code).first()
    if row is None:
        raise NotFound("material")
    row.data = {**answer.as_dict(), "fetched_by": actor.get_username(), "fetched_at": timezone.now().isoformat()}
    row.status = CaseMaterial.Status.SHARED if row.status != CaseMaterial.Status.PROVIDED else row.status
    row.save()
    trail("material_data_fetched", case, actor=actor, after={"material": row.code, "resource": resource_code,
                                                            "query": answer.ref})
    return row


def _enter_step(sub: SubCase, step: dict, on: date, actor) -> None:
    sub.step = step["code"]
    if step.get("decision") and _pending_minor(sub):
        _pause(sub, SubCase.Hold.MINOR, on, "容缺材料未补齐，决定环节暂停", actor)


def _pending_minor(sub: SubCase) -> list[CaseMaterial]:
    return [m for m in sub.case.materials.filter(status=CaseMaterial.Status.PENDING) if sub.key in m.used_by]


def _pause(sub: SubCase, hold: str, on: date, reason: str, actor) -> None:
    sub.hold, sub.held_since = hold, on
    _ledger(sub, DeadlineEntry.Kind.PAUSE, on, hold=hold, reason=reason, actor=actor)


def _resume(sub: SubCase, on: date, reason: str, actor) -> int:
    days = deadlines.paused_workdays(sub, sub.held_since, on)
    hold = sub.hold
    sub.paused_days += days
    sub.hold, sub.held_since = SubCase.Hold.NONE, None
    _ledger(sub, DeadlineEntry.Kind.RESUME, on, days=days, hold=hold, reason=reason, actor=actor)
    return days


def _finish(sub: SubCase, status: str, on: date, reason: str = "") -> None:
    sub.status, sub.finished_on = status, on
    if status in (SubCase.Status.APPROVED, SubCase.Status.DENIED):
        sub.decided_on = sub.decided_on or on
    sub.outcome_reason = reason or sub.outcome_reason
    sub.hold, sub.held_since, sub.step = SubCase.Hold.NONE, None, ""


def _cancel_dependants(case: Case, cause: SubCase, on: date, actor) -> list[SubCase]:
    """Cancel, transitively, every open sub-case that needs `cause`'s result; independent ones go on."""
    subcases = {s.key: s for s in case.subcases.select_related("department")}
    dead, cancelled = {cause.key}, []
    changed = True
    while changed:
        changed = False
        for sub in subcases.values():
            if sub.key not in dead and sub.is_open and dead & set(sub.after):
                dead.add(sub.key)
                changed = True
                sub = lock_subcase(sub, case=case)
                before = snapshot(sub)
                cause_text = f"前置事项“{cause.item_version.name}”{cause.get_status_display()}"
                reason = f"{cause_text}，本事项无法继续办理"
                _finish(sub, SubCase.Status.CANCELLED, on, reason)
                sub.revision += 1
                sub.save()
                issue_notice(case, "cancellation", subcase=sub, title="事项终止告知书", issuer=sub.department.name, on=on,
                             actor=actor, paragraphs=[f"{case.applicant_name}：",
                                                      f"办件 {case.number} 中的“{sub.item_version.name}”因{cause_text}，"
                                                      "依法终止办理。其他不受影响的事项继续办理。"])
                trail("subcase_cancelled", case, subcase=sub, actor=actor, reason=reason, before=before,
                      after=snapshot(sub))
                cancelled.append(sub)
    return cancelled


def after_change(case: Case, on: date, actor) -> None:
    """Start what became ready; when nothing is open any more, the case is ready for unified delivery."""
    from .delivery import on_all_finished

    start_ready_subcases(case, on=on, actor=actor)
    if not case.subcases.filter(status__in=SubCase.OPEN).exists() and case.status == Case.Status.ACCEPTED:
        on_all_finished(case, on=on, actor=actor)


# --- officer actions -------------------------------------------------------------------------------------


def _replayed(key: str | None) -> Action | None:
    return Action.objects.filter(key=key).select_related("subcase").first() if key else None


def _require_officer(sub: SubCase, actor, step: dict) -> str:
    """The role the actor acts in at this step (cases.access.handling_role, after the visibility check)."""
    return require_subcase(actor, sub, SubcaseAction.HANDLE, step=step)


@service
def claim(*, subcase: SubCase, actor, on: date | None = None) -> SubCase:
    """An officer takes a sub-case from the department's queue (认领)."""
    sub = lock_subcase(subcase)
    if sub.status != SubCase.Status.ACTIVE:
        raise Conflict("该事项当前不在办理中", "the item is not being handled now", rule="subcase.status")
    _require_officer(sub, actor, sub.workflow.step(sub.step))
    if sub.assignee_id and sub.assignee_id != actor.pk:
        raise Conflict(f"该事项已由 {sub.assignee.real_name or sub.assignee.get_username()} 认领",
                       "another officer has claimed this item", rule="subcase.claimed")
    if sub.assignee_id != actor.pk:
        before = snapshot(sub)
        sub.assignee, sub.revision = actor, sub.revision + 1
        sub.save(update_fields=["assignee", "revision"])
        trail("subcase_claimed", sub.case, subcase=sub, actor=actor, before=before, after=snapshot(sub))
    return sub


def act(*, subcase: SubCase, actor, action: str, step: str, reason: str = "", key: str | None = None,
        days: int | None = None, procedure: str = "", materials: dict[str, str] | None = None,
        decision: dict | None = None, on: date | None = None) -> SubCase:
    """One workflow action on a sub-case at the step the officer saw:
    approve (at the decision step: `decision`, the fields the result licence takes from the officer) |
    deny (reason) | return (补正: reason, materials {code: what is wrong}) |
    special (procedure, reason) | extend (days, reason: a request a supervisor decides).
    A repeated `key` returns the sub-case as the first request left it, without acting again."""
    replay = _replayed(key)
    if replay is not None:
        return _check_replay(replay, subcase, action)
    try:
        return _act(subcase=subcase, actor=actor, action=action, step=step, reason=reason, key=key, days=days,
                    procedure=procedure, materials=materials or {}, decision=decision or {}, on=today(on))
    except IntegrityError:
        replay = _replayed(key)  # the same key won a race a moment ago
        if replay is None:
            raise
        return _check_replay(replay, subcase, action)


def _check_replay(replay: Action, subcase: SubCase, action: str) -> SubCase:
    if replay.subcase_id != subcase.pk or replay.action != action:
        raise Conflict("该请求编号已用于另一操作", "this idempotency key was used for another action", rule="idempotency.key")
    return SubCase.objects.get(pk=subcase.pk)


@service
def _act(*, subcase, actor, action, step, reason, key, days, procedure, materials, decision, on) -> SubCase:
    sub = lock_subcase(subcase)  # the case first, then the sub-case
    replay = _replayed(key)  # the same request may have acted while we waited for the lock
    if replay is not None:
        return _check_replay(replay, subcase, action)
    case = sub.case
    if sub.status != SubCase.Status.ACTIVE:
        _require_officer(sub, actor, None)  # 404 / 403 before anything is said about the state
        raise Conflict(f"该事项当前状态为“{sub.get_status_display()}”，不能办理", f"the item is {sub.status}",
                       rule="subcase.status")
    current = sub.workflow.step(sub.step)
    role = _require_officer(sub, actor, current)
    if step != sub.step:
        raise Conflict(f"该事项已进入“{current['name']}”环节，请刷新后再办理",
                       f"the item has moved on to the step {sub.step}; reload and try again", rule="step.stale")
    if action not in current.get("actions", []):
        raise InvalidInput(Problem("action", "step.action", f"“{current['name']}”环节不能执行该操作：{action}",
                                   f"the step {sub.step} does not allow the action {action}"))
    if sub.assignee_id and sub.assignee_id != actor.pk and role != Role.SUPERVISOR:
        raise Conflict("该事项已由其他人员认领", "another officer has claimed this item", rule="subcase.claimed")
    if sub.hold and action != "deny":
        raise Conflict(f"该事项处于暂停状态（{sub.get_hold_display()}），请待恢复后再办理",
                       f"the item is paused ({sub.hold})", rule="subcase.held")
    before = snapshot(sub)
    status_from, step_from = sub.status, sub.step
    sub.assignee = sub.assignee or actor
    handler = {"approve": _approve, "deny": _deny, "return": _return, "special": _special, "extend": _extend}[action]
    if decision and not (action == "approve" and current.get("decision")):
        raise InvalidInput(Problem("decision", "decision.not_expected", "决定字段只在决定环节准予许可时填写",
                                   "decision fields are taken only when approving at the decision step"))
    reason = handler(sub, case, actor, current, on=on, reason=reason, days=days, procedure=procedure,
                     materials=materials, decision=decision) or reason
    sub.revision += 1
    sub.save()
    Action.objects.create(case=case, subcase=sub, key=key or None, action=action, actor=actor, role=role,
                          step_from=step_from, step_to=sub.step, status_from=status_from, status_to=sub.status,
                          reason=reason or "")
    trail(f"subcase_{action}", case, subcase=sub, actor=actor, reason=reason or "", before=before, after=snapshot(sub))
    signals.subcase_acted.send(sender=SubCase, subcase=sub, case=case, action=action, step_from=step_from,
                               status_from=status_from, reason=reason or "", materials=materials, on=on, actor=actor)
    if sub.status != SubCase.Status.ACTIVE:
        if sub.status in TERMINAL_BAD:
            _cancel_dependants(case, sub, on, actor)
        after_change(lock_case(case), on, actor)
    return sub


def _approve(sub: SubCase, case: Case, actor, current: dict, *, on: date, decision: dict, **_) -> str:
    if current.get("decision"):
        _decide(sub, case, actor, on, licence_contents(case, sub, decision, on))
    following = workflows.next_step(sub.workflow, current["code"])
    while following is not None and following.get("auto"):
        following = workflows.next_step(sub.workflow, following["code"])  # performed by the platform now
    if following is None:
        _finish(sub, SubCase.Status.APPROVED, on)
        return ""
    if current["code"] == sub.workflow.steps()[0]["code"] and case.cross_region and sub.acknowledged_at is None:
        sub.acknowledged_at = timezone.now()
    _enter_step(sub, following, on, actor)
    return ""


def _decide(sub: SubCase, case: Case, actor, on: date, data: dict | None) -> None:
    """Approval of the decision step: the result is produced (a signed licence where the item has one,
    its data checked complete before anything is written)."""
    sub.decided_on = on
    sub.result_licence = produce_result(sub, case, actor, on, data)
    rows = [("事项", sub.item_version.name), ("决定", "准予许可"), ("决定日期", f"{on:%Y年%m月%d日}")]
    if sub.result_licence is not None:
        rows.append(("电子证照标识", sub.result_licence.identifier))
    issue_notice(case, "decision", subcase=sub, title="准予行政许可决定书", issuer=sub.department.name, on=on, actor=actor,
                 rows=rows, paragraphs=[f"{case.applicant_name}：",
                                        f"你（单位）在办件 {case.number} 中申请的“{sub.item_version.name}”，"
                                        "经审查，符合法定条件、标准，决定准予许可。结果将随本件统一出件。"])


def _deny(sub: SubCase, case: Case, actor, current: dict, *, on: date, reason: str, **_) -> str:
    reason = require_reason(reason)
    _finish(sub, SubCase.Status.DENIED, on, reason)
    issue_notice(case, "decision", subcase=sub, title="不予行政许可决定书", issuer=sub.department.name, on=on, actor=actor,
                 paragraphs=[f"{case.applicant_name}：", f"你（单位）在办件 {case.number} 中申请的“{sub.item_version.name}”，"
                             f"经审查，决定不予许可。理由：{sentence(reason)}", REMEDY])
    tell(case, "denied", f"“{sub.item_version.name}”不予许可：{reason}")
    return reason


def _return(sub: SubCase, case: Case, actor, current: dict, *, on: date, reason: str, materials: dict, **_) -> str:
    """补正: back to the applicant with what is wrong; the clock stops until they answer; it then
    returns to the same officer."""
    reason = require_reason(reason)
    problems = {}
    rows = {m.code: m for m in case.materials.all()}
    for code, text in materials.items():
        if code not in rows:
            raise InvalidInput(Problem(f"materials.{code}", "material.unknown", f"本件材料清单中没有 {code}",
                                       f"material {code} is not on this case's checklist"))
        problems[code] = require_reason(text, f"materials.{code}")
    for code, text in problems.items():
        row = rows[code]
        row.status, row.defect = CaseMaterial.Status.DEFECTIVE, text
        row.save(update_fields=["status", "defect", "updated_at"])
    _pause(sub, SubCase.Hold.CORRECTION, on, reason, actor)
    lines = [f"{rows[c].name}：{sentence(t)}" for c, t in problems.items()]
    issue_notice(case, "correction", subcase=sub, title="补正材料通知书", issuer=sub.department.name, on=on, actor=actor,
                 paragraphs=[f"{case.applicant_name}：", f"办件 {case.number} 中的“{sub.item_version.name}”需要补正：{sentence(reason)}",
                             *lines, "补正期间不计入办理时限。请补正后提交，由原承办人继续审查。"])
    tell(case, "correction", f"“{sub.item_version.name}”需要补正：{reason}")
    return reason


def _special(sub: SubCase, case: Case, actor, current: dict, *, on: date, reason: str, procedure: str, **_) -> str:
    """特别程序 (Art. 45: hearing, testing, inspection, expert review): time excluded, applicant told in writing."""
    reason = require_reason(reason)
    if procedure not in SPECIAL_PROCEDURES:
        raise InvalidInput(Problem("procedure", "procedure.unknown",
                                   f"特别程序须为：{'、'.join(f'{k}（{v}）' for k, v in SPECIAL_PROCEDURES.items())}",
                                   f"procedure must be one of {', '.join(SPECIAL_PROCEDURES)}"))
    name = SPECIAL_PROCEDURES[procedure]
    _pause(sub, SubCase.Hold.SPECIAL, on, f"{name}：{reason}", actor)
    issue_notice(case, "special", subcase=sub, title="特别程序告知书", issuer=sub.department.name, on=on, actor=actor,
                 paragraphs=[f"{case.applicant_name}：", f"办件 {case.number} 中的“{sub.item_version.name}”需要进行{name}。"
                             f"事由：{sentence(reason)}", "依据《中华人民共和国行政许可法》第四十五条，所需时间不计算在办理期限内。"])
    tell(case, "special", f"“{sub.item_version.name}”进入{name}程序，期间不计时。")
    return f"{name}：{reason}"


def _extend(sub: SubCase, case: Case, actor, current: dict, *, on: date, reason: str, days: int | None, **_) -> str:
    reason = require_reason(reason)
    left = max_extension_days() - sub.extension_days - sum(
        r.days for r in sub.extension_requests.filter(status=ExtensionRequest.Status.PENDING))
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InvalidInput(Problem("days", "extension.days", "延长天数须为正整数（工作日）",
                                   "the extension must be a positive number of working days"))
    if days > left:
        raise InvalidInput(Problem("days", "extension.cap", f"依法最多还可延长 {max(left, 0)} 个工作日（行政许可法第四十二条）",
                                   f"at most {max(left, 0)} more working days may be added (Art. 42)"))
    ExtensionRequest.objects.create(subcase=sub, days=days, reason=reason, requested_by=actor)
    return f"申请延长 {days} 个工作日：{reason}"


# --- what happens between officer actions ---------------------------------------------------------------


@service
def decide_extension(*, request: ExtensionRequest, actor, approve: bool, reason: str = "",
                     on: date | None = None) -> ExtensionRequest:
    """A supervisor of the department's region approves or rejects an extension; approved days are
    added to both due dates and the applicant is told in writing."""
    on = today(on)
    subcase_id = ExtensionRequest.objects.filter(pk=request.pk).values_list("subcase_id", flat=True).first()
    if subcase_id is None:
        raise NotFound("extension")
    sub = lock_subcase(subcase_id)  # case, sub-case, then the request that hangs off it
    request = ExtensionRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    require(actor, "extension-request", ExtensionAction.DECIDE, request)
    if request.status != ExtensionRequest.Status.PENDING:
        raise Conflict("该延期申请已处理", "this extension request has been decided", rule="extension.decided")
    if not approve:
        reason = require_reason(reason)
    if approve and sub.extension_days + request.days > max_extension_days():
        raise Conflict(f"超过法定延长上限 {max_extension_days()} 个工作日", "the legal cap on extensions would be exceeded",
                       rule="extension.cap")
    before = snapshot(sub)
    request.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REJECTED
    request.decided_by, request.decided_at, request.decision_reason = actor, timezone.now(), reason
    request.save()
    if approve and sub.is_open:
        sub.extension_days += request.days
        _ledger(sub, DeadlineEntry.Kind.EXTENSION, on, days=request.days, reason=request.reason, actor=actor)
        sub.revision += 1
        sub.save()
        issue_notice(sub.case, "extension", subcase=sub, title="延长办理期限告知书", issuer=sub.department.name, on=on,
                     actor=actor, paragraphs=[f"{sub.case.applicant_name}：",
                                              f"办件 {sub.case.number} 中的“{sub.item_version.name}”因{clause(request.reason)}，"
                                              f"经批准延长 {request.days} 个工作日，法定办结日期调整为 {sub.statutory_due:%Y年%m月%d日}。"])
        tell(sub.case, "extension", f"“{sub.item_version.name}”办理期限延长 {request.days} 个工作日。")
    trail("extension_" + request.status, sub.case, subcase=sub, actor=actor, reason=reason or request.reason,
          before=before, after={**snapshot(sub), "days": request.days})
    return request


@service
def end_special_procedure(*, subcase: SubCase, actor, reason: str, on: date | None = None) -> SubCase:
    """The special procedure is over: the clock runs again and the days it took move the due dates."""
    on = today(on)
    sub = lock_subcase(subcase)
    if sub.status != SubCase.Status.ACTIVE or sub.hold != SubCase.Hold.SPECIAL:
        _require_officer(sub, actor, None)  # outsiders still get 404, before the state is told
        raise Conflict("该事项不在特别程序中", "the item is not in a special procedure", rule="subcase.not_special")
    _require_officer(sub, actor, sub.workflow.step(sub.step) if sub.step else None)
    reason = require_reason(reason)
    before = snapshot(sub)
    days = _resume(sub, on, reason, actor)
    sub.revision += 1
    sub.save()
    trail("special_ended", sub.case, subcase=sub, actor=actor, reason=reason, before=before,
          after={**snapshot(sub), "paused_workdays": days})
    return sub


@service
def supply_correction(*, case: Case, actor, on: date | None = None) -> list[SubCase]:
    """The applicant answers a correction request (补正): every defective material must have been
    replaced; the held items resume with the same officer and their due dates move by the pause."""
    on = today(on)
    case = lock_case(case)
    require_case(actor, case, CaseAction.SUPPLY)
    held = lock_subcases(case, hold=SubCase.Hold.CORRECTION)
    if not held:
        raise Conflict("没有待补正的事项", "no item is waiting for a correction", rule="correction.none")
    defective = [m for m in case.materials.filter(status=CaseMaterial.Status.DEFECTIVE)]
    if defective:
        raise InvalidInput([Problem(f"materials.{m.code}", "material.defective", f"请先补正：{m.name}（{m.defect}）",
                                    f"replace the defective material {m.code} first") for m in defective])
    resumed = []
    for sub in held:
        if sub.is_remote:  # the handling node's clock: the files go back to it
            from .remote import send_correction

            send_correction(case, sub, actor=actor)
            resumed.append(sub)
            continue
        before = snapshot(sub)
        days = _resume(sub, on, "申请人已补正", actor)
        sub.revision += 1
        sub.save()
        trail("correction_supplied", case, subcase=sub, actor=actor, before=before,
              after={**snapshot(sub), "paused_workdays": days})
        resumed.append(sub)
    return resumed


@service
def supply_minor_material(*, case: Case, material_code: str, actor, on: date | None = None) -> CaseMaterial:
    """A 容缺 material arrives after acceptance (its file was attached): items held for it resume."""
    on = today(on)
    case = lock_case(case)
    require_case(actor, case, CaseAction.SUPPLY)
    minor_held = lock_subcases(case, hold=SubCase.Hold.MINOR)
    row = (case.materials.select_for_update(of=("self",))
           .filter(code=material_code, status=CaseMaterial.Status.PENDING).first())
    if row is None:
        raise InvalidInput(Problem("material", "minor.not_pending", "该材料不是待补齐的容缺材料",
                                   "this material is not pending"))
    if not row.files.filter(removed_at__isnull=True).exists():
        raise InvalidInput(Problem("file", "required", "请先上传该材料", "attach the material's file first"))
    row.status, row.promised_by = CaseMaterial.Status.PROVIDED, None
    row.save()
    for sub in minor_held:
        if not _pending_minor(sub):
            before = snapshot(sub)
            _resume(sub, on, f"容缺材料已补齐：{row.name}", actor)
            sub.revision += 1
            sub.save()
            trail("minor_supplied", case, subcase=sub, actor=actor, before=before, after=snapshot(sub))
    trail("minor_material_supplied", case, actor=actor, after={"material": row.code})
    return row


def stop_for_missing_minor(sub: SubCase, row: CaseMaterial, on: date) -> None:
    """容缺 promise broken: the item stops (终止) and its dependants are cancelled."""
    sub = lock_subcase(sub)  # the case first, then the sub-case
    if not sub.is_open:
        return
    case = sub.case
    before = snapshot(sub)
    reason = f"容缺材料“{row.name}”未在承诺期限（{row.promised_by}）内补齐"
    _finish(sub, SubCase.Status.STOPPED, on, reason)
    sub.revision += 1
    sub.save()
    issue_notice(case, "cancellation", subcase=sub, title="终止办理告知书", issuer=sub.department.name, on=on,
                 paragraphs=[f"{case.applicant_name}：", f"办件 {case.number} 中的“{sub.item_version.name}”因{reason}，依法终止办理。"])
    tell(case, "stopped", f"“{sub.item_version.name}”终止办理：{reason}")
    trail("subcase_stopped", case, subcase=sub, reason=reason, before=before, after=snapshot(sub))
    _cancel_dependants(case, sub, on, None)
    after_change(lock_case(case), on, None)


stop_for_missing_minor_service = service(stop_for_missing_minor)


# --- withdrawal -------------------------------------------------------------------------------------------


@service
def withdraw_item(*, subcase: SubCase, actor, reason: str, on: date | None = None) -> SubCase:
    """The applicant withdraws one item: it and the items that need its result stop; the rest go on."""
    on = today(on)
    sub = lock_subcase(subcase)  # the case first, then the sub-case
    case = sub.case
    require_subcase(actor, sub, SubcaseAction.WITHDRAW)
    if not sub.is_open:
        raise Conflict("该事项已办结，不能撤回", "the item is already finished", rule="subcase.finished")
    reason = require_reason(reason)
    before = snapshot(sub)
    _finish(sub, SubCase.Status.WITHDRAWN, on, reason)
    sub.revision += 1
    sub.save()
    if sub.is_remote and sub.collab_id:  # the handling node stops too
        from .remote import send_withdrawal

        send_withdrawal(sub, reason=reason)
    trail("subcase_withdrawn", case, subcase=sub, actor=actor, reason=reason, before=before, after=snapshot(sub))
    _cancel_dependants(case, sub, on, actor)
    if case.status == Case.Status.ACCEPTED:
        after_change(case, on, actor)
    return sub


@service
def withdraw_case(*, case: Case, actor, reason: str, on: date | None = None) -> Case:
    """The applicant withdraws the whole case: every item not yet decided stops; decided ones keep
    their results (a decision already made is not undone by a withdrawal)."""
    on = today(on)
    case = lock_case(case)
    require_case(actor, case, CaseAction.WITHDRAW)
    if case.status in (Case.Status.DELIVERED, Case.Status.REFUSED, Case.Status.WITHDRAWN):
        raise Conflict("该办件已结束，不能撤回", "the case is already closed", rule="case.closed")
    reason = require_reason(reason)
    before = snapshot(case)
    for sub in lock_subcases(case, status__in=SubCase.OPEN):
        _finish(sub, SubCase.Status.WITHDRAWN, on, reason)
        sub.revision += 1
        sub.save()
        if sub.is_remote and sub.collab_id:  # the handling node stops too
            from .remote import send_withdrawal

            send_withdrawal(sub, reason=reason)
    case.status, case.closed_at = Case.Status.WITHDRAWN, timezone.now()
    case.save(update_fields=["status", "closed_at", "updated_at"])
    if before["status"] != Case.Status.DRAFT:
        issue_notice(case, "withdrawal", title="撤回申请确认书", issuer=f"{case.intake_region.name}政务服务中心", on=on,
                     actor=actor, paragraphs=[f"{case.applicant_name}：",
                                              f"你（单位）于 {on:%Y年%m月%d日} 撤回办件 {case.number}（{case.title}）。理由：{sentence(reason)}"])
    trail("withdrawn", case, actor=actor, reason=reason, before=before, after=snapshot(case))
    return case

