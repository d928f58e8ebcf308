"""Periodic jobs: a registry of functions of no arguments and a runner (`tongban periodic`).

Register at `AppConfig.ready()` (never at import time of models, and with no database access):

    from tongban.core.periodic import periodic, register

    @periodic("cases.sweep", every=timedelta(minutes=10))
    def sweep() -> int: ...

    register("licences.refresh_status_lists", "tongban.licences.services.refresh_status_lists",
             every=timedelta(minutes=10))      # a dotted path is imported only when the job runs

Running: `tongban periodic` loops forever, sleeping until the next job is due; `--once` runs every
due job once and exits; `--list` shows each job with its last run and outcome.

How two runners share the work: every job has a `PeriodicJob` row. A runner claims a due job in a
short transaction that locks the row with `select_for_update(skip_locked=True)` (a runner that finds
it locked skips it), checks it is due and not claimed, and writes a lease (`claimed_by`,
`claimed_until = now + timeout`) and the next due time (`now + every`). The job then runs outside
any transaction (on SQLite a long write transaction would block the site), and the result is
recorded as a `PeriodicRun` row while the lease is released. So two runners never run a job at the
same time, provided it finishes within its `timeout` (default: its interval; an overrun is logged
as a warning). A runner that dies mid-run leaves a lease that expires at `claimed_until`.

A failing job is logged with its traceback (JSON logs) and recorded with `ok=False`; it runs again
at its next interval. Nothing a job raises stops the runner.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger("tongban.periodic")

OVERDUE_INTERVALS = 3  # health: a job due for longer than this many intervals is reported
RUN_HISTORY = timedelta(days=30)  # runs older than this are pruned after each run of the job
MAX_SLEEP = 60.0  # the loop re-reads the schedule at least this often (jobs claimed elsewhere, new rows)
MIN_SLEEP = 1.0
ERROR_CHARS = 4000


@dataclass(frozen=True)
class Job:
    name: str
    target: Callable[[], object] | str
    every: timedelta
    timeout: timedelta

    def resolve(self) -> Callable[[], object]:
        return import_string(self.target) if isinstance(self.target, str) else self.target


_registry: dict[str, Job] = {}
_registry_lock = threading.Lock()


def register(name: str, target: Callable[[], object] | str, *, every: timedelta,
             timeout: timedelta | None = None) -> Job:
    """Register `target` (a callable of no arguments, or its dotted path) to run every `every`.
    Registering the same name with the same target again is a no-op (ready() may run twice);
    another target under a taken name is an error."""
    if not name or len(name) > 100:
        raise ValueError("a periodic job needs a name of 1 to 100 characters")
    if every < timedelta(seconds=1):
        raise ValueError(f"periodic job {name!r}: the interval must be at least one second")
    job = Job(name, target, every, timeout or every)
    with _registry_lock:
        existing = _registry.get(name)
        if existing is not None and existing.target != target:
            raise RuntimeError(f"periodic job {name!r} registered twice with different functions")
        _registry[name] = job
    return job


def periodic(name: str, *, every: timedelta, timeout: timedelta | None = None):
    """Decorator form of `register` for a function of no arguments; returns the function unchanged."""

    def decorate(fn: Callable[[], object]) -> Callable[[], object]:
        register(name, fn, every=every, timeout=timeout)
        return fn

    return decorate


def unregister(name: str) -> None:
    with _registry_lock:
        _registry.pop(name, None)


def jobs() -> list[Job]:
    with _registry_lock:
        return sorted(_registry.values(), key=lambda j: j.name)


def get_job(name: str) -> Job:
    with _registry_lock:
        try:
            return _registry[name]
        except KeyError:
            raise LookupError(f"no periodic job {name!r}") from None


def new_runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- database side ------------------------------------------------------------------------------------


def _refresh_connection() -> None:
    """Drop a broken or expired connection (as Django does around requests); never inside a transaction
    (a caller's, or a test's)."""
    if not transaction.get_connection().in_atomic_block:
        close_old_connections()


def sync_jobs(selected: list[Job] | None = None, *, now: datetime | None = None) -> None:
    """Make sure every registered job has its row (new jobs are due at once) and the row's interval
    matches the code."""
    from .models import PeriodicJob

    now = now or timezone.now()
    selected = jobs() if selected is None else selected
    rows = {r.name: r for r in PeriodicJob.objects.filter(name__in=[j.name for j in selected])}
    for job in selected:
        seconds = int(job.every.total_seconds())
        row = rows.get(job.name)
        if row is None:
            try:
                with transaction.atomic():
                    PeriodicJob.objects.create(name=job.name, interval_seconds=seconds, next_due_at=now)
            except IntegrityError:
                pass  # another runner created it first
        elif row.interval_seconds != seconds:
            due = row.next_due_at
            if row.last_started_at is not None:
                due = min(due, row.last_started_at + job.every)
            PeriodicJob.objects.filter(pk=row.pk).update(interval_seconds=seconds, next_due_at=due)


def claim(job: Job, runner: str, *, now: datetime | None = None, force: bool = False) -> bool:
    """Claim `job` for `runner` if it is due (or `force`) and nobody holds it. True if claimed."""
    from .models import PeriodicJob

    now = now or timezone.now()
    with transaction.atomic():
        row = PeriodicJob.objects.select_for_update(skip_locked=True).filter(name=job.name).first()
        if row is None:  # locked by another runner this very moment (or not synced)
            return False
        if row.claimed_until is not None and row.claimed_until > now:
            return False
        if not force and row.next_due_at > now:
            return False
        row.claimed_by = runner
        row.claimed_until = now + job.timeout
        row.next_due_at = now + job.every
        row.last_started_at = now
        row.save(update_fields=["claimed_by", "claimed_until", "next_due_at", "last_started_at"])
    return True


def execute(job: Job, runner: str):
    """Run a claimed job, record the run and release the claim. Returns the `PeriodicRun`."""
    from .models import PeriodicJob, PeriodicRun

    started = timezone.now()
    clock = time.perf_counter()
    result, error = "", ""
    try:
        value = job.resolve()()
        ok = True
        result = "" if value is None else str(value)[:256]
    except Exception as exc:  # noqa: BLE001 - a failing job must never stop the runner
        ok = False
        error = "".join(traceback.format_exception(exc))[-ERROR_CHARS:]
        log.exception("periodic job failed", extra={"job": job.name, "runner": runner})
    duration = timedelta(seconds=time.perf_counter() - clock)
    finished = timezone.now()
    if duration > job.timeout:
        log.warning("periodic job ran past its timeout; another runner may have started it",
                    extra={"job": job.name, "duration_s": round(duration.total_seconds(), 3),
                           "timeout_s": job.timeout.total_seconds()})
    _refresh_connection()  # a job may have broken the connection: record the run on a good one
    duration_ms = int(duration.total_seconds() * 1000)
    with transaction.atomic():
        row = PeriodicJob.objects.select_for_update().get(name=job.name)
        fields = {"last_finished_at": finished, "last_ok": ok, "last_error": error, "last_duration_ms": duration_ms}
        if ok:
            fields["last_success_at"] = finished
        if row.claimed_by == runner:
            fields.update(claimed_by="", claimed_until=None)
        PeriodicJob.objects.filter(pk=row.pk).update(**fields)
        run = PeriodicRun.objects.create(job=row, name=job.name, runner=runner, started_at=started,
                                         finished_at=finished, ok=ok, error=error, result=result,
                                         duration_ms=duration_ms)
    PeriodicRun.objects.filter(name=job.name, started_at__lt=finished - RUN_HISTORY).delete()
    log.info("periodic job ran", extra={"job": job.name, "ok": ok, "duration_ms": duration_ms, "runner": runner})
    return run


def run_due(*, runner: str | None = None, names: list[str] | None = None, force: bool = False,
            stop: threading.Event | None = None) -> list:
    """Run every due job once (only `names`, if given; all of them regardless of schedule with
    `force`, still never one that another runner holds). Returns the `PeriodicRun` rows."""
    runner = runner or new_runner_id()
    selected = [get_job(n) for n in names] if names else jobs()
    sync_jobs(selected)
    runs = []
    for job in selected:
        if stop is not None and stop.is_set():
            break
        if claim(job, runner, force=force):
            runs.append(execute(job, runner))
    return runs


def seconds_until_next(selected: list[Job] | None = None, *, now: datetime | None = None) -> float:
    """How long the loop may sleep: until the earliest due time or lease expiry, within bounds."""
    from .models import PeriodicJob

    now = now or timezone.now()
    selected = jobs() if selected is None else selected
    wake = None
    for row in PeriodicJob.objects.filter(name__in=[j.name for j in selected]):
        at = row.next_due_at
        if row.claimed_until is not None and row.claimed_until > at:
            at = row.claimed_until
        wake = at if wake is None or at < wake else wake
    if wake is None:
        return MAX_SLEEP
    return max(MIN_SLEEP, min(MAX_SLEEP, (wake - now).total_seconds()))


def run_forever(*, stop: threading.Event, runner: str | None = None, names: list[str] | None = None) -> None:
    """The runner loop: run what is due, sleep until the next job, until `stop` is set. Errors of the
    runner itself (the database gone away, say) are logged and retried after a pause."""
    runner = runner or new_runner_id()
    log.info("periodic runner started", extra={"runner": runner, "jobs": ",".join(j.name for j in jobs())})
    while not stop.is_set():
        pause = MAX_SLEEP
        try:
            _refresh_connection()
            run_due(runner=runner, names=names, stop=stop)
            pause = seconds_until_next([get_job(n) for n in names] if names else None)
        except Exception:  # noqa: BLE001 - the loop outlives any failure
            log.exception("periodic runner iteration failed", extra={"runner": runner})
            pause = 10.0
        stop.wait(pause)
    _refresh_connection()
    log.info("periodic runner stopped", extra={"runner": runner})


# --- reads --------------------------------------------------------------------------------------------


def status(*, now: datetime | None = None) -> list[dict]:
    """Every registered job with its schedule, last run and outcome, and whether it is overdue."""
    from .models import PeriodicJob

    now = now or timezone.now()
    rows = {r.name: r for r in PeriodicJob.objects.all()}
    out = []
    for job in jobs():
        row = rows.get(job.name)
        overdue = row is not None and now - row.next_due_at > OVERDUE_INTERVALS * job.every
        out.append({
            "name": job.name,
            "every_s": int(job.every.total_seconds()),
            "next_due_at": row.next_due_at.isoformat() if row else None,
            "running": bool(row and row.claimed_until and row.claimed_until > now),
            "claimed_by": row.claimed_by if row else "",
            "last_started_at": row.last_started_at.isoformat() if row and row.last_started_at else None,
            "last_finished_at": row.last_finished_at.isoformat() if row and row.last_finished_at else None,
            "last_ok": row.last_ok if row else None,
            "last_duration_ms": row.last_duration_ms if row else None,
            "last_success_at": row.last_success_at.isoformat() if row and row.last_success_at else None,
            "last_error": (row.last_error.strip().splitlines() or [""])[-1] if row and row.last_error else "",
            "overdue": overdue,
        })
    return out


def health(*, now: datetime | None = None) -> dict:
    """For /healthz: not ok when a job is due for more than OVERDUE_INTERVALS intervals (no runner is
    running it). Jobs whose last run failed, and jobs never run, are listed without failing the check."""
    jobs_status = status(now=now)
    overdue = [j["name"] for j in jobs_status if j["overdue"]]
    return {"ok": not overdue, "overdue": overdue,
            "failing": [j["name"] for j in jobs_status if j["last_ok"] is False],
            "errors": {j["name"]: j["last_error"] for j in jobs_status if j["last_ok"] is False},
            "never_run": [j["name"] for j in jobs_status if j["last_started_at"] is None]}
