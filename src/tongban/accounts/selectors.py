"""Read side of identity: which parties a user may act as, and the mandate checks.

A *party* is who an applicant acts as: themselves as a natural person (自然人), or an enterprise
(法人) they legally represent or hold a valid mandate (委托代办) for. Every check reads the database
(no caching) so a revocation takes effect on the agent's very next request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from tongban.core.codes import mask
from tongban.core.errors import InvalidInput, Problem

from .models import Enterprise, Mandate, User


@dataclass(frozen=True)
class Party:
    """Who an applicant acts as. `code` is the ID number (person) or the USCC (enterprise)."""

    kind: str  # "person" | "enterprise"
    code: str
    name: str
    enterprise: Enterprise | None = None
    mandate: Mandate | None = None

    @property
    def key(self) -> str:
        """Stable identifier for sessions and forms: "person" or "enterprise:<uscc>"."""
        return "person" if self.kind == "person" else f"enterprise:{self.code}"

    @property
    def masked_code(self) -> str:
        return mask(self.code) if self.kind == "person" else self.code

    def claim(self) -> dict:
        """The OIDC `acting_as` claim: personal numbers masked."""
        return {"kind": self.kind, "code": self.masked_code, "name": self.name}


def _day(on) -> dt.date:
    if on is None:
        return timezone.localdate()
    if isinstance(on, dt.datetime):
        return timezone.localtime(on).date() if timezone.is_aware(on) else on.date()
    return on


def person_party(user: User) -> Party:
    return Party(kind="person", code=user.id_number, name=user.real_name or user.get_username())


def enterprise_party(enterprise: Enterprise, mandate: Mandate | None = None) -> Party:
    return Party(kind="enterprise", code=enterprise.uscc, name=enterprise.name, enterprise=enterprise, mandate=mandate)


def valid_mandates(user: User, on=None, enterprise: Enterprise | None = None):
    """The user's mandates in force on `on` (a date or datetime; default today), newest first."""
    day = _day(on)
    qs = Mandate.objects.filter(agent=user, revoked_at__isnull=True, valid_from__lte=day, valid_until__gte=day)
    if enterprise is not None:
        qs = qs.filter(principal=enterprise)
    return qs.select_related("principal")


def _is_applicant(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active
                and user.kind == User.Kind.PERSON)


def parties_for(user, on=None) -> list[Party]:
    """The parties `user` may act as: themselves, then each enterprise they represent or hold a mandate for.

    Staff and system users act for no applicant party: the list is empty. An enterprise appears once:
    legal representation wins over mandates, otherwise the newest valid mandate is attached.
    """
    if not _is_applicant(user):
        return []
    parties = [person_party(user)]
    seen: set[int] = set()
    for enterprise in Enterprise.objects.filter(legal_representative=user).order_by("uscc"):
        seen.add(enterprise.pk)
        parties.append(enterprise_party(enterprise))
    for mandate in valid_mandates(user, on).order_by("principal__uscc", "-granted_at", "-id"):
        if mandate.principal_id not in seen:
            seen.add(mandate.principal_id)
            parties.append(enterprise_party(mandate.principal, mandate))
    return parties


def may_act_for(user, enterprise: Enterprise, item_basic_code: str | None = None, on=None) -> bool:
    """True if `user` is the enterprise's legal representative or holds a mandate valid on `on`
    covering `item_basic_code` (any item when None)."""
    if not _is_applicant(user) or enterprise is None:
        return False
    if enterprise.legal_representative_id == user.pk:
        return True
    return any(m.covers(item_basic_code) for m in valid_mandates(user, on, enterprise))


def require_acting_for(user, enterprise: Enterprise, item_basic_codes: list[str], on=None) -> Mandate | None:
    """Check that `user` may act for `enterprise` on every item in `item_basic_codes`.

    Returns the mandate that authorises it (one mandate must cover all items, so every record can cite
    its authority), or None for the legal representative. Raises InvalidInput with field "acting_as" and
    rule "mandate.none" (no mandate at all), "mandate.revoked", "mandate.expired", "mandate.not_yet_valid"
    or "mandate.scope" (valid mandates exist but none covers the items; the missing codes are named).
    """
    name = enterprise.name if enterprise is not None else ""
    if not _is_applicant(user) or enterprise is None:
        raise InvalidInput(Problem("acting_as", "mandate.none", f"您无权代表企业 {name} 办理",
                                   f"you may not act for the enterprise {name}"))
    if enterprise.legal_representative_id == user.pk:
        return None
    codes = list(dict.fromkeys(item_basic_codes or []))
    valid = list(valid_mandates(user, on, enterprise))
    if valid:
        for mandate in valid:
            if all(mandate.covers(c) for c in codes):
                return mandate
        covered = {c for m in valid for c in codes if m.covers(c)}
        best = max(valid, key=lambda m: sum(m.covers(c) for c in codes))
        missing = [c for c in codes if not best.covers(c)]
        if len(covered) == len(codes):
            zh = f"没有一份委托同时涵盖全部事项；最接近的委托未涵盖：{'、'.join(missing)}"
            en = f"no single mandate covers all items; the closest one does not cover: {', '.join(missing)}"
        else:
            gaps = [c for c in codes if c not in covered]
            zh = f"您持有的企业 {name} 的委托不涵盖事项：{'、'.join(gaps)}"
            en = f"your mandate for {name} does not cover the items: {', '.join(gaps)}"
        raise InvalidInput(Problem("acting_as", "mandate.scope", zh, en))
    day = _day(on)
    last = Mandate.objects.filter(agent=user, principal=enterprise).order_by("-granted_at", "-id").first()
    if last is None:
        raise InvalidInput(Problem("acting_as", "mandate.none", f"您没有企业 {name} 的委托代办授权",
                                   f"you hold no mandate (委托代办) from {name}"))
    if last.revoked_at is not None:
        raise InvalidInput(Problem("acting_as", "mandate.revoked", f"企业 {name} 对您的委托已被撤销",
                                   f"your mandate from {name} has been revoked"))
    if last.valid_until < day:
        raise InvalidInput(Problem("acting_as", "mandate.expired",
                                   f"企业 {name} 对您的委托已于 {last.valid_until:%Y-%m-%d} 到期",
                                   f"your mandate from {name} expired on {last.valid_until:%Y-%m-%d}"))
    raise InvalidInput(Problem("acting_as", "mandate.not_yet_valid",
                               f"企业 {name} 对您的委托自 {last.valid_from:%Y-%m-%d} 起生效",
                               f"your mandate from {name} takes effect on {last.valid_from:%Y-%m-%d}"))


def party_for_key(user, key: str, on=None) -> Party | None:
    """The party named by `key` ("person" or "enterprise:<uscc>") if `user` may act as it now."""
    for party in parties_for(user, on):
        if party.key == key:
            return party
    return None


def mandates_visible_to(user):
    """Mandates a user can see: those they hold, granted, or of enterprises they represent."""
    return (Mandate.objects.filter(Q(agent=user) | Q(granted_by=user) | Q(principal__legal_representative=user))
            .select_related("principal", "agent", "granted_by", "parent").distinct())


def subtree_ids(mandate: Mandate) -> list[int]:
    """Ids of `mandate` and all its sub-delegations (breadth first)."""
    ids, frontier = [mandate.pk], [mandate.pk]
    while frontier:
        frontier = list(Mandate.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids
