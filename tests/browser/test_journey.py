"""End to end: the restaurant bundle from the home page search box to delivered licences, switching
demo accounts like a new user does after `make run` (docs/portal.md): changsha-boss applies for its
enterprise, changsha-clerk accepts at the window console, the officers of each department approve in
the officer workbench, and the boss finds the delivered case and its licences."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .applicant import apply_for_enterprise, fill_and_save_form, hand_in_everything, search_to_bundle, submit

OFFICERS = ["changsha-market", "changsha-ecology", "changsha-housing", "changsha-fire"]


@pytest.fixture
def as_user(new_page, login_as):
    def make(username: str, **kwargs):
        page = new_page(**kwargs)
        login_as(page, username)
        return page

    return make


def _enter_decision(page) -> None:
    """At the decision step the officer types the licence's decision fields: here the samples the
    catalogue documents for them (the simulated officer's input)."""
    from tongban.cases.models import SubCase
    from tongban.cases.simulation import sample_decision

    if not page.get_by_test_id("decision-form").count():
        return
    sub = SubCase.objects.select_related("workflow").get(pk=int(page.url.rstrip("/").split("/")[-1]))
    for name, value in sample_decision(sub).items():
        field = page.locator(f'[name="decision-{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def _approve_my_items(page, site: str, number: str) -> int:
    """In /console/tasks/: open each item of the case, claim it and approve its steps."""
    done = 0
    while True:
        page.goto(site + "/console/tasks/")
        row = page.get_by_test_id("task-queue").get_by_role("link", name=number) if page.get_by_test_id(
            "task-queue").count() else None
        if row is None or row.count() == 0:
            return done
        row.first.click()
        claim = page.get_by_role("button", name="认领")
        if claim.count():
            claim.click()
        while page.get_by_test_id("approve").count():
            _enter_decision(page)
            page.get_by_test_id("approve").click()
            done += 1
            page.wait_for_load_state()


def test_restaurant_from_search_box_to_delivered_licences(site, as_user, axe_check, screenshot, db_access):
    from tongban.cases.models import Case

    boss = as_user("changsha-boss")
    search_to_bundle(boss, site)
    number = apply_for_enterprise(boss)
    screenshot(boss, "case-draft-desktop")
    fill_and_save_form(boss)
    uploads = hand_in_everything(boss)
    assert uploads >= 10
    assert axe_check(boss) == []
    screenshot(boss, "case-complete-desktop")
    submit(boss)
    boss.close()

    clerk = as_user("changsha-clerk")
    clerk.goto(site + "/console/window/")
    clerk.get_by_role("link", name=number).click()
    clerk.get_by_role("button", name="受理", exact=True).click()
    clerk.wait_for_load_state()
    assert Case.objects.get(number=number).status == "accepted"
    clerk.close()

    approvals = 0
    for _round in range(4):  # stages open one after another: a round per stage at most
        for username in OFFICERS:
            officer = as_user(username)
            approvals += _approve_my_items(officer, site, number)
            officer.close()
        if Case.objects.get(number=number).status == "delivered":
            break
    case = Case.objects.get(number=number)
    assert case.status == "delivered", [(s.key, s.status, s.step) for s in case.subcases.all()]
    assert approvals == 3 * case.subcases.count()  # accept, review, decide per item (issuing is automatic)

    boss = as_user("changsha-boss")
    boss.goto(site + "/my/cases/")
    boss.get_by_role("link", name="我要开饭馆").first.click()
    expect(boss.get_by_test_id("case-status")).to_have_text("已出件")
    expect(boss.get_by_test_id("result")).to_have_count(len([s for s in case.subcases.all() if s.result_licence_id]))
    assert boss.get_by_test_id("notice-pdf").filter(has_text="出件通知书").count() == 1
    assert axe_check(boss) == []
    boss.locator("#progress-title").scroll_into_view_if_needed()
    screenshot(boss, "case-delivered-desktop")
    pdf = boss.request.get(site + boss.get_by_test_id("notice-pdf").first.get_attribute("href"))
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    boss.goto(site + "/my/licences/")
    for name in ("营业执照", "食品经营许可证"):
        expect(boss.locator("main")).to_contain_text(name)
    assert re.search(r"有效", boss.locator("main").inner_text())
    screenshot(boss, "my-licences-after-delivery")
