"""Who sees which case objects (registered with tongban.core.access; see that module).

- Applicants: cases they own or filed, cases of enterprises they represent or hold a valid mandate for.
- Officers: cases with an item of their department (and those items).
- Window clerks: cases received at their hall, and online submissions to their region.
- Supervisors, auditors, administrators: cases handled or received in their region or below.
A cross-region case is thus visible to both regions' roles, each for their part.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tongban.core.access import register
from tongban.regions.models import Region

from .models import Case, ExtensionRequest, MaterialFile, Notice, SubCase, SupervisionNotice

REGIONAL_ROLES = ("supervisor", "auditor", "administrator")


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


def _enterprise_ids(user) -> list[int]:
    from tongban.accounts.models import Enterprise
    from tongban.accounts.selectors import valid_mandates

    own = list(Enterprise.objects.filter(legal_representative=user).values_list("pk", flat=True))
    return own + list(valid_mandates(user).values_list("principal_id", flat=True))


def case_filter(user) -> Q:
    if user.kind != "staff":
        q = Q(applicant_user=user) | Q(filed_by=user)
        if user.id_number:
            q |= Q(applicant_kind=Case.ApplicantKind.PERSON, applicant_code=user.id_number)
        enterprises = _enterprise_ids(user)
        if enterprises:
            q |= Q(enterprise_id__in=enterprises)
        return q
    q = Q(pk__in=[])
    if user.department_id and (user.has_role("officer") or user.has_role("supervisor")):
        q |= Q(pk__in=SubCase.objects.filter(department_id=user.department_id).values("case_id"))
    if user.has_role("clerk") and user.region_id:
        q |= Q(intake_hall_id=user.hall_id) if user.hall_id else Q(pk__in=[])
        q |= Q(intake_region_id=user.region_id, intake_hall__isnull=True) & ~Q(status=Case.Status.DRAFT)
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
    if user.kind != "staff":
        return qs.filter(case__in=Case.objects.filter(case_filter(user)))
    q = Q(pk__in=[])
    if user.department_id:
        q |= Q(department_id=user.department_id)
    if user.has_role("clerk"):
        q |= Q(case__in=Case.objects.filter(case_filter(user)))
    if any(user.has_role(r) for r in REGIONAL_ROLES) and user.region_id:
        q |= Q(department__region_id__in=region_subtree(user.region_id))
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
    if user.kind != "staff":
        return qs.none()
    q = Q(subcase__department_id=user.department_id) if user.department_id else Q(pk__in=[])
    if user.has_role("supervisor") and user.region_id:
        q |= Q(subcase__department__region_id__in=region_subtree(user.region_id))
    return qs.filter(q)


@register("supervision-notice", SupervisionNotice)
def supervision_scope(user, qs: QuerySet) -> QuerySet:
    if user.kind != "staff":
        return qs.none()
    q = Q(department_id=user.department_id) if user.department_id else Q(pk__in=[])
    if any(user.has_role(r) for r in REGIONAL_ROLES) and user.region_id:
        q |= Q(department__region_id__in=region_subtree(user.region_id))
    return qs.filter(q)
