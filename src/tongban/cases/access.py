"""Who sees which case objects, and who may do what to them (registered with tongban.core.access).

Reads (scopes):
- Applicants: their own person cases; cases of enterprises they legally represent; an enterprise's
  case while they hold a mandate valid today that covers every item of the case (委托代办: scope is
  checked against the case's item basic codes). A revoked, expired or out-of-scope agent sees nothing
  of the case, not even files they uploaded themselves.
- Officers and supervisors with a department: cases with an item of their department (and those items).
- Department systems (bearer tokens, user kind "system"): exactly what an officer of their department reads.
- Window clerks: cases received at their hall, and online submissions to their region.
- Supervisors, auditors, administrators: cases handled or received in their region or below.
A cross-region case is thus visible to both regions' roles, each for their part.

Writes: one check per action, below (`CaseAction`, `SubcaseAction`, ...); `access_<kind>_for` is what
handlers, consoles and the portal call, `require_<kind>` what services call on the rows they lock.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.accounts.roles import REGIONAL_ROLES, Role
from tongban.core import access
from tongban.core.access import register, register_action
from tongban.core.errors import Conflict, Forbidden
from tongban.regions.models import Department, Region

from .models import Case, ExtensionRequest, MaterialFile, Notice, SubCase, SupervisionNotice

STAFF, PERSON, SYSTEM_USER = "staff", "person", "system"


class CaseAction(StrEnum):
    READ = "read"
    READ_TRAIL = "read-trail"          # 全过程留痕: staff who see the case
    EDIT = "edit"                      # form, files, licences, commitments, promises, submit (draft/correction)
    SUPPLY = "supply"                  # correction supplied, 容缺 material supplied
    CHOOSE_DELIVERY = "choose-delivery"
    WITHDRAW = "withdraw"              # the applicant's act only
    ACCEPT = "accept"                  # the completeness check at the window: accept,
    NOTIFY_DEFECTS = "notify-defects"  # one-time notice,
    REFUSE = "refuse"                  # refusal,
    DELIVER = "deliver"                # and handing the results over
    FETCH_SHARED = "fetch-shared"      # an officer queries a register for a `data` material


class SubcaseAction(StrEnum):
    READ = "read"
    HANDLE = "handle"        # claim, workflow actions, end of a special procedure (role by step)
    WITHDRAW = "withdraw"    # the applicant withdraws one item
    SUPERVISE = "supervise"  # 督办 about this item


class FileAction(StrEnum):
    READ = "read"
    REMOVE = "remove"


class NoticeAction(StrEnum):
    READ = "read"


class ExtensionAction(StrEnum):
    DECIDE = "decide"


class SupervisionAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"


class DepartmentAction(StrEnum):
    SUPERVISE = "supervise"


# --- scopes --------------------------------------------------------------------------------------------------


def region_subtree(code: str | None) -> list[str]:
    if not code:
        return []
    children: dict[str | None, list[str]] = {}
    for region_code, parent in Region.objects.values_list("code", "parent_id"):
        children.setdefault(parent, []).append(region_code)
    found, todo = [], [code]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _kind(user) -> str:
    return getattr(user, "kind", "")


def case_item_codes(case: Case) -> list[str]:
    return [i["basic_code"] for i in (case.plan or {}).get("items", [])]


def _mandated_cases(user) -> Q:
    """Enterprise cases a valid mandate (today) covers entirely: all items, or every item basic code."""
    from tongban.accounts.selectors import valid_mandates

    q = Q(pk__in=[])
    scoped: dict[int, list[set[str]]] = {}
    for mandate in valid_mandates(user, timezone.localdate()):
        if mandate.all_items:
            q |= Q(enterprise_id=mandate.principal_id)
        else:
            scoped.setdefault(mandate.principal_id, []).append(set(mandate.item_codes or []))
    if scoped:
        ids = [pk for pk, enterprise_id, items in Case.objects.filter(enterprise_id__in=scoped).values_list(
                   "pk", "enterprise_id", "plan__items")
               if any({i["basic_code"] for i in items or []} <= codes for codes in scoped[enterprise_id])]
        q |= Q(pk__in=ids)
    return q


def applicant_filter(user) -> Q:
    """The cases a person may see and act on as the applicant's side (申请人一方)."""
    q = Q(enterprise__isnull=True) & Q(applicant_user=user)
    if user.id_number:
        q |= Q(applicant_kind=Case.ApplicantKind.PERSON, applicant_code=user.id_number)
    return q | Q(enterprise__legal_representative=user) | _mandated_cases(user)


