"""The API docs (Swagger UI) render in Chromium from our own static files under the site's
Content-Security-Policy: no request to another host, no policy violation (checked by `new_page`)."""

from __future__ import annotations

from playwright.sync_api import expect


def test_swagger_ui_renders_from_own_files_under_the_policy(live_server, page, _async_unsafe_allowed):
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(live_server.url + "/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
    assert hosts == {live_server.url.split("/")[2]}
