"""The three consoles in a real browser (Debian's Chromium through Playwright): they render, carry no
serious accessibility violations (vendored axe-core), and, with TONGBAN_SCREENSHOTS=1, save
docs/screenshots/console-*.png. Reuses the live-server fixtures of tests/browser/conftest.py."""

from __future__ import annotations

import pytest

browser_fixtures = pytest.importorskip("tests.browser.conftest")
_async_unsafe_allowed = browser_fixtures._async_unsafe_allowed
_django_db_helper = browser_fixtures._django_db_helper
site = browser_fixtures.site
db_access = browser_fixtures.db_access
browser = browser_fixtures.browser
new_page = browser_fixtures.new_page
page = browser_fixtures.page
login_as = browser_fixtures.login_as
axe_check = browser_fixtures.axe_check
screenshot = browser_fixtures.screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def cases(site, db_access):
    """An accepted restaurant case with an extension request, one submitted case waiting at the window,
    queue tickets, and a supervision notice to the first item's department."""
    from tongban.cases import services
    from tongban.cases.simulation import officer_for
    from tongban.console.services import take_ticket

    from .conftest import accepted_restaurant, active_subcase, submitted_restaurant, user

    accepted = accepted_restaurant()
    submitted = submitted_restaurant()
    sub = active_subcase(accepted)
    services.act(subcase=sub, actor=officer_for(sub), action="extend", step=sub.step, reason="需要补充调查", days=5) \
        if "extend" in sub.workflow.step(sub.step)["actions"] else None
    services.send_supervision_notice(actor=user("changsha-supervisor"), department_id=sub.department_id,
                                     subcase=sub, text="请于两个工作日内办结")
    hall = user("changsha-clerk").hall
    for category in ("enterprise", "enterprise", "personal", "cross-region", "delivery", "enterprise"):
        take_ticket(hall=hall, category=category)
    return {"accepted": accepted, "submitted": submitted, "sub": sub, "officer": officer_for(sub).username}


def _visit(page, url: str, axe_check, screenshot, name: str):
    page.goto(url)
    assert page.locator("h1").first.is_visible()
    problems = axe_check(page)
    screenshot(page, name, full_page=True)
    assert problems == [], problems


def test_window_console(site, cases, page, login_as, axe_check, screenshot):
    login_as(page, "changsha-clerk")
    _visit(page, site + "/console/window/", axe_check, screenshot, "console-window")
    page.get_by_role("button", name="叫下一号").first.click()
    assert page.get_by_text("正在办理").first.is_visible()
    _visit(page, site + f"/console/cases/{cases['submitted'].number}/", axe_check, screenshot, "console-case")


def test_ticket_kiosk(site, cases, page, axe_check, screenshot):
    from tongban.regions.models import ServiceHall

    hall = ServiceHall.objects.get(region_id="430100")
    page.goto(site + f"/console/tickets/take/?hall={hall.code}")
    page.get_by_role("button", name="企业办事").click()
    assert page.get_by_test_id("ticket").is_visible()
    assert axe_check(page) == []
    screenshot(page, "console-ticket")


def test_officer_workbench(site, cases, page, login_as, axe_check, screenshot):
    login_as(page, cases["officer"])
    _visit(page, site + "/console/tasks/", axe_check, screenshot, "console-tasks")
    _visit(page, site + f"/console/tasks/{cases['sub'].pk}/", axe_check, screenshot, "console-task")


def test_supervisor_board(site, cases, page, login_as, axe_check, screenshot):
    login_as(page, "changsha-supervisor")
    _visit(page, site + "/console/board/", axe_check, screenshot, "console-board")
