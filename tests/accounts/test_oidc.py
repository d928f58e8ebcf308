"""The platform as OpenID Connect provider: discovery, JWKS, authorization code + PKCE (S256 only),
RS256 ID tokens with the acting-as claim, userinfo; and the demo relying party doing the same over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from django.test import Client
from jwcrypto import jwk, jwt

from tongban.accounts import rp_demo
from tongban.accounts.demo import ensure_rp_demo_client
from tongban.accounts.services import grant_mandate, revoke_mandate

pytestmark = pytest.mark.django_db

CLIENT_ID = rp_demo.CLIENT_ID
REDIRECT = "http://testserver/rp-demo/callback"


def _pkce() -> tuple[str, str]:
    verifier = "v" * 20 + "0123456789-._~abcdefghijklmnopqrstuvwxyz"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(client, config, challenge, method="S256", **extra):
    path = urlparse(config["authorization_endpoint"]).path
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": "openid profile",
              "state": "st4te", "nonce": "n0nce", "code_challenge": challenge, "code_challenge_method": method,
              **extra}
    return client.get(path, params)


def _code(response) -> str:
    assert response.status_code == 302, response.content[:500]
    query = parse_qs(urlparse(response["Location"]).query)
    assert query.get("state") == ["st4te"], response["Location"]
    return query["code"][0]


def test_discovery_document(client):
    config = client.get("/.well-known/openid-configuration").json()
    assert config["issuer"] == "http://testserver"
    assert config["authorization_endpoint"] == "http://testserver/o/authorize/"
    assert config["token_endpoint"] == "http://testserver/o/token/"
    assert config["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert config["userinfo_endpoint"] == "http://testserver/o/userinfo/"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in config["id_token_signing_alg_values_supported"]
    assert config["response_types_supported"] == ["code"]
    assert {"openid", "profile"} <= set(config["scopes_supported"])
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"


def test_full_authorization_code_pkce_flow_with_acting_as(client, people):
    p = people
    ensure_rp_demo_client()
    grant_mandate(granted_by=p.boss, principal=p.enterprise, agent=p.agent, all_items=True, valid_until=p.year)
    client.force_login(p.agent)
    client.post("/accounts/acting-as", {"party": f"enterprise:{p.enterprise.uscc}"})

    config = client.get("/.well-known/openid-configuration").json()
    verifier, challenge = _pkce()
    code = _code(_authorize(client, config, challenge))  # trusted demo client: approved without a consent page

    rp = Client()  # the relying party's back channel: no user session
    token_path = urlparse(config["token_endpoint"]).path
    wrong = rp.post(token_path, {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
                                 "redirect_uri": REDIRECT, "code_verifier": "x" * 50})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = _code(_authorize(client, config, challenge))  # a failed exchange burns the code
    response = rp.post(token_path, {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
                                    "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert response.status_code == 200, response.content
    tokens = response.json()

    keyset = jwk.JWKSet.from_json(json.dumps(rp.get(urlparse(config["jwks_uri"]).path).json()))
    id_token = jwt.JWT(jwt=tokens["id_token"], key=keyset, algs=["RS256"],
                       check_claims={"iss": config["issuer"], "aud": CLIENT_ID, "exp": None})
    assert json.loads(id_token.header)["alg"] == "RS256"
    claims = json.loads(id_token.claims)
    assert claims["sub"] == str(p.agent.pk) and claims["nonce"] == "n0nce"
    assert claims["name"] == p.agent.real_name and claims["region"] == "430100"
    assert claims["acting_as"] == {"kind": "enterprise", "code": p.enterprise.uscc, "name": p.enterprise.name}

    info = rp.get(urlparse(config["userinfo_endpoint"]).path, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert info.status_code == 200
    assert info.json()["acting_as"]["code"] == p.enterprise.uscc and info.json()["sub"] == str(p.agent.pk)

    # The mandate is revoked: the next userinfo no longer asserts the enterprise, and the ID number is masked.
    mandate = p.agent.mandates_held.get()
    revoke_mandate(mandate=mandate, revoked_by=p.boss)
    info = rp.get(urlparse(config["userinfo_endpoint"]).path, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    acting = info.json()["acting_as"]
    assert acting["kind"] == "person" and acting["code"] != p.agent.id_number and "*" in acting["code"]
    assert acting["code"][:4] == p.agent.id_number[:4] and acting["code"][-4:] == p.agent.id_number[-4:]


def test_pkce_is_required_and_plain_is_refused(client, people):
    ensure_rp_demo_client()
    client.force_login(people.agent)
    config = client.get("/.well-known/openid-configuration").json()
    for response in (_authorize(client, config, "", method=""),
                     _authorize(client, config, "p" * 50, method="plain")):
        location = response.get("Location", "")
        assert response.status_code in (302, 400) and "code=" not in location, location
        if response.status_code == 302:
            assert "error=" in location


def test_anonymous_authorize_goes_to_login(client):
    ensure_rp_demo_client()
    config = client.get("/.well-known/openid-configuration").json()
    response = _authorize(client, config, _pkce()[1])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


class DjangoTransport(httpx.BaseTransport):
    """Routes the relying party's HTTP calls to this Django process (a separate client, no shared session)."""

    def __init__(self):
        self.client = Client()
        self.calls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        response = self.client.generic(request.method, request.url.raw_path.decode(), request.read(),
                                       content_type=headers.pop("content-type", ""),
                                       headers=headers)
        return httpx.Response(response.status_code, headers=dict(response.items()), content=response.content)


def test_demo_relying_party_signs_in_through_the_provider(client, people, monkeypatch):
    p = people
    ensure_rp_demo_client()
    transport = DjangoTransport()
    monkeypatch.setattr(rp_demo, "http_client", lambda: httpx.Client(transport=transport))
    client.force_login(p.boss)
    client.post("/accounts/acting-as", {"party": f"enterprise:{p.enterprise.uscc}"})

    start = client.get("/rp-demo/login")
    assert start.status_code == 302 and "code_challenge_method=S256" in start["Location"]
    authorize = client.get(start["Location"].removeprefix("http://testserver"))
    assert authorize.status_code == 302 and authorize["Location"].startswith(REDIRECT)
    done = client.get(authorize["Location"].removeprefix("http://testserver"))
    assert done.status_code == 302, done.content
    page = client.get("/rp-demo/").content.decode()
    assert p.boss.real_name in page and p.enterprise.name in page
    assert transport.calls == ["GET /.well-known/openid-configuration", "GET /.well-known/openid-configuration",
                               "POST /o/token/", "GET /.well-known/jwks.json", "GET /o/userinfo/"]
    # A replayed callback (state already used) is refused.
    assert client.get(authorize["Location"].removeprefix("http://testserver")).status_code == 400
