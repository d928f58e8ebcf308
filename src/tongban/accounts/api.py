"""Who am I and whom do I act as: `GET /api/v1/me`, `PUT /api/v1/me/acting-as`, and the mandates.

Mounted by the API with `api.add_router("/me", router)`.
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status
from ninja.errors import AuthenticationError

from tongban.api.auth import SessionUser, api_auth
from tongban.core.errors import InvalidInput, Problem

from .access import MandateAction, access_mandate_for
from .masking import masked_for
from .middleware import SESSION_KEY, resolve_acting_as
from .models import Enterprise, Mandate, User
from .selectors import mandates_visible_to, parties_for, party_for_key
from .services import grant_mandate, revoke_mandate

router = Router(tags=["identity"])


class PartyOut(Schema):
    key: str
    kind: str
    code: str
    name: str
    mandate_id: int | None = None
    mandate_valid_until: dt.date | None = None


class MeOut(Schema):
    username: str
    kind: str
    name: str
    id_number: str
    region: str | None
    department: str | None
    roles: list[str]
    scopes: list[str]
    acting_as: PartyOut | None
    parties: list[PartyOut]


class ActingAsIn(Schema):
    party: str


class MandateIn(Schema):
    principal: str
    agent: str
    all_items: bool = False
    item_codes: list[str] = []
    valid_from: dt.date | None = None
    valid_until: dt.date
    allow_subdelegation: bool = False
    parent_id: int | None = None


class MandateOut(Schema):
    id: int
    principal: str
    principal_name: str
    agent: str
    all_items: bool
    item_codes: list[str]
    valid_from: dt.date
    valid_until: dt.date
    allow_subdelegation: bool
    parent_id: int | None
    revoked_at: dt.datetime | None


class RevokeIn(Schema):
    reason: str = ""


class RevokedOut(Schema):
    revoked: list[int]


def _party_out(party, viewer) -> dict:
    return {"key": party.key, "kind": party.kind, "name": party.name,
            "code": masked_for(viewer, party.code) if party.kind == "person" else party.code,
            "mandate_id": party.mandate.pk if party.mandate else None,
            "mandate_valid_until": party.mandate.valid_until if party.mandate else None}


def _me(request) -> dict:
    user = request.user
    acting = getattr(request, "acting_as", None)
    if acting is None and user.kind == User.Kind.PERSON:
        acting = resolve_acting_as(request)
    return {"username": user.get_username(), "kind": user.kind, "name": user.real_name or user.get_username(),
            "id_number": masked_for(user, user.id_number), "region": user.region_id,
            "department": user.department.name if user.department_id else None,
            "roles": sorted(user.role_codes()), "scopes": sorted(getattr(request, "oauth_scopes", set())),
            "acting_as": _party_out(acting, user) if acting else None,
            "parties": [_party_out(p, user) for p in parties_for(user)]}


@router.get("", response=MeOut, auth=api_auth, summary="当前用户与办理身份 / current user and acting-as party")
def me(request):
    return _me(request)


@router.put("/acting-as", response=MeOut, auth=SessionUser(),
            summary="切换办理身份 / choose the acting-as party")
def set_acting_as(request, payload: ActingAsIn):
    if not hasattr(request, "session"):
        raise AuthenticationError()
    party = party_for_key(request.user, payload.party.strip())
    if party is None:
        raise InvalidInput(Problem("party", "mandate.none",
                                   f"您不能以 {payload.party} 的身份办理（不是本人、法定代表人或有效委托的受托人）",
                                   f"you may not act as {payload.party} (not yourself, not legal representative, "
                                   "no valid mandate)"))
    request.session[SESSION_KEY] = party.key
    request.acting_as = party
    return _me(request)


def _mandate_out(m: Mandate) -> dict:
    return {"id": m.pk, "principal": m.principal.uscc, "principal_name": m.principal.name,
            "agent": m.agent.get_username(), "all_items": m.all_items, "item_codes": list(m.item_codes),
            "valid_from": m.valid_from, "valid_until": m.valid_until, "allow_subdelegation": m.allow_subdelegation,
            "parent_id": m.parent_id, "revoked_at": m.revoked_at}


@router.get("/mandates", response=list[MandateOut], auth=SessionUser(),
            summary="我持有、授出或本企业的委托 / mandates I hold, granted, or of my enterprises")
def mandates(request):
    return [_mandate_out(m) for m in mandates_visible_to(request.user)]


@router.post("/mandates", response={201: MandateOut}, auth=SessionUser(), summary="委托代办 / grant a mandate")
def create_mandate(request, payload: MandateIn):
    principal = Enterprise.objects.filter(uscc=payload.principal.strip().upper()).first()
    agent = (User.objects.filter(username=payload.agent.strip()).first()
             or User.objects.filter(id_number=payload.agent.strip().upper()).exclude(id_number="").first())
    problems = []
    if principal is None:
        problems.append(Problem("principal", "exists", "未找到该统一社会信用代码的企业",
                                "no enterprise with that unified social credit code"))
    if agent is None:
        problems.append(Problem("agent", "exists", "未找到该受托人（用户名或身份证号码）",
                                "no user with that username or ID number"))
    if problems:
        raise InvalidInput(problems)
    parent = None
    if payload.parent_id is not None:
        parent = Mandate.objects.filter(pk=payload.parent_id, agent=request.user).first()
        if parent is None:
            raise InvalidInput(Problem("parent_id", "exists", "未找到您持有的该委托", "you hold no such mandate"))
    mandate = grant_mandate(granted_by=request.user, principal=principal, agent=agent, item_codes=payload.item_codes,
                            all_items=payload.all_items, valid_from=payload.valid_from,
                            valid_until=payload.valid_until, allow_subdelegation=payload.allow_subdelegation,
                            parent=parent)
    return Status(201, _mandate_out(mandate))


@router.post("/mandates/{mandate_id}/revoke", response=RevokedOut, auth=SessionUser(),
             summary="撤销委托（含转委托） / revoke a mandate and its sub-delegations")
def revoke(request, mandate_id: int, payload: RevokeIn):
    mandate = access_mandate_for(request.user, mandate_id, to=MandateAction.REVOKE)
    return {"revoked": revoke_mandate(mandate=mandate, revoked_by=request.user, reason=payload.reason)}
