"""Staff consoles: window, officer workbench, supervisor board (see docs/console.md)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect


def index(request):
    user = request.user
    if not user.is_authenticated or getattr(user, "kind", "") != "staff":
        raise Http404
    return redirect("/admin/")
