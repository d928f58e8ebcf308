"""Background work survives faults: real worker processes (`tongban background`), killed with SIGKILL,
frozen with SIGSTOP, against this test's database (SQLite or PostgreSQL). Bounded: each wait has a
deadline of seconds; leases are 1 to 2 s here (60 s by default)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from django_tasks_db.models import DBTaskResult

from tongban.core.models import DoneKey, TaskLease

from . import tasks
from .processes import PROJECT, TONGBAN, child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


class Workers:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, lease: float, *, periodic: bool = False) -> subprocess.Popen:
        env = child_env(PYTHONPATH=str(PROJECT), LOG_LEVEL="INFO")
        err = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(  # noqa: S603 - our own command
            [str(TONGBAN), "background", *([] if periodic else ["--no-periodic"]), "--lease", str(lease),
             "--interval", "0.1"],
            env=env, cwd=PROJECT, stdout=err, stderr=subprocess.STDOUT)
        proc.log_name = name
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(encoding="utf-8")

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


START = 90  # seconds a worker process may take to start and take a task (a loaded 2-core machine)


def wait_for(condition, *, timeout: float, what: str, workers: Workers | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    logs = "".join(f"\n--- {p.log_name} (exit {p.poll()}):\n{workers.log(p.log_name)[-2000:]}"
                   for p in workers.procs) if workers else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{logs}")


def status(result) -> str:
    return DBTaskResult.objects.get(id=result.id).status


def test_a_task_whose_worker_is_killed_completes_once_on_another_worker(workers, tmp_path):
    log_path = str(tmp_path / "task.log")
    result = tasks.mark_and_effect.enqueue(key="kill-9", seconds=2.0, log_path=log_path)
    first = workers.start("a", lease=1.5)
    wait_for(lambda: tasks.lines(log_path, "start"), timeout=START, what="worker a to start the task",
             workers=workers)
    os.kill(first.pid, signal.SIGKILL)  # mid-task: before its effect
    first.wait(timeout=5)
    assert status(result) == "RUNNING"  # what django-tasks-db's own worker would leave forever

    workers.start("b", lease=1.5)
    wait_for(lambda: status(result) == "SUCCESSFUL", timeout=START, what="the task to complete on worker b",
             workers=workers)

    starts, effects = tasks.lines(log_path, "start"), tasks.lines(log_path, "effect")
    assert len(starts) == 2 and starts[0] != starts[1]  # run by a, killed; run again by b
    assert len(effects) == 1 and DoneKey.objects.filter(key="test-effect:kill-9").count() == 1
    row = DBTaskResult.objects.get(id=result.id)
    assert len(row.worker_ids) == 2 and row.return_value == "kill-9"
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    assert not TaskLease.objects.exists()
    assert "task returned to the queue" in workers.log("b")


def test_a_long_task_on_a_live_worker_keeps_its_lease(workers, tmp_path):
    """The task runs three times longer than the lease; the heartbeat keeps it with its worker while a
    second worker polls the queue: it runs once."""
    log_path = str(tmp_path / "task.log")
    result = tasks.mark_and_effect.enqueue(key="long", seconds=6.0, log_path=log_path)
    workers.start("a", lease=2.0)
    wait_for(lambda: tasks.lines(log_path, "start"), timeout=START, what="a worker to start the task",
             workers=workers)
    workers.start("b", lease=2.0)
    wait_for(lambda: status(result) == "SUCCESSFUL", timeout=START, what="the task to complete",
             workers=workers)
    assert len(tasks.lines(log_path, "start")) == 1 and len(tasks.lines(log_path, "effect")) == 1
    assert len(DBTaskResult.objects.get(id=result.id).worker_ids) == 1


def test_a_frozen_worker_loses_its_lease_and_records_nothing_when_it_wakes(workers, tmp_path):
    """SIGSTOP stands for a worker that is alive but stuck (no heartbeat): its lease expires, another
    worker runs the task to completion; woken, the first finds its lease gone and records nothing, and
    the task body's effect happened once."""
    log_path = str(tmp_path / "task.log")
    result = tasks.mark_and_effect.enqueue(key="frozen", seconds=1.5, log_path=log_path)
    frozen = workers.start("a", lease=1.0)
    wait_for(lambda: tasks.lines(log_path, "start"), timeout=START, what="worker a to start the task",
             workers=workers)
    os.kill(frozen.pid, signal.SIGSTOP)
    workers.start("b", lease=1.0)
    wait_for(lambda: status(result) == "SUCCESSFUL", timeout=START, what="worker b to complete the task",
             workers=workers)
    done = DBTaskResult.objects.get(id=result.id)
    os.kill(frozen.pid, signal.SIGCONT)
    wait_for(lambda: "lease" in workers.log("a") and "lost" in workers.log("a"), timeout=START,
             what="worker a to notice it lost the lease")
    time.sleep(0.5)
    assert DBTaskResult.objects.get(id=result.id).finished_at == done.finished_at  # b's record stands
    assert len(tasks.lines(log_path, "start")) == 2 and len(tasks.lines(log_path, "effect")) == 1
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


def test_a_failing_task_is_recorded_failed_and_shown_on_healthz(workers, client, tmp_path):
    result = tasks.mark_and_effect.enqueue(key="bad", seconds="not a number", log_path=str(tmp_path / "t.log"))
    workers.start("a", lease=2.0)
    wait_for(lambda: status(result) == "FAILED", timeout=START, what="the task to fail", workers=workers)
    assert '"task failed"' in workers.log("a") or "task failed" in workers.log("a")
    report = client.get("/healthz").json()
    assert report["tasks"]["failed_24h"] == 1 and report["tasks"]["failed"][0]["task"].endswith("mark_and_effect")


def test_one_process_runs_the_periodic_jobs_and_the_tasks_and_stops_on_sigterm(workers, tmp_path):
    from tongban.core.models import PeriodicRun

    log_path = str(tmp_path / "task.log")
    result = tasks.mark_and_effect.enqueue(key="both", seconds=0.2, log_path=log_path)
    proc = workers.start("a", lease=2.0, periodic=True)
    wait_for(lambda: status(result) == "SUCCESSFUL", timeout=START, what="the task", workers=workers)
    wait_for(lambda: PeriodicRun.objects.filter(name="cases.sweep").exists(), timeout=START, what="the case sweep",
             workers=workers)
    proc.terminate()
    assert proc.wait(timeout=15) == 0
