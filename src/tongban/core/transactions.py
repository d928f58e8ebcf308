"""The service boundary: one durable transaction per top-level service, the audit append last, and one
retry when PostgreSQL picks the transaction as a deadlock or serialization victim.

Lock rule (docs/decisions/0008-lock-rule.md):
- lock only the rows you change: `select_for_update(of=("self",))`; related rows are read without locks;
- a case before its sub-cases, sub-cases in position order, then rows that hang off them, then shared
  counters; a service that starts from a sub-case reads its case id unlocked and locks the case first;
- the audit chain head last: `append_entry` inside a service only buffers the entry; the boundary
  appends the buffered entries as the last statements before commit (see tongban.audit.services);
- no network call inside a transaction.

`@service` is for top-level services only (what an API handler, a view, a command or a sweep calls).
It opens `transaction.atomic(durable=True)`, so calling it inside another transaction fails loudly
(RuntimeError): a service called by another service is written as an inner function without the
decorator. A deadlock or serialization failure rolls everything back and runs the service once more;
a second failure is `Busy` (a 503 problem, "busy, please retry"), never a 500.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from .errors import Busy

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# SQLSTATEs worth one more try: deadlock_detected, serialization_failure, lock_not_available (lock timeout).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})

_local = threading.local()


def retryable(exc: BaseException) -> bool:
    """A database error that a fresh run of the same transaction may not meet again."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if state in RETRYABLE_SQLSTATES:
            return True
        if "database is locked" in str(exc) or "deadlock detected" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class _Buffer:
    """Audit entries a running service has asked for, appended together just before commit."""

    def __init__(self, using: str):
        self.using = using
        self.entries: list = []


def _buffers() -> dict[str, list[_Buffer]]:
    if not hasattr(_local, "buffers"):
        _local.buffers = {}
    return _local.buffers


def audit_buffer(using: str = DEFAULT_DB_ALIAS) -> _Buffer | None:
    """The buffer of the service running on this thread and connection, if any."""
    stack = _buffers().get(using)
    return stack[-1] if stack else None


class _Marker:
    """A do-nothing on-commit callback that tells whether the savepoint a buffered entry was made in
    survived: Django drops on-commit callbacks registered inside a savepoint that rolls back."""

    __slots__ = ()

    def __call__(self) -> None:
        return None


def defer(entry, marker_using: str = DEFAULT_DB_ALIAS) -> bool:
    """Buffer `entry` (an unsaved, validated AuditEntry) for the running service; False when no service
    is running (the caller then appends at once)."""
    buffer = audit_buffer(marker_using)
    if buffer is None:
        return False
    marker = _Marker()
    transaction.on_commit(marker, using=marker_using)
    buffer.entries.append((marker, entry))
    return True


def _flush(buffer: _Buffer) -> None:
    from tongban.audit.services import write_entries

    connection = connections[buffer.using]
    alive = {id(func) for _sids, func, _robust in connection.run_on_commit}
    entries = [entry for marker, entry in buffer.entries if id(marker) in alive]
    connection.run_on_commit = [item for item in connection.run_on_commit if not isinstance(item[1], _Marker)]
    buffer.entries.clear()
    if entries:
        write_entries(entries, using=buffer.using)


def _run_once(fn: Callable, args: tuple, kwargs: dict, using: str):
    with transaction.atomic(using=using, durable=True):
        stack = _buffers().setdefault(using, [])
        buffer = _Buffer(using)
        stack.append(buffer)
        try:
            result = fn(*args, **kwargs)
            _flush(buffer)  # the chain head is locked by the last statements of the transaction
        finally:
            stack.remove(buffer)
    return result


def service(fn: F | None = None, *, using: str = DEFAULT_DB_ALIAS) -> F:
    """Decorate a top-level service (see the module docstring). The undecorated function stays
    reachable as `.inner` for services that call it inside their own transaction."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return _run_once(func, args, kwargs, using)
            except DatabaseError as exc:
                if not retryable(exc):
                    raise
                log.warning("service %s: %s; retrying once", func.__qualname__, _first_line(exc))
            try:
                return _run_once(func, args, kwargs, using)
            except DatabaseError as exc:
                if not retryable(exc):
                    raise
                log.error("service %s: %s again; answered busy", func.__qualname__, _first_line(exc))
                raise Busy() from exc

        wrapper.inner = func  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate  # type: ignore[return-value]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
