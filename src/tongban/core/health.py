"""Readiness: can we reach the database, is the task queue reachable and draining, and are the periodic
jobs being run (none due for more than three intervals)? Is the federation outbox draining?"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

STALE_QUEUE_AFTER = timedelta(minutes=15)


def check() -> dict:
    report: dict = {"ok": True, "database": {"ok": False}, "tasks": {"ok": False}, "periodic": {"ok": False}}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        report["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        report["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        from django_tasks_db.models import DBTaskResult

        ready = DBTaskResult.objects.filter(status="READY")
        oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
        stale = oldest is not None and timezone.now() - oldest > STALE_QUEUE_AFTER
        report["tasks"] = {"ok": not stale, "oldest_ready": oldest.isoformat() if oldest else None,
                           "stale": stale}
    except Exception as exc:  # noqa: BLE001
        report["tasks"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        from . import periodic

        report["periodic"] = periodic.health()
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
