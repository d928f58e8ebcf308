"""Reads of the exchange: catalogue, grants, query logs (consumer side, owner side, subject side)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from tongban.core.errors import NotFound, Problem

from . import models


class ExchangeNotFound(NotFound):
    """NotFound with a bilingual, field-named problem (the API and CLI show it)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.line())


def resources() -> QuerySet[models.DataResource]:
    return (models.DataResource.objects.filter(active=True).select_related("owner__region")
            .prefetch_related(Prefetch("fields", queryset=models.ResourceField.objects.select_related("standard"))))


def get_resource(code: str) -> models.DataResource:
    resource = (models.DataResource.objects.filter(code=code, active=True).select_related("owner__region")
                .prefetch_related(Prefetch("fields", queryset=models.ResourceField.objects
                                           .select_related("standard")))
                .first())
    if resource is None:
        raise ExchangeNotFound(Problem("resource", "resource.unknown", f"数据资源 {code or '（空）'} 不存在或未启用",
                                       f"data resource {code or '(empty)'} does not exist or is not active"))
    return resource


def effective_grants(resource: models.DataResource, consumer_id: int | None,
                     at: datetime | None = None) -> QuerySet[models.Grant]:
    at = at or timezone.now()
    return models.Grant.objects.filter(resource=resource, consumer_id=consumer_id, status=models.Grant.Status.GRANTED,
                                       valid_from__lte=at, valid_until__gt=at)


def granted_field_ids(resource: models.DataResource, consumer_id: int | None,
                      at: datetime | None = None) -> dict[int, set[int]]:
    """Effective grants of `consumer` on `resource`: grant id -> granted field ids (one query)."""
    at = at or timezone.now()
    through = models.Grant.fields.through
    rows = through.objects.filter(grant__resource=resource, grant__consumer_id=consumer_id,
                                  grant__status=models.Grant.Status.GRANTED, grant__valid_from__lte=at,
                                  grant__valid_until__gt=at).values_list("grant_id", "resourcefield_id")
    out: dict[int, set[int]] = {}
    for grant_id, field_id in rows:
        out.setdefault(grant_id, set()).add(field_id)
    return out


def latest_grant(resource: models.DataResource, consumer_id: int | None) -> models.Grant | None:
    """The most recent grant of any status (to explain a refusal: expired, revoked, pending, denied)."""
    return models.Grant.objects.filter(resource=resource, consumer_id=consumer_id).order_by("-requested_at").first()


def grants_for_department(department_id: int, *, side: str = "both") -> QuerySet[models.Grant]:
    """Grants a department holds (consumer side), decides (owner side) or both."""
    q = Q()
    if side in ("consumer", "both"):
        q |= Q(consumer_id=department_id)
    if side in ("owner", "both"):
        q |= Q(resource__owner_id=department_id)
    return (models.Grant.objects.filter(q).select_related("resource__owner", "consumer")
            .prefetch_related("fields").order_by("-requested_at", "-id"))


def access_grant_by_staff(grant_id: int, user) -> models.Grant:
    """A grant the user's department holds or owns; anything else is NotFound (never says which).
    The rule lives in tongban.exchange.access (the "exchange-grant" kind)."""
    from .access import access_grant_for

    return access_grant_for(user, grant_id)


def _log_queryset() -> QuerySet[models.QueryLog]:
    return models.QueryLog.objects.select_related("resource", "owner", "consumer", "actor").prefetch_related(
        Prefetch("resource__fields", queryset=models.ResourceField.objects.only("id", "resource_id", "name", "label")))


def queries_about_subject(subject_code: str) -> QuerySet[models.QueryLog]:
    """Every query about one person (ID number) or company (USCC), newest first: who, when, why, which
    case, which fields, granted or refused (信息查询留痕，本人可查)."""
    return _log_queryset().filter(subject_code=(subject_code or "").strip().upper())


def subject_codes_of(user) -> list[str]:
    """The subjects a logged-in user may see the log of: their own ID number and the USCCs of the
    enterprises they are legal representative of."""
    codes = [user.id_number] if getattr(user, "id_number", "") else []
    codes += list(user.represented_enterprises.values_list("uscc", flat=True))
    return codes


def queries_about_user(user) -> QuerySet[models.QueryLog]:
    return _log_queryset().filter(subject_code__in=subject_codes_of(user))


def query_log_for_department(department_id: int, *, side: str = "both") -> QuerySet[models.QueryLog]:
    """Queries a department made (consumer side), served (owner side) or both."""
    q = Q()
    if side in ("consumer", "both"):
        q |= Q(consumer_id=department_id)
    if side in ("owner", "both"):
        q |= Q(owner_id=department_id)
    return _log_queryset().filter(q)


def field_labels(log: models.QueryLog) -> list[str]:
    """Labels of the fields a logged query asked for (falls back to the field name)."""
    labels = {f.name: f.label for f in log.resource.fields.all()} if log.resource_id else {}
    return [labels.get(name, name) for name in log.fields]
