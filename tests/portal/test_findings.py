"""Walk-through findings of issue 14 that are not browser-only, through the pages (Django test client)."""

import pytest

from tongban.accounts.models import User
from tongban.licences import selectors as licence_selectors

from .helpers import restaurant_draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]


def _plan_lists(text: str) -> tuple[str, str]:
    """(what the plan says to hand in, what it says is not needed) on the bundle page."""
    to_hand_in = text.split("需要准备的材料", 1)[1].split("</ul>", 1)[0]
    not_needed = text.split("无需您提交的材料", 1)[1].split("</ul>", 1)[0] if "无需您提交的材料" in text else ""
    return to_hand_in, not_needed


# --- finding 4: the plan's promises -------------------------------------------------------------------


@pytest.mark.parametrize("username", ["changsha-citizen", "changsha-boss", "zhuzhou-agent"])
def test_demo_applicants_hold_their_id_e_licence(username):
    user = User.objects.get(username=username)
    held = [lic for lic in licence_selectors.licences_of_holder(user) if lic.licence_type.name == "居民身份证"]
    assert len(held) == 1 and licence_selectors.display_status(held[0]) == "valid"
    assert held[0].holder_code == user.id_number


def test_the_id_card_promised_by_the_plan_is_one_click_in_the_draft(user_client):
    boss = user_client("changsha-boss")
    _, not_needed = _plan_lists(boss.get("/bundles/open-restaurant/?region=430100&area_sqm=800").content.decode())
    assert "法定代表人或委托人身份证件" in not_needed and "调用您的电子证照" in not_needed
    draft = restaurant_draft()
    page = boss.get(f"/my/cases/{draft.number}/").content.decode()
    row = page.split('id="m-id-card"', 1)[1].split("</li>\n", 1)[0]
    assert 'data-testid="use-licence"' in row and "居民身份证" in row
    licence = next(lic for lic in licence_selectors.licences_of_holder(User.objects.get(username="changsha-boss"))
                   if lic.licence_type.name == "居民身份证")
    response = boss.post(f"/my/cases/{draft.number}/licence/", {"material": "id-card", "licence": licence.pk})
    assert response.status_code == 302
    assert draft.materials.get(code="id-card").status == "provided"


def test_the_plan_tells_the_truth_to_someone_without_the_e_licence(client):
    newcomer = User.objects.create_user("newcomer", kind="person", real_name="王芳", region_id="430100",
                                        id_number="430102199001011234")
    client.force_login(newcomer)
    to_hand_in, not_needed = _plan_lists(client.get("/bundles/open-restaurant/?region=430100&area_sqm=800").content.decode())
    assert "法定代表人或委托人身份证件" in to_hand_in and "您名下暂无该电子证照" in to_hand_in
    assert "法定代表人或委托人身份证件" not in not_needed


# --- finding 5: the home page's figures and choices ----------------------------------------------------


def test_home_counts_each_regions_items_once_and_offers_only_regions_with_a_catalogue(client):
    from tongban.catalog.models import Item
    from tongban.regions.models import Department

    text = client.get("/").content.decode()
    items = Item.objects.filter(region_id="430100").count()
    departments = Department.objects.filter(region_id="430100").count()
    assert 0 < items < 100
    assert f"长沙市 (430100): {departments} 个部门, {items} 个事项" in text
    assert "苏州市" not in text and "嘉兴市" not in text
    bundle = client.get("/bundles/open-restaurant/").content.decode()
    assert 'value="320500"' not in bundle and 'value="330400"' not in bundle and 'value="430100"' in bundle


# --- finding 6: no machine text on the pages of the main journeys -------------------------------------


def _signed_in(username: str):
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_the_machine_text_check_finds_machine_text():
    """Guards the guard: each kind of machine text the walk-through saw is caught."""
    from tests.machine_text import machine_text

    for seen in ("条件不满足 / condition not met: area_sqm >= 500", "须办理 [serves_food == True]", "(legal_entities…)",
                 "等待 (company-registration)", "材料 materials.id-card 缺失", "号码不符合 [gb11643]",
                 "2026-11-29T21:04:43.285755+00:00", "<td>start</td>", "<td>pause · minor</td>", "<td>accept</td>"):
        assert machine_text(f"<p>{seen}</p>"), seen
    assert machine_text("<p>经营场所建筑面积不少于 500 ㎡ · 2026-11-29 21:04</p>") == []


