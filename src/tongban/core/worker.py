"""The background task worker: Django's Tasks API queue (django-tasks-db rows) claimed with a lease.

Why not `db_worker`: django-tasks-db marks a task RUNNING when a worker takes it and nothing ever
changes that if the worker dies (its issue #5): a `kill -9`, an OOM kill or a lost host leaves the task
RUNNING forever and its work is never done. This worker keeps django-tasks-db's table, enqueue API
and results, and adds a lease around each run (see docs/decisions/0009-background-work.md):

1. Claim: one short transaction locks the next READY row (`select_for_update(skip_locked=True)`, so
   workers on many hosts never take the same row), marks it RUNNING and writes a `TaskLease`
   (worker id, `lease_until = now + lease`).
2. Run the task body outside any transaction. A heartbeat thread renews `lease_until` every quarter
   of the lease, so a long task on a live worker keeps its claim and nobody else starts it.
3. Finish: one transaction locks our lease, records the result (SUCCESSFUL, or FAILED with the
   traceback, logged at ERROR) and deletes the lease. If the lease is gone (we were frozen past its
   expiry and the reaper gave the task to someone else), nothing is recorded: the other run owns it.
4. Reap (every worker, every loop): an expired lease means its worker is dead or frozen; the task
   goes back to READY (or FAILED with `LeaseExpired` after `max_attempts` claims, so a task that kills
   its worker every time cannot loop forever). RUNNING rows with no lease at all (left by a plain
   `db_worker`, which must not be used any more) are reaped once they are older than the lease.

The rule for every task body: it may run more than once (a worker killed after the effect but before
the result is recorded runs it again elsewhere), so it must be idempotent: check the state it is
about to change (a case already accepted stays accepted), or write its effect together with a
`once(key)` in one transaction. Never send a message, mail or HTTP call twice for one key: record
what was sent first (an outbox row), then send.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

log = logging.getLogger("tongban.worker")

RUNNING = "RUNNING"
READY = "READY"


class LeaseExpired(Exception):
    """A task's lease ran out too many times (its worker died or froze on every attempt)."""


def lease_seconds() -> float:
    return float(getattr(settings, "TONGBAN_TASK_LEASE_SECONDS", 60))


def max_attempts() -> int:
    return int(getattr(settings, "TONGBAN_TASK_MAX_ATTEMPTS", 5))


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]


# --- idempotency ---------------------------------------------------------------------------------------


@contextmanager
def once(key: str) -> Iterator[bool]:
    """`with once("cases.remind:CS-2026-0001:3") as first: if first: <effect>` writes the key and the
    effect in one transaction: the first run does the effect, any later run (or a concurrent one,
    which waits on the key's unique index) sees False. Not for effects outside the database."""
    from .models import DoneKey

    with transaction.atomic():
        try:
            with transaction.atomic():
                DoneKey.objects.create(key=key)
            first = True
        except IntegrityError:
            first = False
        yield first


# --- claim, heartbeat, finish, reap --------------------------------------------------------------------


def claim_next(worker_id: str, *, backend_name: str = "default", queues: list[str] | None = None):
    """Take the next READY task with a lease, or None."""
    from django_tasks_db.models import DBTaskResult

    from .models import TaskLease

    now = timezone.now()
    with transaction.atomic():
        tasks = DBTaskResult.objects.ready().filter(backend_name=backend_name)
        if queues and "*" not in queues:
            tasks = tasks.filter(queue_name__in=queues)
        row = tasks.get_locked()
        if row is None:
            return None
        row.claim(worker_id)
        TaskLease.objects.filter(task_id=row.id).delete()  # a reaped claim's leftover, if any
        TaskLease.objects.create(task_id=row.id, worker_id=worker_id, claimed_at=now, heartbeat_at=now,
                                 lease_until=now + timedelta(seconds=lease_seconds()),
                                 attempts=len(row.worker_ids))
    return row


