"""Failure counters in the database (shared by every app process and host), fixed windows.

    blocked_for(keys, limit=..., window=...)  -> seconds to wait (0: go ahead)
    record_failure(keys, window=...)          -> counts one failure under each key

Used for client-secret guessing at the OAuth2 token and introspection endpoints. The counters live in
PostgreSQL (or SQLite), not in a per-process cache, so four gunicorn workers do not give an attacker
four times the attempts. Each update is one short transaction on one row per key.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import ThrottleWindow


def blocked_for(limits: dict[str, int], *, window: timedelta) -> int:
    """Seconds until the first of `limits` (key -> allowed failures per window) that is exhausted
    opens again; 0 when none is."""
    now = timezone.now()
    wait = 0.0
    for row in ThrottleWindow.objects.filter(key__in=list(limits)):
        ends = row.window_started_at + window
        if ends > now and row.failures >= limits[row.key]:
            wait = max(wait, (ends - now).total_seconds())
    return math.ceil(wait)


def record_failure(keys: list[str], *, window: timedelta) -> None:
    now = timezone.now()
    for key in keys:
        with transaction.atomic():
            updated = ThrottleWindow.objects.filter(key=key, window_started_at__gt=now - window).update(
                failures=F("failures") + 1)
            if updated:
                continue
            # No row, or its window is over: start a new window (update first: the row usually exists).
            if not ThrottleWindow.objects.filter(key=key).update(window_started_at=now, failures=1):
                try:
                    with transaction.atomic():
                        ThrottleWindow.objects.create(key=key, window_started_at=now, failures=1)
                except IntegrityError:  # another process created it this instant: count on its row
                    ThrottleWindow.objects.filter(key=key).update(failures=F("failures") + 1)


def clear(keys: list[str]) -> None:
    ThrottleWindow.objects.filter(key__in=keys).delete()
