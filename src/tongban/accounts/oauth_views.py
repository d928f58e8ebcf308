"""The OAuth2 endpoints that authenticate clients, hardened:

- `ThrottledTokenView` (/o/token/): client-secret guessing is throttled. Every failed client
  authentication (HTTP 401 from the toolkit) counts against the client id and against the caller's
  address, in the database (tongban.core.throttle); past the limit the endpoint answers 429 with
  Retry-After before it even checks the secret (which also spares the server the secret's hashing), and
  logs a warning. A success does not reset the counters (a guesser could interleave its own successes).
- `OwnTokenIntrospectView` (/o/introspect/): RFC 7662 introspection answers a resource server only
  about tokens issued to itself (same application); any other token is reported `{"active": false}`,
  as the RFC asks for tokens the caller may not learn about. Failed client authentications count
  against the same throttle.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import logging
from datetime import timedelta
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import JsonResponse
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import IntrospectTokenView, TokenView
from oauthlib.common import Request as OauthlibRequest

from tongban.core import throttle

log = logging.getLogger("tongban.oauth")


def _limits() -> dict:
    return getattr(settings, "TONGBAN_TOKEN_THROTTLE", {"client": 10, "address": 30, "window_seconds": 900})


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or the header a trusted proxy sets (TONGBAN_CLIENT_IP_HEADER,
    e.g. HTTP_X_REAL_IP), since behind a proxy every caller would otherwise share one address."""
    header = getattr(settings, "TONGBAN_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    return (value.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "") or "unknown")[:64]


def presented_client_id(request) -> str:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "(malformed)"
        return unquote_plus(decoded.partition(":")[0])[:100]
    return (request.POST.get("client_id") or "")[:100]


def _keys(request) -> dict[str, int]:
    limits = _limits()
    keys = {f"oauth:address:{client_address(request)}": limits["address"]}
    client_id = presented_client_id(request)
    if client_id:
        keys[f"oauth:client:{client_id}"] = limits["client"]
    return keys


def _window() -> timedelta:
    return timedelta(seconds=_limits()["window_seconds"])


def _too_many(request, wait: int, endpoint: str) -> JsonResponse:
    log.warning("oauth client authentication throttled", extra={
        "endpoint": endpoint, "client_id": presented_client_id(request), "address": client_address(request),
        "retry_after_s": wait})
    response = JsonResponse({"error": "slow_down", "error_description":
                             "too many failed client authentications; retry later / 客户端认证失败次数过多，请稍后再试"},
                            status=429)
    response["Retry-After"] = str(wait)
    return response


def _count_failure(request, endpoint: str) -> None:
    keys = _keys(request)
    throttle.record_failure(list(keys), window=_window())
    log.warning("oauth client authentication failed", extra={
        "endpoint": endpoint, "client_id": presented_client_id(request), "address": client_address(request)})


class ThrottledTokenView(TokenView):
    def post(self, request, *args, **kwargs):
        wait = throttle.blocked_for(_keys(request), window=_window())
        if wait:
            return _too_many(request, wait, "token")
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401:  # invalid_client: unknown client or wrong secret
            _count_failure(request, "token")
        return response


class OwnTokenIntrospectView(IntrospectTokenView):
    """Introspection for a resource server about its own tokens only."""

    caller = None

    def dispatch(self, request, *args, **kwargs):
        self.caller = None
        if request.method.upper() != "OPTIONS":
            wait = throttle.blocked_for(_keys(request), window=_window())
            if wait:
                return _too_many(request, wait, "introspect")
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code in (401, 403) and self.caller is None:
            _count_failure(request, "introspect")
        return response

    def authenticate_client(self, request):
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, http_method, body, headers)
        ok = core.server.request_validator.authenticate_client(oauth_request)
        self.caller = oauth_request.client if ok else None
        return ok

    def verify_request(self, request):
        valid, oauth_request = super().verify_request(request)
        if valid and oauth_request is not None and getattr(oauth_request, "access_token", None) is not None:
            self.caller = oauth_request.access_token.application
        return valid, oauth_request

    def get(self, request, *args, **kwargs):
        return self._answer(request.GET.get("token"))

    def post(self, request, *args, **kwargs):
        return self._answer(request.POST.get("token"))

    def _answer(self, token_value: str | None) -> JsonResponse:
        if token_value is None:
            return JsonResponse({"error": "invalid_request", "error_description": "Token parameter is missing."},
                                status=400)
        checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
        try:
            token = get_access_token_model().objects.select_related("user", "application").get(
                token_checksum=checksum)
        except ObjectDoesNotExist:
            return JsonResponse({"active": False})
        caller_id = getattr(self.caller, "pk", None)
        if caller_id is None or token.application_id != caller_id or not token.is_valid():
            return JsonResponse({"active": False})
        data = {"active": True, "scope": token.scope, "exp": int(calendar.timegm(token.expires.timetuple())),
                "client_id": token.application.client_id}
        if token.user:
            data["username"] = token.user.get_username()
        return JsonResponse(data)