class Heartbeat(threading.Thread):
    """Renews one lease until stopped; sets `lost` if the lease is no longer ours."""

    def __init__(self, task_id, worker_id: str, lease: float):
        super().__init__(name=f"heartbeat-{task_id}", daemon=True)
        self.task_id, self.worker_id, self.lease = task_id, worker_id, lease
        self.stopped = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        from .models import TaskLease

        try:
            while not self.stopped.wait(self.lease / 4):
                now = timezone.now()
                try:
                    renewed = TaskLease.objects.filter(task_id=self.task_id, worker_id=self.worker_id).update(
                        heartbeat_at=now, lease_until=now + timedelta(seconds=self.lease))
                except Exception:  # noqa: BLE001 - a failed beat is retried; the lease says the rest
                    log.exception("task heartbeat failed", extra={"task_id": str(self.task_id)})
                    close_old_connections()
                    continue
                if not renewed:
                    self.lost.set()
                    log.error("task lease lost while running (the worker was frozen past its lease); "
                              "another worker owns the task now",
                              extra={"task_id": str(self.task_id), "worker": self.worker_id})
                    return
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def run_claimed(row, worker_id: str) -> bool:
    """Run a claimed task and record its outcome if we still hold the lease. True if recorded."""
    from .models import TaskLease

    beat = Heartbeat(row.id, worker_id, lease_seconds())
    beat.start()
    error: BaseException | None = None
    value = None
    try:
        task = row.task
        result = row.task_result
        if task.takes_context:
            from django_tasks import TaskContext

            value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
        else:
            value = task.call(*result.args, **result.kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded as the task's failure below, never lost
        error = exc
    finally:
        beat.stop()
    close_old_connections()
    with transaction.atomic():
        lease = TaskLease.objects.select_for_update().filter(task_id=row.id, worker_id=worker_id).first()
        if lease is None:
            log.error("task finished after its lease was lost; its result is not recorded (the run that "
                      "holds the lease records it; task bodies are idempotent)",
                      extra={"task_id": str(row.id), "task": row.task_path, "worker": worker_id})
            return False
        if error is None:
            try:
                row.set_successful(value)
            except Exception as exc:  # noqa: BLE001 - e.g. a return value that is not JSON
                error = exc
        if error is not None:
            row.set_failed(error)
            log.error("task failed", extra={"task_id": str(row.id), "task": row.task_path, "worker": worker_id,
                                            "error": "".join(traceback.format_exception(error))[-4000:]})
        lease.delete()
    if error is None:
        log.info("task done", extra={"task_id": str(row.id), "task": row.task_path, "worker": worker_id})
    return True


def reap(*, now=None) -> int:
    """Return tasks whose lease expired (dead or frozen worker) to the queue. Returns how many."""
    from django_tasks_db.models import DBTaskResult

    from .models import TaskLease

    now = now or timezone.now()
    reaped = 0
    for task_id in list(TaskLease.objects.filter(lease_until__lt=now).values_list("task_id", flat=True)[:100]):
        with transaction.atomic():
            lease = (TaskLease.objects.select_for_update(skip_locked=True)
                     .filter(task_id=task_id, lease_until__lt=now).first())
            if lease is None:  # renewed, finished or being reaped by another worker meanwhile
                continue
            row = DBTaskResult.objects.select_for_update().filter(id=task_id).first()
            if row is not None and row.status == RUNNING:
                _return_to_queue(row, f"lease of {lease.worker_id} expired at {lease.lease_until.isoformat()}")
                reaped += 1
            lease.delete()
    # RUNNING without any lease: claimed by something other than this worker (a plain db_worker).
    stale = now - timedelta(seconds=lease_seconds())
    orphans = DBTaskResult.objects.filter(status=RUNNING, started_at__lt=stale).exclude(
        id__in=TaskLease.objects.values("task_id")).values_list("id", flat=True)[:100]
    for task_id in list(orphans):
        with transaction.atomic():
            row = DBTaskResult.objects.select_for_update(skip_locked=True).filter(id=task_id, status=RUNNING).first()
            if row is None or TaskLease.objects.filter(task_id=task_id).exists():
                continue
            _return_to_queue(row, "RUNNING without a lease (left by a worker without leases)")
            reaped += 1
    return reaped


def _return_to_queue(row, why: str) -> None:
    attempts = len(row.worker_ids)
    if attempts >= max_attempts():
        row.set_failed(LeaseExpired(f"{why}; gave up after {attempts} attempts"))
        log.error("task given up: its worker died or froze on every attempt",
                  extra={"task_id": str(row.id), "task": row.task_path, "attempts": attempts, "why": why})
        return
    row.status = READY
    row.save(update_fields=["status"])
    log.warning("task returned to the queue", extra={"task_id": str(row.id), "task": row.task_path,
                                                     "attempts": attempts, "why": why})


# --- the loop ------------------------------------------------------------------------------------------


def run_forever(*, stop: threading.Event, worker_id: str | None = None, interval: float = 1.0,
                backend_name: str = "default", queues: list[str] | None = None,
                max_tasks: int | None = None) -> int:
    """Reap, claim, run, until `stop` is set (a running task is finished first). Returns tasks run."""
    worker_id = worker_id or new_worker_id()
    log.info("task worker started", extra={"worker": worker_id, "lease_s": lease_seconds()})
    done = 0
    while not stop.is_set():
        row = None
        try:
            close_old_connections()
            reap()
            row = claim_next(worker_id, backend_name=backend_name, queues=queues)
        except Exception:  # noqa: BLE001 - the loop outlives a database hiccup; logged, retried
            log.exception("task worker iteration failed", extra={"worker": worker_id})
            stop.wait(max(interval, 5.0))
            continue
        if row is None:
            stop.wait(interval)
            continue
        try:
            run_claimed(row, worker_id)
        except Exception:  # noqa: BLE001 - recording failed: the lease expires and the task runs again
            log.exception("recording a task's outcome failed", extra={"worker": worker_id, "task_id": str(row.id)})
        done += 1
        if max_tasks is not None and done >= max_tasks:
            break
    close_old_connections()
    log.info("task worker stopped", extra={"worker": worker_id, "tasks": done})
    return done


# --- reads ---------------------------------------------------------------------------------------------


def health(*, now=None) -> dict:
    """For /healthz: tasks whose lease expired and that nobody reaped (no worker is running), failed
    tasks of the last day (an operator must look at them), the oldest READY task's age."""
    from django_tasks_db.models import DBTaskResult

    from .models import TaskLease

    now = now or timezone.now()
    expired = list(TaskLease.objects.filter(lease_until__lt=now - timedelta(seconds=lease_seconds()))
                   .values_list("task_id", flat=True)[:20])
    failed = DBTaskResult.objects.filter(status="FAILED", finished_at__gte=now - timedelta(days=1))
    failed_rows = list(failed.order_by("-finished_at").values("id", "task_path", "exception_class_path",
                                                              "finished_at")[:10])
    return {
        "stuck": [str(t) for t in expired],
        "running": DBTaskResult.objects.filter(status=RUNNING).count(),
        "failed_24h": failed.count(),
        "failed": [{"id": str(r["id"]), "task": r["task_path"], "error": r["exception_class_path"],
                    "at": r["finished_at"].isoformat()} for r in failed_rows],
    }
