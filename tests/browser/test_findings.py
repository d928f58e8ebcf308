"""Walk-through findings of issue 14, each pinned by a browser test (one browser session for the module)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .applicant import BOSS_USCC

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
