"""What the running profile allows: demo content and routes only where `settings.TONGBAN_DEMO` is on
(development by default; production only with TONGBAN_DEMO=1, see docs/deploy.md)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import Http404


def demo_enabled() -> bool:
    return bool(getattr(settings, "TONGBAN_DEMO", False))


def demo_only(view):
    """A demo page: 404 (as if it did not exist) unless the demo is on. Checked per request, so a
    settings change (or a test) takes effect without reloading the URLconf."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not demo_enabled():
            raise Http404("demo pages are off")
        return view(request, *args, **kwargs)

    return guarded
