"""The write layer of the hall queue: take a ticket (kiosk), call the next one to a window (clerk).

Numbers run per hall and day; the hall row is locked while one is handed out, so two kiosks never
print the same number (the unique constraint backs this up). Calling locks the waiting tickets it
looks at, so two windows calling at once never get the same person.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Max
from django.utils import timezone

from tongban.accounts.roles import Role
from tongban.audit.services import append_entry
from tongban.core.errors import InvalidInput, NotFound, Problem
from tongban.core.transactions import service
from tongban.regions.models import ServiceHall, Window

from .models import Ticket


def window_categories(window: Window) -> list[str]:
    return [c.strip() for c in (window.categories or "").split(",") if c.strip() in Ticket.Category.values]


@service
def take_ticket(*, hall: ServiceHall, category: str, on: date | None = None) -> Ticket:
    """A new waiting ticket for `category` in `hall`, numbered after today's last one."""
    if category not in Ticket.Category.values:
        raise InvalidInput(Problem("category", "ticket.category", "请选择业务类别（企业、个人、跨域通办或统一出件）",
                                   "choose a category: enterprise, personal, cross-region or delivery"))
    on = on or timezone.localdate()
    hall = ServiceHall.objects.select_for_update(of=("self",)).get(pk=hall.pk)  # the day's numbering mutex
    last = Ticket.objects.filter(hall=hall, day=on).aggregate(n=Max("number"))["n"] or 0
    return Ticket.objects.create(hall=hall, day=on, number=last + 1, category=category)


def _require_clerk_of(window: Window, actor) -> None:
    if not (getattr(actor, "kind", "") == "staff" and actor.has_role(Role.CLERK) and actor.hall_id == window.hall_id):
        raise NotFound("window")


@service
def call_next(*, window: Window, actor, on: date | None = None) -> Ticket | None:
    """The ticket this window was serving is done; the oldest waiting ticket of the window's categories
    is called to it (None when nobody waits). Only a clerk of the window's hall may call."""
    _require_clerk_of(window, actor)
    on = on or timezone.localdate()
    categories = window_categories(window)
    if not categories:
        raise InvalidInput(Problem("window", "window.categories", "该窗口未配置叫号业务类别",
                                   "this window has no queue categories"))
    now = timezone.now()
    Ticket.objects.filter(window=window, status=Ticket.Status.CALLED).update(status=Ticket.Status.DONE, done_at=now)
    waiting = (Ticket.objects.select_for_update(skip_locked=True, of=("self",))
               .filter(hall_id=window.hall_id, day=on, status=Ticket.Status.WAITING, category__in=categories)
               .order_by("number"))
    ticket = waiting.first()
    if ticket is None:
        return None
    ticket.status, ticket.window, ticket.called_at, ticket.called_by = Ticket.Status.CALLED, window, now, actor
    ticket.save(update_fields=["status", "window", "called_at", "called_by"])
    append_entry(action="ticket.called", actor=actor, role=Role.CLERK, object_type="ticket",
                 object_id=f"{window.hall.code}/{on.isoformat()}/{ticket.label}", region_code=window.hall.region_id,
                 after={"window": window.number, "category": ticket.category})
    return ticket


@service
def finish_ticket(*, window: Window, actor) -> int:
    """The window is done with the person it called (without calling the next one)."""
    _require_clerk_of(window, actor)
    return Ticket.objects.filter(window=window, status=Ticket.Status.CALLED).update(
        status=Ticket.Status.DONE, done_at=timezone.now())
