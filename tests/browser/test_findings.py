"""Walk-through findings of issue 14, each pinned by a browser test (one browser session for the module)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .applicant import BOSS_USCC
from .conftest import PHONE

BUNDLE = "/bundles/open-restaurant/?region=430100"
ENTERPRISE = f'input[name=party][value="enterprise:{BOSS_USCC}"]'


def _apply_and_read_party(page, db_access) -> tuple[str, str]:
    from tongban.cases.models import Case

    page.get_by_test_id("apply").click()
    expect(page.get_by_test_id("case-status")).to_have_text("草稿")
    case = Case.objects.get(number=page.get_by_test_id("case-number").inner_text())
    return case.applicant_kind, case.applicant_code


@pytest.mark.parametrize("order", ["area-then-party", "party-then-area"])
def test_the_party_choice_survives_the_plan_refresh(site, page, login_as, db_access, order):
    """Finding 1: leaving the number box refreshes the plan (htmx); the party picked meanwhile (or
    before) must still be the one the case is filed for."""
    login_as(page, "changsha-boss")
    page.goto(site + BUNDLE)
    area = page.locator("#a-area_sqm")
    if order == "area-then-party":
        area.fill("800")
        page.locator(ENTERPRISE).check()  # the click blurs the box: the refresh starts now
    else:
        page.locator(ENTERPRISE).check()
        area.fill("800")
        area.press("Tab")
    expect(page).to_have_url(re.compile(r"area_sqm=800"))
    page.wait_for_load_state("networkidle")
    expect(page.locator(ENTERPRISE)).to_be_checked()
    kind, code = _apply_and_read_party(page, db_access)
    assert (kind, code) == ("enterprise", BOSS_USCC)


# --- findings 2 and 9: phones, care mode, desktop consoles ----------------------------------------------

# The widest elements past the right edge, to say what overflows when the check fails.
WIDE = """w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
  .slice(0, 6).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""
# Buttons and navigation links smaller than 44 px (WCAG 2.5.5; links inside running text are exempt).
SMALL_TARGETS = """min => [...document.querySelectorAll('button, .button-link, nav a, input[type=submit], summary, select')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.height < min - 0.5 || r.width < min - 0.5)
  .slice(0, 6).map(([e, r]) => (e.innerText || e.tagName).trim().slice(0, 20) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))"""


@pytest.fixture(scope="module")
def delivered(site, db_access):
    """The restaurant case of changsha-boss, delivered (through the services), with its licences and notices."""
    from tests.portal.helpers import approve_open_items, complete, restaurant_draft
    from tongban.accounts.models import User
    from tongban.cases import services

    case = complete(restaurant_draft())
    services.submit_case(case=case, actor=User.objects.get(username="changsha-boss"))
    services.accept_case(case=case, actor=User.objects.get(username="changsha-clerk"))
    approve_open_items(case)
    case.refresh_from_db()
    licence = next(s.result_licence for s in case.subcases.all() if s.result_licence_id)
    return {"case": case.number, "licence": licence.pk, "notice": case.notices.order_by("pk").first().token,
            "task": case.subcases.order_by("pk").first().pk}


def _phone_pages(d: dict) -> list[str]:
    return ["/", "/search?q=开火锅店", "/bundles/open-restaurant/?region=430100&area_sqm=800", f"/my/cases/{d['case']}/",
            "/my/cases/", "/my/licences/", f"/my/licences/{d['licence']}/", "/accounts/me/", f"/verify/notice/{d['notice']}",
            "/accounts/login/"]


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
def test_no_sideways_scrolling_on_a_phone(site, new_page, login_as, mode_cookie, delivered, care):
    page = new_page(viewport=PHONE, cookies=[mode_cookie("tb_care")] if care else None)
    login_as(page, "changsha-boss")
    wide, small = {}, {}
    for url in _phone_pages(delivered):
        page.goto(site + url)
        if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            wide[url] = [page.evaluate("document.documentElement.scrollWidth"), page.evaluate(WIDE, PHONE["width"])]
        if care:
            targets = page.evaluate(SMALL_TARGETS, 44)
            if targets:
                small[url] = targets
    assert wide == {}, wide
    assert small == {}, small


def test_the_header_leaves_the_first_screen_to_the_content_in_care_mode(site, new_page, login_as, mode_cookie):
    page = new_page(viewport=PHONE, cookies=[mode_cookie("tb_care")])
    login_as(page, "changsha-boss")
    page.goto(site + "/my/cases/")
    height = page.locator(".site-header").bounding_box()["height"]
    assert height <= PHONE["height"] * 0.25, height


def test_the_officer_task_page_fits_a_desktop(site, new_page, login_as, delivered):
    page = new_page(viewport={"width": 1366, "height": 900})
    login_as(page, "changsha-market")
    page.goto(site + f"/console/tasks/{delivered['task']}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366, page.evaluate(WIDE, 1366)


def test_login_page_is_styled_and_the_site_has_a_favicon(site, new_page):
    page = new_page(viewport=PHONE)
    page.goto(site + "/accounts/login/")
    assert page.locator("#id_username").bounding_box()["height"] >= 44
    assert page.locator("link[rel=icon]").count() == 1
    icon = page.request.get(site + page.locator("link[rel=icon]").get_attribute("href"))
    assert icon.status == 200
