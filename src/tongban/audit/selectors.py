"""Reads of the audit trail. Each returns a lazy QuerySet in id order (oldest first: within a
partition id order is seq order, and a case's entries share one partition), so callers can slice,
paginate by id (keyset) or reverse it; the indexes (object_type, object_id, id), (subject_code, id)
and (case_ref, id) serve these lookups."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEntry


def _base() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor").order_by("id")


def trail_for_object(object_type: str, object_id: str) -> QuerySet[AuditEntry]:
    """Everything recorded about one object (e.g. ("case", "42"))."""
    if not object_type or object_id in (None, ""):
        return AuditEntry.objects.none()
    return _base().filter(object_type=object_type, object_id=str(object_id))


def entries_about_subject(subject_code: str, action_prefix: str | None = None) -> QuerySet[AuditEntry]:
    """Entries concerning one person or enterprise (ID number or USCC): "who looked at my data".

    `action_prefix` narrows by action, e.g. "exchange." for data-sharing queries. A blank code
    returns nothing (never "all entries without a subject").
    """
    if not subject_code:
        return AuditEntry.objects.none()
    qs = _base().filter(subject_code=subject_code)
    if action_prefix:
        qs = qs.filter(action__startswith=action_prefix)
    return qs


def trail_for_case(case_ref: str) -> QuerySet[AuditEntry]:
    """Everything recorded under one case reference (the case and its sub-cases)."""
    if not case_ref:
        return AuditEntry.objects.none()
    return _base().filter(case_ref=case_ref)
