"""Write side of identity: granting and revoking mandates (委托代办). Every change is audited.

Who may grant: the enterprise's legal representative (法定代表人), or the agent of a mandate that
allows sub-delegation (转委托), within that mandate's own scope and period. Who may revoke: the legal
representative (any mandate of the enterprise), the granter of a mandate, or an administrator.
Revoking a mandate revokes its sub-delegations with it, in one transaction.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from tongban.audit.services import append_entry
from tongban.core.codes import check_basic_code
from tongban.core.errors import InvalidInput, Problem

from .models import Enterprise, Mandate, User
from .selectors import _day, subtree_ids


def _audit_after(mandate: Mandate) -> dict:
    return {"principal": mandate.principal.uscc, "agent": mandate.agent.get_username(),
            "all_items": mandate.all_items, "item_codes": list(mandate.item_codes),
            "valid_from": mandate.valid_from.isoformat(), "valid_until": mandate.valid_until.isoformat(),
            "allow_subdelegation": mandate.allow_subdelegation, "parent": mandate.parent_id}


def grant_mandate(*, granted_by: User, principal: Enterprise, agent: User, item_codes: list[str] | None = None,
                  all_items: bool = False, valid_from: dt.date | None = None, valid_until: dt.date,
                  allow_subdelegation: bool = False, parent: Mandate | None = None) -> Mandate:
    """Grant `agent` a mandate to act for `principal`; returns it. Raises InvalidInput, nothing written.

    `item_codes` is a list of 12-digit item basic codes, or pass `all_items=True` (then item_codes must be
    empty). `parent` is the granter's own mandate when sub-delegating; if omitted and the granter is not
    the legal representative, the granter's valid sub-delegable mandate that covers the request is used.
    """
    today = timezone.localdate()
    valid_from = _day(valid_from) if valid_from is not None else today
    codes = list(dict.fromkeys(str(c).strip() for c in (item_codes or [])))
    problems: list[Problem] = []
    if principal is None:
        raise InvalidInput(Problem("principal", "required", "必须指定委托企业", "the principal enterprise is required"))
    if agent is None or agent.kind != User.Kind.PERSON or not agent.is_active:
        problems.append(Problem("agent", "person", "受托人必须是有效的自然人用户",
                                "the agent must be an active natural-person user"))
    elif agent.pk == granted_by.pk:
        problems.append(Problem("agent", "not_self", "不能委托给自己", "you cannot grant a mandate to yourself"))
    elif agent.pk == principal.legal_representative_id:
        problems.append(Problem("agent", "not_representative", "法定代表人无需委托",
                                "the legal representative needs no mandate"))
    if all_items and codes:
        problems.append(Problem("item_codes", "exclusive", "选择“全部事项”时不得再列出事项编码",
                                "list no item codes when the mandate covers all items"))
    if not all_items and not codes:
        problems.append(Problem("item_codes", "required", "请选择委托事项（或选择全部事项）",
                                "choose the items (or all items) the mandate covers"))
    for i, code in enumerate(codes):
        problems.extend(check_basic_code(code, field=f"item_codes.{i}"))
    if valid_until is None:
        problems.append(Problem("valid_until", "required", "必须填写委托截止日期", "the end date is required"))
    else:
        valid_until = _day(valid_until)
        if valid_until < valid_from:
            problems.append(Problem("valid_until", "after_start", "截止日期不得早于生效日期",
                                    "the end date must not be before the start date"))
        if valid_until < today:
            problems.append(Problem("valid_until", "future", "截止日期不得早于今天",
                                    "the end date must not be in the past"))
    if problems:
        raise InvalidInput(problems)

    is_representative = principal.legal_representative_id == granted_by.pk
    if not is_representative:
        parent = _authorising_parent(granted_by, principal, parent, all_items, codes, valid_from, valid_until)
    else:
        parent = None

    with transaction.atomic():
        if parent is not None:
            # Lock the parent so a concurrent revocation cannot leave an orphan live child.
            locked = Mandate.objects.select_for_update().get(pk=parent.pk)
            if locked.revoked_at is not None:
                raise InvalidInput(Problem("parent", "mandate.revoked", "您的委托已被撤销，不能转委托",
                                           "your mandate has been revoked; you cannot sub-delegate"))
        mandate = Mandate.objects.create(principal=principal, agent=agent, all_items=all_items, item_codes=codes,
                                         valid_from=valid_from, valid_until=valid_until,
                                         allow_subdelegation=allow_subdelegation, parent=parent,
                                         granted_by=granted_by)
        append_entry(action="mandate.grant", actor=granted_by, role="legal_representative" if is_representative
                     else "agent", object_type="mandate", object_id=str(mandate.pk),
                     region_code=principal.region_id, subject_code=principal.uscc, after=_audit_after(mandate))
    return mandate


def _authorising_parent(granter, principal, parent, all_items, codes, valid_from, valid_until) -> Mandate:
    """The granter's mandate that allows this sub-delegation, or InvalidInput."""
    day = timezone.localdate()
    candidates = Mandate.objects.filter(agent=granter, principal=principal, revoked_at__isnull=True,
                                        valid_until__gte=day)
    if parent is not None:
        candidates = candidates.filter(pk=parent.pk)
    candidates = list(candidates)
    if not candidates:
        raise InvalidInput(Problem("principal", "mandate.grant_forbidden",
                                   f"只有企业 {principal.name} 的法定代表人或持有可转委托授权的受托人才能委托",
                                   f"only the legal representative of {principal.name} or the holder of a "
                                   "mandate allowing sub-delegation may grant a mandate"))
    sub = [m for m in candidates if m.allow_subdelegation]
    if not sub:
        raise InvalidInput(Problem("parent", "mandate.no_subdelegation", "您持有的委托不允许转委托",
                                   "your mandate does not allow sub-delegation"))
    in_scope = [m for m in sub if (m.all_items or (not all_items and all(c in m.item_codes for c in codes)))]
    if not in_scope:
        raise InvalidInput(Problem("item_codes", "mandate.scope", "转委托的事项超出您持有的委托范围",
                                   "the sub-delegated items exceed the scope of your own mandate"))
    in_period = [m for m in in_scope if m.valid_from <= valid_from and valid_until <= m.valid_until]
    if not in_period:
        latest = max(m.valid_until for m in in_scope)
        raise InvalidInput(Problem("valid_until", "mandate.period",
                                   f"转委托的期限必须在您持有的委托期限内（至 {latest:%Y-%m-%d}）",
                                   f"the sub-delegation must lie within your own mandate's period (until {latest:%Y-%m-%d})"))
    return in_period[0]