def test_the_main_journeys_pages_speak_plainly(client):
    from tests.machine_text import machine_text
    from tongban.cases import services

    from .helpers import approve_open_items, complete

    pages = [(client, url) for url in (
        "/", "/search?q=开火锅店", "/search?q=生孩子",
        "/bundles/open-restaurant/?region=430100&area_sqm=350", "/bundles/open-restaurant/?region=430100&area_sqm=800",
        "/bundles/open-hotel/?region=430100", "/bundles/newborn/?region=430100", "/bundles/start-company/?region=430100",
        "/bundles/sell-house/?region=430100")]
    boss, clerk, supervisor = _signed_in("changsha-boss"), _signed_in("changsha-clerk"), _signed_in("changsha-supervisor")
    case = restaurant_draft()
    early = boss.post(f"/my/cases/{case.number}/submit/")  # submitted too early: the list of what is missing
    assert early.status_code == 422 and machine_text(early.content.decode()) == []
    bad_id = clerk.post("/console/intake/", {"bundle": "open-restaurant", "region": "430100",
                                             "applicant_id_number": "123", "q-area_sqm": "800"})
    assert bad_id.status_code == 422 and machine_text(bad_id.content.decode()) == []
    complete(case)
    services.submit_case(case=case, actor=User.objects.get(username="changsha-boss"))
    services.accept_case(case=case, actor=User.objects.get(username="changsha-clerk"))
    sub = case.subcases.filter(status="active").select_related("department").first()
    from .helpers import officer_for

    officer = _signed_in(officer_for(sub).username)
    pages += [(boss, f"/my/cases/{case.number}/"), (clerk, "/console/window/"), (clerk, f"/console/cases/{case.number}/"),
              (officer, "/console/tasks/"), (officer, f"/console/tasks/{sub.pk}/"), (supervisor, "/console/board/")]
    approve_open_items(case)
    pages += [(boss, f"/my/cases/{case.number}/"), (boss, "/my/licences/"), (officer, f"/console/tasks/{sub.pk}/")]
    found = {}
    for who, url in pages:
        response = who.get(url)
        assert response.status_code == 200, url
        hits = machine_text(response.content.decode())
        if hits:
            found[url] = hits
    assert found == {}


# --- finding 8: no contradictions on the plan and the draft -------------------------------------------


def _row(page: str, code: str) -> str:
    return page.split(f'id="m-{code}"', 1)[1].split("</li>\n", 1)[0]


def test_an_optional_material_is_not_also_said_to_be_needed(client):
    text = client.get("/bundles/newborn/?region=430100").content.decode()  # 结婚证: 视情况提交
    to_hand_in, _ = _plan_lists(text)
    rows = [r for r in to_hand_in.split("<li")[1:] if "视情况提交" in r]
    assert rows and all("需要提交" not in r for r in rows)


def test_no_upload_box_beside_nothing_to_do_and_no_commitment_form_after_signing(user_client):
    from tongban.cases import services

    boss = user_client("changsha-boss")
    draft = restaurant_draft()
    shared = draft.materials.get(code="premises-proof")
    assert shared.source == "data"
    services.commit_material(case=draft, material_code="fire-safety-rules", text="本单位承诺已建立消防安全制度。",
                             actor=User.objects.get(username="changsha-boss"))
    page = boss.get(f"/my/cases/{draft.number}/").content.decode()
    assert "无需任何操作" in _row(page, "premises-proof") and "upload-form" not in _row(page, "premises-proof")
    committed = _row(page, "fire-safety-rules")
    assert "已签署告知承诺" in committed and 'data-testid="commit"' not in committed


# --- finding 10: English plurals ------------------------------------------------------------------------


def test_english_figures_agree_with_their_number(client):
    import re

    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = client.get("/bundles/open-restaurant/?region=430100&area_sqm=800").content.decode()
    figures = re.findall(r"<strong[^>]*>(\d+)</strong> ([a-z ]+?)(?:<|$)", text.split('class="metrics"', 1)[1].split("</dl>", 1)[0])
    assert len(figures) == 5, figures
    for number, unit in figures:
        assert unit.endswith("s") == (number != "1"), (number, unit)


# --- finding 7: what the applicant answered is not asked again --------------------------------------


def test_questionnaire_answers_are_carried_into_the_form(user_client):
    from tongban.cases import services

    draft = restaurant_draft()  # answered: area_sqm 800
    area = [n for n, p in draft.plan["form"]["properties"].items() if p.get("x-standard") == "premises.area_sqm"]
    assert area and all(draft.form[n] == 800 for n in area)
    assert all(draft.form_sources[n] == {"prefill": "answers"} for n in area)
    page = user_client("changsha-boss").get(f"/my/cases/{draft.number}/").content.decode()
    assert 'data-testid="from-answers"' in page
    hotel = services.start_case(actor=User.objects.get(username="changsha-boss"), region_code="430100",
                                bundle_code="open-hotel", answers={"area_sqm": "600", "central_ac": "true"},
                                enterprise_uscc="91430100000700015J")
    ac = [n for n, p in hotel.plan["form"]["properties"].items() if p.get("x-standard") == "premises.central_ac"]
    assert ac and all(hotel.form[n] is True for n in ac)
