"""Data-sharing grants as objects of the access layer (tongban.core.access).

A grant is seen by staff of its consumer department and of the owner department of its resource;
anyone else gets 404 (`ExchangeNotFound`, with the exchange's own problem text). Deciding a requested
grant is for officers or administrators of the owner department; revoking (or giving it up) for those
of the owner or the consumer department; both answer 403 (`Forbidden`, rule `actor.not_authorised`)
to the other staff who see it.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q, QuerySet

from tongban.accounts.roles import Role
from tongban.core import access
from tongban.core.access import register, register_action
from tongban.core.errors import NotFound, Problem

from .errors import Forbidden
from .models import Grant
from .selectors import ExchangeNotFound

GRANT_ROLES = (Role.OFFICER, Role.ADMINISTRATOR)


class GrantAction(StrEnum):
    READ = "read"
    DECIDE = "decide"  # approve or deny a requested grant
    REVOKE = "revoke"  # the owner revokes, the consumer gives it up


def require_grant_role(actor, department_id: int, *, side_zh: str, side_en: str) -> str:
    """The role (officer or administrator) in which the actor acts for `department_id`, else 403."""
    role = next((str(r) for r in GRANT_ROLES if actor is not None and actor.has_role(r)), "")
    if getattr(actor, "kind", "") != "staff" or actor.department_id != department_id or not role:
        raise Forbidden(Problem("actor", "actor.not_authorised",
                                f"只有{side_zh}的审批人员或管理员可以办理此操作",
                                f"only an officer or administrator of the {side_en} may do this"))
    return role


@register("exchange-grant", Grant)
def grant_scope(user, qs: QuerySet) -> QuerySet:
    if getattr(user, "kind", "") != "staff" or not user.department_id:
        return qs.none()
    return qs.filter(Q(consumer_id=user.department_id) | Q(resource__owner_id=user.department_id))


@register_action("exchange-grant", GrantAction.READ)
def _may_read(user, grant: Grant) -> None:
    """Seeing it is reading it."""


@register_action("exchange-grant", GrantAction.DECIDE)
def _decider_role(user, grant: Grant) -> str:
    return require_grant_role(user, grant.resource.owner_id, side_zh="提供部门", side_en="owner department")


@register_action("exchange-grant", GrantAction.REVOKE)
def _revoker_role(user, grant: Grant) -> str:
    side = grant.resource.owner_id if user.department_id == grant.resource.owner_id else grant.consumer_id
    return require_grant_role(user, side, side_zh="提供部门或使用部门", side_en="owner or consumer department")


def access_grant_for(user, grant_id: int, *, to: GrantAction = GrantAction.READ) -> Grant:
    try:
        return access.access_for(user, "exchange-grant", to, Grant.objects.select_related("resource__owner", "consumer"),
                                 pk=grant_id)
    except NotFound:
        raise ExchangeNotFound(Problem("grant", "grant.unknown", f"共享授权 {grant_id} 不存在或无权访问",
                                       f"grant {grant_id} does not exist or you may not see it")) from None


def grant_role_for(user, grant: Grant, to: GrantAction) -> str:
    """The role in which `user` may do `to` on a grant just fetched through `access_grant_for`."""
    return access.check(user, "exchange-grant", to, grant)