def revoke_mandate(*, mandate: Mandate, revoked_by: User, reason: str = "") -> list[int]:
    """Revoke `mandate` and every sub-delegation under it, at once. Returns the ids revoked.

    Allowed for the enterprise's legal representative, the mandate's granter, the agent renouncing their
    own mandate, or an administrator. A mandate the user may not see raises NotFound; one already
    revoked raises InvalidInput (rule mandate.revoked).
    """
    from .access import MandateAction, require_mandate

    principal = mandate.principal
    require_mandate(revoked_by, mandate, MandateAction.REVOKE)
    reason = (reason or "").strip()
    if len(reason) > 256:
        raise InvalidInput(Problem("reason", "max_length", "撤销原因不得超过 256 个字符",
                                   "the reason must be at most 256 characters"))
    with transaction.atomic():
        locked = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if locked.revoked_at is not None:
            raise InvalidInput(Problem("mandate", "mandate.revoked", "该委托已撤销", "the mandate is already revoked"))
        ids = subtree_ids(locked)
        now = timezone.now()
        live = list(Mandate.objects.select_for_update().filter(pk__in=ids, revoked_at__isnull=True)
                    .values_list("pk", flat=True))
        Mandate.objects.filter(pk__in=live).update(revoked_at=now, revoked_by=revoked_by, revoke_reason=reason)
        mandate.refresh_from_db()
        append_entry(action="mandate.revoke", actor=revoked_by, object_type="mandate", object_id=str(mandate.pk),
                     region_code=principal.region_id, subject_code=principal.uscc, reason=reason,
                     before={"revoked": False}, after={"revoked": True, "cascade": sorted(live)})
    return sorted(live)


def register_system_client(*, department, name: str, scopes: list[str], actor: User | None = None,
                           client_id: str | None = None, client_secret: str | None = None):
    """Register a department system for the client-credentials grant. Returns (SystemClient, secret).

    Creates a system user (kind "system") of the department, a confidential OAuth2 application and
    the binding. The secret is returned once in clear (only its hash is stored).
    """
    from django.conf import settings
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import Application

    from .models import SystemClient

    known = set(settings.OAUTH2_PROVIDER["SCOPES"]) - {"openid", "profile"}
    scopes = list(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    problems = []
    if not name.strip():
        problems.append(Problem("name", "required", "必须填写系统名称", "the system name is required"))
    if not scopes:
        problems.append(Problem("scopes", "required", "至少授予一个权限范围", "grant at least one scope"))
    for i, scope in enumerate(scopes):
        if scope not in known:
            problems.append(Problem(f"scopes.{i}", "known", f"未知的权限范围 {scope}（可选：{'、'.join(sorted(known))}）",
                                    f"unknown scope {scope} (choose from {', '.join(sorted(known))})"))
    if problems:
        raise InvalidInput(problems)
    secret = client_secret or generate_client_secret()
    with transaction.atomic():
        serial = SystemClient.objects.filter(department=department).count() + 1
        user = User.objects.create(username=f"sys-{department.uscc}-{serial}", kind=User.Kind.SYSTEM,
                                   real_name=name.strip(), region_id=department.region_id, department=department)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        application = Application(name=name.strip(), client_type=Application.CLIENT_CONFIDENTIAL,
                                  authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, user=user,
                                  client_secret=secret, redirect_uris="")
        if client_id:
            application.client_id = client_id
        application.save()
        client = SystemClient.objects.create(application=application, department=department, user=user, scopes=scopes)
        append_entry(action="system_client.register", actor=actor, object_type="system_client",
                     object_id=application.client_id, region_code=department.region_id,
                     after={"department": department.uscc, "scopes": scopes, "user": user.username})
    return client, secret
