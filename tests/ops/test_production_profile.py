"""The production profile serves no demo route or content, sends a Content-Security-Policy, loads no
third-party script on the API docs and refuses to start without its OIDC key.

Most checks run the real thing: a child process with TONGBAN_PROFILE=production (collected static files,
hashed names, SSL redirect behind the proxy header) against this test's database."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tongban.core import demo

from .processes import PROJECT, TONGBAN, child_env, run

pytestmark = pytest.mark.xdist_group("processes")


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def production_env(tmp_path_factory):
    var = tmp_path_factory.mktemp("prodvar")
    env = child_env(TONGBAN_PROFILE="production", SECRET_KEY="p" * 50, TONGBAN_OIDC_KEY=_pem(),
                    TONGBAN_VAR_DIR=str(var), ALLOWED_HOSTS="testserver")
    done = run([str(TONGBAN), "collectstatic", "--no-input"], env, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


def _probe(env, *paths: str) -> dict:
    done = run([str(TONGBAN.with_name("python")), str(PROJECT / "tests/ops/production_probe.py"), *paths], env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_production_serves_no_demo_route_or_content(production_env):
    pages = _probe(production_env, "/", "/rp-demo/", "/rp-demo/login", "/api/v1/docs", "/accounts/login/")
    home = pages["/"]
    assert home["status"] == 200
    assert demo.DEMO_PASSWORD not in home["body"]
    assert "xianning-clerk" not in home["body"] and "演示账号" not in home["body"]
    assert pages["/rp-demo/"]["status"] == 404 and pages["/rp-demo/login"]["status"] == 404
    # Every response carries the policy: scripts and styles from this site only.
    for page in pages.values():
        assert "script-src 'self'" in page["csp"] and "style-src 'self'" in page["csp"]
        assert "unsafe-inline" not in page["csp"] and "unsafe-eval" not in page["csp"]
    # The API docs load Swagger UI from our own static files, never from another host.
    docs = pages["/api/v1/docs"]
    assert docs["status"] == 200
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', docs["body"])
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not re.search(r"<script>(?!\s*$)|<script\s*>[^<]", docs["body"])  # no inline script


@pytest.mark.django_db(transaction=True)
def test_a_production_site_may_opt_in_to_the_demo(production_env):
    pages = _probe({**production_env, "TONGBAN_DEMO": "1"}, "/")
    assert demo.DEMO_PASSWORD in pages["/"]["body"]


@pytest.mark.django_db(transaction=True)
def test_demo_load_refuses_in_production(production_env):
    done = run([str(TONGBAN), "demo", "load"], production_env)
    assert done.returncode == 2 and "TONGBAN_DEMO=1" in done.stderr


def test_production_start_fails_without_the_oidc_key(monkeypatch):
    import tongban.settings as module
    from tongban.accounts.keys import MissingOIDCKey

    monkeypatch.setenv("TONGBAN_PROFILE", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.delenv("TONGBAN_OIDC_KEY", raising=False)
    try:
        with pytest.raises(MissingOIDCKey, match="TONGBAN_OIDC_KEY must be set in production"):
            importlib.reload(module)
        monkeypatch.setenv("TONGBAN_OIDC_KEY", "not a key")
        with pytest.raises(MissingOIDCKey, match="PEM"):
            importlib.reload(module)
        monkeypatch.setenv("TONGBAN_OIDC_KEY", _pem())
        reloaded = importlib.reload(module)
        assert reloaded.TONGBAN_DEMO is False and reloaded.TONGBAN_DEFAULT_REGION == ""
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_development_pages_carry_the_same_policy(client, db):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_demo_routes_follow_the_setting_per_request(client, db, settings):
    settings.TONGBAN_DEMO = False
    assert client.get("/rp-demo/").status_code == 404
    assert demo.DEMO_PASSWORD not in client.get("/").content.decode()
