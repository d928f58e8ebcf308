from ninja import Router

from . import health

router = Router(tags=["platform"])


@router.get("/health", summary="Liveness and readiness of the database and the task queue")
def health_check(request):
    report = health.check()
    return 200 if report["ok"] else 503, report
