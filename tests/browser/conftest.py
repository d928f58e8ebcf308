"""Browser-test fixtures: Playwright for Python driving Debian's Chromium against a live server.

Reusable by any module under tests/browser/:
- `site`: a live server (module scope) over the test database with the full demo data loaded and
  committed (the server thread has its own connection, so data must be committed). At the end of the
  module the database is flushed, like pytest-django's transactional tests do, and the per-process
  caches are cleared. Tests in one module share the data: write only what the module itself reads.
- `browser` (module scope) and `page` (per test, fresh context: no cookies, zh-CN, desktop viewport);
  `new_page(viewport=..., locale=..., cookies=...)` for other devices.
- `login_as(page, username)`: signs a demo user in without the login page (force_login on a test
  client, then the session cookie is injected into the browser context).
- `axe_check(page)`: runs the vendored axe-core and returns the serious and critical violations.
- `screenshot(page, name)`: saves docs/screenshots/<name>.png when TONGBAN_SCREENSHOTS=1, else into
  the test's tmp dir (the committed pictures change only when asked for).

Playwright's sync API keeps an event loop in the test thread, which trips Django's async-unsafe
guard on every ORM call from the test: DJANGO_ALLOW_ASYNC_UNSAFE is set for these modules only.
Every test here is marked `browser` and grouped on one xdist worker (`xdist_group("browser")`), so
the demo data is loaded once per module and the two workers do not both start Chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TONGBAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
VENDOR = Path(__file__).parent / "vendor"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(items):
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))
            # Tells pytest-django to set up the test database even when only browser tests run.
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture
def _django_db_helper():
    """No per-test transaction or flush here (pytest-django's helper would flush after every test):
    the `site` fixture commits the demo data once per module and flushes at the module's end."""
    yield


@pytest.fixture(scope="module")
def _async_unsafe_allowed():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _clear_process_caches():
    from tongban.licences import cache as licence_cache

    licence_cache.invalidate()


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, _async_unsafe_allowed):
    """Base URL of a live server with the demo data (committed; flushed after the module)."""
    from django.core.management import call_command
    from pytest_django.live_server_helper import LiveServer

    from tongban.core import demo

    with django_db_blocker.unblock():
        _clear_process_caches()
        demo.load()
        server = LiveServer("127.0.0.1:0")
        try:
            yield server.url
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            _clear_process_caches()


@pytest.fixture(scope="module")
def db_access(django_db_blocker):
    """ORM access from a browser test (setting up data, checking what a page wrote)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def browser(_async_unsafe_allowed):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make setup` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser):
    """Pages of fresh contexts. Every page is watched for Content-Security-Policy violations (the site
    sends a strict policy): a test that caused one fails at teardown, naming it."""
    contexts = []
    violations: list[str] = []

    def watch(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{message.text[:90]} at {message.location} on {message.page.url if message.page else ''}")

    def make(*, viewport=DESKTOP, locale="zh-CN", cookies=None, **kwargs):
        context = browser.new_context(viewport=viewport, locale=locale, **kwargs)
        context.set_default_timeout(10_000)
        if cookies:
            context.add_cookies(cookies)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def page(new_page):
    return new_page()


def _cookie(site: str, name: str, value: str) -> dict:
    return {"name": name, "value": value, "url": site, "httpOnly": True, "sameSite": "Lax"}


@pytest.fixture
def login_as(site, django_db_blocker):
    """login_as(page, "changsha-citizen") -> the user; the page's context is signed in."""
    from django.conf import settings
    from django.test import Client

    from tongban.accounts.models import User

    def do(page, username: str):
        with django_db_blocker.unblock():
            user = User.objects.get(username=username)
            client = Client()
            client.force_login(user)
            session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies([_cookie(site, settings.SESSION_COOKIE_NAME, session_key)])
        return user

    return do


@pytest.fixture
def mode_cookie(site):
    """mode_cookie("tb_care") -> a cookie dict switching a display mode on for `new_page(cookies=[...])`."""
    return lambda name: _cookie(site, name, "1")


def run_axe(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: an injected <script> would be an inline script,
        # which the site's Content-Security-Policy (rightly) refuses.
        page.evaluate((VENDOR / "axe.min.js").read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations'],
                                               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""")
    return result


@pytest.fixture
def axe_check():
    """axe_check(page) -> the serious and critical violations (list of dicts; empty when clean)."""
    return lambda page: [v for v in run_axe(page) if v["impact"] in BLOCKING_IMPACTS]


def _shrink(path: Path) -> None:
    """An adaptive 64-colour palette keeps the committed pictures small (text pages lose nothing visible)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


@pytest.fixture
def screenshot(tmp_path):
    def do(page, name: str, *, full_page: bool = False) -> Path:
        target_dir = SCREENSHOT_DIR if os.environ.get("TONGBAN_SCREENSHOTS") == "1" else tmp_path
        target_dir.mkdir(parents=True, exist_ok=True)
        path = target_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if target_dir == SCREENSHOT_DIR:
            _shrink(path)
        return path

    return do
