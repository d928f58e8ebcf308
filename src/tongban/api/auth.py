"""API authentication: a signed-in session, or an OAuth2 bearer token of a department system.

    from tongban.api.auth import api_auth, require_scope
    @router.get("/cases", auth=require_scope("cases:read"))   # session users, or tokens with the scope
    @router.get("/me", auth=api_auth)                          # session users, or any valid token

Bearer tokens come from the client-credentials grant at /o/token/ (see docs/identity.md). The token's
application is bound to a department through accounts.SystemClient; `request.user` becomes that
system's user (kind "system", of that department), `request.auth` too, and `request.oauth_scopes`
holds the token's scopes. An invalid or expired token answers 401; a valid token without the needed
scope answers 403 with a bilingual problem. Staff sessions still need their TOTP step (middleware).

CSRF protects cookie sessions only: the bearer check runs first, so a department system's POST with a
valid token needs no CSRF token (a browser cannot attach someone's bearer token to a forged cross-site
request; it does attach their session cookie, which is why session requests stay CSRF-checked).
"""

from __future__ import annotations

import hashlib

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from tongban.core.errors import Problem


class ScopeDenied(Exception):
    """A valid token without the scope an endpoint needs (answered 403)."""

    def __init__(self, scope: str):
        self.scope = scope
        self.problem = Problem("auth", "scope", f"访问令牌缺少权限范围 {scope}",
                               f"the access token lacks the scope {scope}")
        super().__init__(self.problem.line())


_handler_installed = False


def _install_handler() -> None:
    """Register the 403 handler on the API the first time a scope is refused (avoids an import cycle)."""
    global _handler_installed
    if _handler_installed:
        return
    from tongban.api.main import api, problems_response

    api.add_exception_handler(ScopeDenied, lambda request, exc: problems_response(request, [exc.problem], 403))
    _handler_installed = True


class SessionUser(SessionAuth):
    """A signed-in user (cookie session, CSRF-checked for unsafe methods)."""

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


class DepartmentBearer(HttpBearer):
    """An OAuth2 access token issued to a department system (client credentials), optionally scoped."""

    def __init__(self, scope: str | None = None):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token):
        from oauth2_provider.models import AccessToken

        from tongban.accounts.models import SystemClient

        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        access = (AccessToken.objects.select_related("application").filter(token_checksum=checksum).first())
        if access is None or access.expires <= timezone.now() or access.application is None:
            return None
        try:
            client = SystemClient.objects.select_related("user", "department").get(application=access.application)
        except SystemClient.DoesNotExist:
            return None
        if not client.user.is_active:
            return None
        scopes = set(access.scope.split())
        if self.scope and self.scope not in scopes:
            _install_handler()
            raise ScopeDenied(self.scope)
        request.user = client.user
        request.oauth_scopes = scopes
        request.system_client = client
        return client.user


def require_scope(scope: str) -> list:
    """Auth for an endpoint open to department systems whose token has `scope` and to signed-in users.
    The bearer check comes first: the session check raises on a failed CSRF check, which must not stop
    a token request."""
    return [DepartmentBearer(scope), SessionUser()]


api_auth = [DepartmentBearer(), SessionUser()]
