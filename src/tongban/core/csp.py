"""Content-Security-Policy on every response, from `settings.TONGBAN_CSP` (directive -> sources).

Why our own few lines rather than a package: the policy is one fixed string (no nonces: no template
has inline script or style; htmx runs with `allowEval` and `includeIndicatorStyles` off, its
indicator styles live in portal.css, and it settles no `style` attribute: `attributesToSettle` leaves
out "style", whose setAttribute the policy would block), and Django 5.2 has no built-in CSP (6.0 does). A view that
already set the header (none today) keeps its own.
"""

from __future__ import annotations

from django.conf import settings

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"


def policy() -> str:
    directives = getattr(settings, "TONGBAN_CSP", None) or {}
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        header = REPORT_ONLY_HEADER if getattr(settings, "TONGBAN_CSP_REPORT_ONLY", False) else HEADER
        value = policy()
        if value and header not in response:
            response[header] = value
        return response
