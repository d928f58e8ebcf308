"""Readiness and what an operator must act on, for `/healthz`.

503 (not ok) when the site cannot work or background work has stopped: the database does not answer,
the oldest waiting task is older than 15 minutes, a task's lease expired long ago and no worker reaped
it (no `tongban background` is running), a periodic job is overdue by three intervals, or the
federation outbox is not draining.

Listed without failing the check (a load balancer must not take a web node out for them, but monitoring
should alert): `attention` names failed tasks of the last day and periodic jobs whose last run failed
(for `cases.sweep` the error names the cases whose deemed acceptance failed).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

STALE_QUEUE_AFTER = timedelta(minutes=15)


def check() -> dict:
    report: dict = {"ok": True, "database": {"ok": False}, "tasks": {"ok": False}, "periodic": {"ok": False},
                    "attention": []}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        report["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        report["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        from django_tasks_db.models import DBTaskResult

        from . import worker

        ready = DBTaskResult.objects.filter(status="READY")
        oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
        stale = oldest is not None and timezone.now() - oldest > STALE_QUEUE_AFTER
        tasks = worker.health()
        report["tasks"] = {"ok": not stale and not tasks["stuck"], "oldest_ready": oldest.isoformat() if oldest else None,
                           "stale": stale, **tasks}
        report["attention"] += [f"task failed: {t['task']} {t['id']} ({t['error']})" for t in tasks["failed"]]
        report["attention"] += [f"task stuck (no worker reaps it): {t}" for t in tasks["stuck"]]
    except Exception as exc:  # noqa: BLE001
        report["tasks"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        from . import periodic

        report["periodic"] = periodic.health()
        report["attention"] += [f"periodic job failing: {name}: {error}"
                                for name, error in report["periodic"].get("errors", {}).items()]
    except Exception as exc:  # noqa: BLE001
        report["periodic"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        from tongban.federation.selectors import health as federation_health

        report["federation"] = federation_health()
    except Exception as exc:  # noqa: BLE001
        report["federation"] = {"ok": False, "error": exc.__class__.__name__}
    report["ok"] = (report["database"]["ok"] and report["tasks"]["ok"] and report["periodic"]["ok"]
                    and report["federation"]["ok"])
    return report
