"""A demo relying party: a second regional portal that signs its users in through the platform (OIDC).

It does what any regional portal would, over HTTP and with nothing shared but the client id:
discovery -> redirect to the authorisation endpoint with PKCE (S256), state and nonce -> exchange
the code at the token endpoint -> verify the RS256 ID token with the provider's JWKS (signature,
issuer, audience, expiry, nonce) -> call userinfo. The result is shown on /rp-demo/.

The provider defaults to this very site (TONGBAN_RP_DEMO_PROVIDER overrides, e.g. another node).
`http_client()` is the one place the HTTP calls are made, so a test can route them in-process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

import httpx
from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from jwcrypto import jwk, jwt

CLIENT_ID = "tongban-rp-demo"
SESSION_FLOW = "rp_demo_flow"
SESSION_USER = "rp_demo_user"


def http_client() -> httpx.Client:
    return httpx.Client(timeout=10)


def _provider(request) -> str:
    return (getattr(settings, "TONGBAN_RP_DEMO_PROVIDER", "") or request.build_absolute_uri("/")).rstrip("/")


def _discover(client: httpx.Client, provider: str) -> dict:
    response = client.get(f"{provider}/.well-known/openid-configuration")
    response.raise_for_status()
    return response.json()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def home(request):
    return render(request, "accounts/rp_demo.html", {"signed_in": request.session.get(SESSION_USER)})


def login(request):
    provider = _provider(request)
    with http_client() as client:
        config = _discover(client, provider)
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    request.session[SESSION_FLOW] = {"state": state, "nonce": nonce, "verifier": verifier, "provider": provider,
                                     "redirect_uri": request.build_absolute_uri(reverse("rp-demo:callback"))}
    query = urlencode({"response_type": "code", "client_id": CLIENT_ID, "scope": "openid profile",
                       "redirect_uri": request.session[SESSION_FLOW]["redirect_uri"], "state": state,
                       "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
    return HttpResponseRedirect(f"{config['authorization_endpoint']}?{query}")


def verify_id_token(raw: str, jwks: dict, *, issuer: str, audience: str, nonce: str | None) -> dict:
    """Check an ID token's RS256 signature against the JWKS and its iss, aud, exp and nonce."""
    keyset = jwk.JWKSet.from_json(json.dumps(jwks))
    token = jwt.JWT(jwt=raw, key=keyset, algs=["RS256"], check_claims={"iss": issuer, "exp": None})
    claims = json.loads(token.claims)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if audience not in audiences:
        raise ValueError("audience mismatch")
    if nonce is not None and claims.get("nonce") != nonce:
        raise ValueError("nonce mismatch")
    if claims["exp"] < time.time():
        raise ValueError("expired")
    return claims


def callback(request):
    flow = request.session.pop(SESSION_FLOW, None)
    if not flow or request.GET.get("state") != flow["state"]:
        return HttpResponseBadRequest("state 不匹配或登录已过期 / state mismatch or the sign-in has expired")
    if "error" in request.GET:
        return HttpResponseBadRequest(f"登录被拒绝 / sign-in refused: {request.GET['error']}")
    with http_client() as client:
        config = _discover(client, flow["provider"])
        token_response = client.post(config["token_endpoint"], data={
            "grant_type": "authorization_code", "code": request.GET.get("code", ""), "client_id": CLIENT_ID,
            "redirect_uri": flow["redirect_uri"], "code_verifier": flow["verifier"]})
        if token_response.status_code != 200:
            return HttpResponseBadRequest(f"令牌交换失败 / token exchange failed: {token_response.text[:200]}")
        tokens = token_response.json()
        jwks = client.get(config["jwks_uri"]).json()
        try:
            claims = verify_id_token(tokens["id_token"], jwks, issuer=config["issuer"], audience=CLIENT_ID,
                                     nonce=flow["nonce"])
        except Exception as exc:  # noqa: BLE001 - any verification failure refuses the sign-in
            return HttpResponseBadRequest(f"ID 令牌校验失败 / ID token rejected: {exc}")
        userinfo = client.get(config["userinfo_endpoint"],
                              headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    request.session[SESSION_USER] = {"id_token": {k: claims.get(k) for k in ("iss", "sub", "name", "region",
                                                                              "acting_as")},
                                     "userinfo": userinfo}
    return HttpResponseRedirect(reverse("rp-demo:home"))
