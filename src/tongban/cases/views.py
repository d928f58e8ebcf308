"""Public pages of case handling: the verification page a notice's QR code leads to."""

from __future__ import annotations

from django.shortcuts import render

from . import notices


def verify_notice(request, token: str):
    result = notices.verify(token)
    return render(request, "cases/verify_notice.html", {"result": result}, status=200 if result["valid"] else 404)
