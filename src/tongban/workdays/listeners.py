"""Who wants to know when the calendar changes (e.g. case deadlines that must be recomputed).

Register once, in your AppConfig.ready():

    from tongban.workdays.listeners import register_calendar_listener
    register_calendar_listener(recompute_open_deadlines)

The callback is `callback(changed_from: date, changed_to: date, region_code: str | None)`, where
`region_code` is None for a nationwide change and otherwise the region whose descendants are
affected too. It is called INSIDE the transaction of the calendar write, after the rows are written
and the local calendar cache is refreshed, so a listener reads the new calendar, and its writes
commit or roll back together with the change. A listener that raises aborts the calendar change.
Listeners must therefore be quick: heavy work should enqueue a task (the django-tasks database
backend enqueues in the same transaction, so the task exists exactly when the change commits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

CalendarListener = Callable[[date, date, "str | None"], object]

_listeners: list[CalendarListener | str] = []


def register_calendar_listener(callback: CalendarListener | str) -> CalendarListener | str:
    """Register `callback`, a callable or its dotted path (imported at the first calendar change, so
    that registering in ready() imports nothing heavy); idempotent; usable as a decorator."""
    if callback not in _listeners:
        _listeners.append(callback)
    return callback


def unregister_calendar_listener(callback: CalendarListener) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def notify_calendar_changed(changed_from: date, changed_to: date, region_code: str | None) -> None:
    """Called by the write services; exceptions propagate and roll the change back."""
    log.info("workdays.calendar_changed", extra={"changed_from": changed_from.isoformat(),
                                                 "changed_to": changed_to.isoformat(), "region": region_code,
                                                 "listeners": len(_listeners)})
    for callback in list(_listeners):
        if isinstance(callback, str):
            callback = import_string(callback)
        callback(changed_from, changed_to, region_code)
