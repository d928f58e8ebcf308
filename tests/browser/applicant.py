"""The applicant's steps in the browser, shared by the journey and the care-mode / phone runs."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tongban.cases.simulation import minimal_pdf

PDF = minimal_pdf("browser test")
BOSS_USCC = "91430100000700015J"
FORM = {"f-project-name": "刘记火锅店", "f-premises-address": "长沙市五一大道 1 号", "f-premises-area-sqm": "800",
        "f-food-business-form": "餐饮服务经营者（大型餐馆）"}


def search_to_bundle(page, site: str) -> None:
    """Home page search box → "我要开饭馆" → area 800 with the live plan."""
    page.goto(site + "/")
    page.get_by_role("searchbox").fill("开火锅店")
    page.get_by_role("searchbox").press("Enter")
    page.get_by_role("link", name="我要开饭馆").click()
    page.locator("#a-area_sqm").fill("800")
    page.locator("#a-area_sqm").press("Tab")  # fires "change": the plan refreshes
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(re.compile(r"area_sqm=800"), timeout=10_000)
    expect(page.locator("#apply input[name=area_sqm]")).to_have_value("800")


def apply_for_enterprise(page) -> str:
    page.locator(f'#apply input[name=party][value="enterprise:{BOSS_USCC}"]').check()
    page.get_by_test_id("apply").click()
    expect(page.get_by_test_id("case-status")).to_have_text("草稿")
    assert page.get_by_test_id("prefilled").count() >= 5
    return page.get_by_test_id("case-number").inner_text()


def fill_and_save_form(page) -> None:
    for field, value in FORM.items():
        page.locator(f"#{field}").fill(value)
    page.get_by_test_id("save-form").click()
    expect(page.locator("#application-form .status-line")).to_contain_text("已保存")
    assert page.get_by_test_id("prefilled").count() >= 5, page.locator("#application-form").inner_text()


def upload(page, code: str) -> None:
    name = f"{code}.pdf"
    page.locator(f"#file-{code}").set_input_files(files=[{"name": name, "mimeType": "application/pdf",
                                                        "buffer": PDF + code.encode()}])
    page.locator(f"#m-{code} .upload-form button[type=submit]").click()
    expect(page.locator(f"#m-{code} .files")).to_contain_text(name)


def materials_to_upload(page) -> list[str]:
    return page.locator('.upload-form:below(#materials-title)').evaluate_all(
        "forms => forms.filter(f => f.closest('li').dataset.status === 'missing')"
        ".map(f => f.closest('li').dataset.material)")


def hand_in_everything(page) -> int:
    codes = materials_to_upload(page)
    for code in codes:
        upload(page, code)
    page.locator("#m-fire-safety-rules").get_by_test_id("commit").click()
    expect(page.locator("#m-fire-safety-rules")).to_have_attribute("data-status", "committed")
    missing = page.locator("#completeness").inner_text()
    assert page.get_by_test_id("complete").count() == 1, missing
    return len(codes)


def submit(page) -> None:
    page.get_by_test_id("submit-case").click()
    expect(page.get_by_test_id("case-status")).to_have_text("已提交，待预审")
