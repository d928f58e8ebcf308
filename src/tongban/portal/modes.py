"""Display modes of the portal and the URLs it links to that other apps own.

- Care mode (关怀模式): large type, high contrast, simpler layout. A cookie, switched on every page
  (POST /care/) or with `?care=1` / `?care=0` on any portal page; no session is needed.
- Kiosk mode (自助通办): large touch targets and automatic sign-out after inactivity, for the
  self-service terminals of a service hall. A cookie set by /kiosk/ or `?kiosk=1`; only staff end it
  (POST /kiosk/exit/ or `?kiosk=0` signed in as staff): a citizen at the terminal cannot leave it.
- Sign-in and sign-out URLs belong to the accounts app. `TONGBAN_LOGOUT_URL` / `LOGIN_URL` name
  them; a link to a URL that does not resolve (yet) is not shown, and the kiosk timer falls back to
  the portal's own sign-out (POST /kiosk/sign-out/), so no page links to a 404.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.urls import Resolver404, resolve, reverse

CARE_COOKIE = "tb_care"
KIOSK_COOKIE = "tb_kiosk"
COOKIE_AGE = 365 * 24 * 3600
DEFAULT_KIOSK_IDLE_SECONDS = 120
DEFAULT_LOGOUT_URL = "/accounts/logout/"


def _flag(request, name: str, cookie: str) -> bool:
    value = request.GET.get(name)
    if value in {"0", "1"}:
        return value == "1"
    return request.COOKIES.get(cookie) == "1"


def care_mode(request) -> bool:
    return _flag(request, "care", CARE_COOKIE)


def may_end_kiosk(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "kind", "") == "staff")


def kiosk_mode(request) -> bool:
    if request.COOKIES.get(KIOSK_COOKIE) == "1" and not may_end_kiosk(request):
        return True  # `?kiosk=0` from a citizen does not end the terminal's kiosk mode
    return _flag(request, "kiosk", KIOSK_COOKIE)


def set_mode_cookie(response, cookie: str, on: bool) -> None:
    if on:
        response.set_cookie(cookie, "1", max_age=COOKIE_AGE, samesite="Lax", httponly=True,
                            secure=getattr(settings, "SESSION_COOKIE_SECURE", False))
    else:
        response.delete_cookie(cookie, samesite="Lax")


def remember_modes(view):
    """Persist `?care=0|1` and `?kiosk=0|1` given to a portal page in their cookies."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        for name, cookie in (("care", CARE_COOKIE), ("kiosk", KIOSK_COOKIE)):
            value = request.GET.get(name)
            if value == "0" and name == "kiosk" and not may_end_kiosk(request):
                continue  # only staff end kiosk mode
            if value in {"0", "1"}:
                set_mode_cookie(response, cookie, value == "1")
        return response

    return wrapper


def url_exists(path: str | None) -> bool:
    if not path or not path.startswith("/"):
        return bool(path)  # an absolute URL elsewhere is taken as configured on purpose
    try:
        resolve(path.split("?", 1)[0])
    except Resolver404:
        return False
    return True


def login_url() -> str | None:
    url = getattr(settings, "LOGIN_URL", None)
    return url if url_exists(url) else None


def logout_url() -> str:
    """Where sign-out is POSTed: TONGBAN_LOGOUT_URL, else /accounts/logout/ once it exists, else the
    portal's own sign-out."""
    configured = getattr(settings, "TONGBAN_LOGOUT_URL", None)
    if configured:
        return configured
    if url_exists(DEFAULT_LOGOUT_URL):
        return DEFAULT_LOGOUT_URL
    return reverse("portal:sign-out")


def kiosk_idle_seconds() -> int:
    return int(getattr(settings, "TONGBAN_KIOSK_IDLE_SECONDS", DEFAULT_KIOSK_IDLE_SECONDS))
