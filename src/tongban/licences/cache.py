"""Per-process caches of derived, read-only verification state (parsed trust lists, decoded status
lists), so a verification costs no database query.

Correctness: every service that changes trust or status calls `invalidate()`, which clears this
process's caches at once and again when the transaction commits; other processes rebuild an entry
once it is older than settings.TONGBAN_LICENCE_CACHE_SECONDS (default 2 s), which bounds how long a
revocation made elsewhere can go unseen. Verifiers outside the platform rely on the status list's
own validUntil instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import transaction

T = TypeVar("T")


class ProcessCache:
    def __init__(self, name: str, max_entries: int = 10000):
        self.name = name
        self.max_entries = max_entries
        self._data: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._ttl: float | None = None

    def get(self, key: object, build: Callable[[], T]) -> T:
        if self._ttl is None:
            self._ttl = float(getattr(settings, "TONGBAN_LICENCE_CACHE_SECONDS", 2.0))
        entry = self._data.get(key)
        now = time.monotonic()
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]  # type: ignore[return-value]
        value = build()
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._ttl = None


trust_cache = ProcessCache("trust")
status_cache = ProcessCache("status")


def invalidate() -> None:
    """Drop cached trust and status state now and after the current transaction commits."""
    trust_cache.clear()
    status_cache.clear()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_clear_all)


def _clear_all() -> None:
    trust_cache.clear()
    status_cache.clear()
