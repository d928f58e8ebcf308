"""tongban.core.periodic: registry, runs recorded, failures isolated and retried, leases, the command,
/healthz, and two runners racing for one job (threads, each with its own connection) running it once."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from tongban.core import periodic
from tongban.core.models import PeriodicJob, PeriodicRun

calls: list[str] = []


def ok_job() -> int:
    calls.append("ok")
    return 7


def failing_job() -> None:
    calls.append("fail")
    raise RuntimeError("boom 失败")


@pytest.fixture
def jobs():
    """Two test jobs, unregistered afterwards (the registry is process-wide)."""
    calls.clear()
    periodic.register("test.ok", ok_job, every=timedelta(minutes=10))
    periodic.register("test.fail", failing_job, every=timedelta(minutes=5))
    yield ["test.ok", "test.fail"]
    periodic.unregister("test.ok")
    periodic.unregister("test.fail")


def test_registry_is_idempotent_and_refuses_a_second_function_under_a_name(jobs):
    periodic.register("test.ok", ok_job, every=timedelta(minutes=10))  # ready() twice: fine
    with pytest.raises(RuntimeError, match="registered twice"):
        periodic.register("test.ok", failing_job, every=timedelta(minutes=10))
    with pytest.raises(ValueError):
        periodic.register("test.too-fast", ok_job, every=timedelta(0))

    @periodic.periodic("test.decorated", every=timedelta(hours=1))
    def decorated() -> str:
        return "x"

    try:
        assert decorated() == "x"
        assert periodic.get_job("test.decorated").every == timedelta(hours=1)
        assert periodic.get_job("test.decorated").timeout == timedelta(hours=1)
    finally:
        periodic.unregister("test.decorated")


def test_licences_registers_its_refresh_jobs_at_ready():
    names = {j.name for j in periodic.jobs()}
    assert {"licences.refresh_status_lists", "licences.refresh_trust_lists"} <= names
    assert periodic.get_job("licences.refresh_status_lists").target == "tongban.licences.services.refresh_status_lists"


@pytest.mark.django_db
def test_licence_refresh_jobs_run(db):
    runs = periodic.run_due(names=["licences.refresh_status_lists", "licences.refresh_trust_lists"])
    assert [(r.name, r.ok, r.result) for r in runs] == [
        ("licences.refresh_status_lists", True, "0"), ("licences.refresh_trust_lists", True, "0")]


@pytest.mark.django_db
def test_due_jobs_run_once_and_are_recorded(jobs):
    runs = periodic.run_due(names=jobs, runner="r1")
    assert {r.name: r.ok for r in runs} == {"test.ok": True, "test.fail": False}
    assert sorted(calls) == ["fail", "ok"]
    ok_run = PeriodicRun.objects.get(name="test.ok")
    assert ok_run.result == "7" and ok_run.error == "" and ok_run.runner == "r1"
    assert ok_run.finished_at >= ok_run.started_at and ok_run.duration_ms >= 0
    row = PeriodicJob.objects.get(name="test.ok")
    assert row.last_ok is True and row.claimed_by == "" and row.claimed_until is None
    assert row.interval_seconds == 600
    assert timedelta(minutes=9) < row.next_due_at - row.last_started_at <= timedelta(minutes=10)

    assert periodic.run_due(names=jobs) == []  # nothing due any more
    assert len(calls) == 2


@pytest.mark.django_db
def test_a_failing_job_is_logged_recorded_and_retried_at_the_next_interval(jobs, caplog):
    with caplog.at_level("ERROR", logger="tongban.periodic"):
        periodic.run_due(names=["test.fail", "test.ok"])
    failed = PeriodicRun.objects.get(name="test.fail")
    assert failed.ok is False and "RuntimeError: boom 失败" in failed.error
    assert any(r.getMessage() == "periodic job failed" and r.job == "test.fail" for r in caplog.records)
    assert PeriodicRun.objects.filter(name="test.ok", ok=True).exists()  # the other job still ran
    row = PeriodicJob.objects.get(name="test.fail")
    assert row.last_ok is False and row.last_success_at is None

    PeriodicJob.objects.filter(name="test.fail").update(next_due_at=timezone.now() - timedelta(seconds=1))
    periodic.run_due(names=["test.fail"])
    assert PeriodicRun.objects.filter(name="test.fail").count() == 2


@pytest.mark.django_db
def test_a_job_held_by_another_runner_is_skipped_until_its_lease_expires(jobs):
    job = periodic.get_job("test.ok")
    periodic.sync_jobs([job])
    assert periodic.claim(job, "runner-a") is True
    PeriodicJob.objects.filter(name="test.ok").update(next_due_at=timezone.now() - timedelta(seconds=1))
    assert periodic.claim(job, "runner-b") is False  # leased by runner-a
    assert periodic.run_due(names=["test.ok"], force=True) == []  # not even when forced
    PeriodicJob.objects.filter(name="test.ok").update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert [r.name for r in periodic.run_due(names=["test.ok"], runner="runner-b")] == ["test.ok"]


@pytest.mark.django_db
def test_a_changed_interval_is_applied_to_the_row(jobs):
    periodic.run_due(names=["test.ok"])
    periodic.unregister("test.ok")
    periodic.register("test.ok", ok_job, every=timedelta(minutes=1))
    periodic.sync_jobs([periodic.get_job("test.ok")])
    row = PeriodicJob.objects.get(name="test.ok")
    assert row.interval_seconds == 60 and row.next_due_at <= row.last_started_at + timedelta(minutes=1)


def _command(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("periodic", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_command_once_list_and_json(jobs):
    code, out = _command("--once", "--job", "test.ok")
    assert code == 0 and "test.ok: ok" in out
    code, out = _command("--once", "--job", "test.ok")
    assert code == 0 and "no job was due" in out
    code, out = _command("--once", "--job", "test.ok", "--force")
    assert code == 0 and "test.ok: ok" in out
    assert _command("--once", "--job", "test.fail")[0] == 1
    assert _command("--once", "--job", "no.such.job")[0] == 2

    code, out = _command("--list")
    assert code == 0
    ok_line = next(line for line in out.splitlines() if line.startswith("test.ok"))
    fail_line = next(line for line in out.splitlines() if line.startswith("test.fail"))
    assert "10m" in ok_line and " ok " in ok_line
    assert "FAILED" in fail_line and "boom 失败" in fail_line
    rows = {r["name"]: r for r in json.loads(_command("--list", "--json")[1])}
    assert rows["test.ok"]["last_ok"] is True and rows["test.fail"]["last_ok"] is False
    assert rows["licences.refresh_status_lists"]["last_started_at"] is None


@pytest.mark.django_db
def test_health_reports_a_job_overdue_by_more_than_three_intervals(jobs, client):
    periodic.run_due(names=jobs)
    assert periodic.health()["ok"] is True
    assert periodic.health()["failing"] == ["test.fail"]
    PeriodicJob.objects.filter(name="test.ok").update(next_due_at=timezone.now() - timedelta(minutes=29))
    assert periodic.health()["ok"] is True  # 2.9 intervals late: not yet
    PeriodicJob.objects.filter(name="test.ok").update(next_due_at=timezone.now() - timedelta(minutes=31))
    report = periodic.health()
    assert report["ok"] is False and report["overdue"] == ["test.ok"]
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["periodic"]["overdue"] == ["test.ok"]


@pytest.mark.django_db(transaction=True)
def test_run_forever_runs_due_jobs_and_stops_on_request(jobs):
    stop = threading.Event()

    def run() -> None:
        try:
            periodic.run_forever(stop=stop, names=["test.ok"])
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while not PeriodicRun.objects.filter(name="test.ok").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert PeriodicRun.objects.filter(name="test.ok").count() == 1


race_calls: list[float] = []


def slow_job() -> None:
    race_calls.append(time.monotonic())
    time.sleep(0.5)


@pytest.mark.django_db(transaction=True)
def test_two_runners_racing_for_one_job_run_it_once():
    """Each thread has its own database connection (a separate runner process would too)."""
    race_calls.clear()
    periodic.register("test.slow", slow_job, every=timedelta(minutes=10))
    try:
        periodic.sync_jobs([periodic.get_job("test.slow")])
        barrier = threading.Barrier(4)
        results: dict[str, list] = {}
        errors: list[BaseException] = []

        def runner(name: str) -> None:
            try:
                barrier.wait(10)
                results[name] = periodic.run_due(names=["test.slow"], runner=name)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=runner, args=(f"runner-{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        assert len(race_calls) == 1
        assert sum(len(r) for r in results.values()) == 1
        assert PeriodicRun.objects.filter(name="test.slow").count() == 1
    finally:
        periodic.unregister("test.slow")
