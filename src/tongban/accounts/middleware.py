"""Per-request identity: idle session expiry, the staff second factor, and `request.acting_as`.

Runs after AuthenticationMiddleware and django-otp's OTPMiddleware. For every authenticated request:

1. Idle expiry: staff sessions end after TONGBAN_SESSION_IDLE_STAFF seconds without a request,
   applicants' after TONGBAN_SESSION_IDLE_APPLICANT (the stored expiry is renewed at most once a minute).
2. Staff must have passed TOTP (django-otp) unless TONGBAN_DEMO_SKIP_OTP (never in production): pages
   redirect to /accounts/otp/ (or enrolment when the user has no device); the API answers 401.
3. `request.acting_as`: the party chosen in the session (a `Party`), re-checked against the database
   on every request; a party the user may no longer act as (mandate revoked or expired) is dropped
   and the user acts as themselves again. Staff and anonymous users get None.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode

from .models import User
from .selectors import party_for_key, person_party

SESSION_KEY = "tongban_acting_as"
SEEN_KEY = "tongban_seen"
_OTP_EXEMPT = ("/accounts/login/", "/accounts/logout/", "/accounts/otp/", "/static/", "/healthz", "/i18n/",
               "/.well-known/", "/o/token/", "/o/userinfo/", "/o/revoke_token/", "/o/introspect/")


def idle_limit(user) -> int:
    if user.kind == User.Kind.PERSON:
        return settings.TONGBAN_SESSION_IDLE_APPLICANT
    return settings.TONGBAN_SESSION_IDLE_STAFF


def otp_required(user) -> bool:
    return (user.is_authenticated and user.kind == User.Kind.STAFF
            and not getattr(settings, "TONGBAN_DEMO_SKIP_OTP", False))


def otp_pending(request) -> bool:
    user = request.user
    return otp_required(user) and not (hasattr(user, "is_verified") and user.is_verified())


class IdentityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.acting_as = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            response = self._enforce_idle(request, user)
            if response is None:
                response = self._enforce_otp(request)
            if response is not None:
                return response
            if request.user.is_authenticated:
                request.acting_as = resolve_acting_as(request)
        return self.get_response(request)

    def _enforce_idle(self, request, user):
        now = int(time.time())
        session = request.session
        seen = session.get(SEEN_KEY)
        limit = idle_limit(user)
        if seen is not None and now - int(seen) > limit:
            logout(request)
            if request.path.startswith("/api/"):
                return None  # the API answers 401 for the now anonymous request
            return HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path(), 'expired': 1})}")
        if seen is None or now - int(seen) >= 60:
            session[SEEN_KEY] = now
            session.set_expiry(min(limit, settings.SESSION_COOKIE_AGE))
        return None

    def _enforce_otp(self, request):
        if not otp_pending(request) or request.path.startswith(_OTP_EXEMPT):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": [{
                "field": "auth", "rule": "otp.required", "zh": "工作人员须先完成动态口令（TOTP）验证",
                "en": "staff must complete the TOTP second factor first",
                "message": "工作人员须先完成动态口令（TOTP）验证 / staff must complete the TOTP second factor first"}]},
                status=401)
        from django_otp import devices_for_user

        target = "accounts:otp-verify" if any(devices_for_user(request.user)) else "accounts:otp-setup"
        return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def resolve_acting_as(request):
    """The session's party for this request, re-checked now; drops a party no longer allowed."""
    user = request.user
    if user.kind != User.Kind.PERSON:
        return None
    key = request.session.get(SESSION_KEY) or "person"
    if key == "person":
        return person_party(user)
    party = party_for_key(user, key)
    if party is None:
        request.session.pop(SESSION_KEY, None)
        messages.warning(request, "您对该企业的代办授权已失效，现以个人身份办理 / "
                                  "your authority to act for that enterprise has ended; you now act as yourself")
        return person_party(user)
    return party
