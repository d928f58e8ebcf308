"""Portal pages rendered by the test client: content, bad input, modes and query counts."""

import re

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]


def test_search_finds_the_restaurant_bundle_and_says_why(client, django_assert_max_num_queries):
    client.get("/search", {"q": "开饭馆"})  # the guide builds its index once per catalogue change
    with django_assert_max_num_queries(5):
        response = client.get("/search", {"q": "开火锅店"})
    text = response.content.decode()
    assert response.status_code == 200
    assert 'href="/bundles/open-restaurant/"' in text and "我要开饭馆" in text
    assert "匹配原因" in text and "<mark>火锅店</mark>" in text


def test_search_without_results_gives_help(client):
    response = client.get("/search", {"q": "量子纠缠"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "没有找到" in text and "换一种说法" in text and "/search?q=" in text


def test_search_without_a_query_shows_examples(client):
    text = client.get("/search").content.decode()
    assert "常见问题" in text and "我要开饭馆" not in text


def test_bundle_page_plans_for_the_answers(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = client.get("/bundles/open-restaurant/", {"region": "430100", "area_sqm": "600"})
    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-item="fire-design-review"' in text and 'data-item="fire-completion-acceptance"' in text
    assert "长沙市市场监督管理局" in text and "第 2 环节" in text
    assert "本次不需要办理的事项" in text and "根据您的回答，本次无需办理（建筑面积 300㎡ 至 500㎡ 须办理竣工验收消防备案）" in text
    assert 'id="plan-summary"' in text and "少跑" in text


def test_bundle_preview_over_htmx_returns_the_plan_only(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = client.get("/bundles/open-restaurant/", {"region": "430100", "area_sqm": "350"},
                              HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<section id="plan"') and "<html" not in text
    assert 'data-item="fire-completion-filing"' in text and 'hx-swap-oob="true"' in text


def test_bundle_region_defaults_to_the_users_region(user_client):
    text = user_client("xianning-boss").get("/bundles/open-restaurant/").content.decode()
    assert re.search(r'<option value="421200" selected>', text)
    assert "咸宁市市场监督管理局" in text


def test_bad_answer_is_named_with_its_rule_in_both_languages(client):
    response = client.get("/bundles/open-restaurant/", {"area_sqm": "-5"})
    text = response.content.decode()
    assert response.status_code == 422
    assert 'aria-invalid="true"' in text and 'id="area_sqm-error"' in text and "不得小于 0" in text


def test_bad_region_is_a_4xx_with_the_rule(client):
    response = client.get("/bundles/open-restaurant/", {"region": "12"})
    assert response.status_code == 422
    assert "区划代码应为 6 位数字" in response.content.decode()
    response = client.get("/bundles/open-restaurant/", {"region": "999999"})
    assert response.status_code == 422 and "区划 999999 不存在" in response.content.decode()


def test_unknown_bundle_is_404(client):
    assert client.get("/bundles/no-such-thing/").status_code == 404


def test_base_layout_has_landmarks_skip_link_and_language(client):
    text = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-Hans"' in text
    assert 'class="skip-link" href="#main"' in text and '<main id="main"' in text
    assert 'aria-label="主导航"' in text and "<footer" in text
    assert "/static/portal/vendor/htmx-2.0.11.min.js" in text and "cdn" not in text.lower()
    assert 'action="/i18n/setlang/"' in text and 'aria-pressed="false"' in text


def test_english_switch_translates_the_interface(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    text = client.get("/").content.decode()
    assert '<html lang="en"' in text
    assert "Skip to main content" in text and "Personal services" in text and "Search" in text
    text = client.get("/bundles/open-restaurant/", {"area_sqm": "100"}).content.decode()
    assert "floor area of the premises" in text and "Your checklist" in text


def test_care_mode_switch_sets_a_cookie_and_changes_the_page(client):
    response = client.post("/care/", {"care": "1", "next": "/search"})
    assert response.status_code == 302 and response["Location"] == "/search"
    assert response.cookies["tb_care"].value == "1"
    text = client.get("/").content.decode()
    assert 'class="care"' in text and 'aria-pressed="true"' in text
    assert "演示账号" not in text  # simpler layout: no region list or demo table
    response = client.post("/care/", {"care": "0", "next": "https://elsewhere.example/"})
    assert response["Location"] == "/"  # never redirects off-site
    assert 'class="care"' not in client.get("/").content.decode()


def test_query_parameter_turns_modes_on_and_remembers_them(client):
    response = client.get("/", {"care": "1"})
    assert response.cookies["tb_care"].value == "1"
    response = client.get("/kiosk/")
    assert response.status_code == 302 and response.cookies["tb_kiosk"].value == "1"
    text = client.get("/").content.decode()
    assert 'class="care kiosk"' in text and 'data-kiosk-idle="120"' in text
    assert 'data-logout-url="' in text
    # Only staff end kiosk mode (issue 14, finding 10): not a citizen's POST, not `?kiosk=0`.
    response = client.post("/kiosk/exit/")
    assert response.status_code == 403 and "tb_kiosk" not in response.cookies
    assert "tb_kiosk" not in client.get("/", {"kiosk": "0"}).cookies
    assert 'class="care kiosk"' in client.get("/", {"kiosk": "0"}).content.decode()
    from tongban.accounts.models import User

    client.force_login(User.objects.get(username="changsha-clerk"))
    assert 'data-testid="kiosk-exit"' in client.get("/kiosk/exit/").content.decode()
    response = client.post("/kiosk/exit/")
    assert response.status_code == 302 and response.cookies["tb_kiosk"].value == ""


def test_kiosk_logout_url_is_configurable(client, settings):
    settings.TONGBAN_LOGOUT_URL = "/somewhere/logout/"
    settings.TONGBAN_KIOSK_IDLE_SECONDS = 30
    text = client.get("/", {"kiosk": "1"}).content.decode()
    assert 'data-logout-url="/somewhere/logout/"' in text and 'data-kiosk-idle="30"' in text


def test_portal_sign_out_ends_the_session(user_client):
    client = user_client("changsha-citizen")
    assert client.get("/my/licences/").status_code == 200
    response = client.post("/kiosk/sign-out/", {"next": "/kiosk/"})
    assert response.status_code == 302 and response["Location"] == "/kiosk/"
    assert client.get("/my/licences/").status_code in (302, 403)
