"""The applicant's case pages in care mode and on a phone: apply, fill in, upload with a progress bar,
no serious or critical axe-core violations on the new pages; screenshots for the docs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .applicant import apply_for_enterprise, fill_and_save_form, search_to_bundle, upload
from .conftest import DESKTOP, PHONE

RECORD_PROGRESS = """() => {
  window.__progress = [];
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (...args) {
    this.upload.addEventListener('progress', e => window.__progress.push([e.loaded, e.total]));
    return open.apply(this, args);
  };
}"""

WIDE = """w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
  .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize("care, viewport, label", [
    (True, DESKTOP, "care-desktop"), (False, PHONE, "phone"), (True, PHONE, "care-phone")])
def test_applicant_part_in_care_mode_and_on_a_phone(site, new_page, login_as, mode_cookie, axe_check, screenshot,
                                                    care, viewport, label):
    page = new_page(viewport=viewport, cookies=[mode_cookie("tb_care")] if care else None)
    login_as(page, "changsha-boss")
    search_to_bundle(page, site)
    if care:
        assert "care" in page.locator("html").get_attribute("class")
    number = apply_for_enterprise(page)
    fill_and_save_form(page)
    page.evaluate(RECORD_PROGRESS)
    upload(page, "company-application")
    progress = page.evaluate("window.__progress")
    assert progress and progress[-1][0] == progress[-1][1] > 0  # the bar reached 100 %
    wide = page.evaluate(WIDE, viewport["width"])
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], wide  # no sideways scrolling
    assert axe_check(page) == []
    screenshot(page, f"case-form-{label}")
    page.goto(site + "/my/cases/")
    expect(page.get_by_role("link", name="我要开饭馆").first).to_be_visible()
    assert axe_check(page) == []
    assert number in page.locator("main").inner_text()


def test_bad_upload_is_explained_next_to_the_file(site, page, login_as, axe_check):
    login_as(page, "changsha-boss")
    search_to_bundle(page, site)
    apply_for_enterprise(page)
    page.locator("#file-food-layout").set_input_files(files=[{"name": "x.txt", "mimeType": "text/plain",
                                                             "buffer": b"plain text"}])
    page.locator("#m-food-layout .upload-form button[type=submit]").click()
    expect(page.locator("#m-food-layout .upload-status")).to_contain_text("只接受 PDF、JPEG、PNG 或 OFD 文件")
    page.locator("#m-food-layout .upload-form button[type=submit]").click()  # still no file chosen after an error?
    assert axe_check(page) == []


def test_one_time_notice_highlights_what_to_correct(site, page, login_as, axe_check, screenshot, db_access):
    from tests.portal.helpers import complete
    from tongban.accounts.models import User
    from tongban.cases import services
    from tongban.cases.models import Case

    login_as(page, "changsha-boss")
    search_to_bundle(page, site)
    number = apply_for_enterprise(page)
    case = complete(Case.objects.get(number=number))
    services.submit_case(case=case, actor=User.objects.get(username="changsha-boss"))
    # The window's one-time notice is issued through the service here: the console is tested on its own.
    services.issue_one_time_notice(case=case, actor=User.objects.get(username="changsha-clerk"),
                                   defects={"floor-plan": "平面图未标注疏散通道"})
    page.reload()
    expect(page.locator("#m-floor-plan")).to_have_class("material card highlight")
    expect(page.get_by_test_id("submit-case")).to_have_text("补正完成，重新提交")
    assert axe_check(page) == []
    screenshot(page, "case-correction-desktop")
    upload(page, "floor-plan")
    page.get_by_test_id("submit-case").click()
    expect(page.get_by_test_id("case-status")).to_have_text("已提交，待预审")