def clerk_filter(user) -> Q:
    """The cases a window clerk reads and works on: received at their hall, or submitted online to their region."""
    if not (user.has_role(Role.CLERK) and user.region_id):
        return Q(pk__in=[])
    q = Q(intake_hall_id=user.hall_id) if user.hall_id else Q(pk__in=[])
    return q | (Q(intake_region_id=user.region_id, intake_hall__isnull=True) & ~Q(status=Case.Status.DRAFT))


def _department_cases(department_id: int | None) -> Q:
    if not department_id:
        return Q(pk__in=[])
    return Q(pk__in=SubCase.objects.filter(department_id=department_id).values("case_id"))


def case_filter(user) -> Q:
    if _kind(user) == SYSTEM_USER:
        return _department_cases(user.department_id)  # a department's system reads like its officers
    if _kind(user) != STAFF:
        return applicant_filter(user)
    q = Q(pk__in=[])
    if user.has_role(Role.OFFICER) or user.has_role(Role.SUPERVISOR):
        q |= _department_cases(user.department_id)
    q |= clerk_filter(user)
    if any(user.has_role(r) for r in REGIONAL_ROLES) and user.region_id:
        regions = region_subtree(user.region_id)
        q |= Q(region_id__in=regions) | Q(intake_region_id__in=regions)
    if user.is_superuser:
        q = Q()
    return q


@register("case", Case)
def case_scope(user, qs: QuerySet) -> QuerySet:
    return qs.filter(case_filter(user))


@register("subcase", SubCase)
def subcase_scope(user, qs: QuerySet) -> QuerySet:
    if _kind(user) == SYSTEM_USER:
        return qs.filter(department_id=user.department_id) if user.department_id else qs.none()
    if _kind(user) != STAFF:
        return qs.filter(case__in=Case.objects.filter(case_filter(user)))
    q = Q(pk__in=[])
    if user.department_id:
        q |= Q(department_id=user.department_id)
    if user.has_role(Role.CLERK):
        q |= Q(case__in=Case.objects.filter(case_filter(user)))
    if any(user.has_role(r) for r in REGIONAL_ROLES) and user.region_id:
        regions = region_subtree(user.region_id)
        # a remote sub-case (handled by a peer node) belongs to the region of the case that accepted it
        q |= Q(department__region_id__in=regions) | Q(department__isnull=True, case__region_id__in=regions)
    if user.is_superuser:
        q = Q()
    return qs.filter(q)


@register("material-file", MaterialFile)
def material_file_scope(user, qs: QuerySet) -> QuerySet:
    return qs.filter(removed_at__isnull=True, material__case__in=Case.objects.filter(case_filter(user)))


@register("notice", Notice)
def notice_scope(user, qs: QuerySet) -> QuerySet:
    return qs.filter(case__in=Case.objects.filter(case_filter(user)))


@register("extension-request", ExtensionRequest)
def extension_scope(user, qs: QuerySet) -> QuerySet:
    if _kind(user) != STAFF:
        return qs.none()
    q = Q(subcase__department_id=user.department_id) if user.department_id else Q(pk__in=[])
    if user.has_role(Role.SUPERVISOR) and user.region_id:
        q |= Q(subcase__department__region_id__in=region_subtree(user.region_id))
    return qs.filter(q)


@register("supervision-notice", SupervisionNotice)
def supervision_scope(user, qs: QuerySet) -> QuerySet:
    if _kind(user) != STAFF:
        return qs.none()
    q = Q(department_id=user.department_id) if user.department_id else Q(pk__in=[])
    if any(user.has_role(r) for r in REGIONAL_ROLES) and user.region_id:
        q |= Q(department__region_id__in=region_subtree(user.region_id))
    return qs.filter(q)


@register("department", Department)
def department_scope(user, qs: QuerySet) -> QuerySet:
    """Departments as objects of staff work (督办): one's own, and a regional role's region and below."""
    if _kind(user) != STAFF:
        return qs.none()
    q = Q(pk=user.department_id) if user.department_id else Q(pk__in=[])
    if any(user.has_role(r) for r in REGIONAL_ROLES) and user.region_id:
        q |= Q(region_id__in=region_subtree(user.region_id))
    return qs.filter(q)


# --- who may do what: one predicate per action -----------------------------------------------------------------


def _forbid(what_zh: str, what_en: str, rule: str) -> Forbidden:
    return Forbidden(f"您无权{what_zh}", f"you may not {what_en}", rule=rule)


