from django.http import JsonResponse

from . import health


def healthz(request):
    report = health.check()
    return JsonResponse(report, status=200 if report["ok"] else 503)
