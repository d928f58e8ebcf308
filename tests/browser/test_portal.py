"""The applicant portal in Chromium: search to plan, care mode, language, kiosk sign-out, my licences,
and axe-core on the main pages in normal and care mode, desktop and phone."""

from __future__ import annotations

import re

import pytest

from .conftest import DESKTOP, PHONE

PAGES = {
    "home": "/",
    "search": "/search?q=开火锅店",
    "bundle": "/bundles/open-restaurant/?region=430100&area_sqm=600",
}


def test_from_the_search_box_to_a_live_plan(site, page, screenshot):
    page.goto(site + "/")
    page.get_by_label("我要办").fill("开火锅店")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(r"/search\?q="))
    assert "火锅店" in page.locator(".why").first.inner_text()
    page.get_by_role("link", name="我要开饭馆").click()
    page.wait_for_url(re.compile(r"/bundles/open-restaurant/"))
    assert page.locator("#plan .stages [data-item='fire-design-review']").count() == 0

    area = page.get_by_label(re.compile("经营场所建筑面积"))
    area.fill("600")  # htmx swaps the plan in without a page load
    page.locator("#plan .stages [data-item='fire-design-review']").wait_for()
    assert "area_sqm=600" in page.url  # the URL keeps the answers (hx-push-url)
    assert page.locator("#plan-summary").inner_text().startswith("共 6 个事项")
    area.fill("350")
    page.locator("#plan .stages [data-item='fire-completion-filing']").wait_for()
    assert page.locator("#plan .excluded [data-item='fire-design-review']").count() == 1
    assert page.evaluate("document.activeElement.id") == "a-area_sqm"  # typing is not interrupted
    screenshot(page, "bundle-restaurant-desktop")


def test_care_mode_is_one_switch_on_every_page_and_stays_on(site, page):
    page.goto(site + "/search?q=开饭馆")
    base_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    toggle = page.get_by_test_id("care-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.evaluate("document.documentElement.classList.contains('care')")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= base_size * 1.2
    page.get_by_role("link", name="我要开饭馆").click()
    assert page.get_by_test_id("care-toggle").get_attribute("aria-pressed") == "true"
    page.get_by_test_id("care-toggle").click()
    assert not page.evaluate("document.documentElement.classList.contains('care')")


def test_english_switch(site, page):
    page.goto(site + "/")
    page.get_by_test_id("lang-en").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_by_role("button", name="Search").is_visible()
    page.get_by_test_id("lang-zh-hans").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"


def test_keyboard_user_reaches_the_content_by_the_skip_link(site, page):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_kiosk_signs_out_after_inactivity(site, new_page, login_as, settings, screenshot):
    settings.TONGBAN_KIOSK_IDLE_SECONDS = 4
    page = new_page(viewport={"width": 1080, "height": 1920})
    login_as(page, "changsha-citizen")
    page.goto(site + "/kiosk/")
    assert page.get_by_role("link", name="我的证照").is_visible()
    button_height = page.get_by_role("button", name="搜索").bounding_box()["height"]
    assert button_height >= 64  # large touch targets
    page.locator("#kiosk-warning").wait_for(state="visible", timeout=6_000)
    screenshot(page, "kiosk-warning")
    # A locator wait, not wait_for_function("..."): a string predicate is eval'd in the page, which the
    # site's Content-Security-Policy refuses.
    page.locator("#kiosk-warning").wait_for(state="hidden", timeout=8_000)
    page.wait_for_load_state()
    page.goto(site + "/")
    assert page.get_by_role("link", name="我的证照").count() == 0  # signed out


def test_kiosk_warning_can_be_dismissed(site, new_page, settings):
    settings.TONGBAN_KIOSK_IDLE_SECONDS = 3
    page = new_page()
    page.goto(site + "/?kiosk=1")
    page.locator("#kiosk-warning").wait_for(state="visible", timeout=5_000)
    page.get_by_role("button", name="继续办理").click()
    assert page.locator("#kiosk-warning").is_hidden()


@pytest.mark.parametrize("viewport_name", ["desktop", "phone"])
@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
@pytest.mark.parametrize("name", list(PAGES))
def test_main_pages_have_no_serious_accessibility_violations(site, new_page, mode_cookie, axe_check, screenshot,
                                                             name, care, viewport_name):
    viewport = PHONE if viewport_name == "phone" else DESKTOP
    page = new_page(viewport=viewport, cookies=[mode_cookie("tb_care")] if care else None)
    page.goto(site + PAGES[name])
    assert page.evaluate("document.documentElement.classList.contains('care')") is care
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling"
    violations = axe_check(page)
    assert violations == [], violations
    screenshot(page, f"{name}{'-care' if care else ''}-{viewport_name}")


def test_my_licences_show_authorise_and_uses(site, page, login_as, db_access, axe_check, screenshot):
    from tests.portal.helpers import issue_business_licence
    from tongban.accounts.models import User
    from tongban.licences import sharing

    licence = issue_business_licence("changsha-boss")
    login_as(page, "changsha-boss")
    page.goto(site + "/my/licences/")
    page.get_by_role("link", name="营业执照").click()
    page.get_by_label("持证主体名称").check()
    page.get_by_role("button", name="生成亮证二维码").click()
    page.get_by_test_id("show-qr").locator("svg").wait_for()

    page.get_by_label("事项基本编码").fill("000117002000")
    page.get_by_label("办件编号").fill("YJS-BROWSER-1")
    page.get_by_role("button", name="生成一次性授权码").click()
    code = page.get_by_test_id("use-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{10}", code)
    assert axe_check(page) == []
    screenshot(page, "my-licence")

    officer = User.objects.get(username="changsha-market")
    sharing.consume_authorisation(code=code, item_basic_code="000117002000", case_ref="YJS-BROWSER-1",
                                  officer=officer, reason="食品经营许可核验营业执照")
    page.goto(site + f"/my/licences/{licence.pk}/")
    assert "食品经营许可核验营业执照" in page.locator("table").inner_text()


def test_data_log_in_the_browser(site, page, login_as, db_access, axe_check):
    from tests.portal.helpers import log_prefill_query

    log_prefill_query("changsha-boss", "YJS-BROWSER-LOG")
    login_as(page, "changsha-boss")
    page.goto(site + "/my/data-log/")
    assert "YJS-BROWSER-LOG" in page.locator("table").inner_text()
    assert axe_check(page) == []


def test_the_accessibility_check_does_find_violations(site, page, axe_check):
    """Guards the guard: axe-core is loaded and reports a serious violation on a broken page."""
    page.goto(site + "/")
    page.evaluate("""() => { const i = document.createElement('input'); i.type = 'text';
                             document.querySelector('main').appendChild(i); }""")
    assert any(v["id"] == "label" for v in axe_check(page))