def _applicant_side_of_visible(user) -> bool:
    """For a case the user already sees (every check runs after the scope: `access_for`, `require`):
    a person's read scope is exactly the applicant side, so no second query is needed."""
    return _kind(user) == PERSON and getattr(user, "is_active", False)


def is_window_clerk(user, case: Case) -> bool:
    """A comprehensive-window clerk whose clerk scope holds the case (the same rule as their reads)."""
    return (_kind(user) == STAFF and getattr(user, "is_active", False)
            and Case.objects.filter(pk=case.pk).filter(clerk_filter(user)).exists())


def _staff_of_region(user, region_code: str) -> bool:
    return _kind(user) == STAFF and bool(user.region_id) and region_code in region_subtree(user.region_id)


@register_action("case", CaseAction.READ)
@register_action("subcase", SubcaseAction.READ)
@register_action("material-file", FileAction.READ)
@register_action("notice", NoticeAction.READ)
def _may_read(user, obj) -> None:
    """Seeing it is reading it."""


@register_action("case", CaseAction.READ_TRAIL)
def _may_read_trail(user, case: Case) -> None:
    if _kind(user) != STAFF:
        raise _forbid("查看办件的全过程留痕", "read the case's trail", "access.case.trail")


@register_action("case", CaseAction.EDIT, CaseAction.SUPPLY, CaseAction.CHOOSE_DELIVERY)
def _may_file(user, case: Case) -> None:
    """The application is changed by the applicant's side or by a window clerk of the intake."""
    if not (_applicant_side_of_visible(user) or is_window_clerk(user, case)):
        raise _forbid("修改该申请（仅申请人一方或收件窗口可以办理）",
                      "change this application (the applicant's side or the intake window only)", "access.case.filer")


@register_action("case", CaseAction.WITHDRAW)
def _may_withdraw(user, case: Case) -> None:
    """Withdrawing a filed application is the applicant's act. A draft is not yet an application: the
    intake window that started it for a walk-in applicant may also discard it (the person left)."""
    if _applicant_side_of_visible(user):
        return
    if case.status == Case.Status.DRAFT and is_window_clerk(user, case):
        return
    raise _forbid("撤回该申请（撤回是申请人的行为；收件窗口只能撤销尚未提交的草稿）",
                  "withdraw this application (only the applicant may; the intake window may discard a draft)",
                  "access.case.applicant")


@register_action("case", CaseAction.ACCEPT, CaseAction.NOTIFY_DEFECTS, CaseAction.REFUSE, CaseAction.DELIVER)
def _may_work_the_window(user, case: Case) -> None:
    if not is_window_clerk(user, case):
        raise _forbid("办理该办件的收件或出件（仅收件地综合窗口）",
                      "do the window's work on this case (the intake window only)", "access.case.window")


HANDLED = (Case.Status.ACCEPTED,)


@register_action("case", CaseAction.FETCH_SHARED)
def _may_fetch_shared(user, case: Case) -> None:
    """An officer of a department handling an item of the case, while that item is being handled: a
    citizen's register data is not queried for a draft, refused, withdrawn or finished case."""
    if not (_kind(user) == STAFF and user.department_id and user.has_role(Role.OFFICER)
            and case.subcases.filter(department_id=user.department_id).exists()):
        raise _forbid("为该办件调取共享数据（仅承办部门的审批人员）",
                      "fetch shared data for this case (officers of a handling department only)",
                      "access.case.fetch")
    if case.status not in HANDLED or not case.subcases.filter(department_id=user.department_id,
                                                              status__in=SubCase.OPEN).exists():
        raise Conflict(f"办件当前状态为“{case.get_status_display()}”，本部门没有在办事项，不能调取共享数据",
                       f"the case is {case.status} with no item of your department being handled; "
                       "shared data is fetched only while the case is being handled", rule="fetch.not_handling")


@register_action("subcase", SubcaseAction.HANDLE)
def handling_role(user, sub: SubCase, step: dict | None = None) -> Role:
    """The role the user acts in at `step` (default: the current one): staff of the handling department
    with a role the step allows, or a supervisor of the department's region where the step allows it."""
    if step is None:
        # A finished item has no current step: whoever could act at some step of it (an officer of the
        # department, or a supervisor where steps allow one) is told the state, not refused a role.
        step = (sub.workflow.step(sub.step) if sub.step
                else {"roles": sorted({r for s in sub.workflow.steps() for r in s.get("roles", [])}), "name": ""})
    roles = {Role(r) for r in step.get("roles", [])}
    if _kind(user) == STAFF:
        if user.department_id == sub.department_id:
            for role in (Role.OFFICER, Role.SUPERVISOR):
                if role in roles and user.has_role(role):
                    return role
        if (Role.SUPERVISOR in roles and user.has_role(Role.SUPERVISOR)
                and _staff_of_region(user, sub.department.region_id)):
            return Role.SUPERVISOR
    raise Forbidden(f"“{step.get('name', '')}”环节须由以下角色办理：{'、'.join(str(r.label) for r in roles)}",
                    f"the step {step.get('code', '')} needs one of the roles {sorted(roles)}", rule="step.role")


@register_action("subcase", SubcaseAction.WITHDRAW)
def _may_withdraw_item(user, sub: SubCase) -> None:
    _may_withdraw(user, sub.case)


@register_action("subcase", SubcaseAction.SUPERVISE)
def _may_supervise_item(user, sub: SubCase) -> None:
    _may_supervise(user, sub.department)


@register_action("department", DepartmentAction.SUPERVISE)
def _may_supervise(user, department: Department) -> None:
    if not (user.has_role(Role.SUPERVISOR) and _staff_of_region(user, department.region_id)):
        raise _forbid("督办该部门（仅本区划的效能监督人员）", "supervise this department (supervisors of its region only)",
                      "access.department.supervise")


@register_action("material-file", FileAction.REMOVE)
def _may_remove_file(user, file: MaterialFile) -> None:
    _may_file(user, file.material.case)


@register_action("extension-request", ExtensionAction.DECIDE)
def _may_decide_extension(user, request: ExtensionRequest) -> None:
    if not (user.has_role(Role.SUPERVISOR) and _staff_of_region(user, request.subcase.department.region_id)):
        raise _forbid("审批延期申请（仅本区划的效能监督人员）", "decide this extension (supervisors of its region only)",
                      "access.extension.decide")


@register_action("supervision-notice", SupervisionAction.ACKNOWLEDGE)
def _may_acknowledge(user, notice: SupervisionNotice) -> None:
    if not (_kind(user) == STAFF and user.department_id == notice.department_id):
        raise _forbid("反馈该督办通知（仅被督办部门）", "answer this supervision notice (the department supervised only)",
                      "access.supervision.acknowledge")


# --- the entry points ----------------------------------------------------------------------------------------

_CASE_ROWS = ("region", "intake_region", "intake_hall", "enterprise", "bundle_version__bundle", "delivery_window__hall")


def access_case_for(user, number_or_pk: str | int, *, to: CaseAction = CaseAction.READ) -> Case:
    """The case by number (or primary key) on which `user` may do `to`: NotFound, Forbidden or Conflict."""
    lookup = {"pk": number_or_pk} if isinstance(number_or_pk, int) else {"number": number_or_pk}
    return access.access_for(user, "case", to, Case.objects.select_related(*_CASE_ROWS), **lookup)


def access_subcase_for(user, subcase_id: int, *, to: SubcaseAction = SubcaseAction.READ,
                       queryset: QuerySet | None = None) -> SubCase:
    qs = queryset if queryset is not None else SubCase.objects.select_related(
        "case", "item_version", "assignee", "department", "workflow")
    return access.access_for(user, "subcase", to, qs, pk=subcase_id)


def access_file_for(user, file_id: int, *, to: FileAction = FileAction.READ, case: Case | None = None) -> MaterialFile:
    lookup = {"material__case": case} if case is not None else {}
    return access.access_for(user, "material-file", to, MaterialFile.objects.select_related("material__case"),
                             pk=file_id, **lookup)


def access_notice_for(user, notice_id: int, *, to: NoticeAction = NoticeAction.READ) -> Notice:
    return access.access_for(user, "notice", to, pk=notice_id)


def access_extension_for(user, request_id: int, *, to: ExtensionAction) -> ExtensionRequest:
    return access.access_for(user, "extension-request", to,
                             ExtensionRequest.objects.select_related("subcase__department"), pk=request_id)


def access_supervision_for(user, notice_id: int, *, to: SupervisionAction) -> SupervisionNotice:
    return access.access_for(user, "supervision-notice", to, pk=notice_id)


def access_department_for(user, department_id: int, *, to: DepartmentAction) -> Department:
    return access.access_for(user, "department", to, pk=department_id)


def require_case(user, case: Case, to: CaseAction) -> None:
    access.require(user, "case", to, case)


def require_subcase(user, sub: SubCase, to: SubcaseAction, **context):
    return access.require(user, "subcase", to, sub, **context)
