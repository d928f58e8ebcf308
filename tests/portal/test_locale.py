"""Chinese first: Accept-Language alone does not switch to English; the user's choice does."""

import pytest
from django.conf import settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]


def _lang(response) -> str:
    text = response.content.decode()
    return text.split('<html lang="', 1)[1].split('"', 1)[0]


def test_locale_middleware_is_replaced():
    assert "tongban.portal.middleware.PreferredLanguageMiddleware" in settings.MIDDLEWARE
    assert "django.middleware.locale.LocaleMiddleware" not in settings.MIDDLEWARE
    assert settings.LANGUAGE_CODE == "zh-hans"


def test_an_english_browser_still_gets_chinese(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert _lang(response) == "zh-Hans" and "智能导办" in response.content.decode()
    assert response.headers["Content-Language"] == "zh-hans"


def test_the_switch_picks_english_and_back(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/search"})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    english = client.get("/search", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert _lang(english) == "en" and "Smart guide" in english.content.decode()
    assert "Cookie" in english.headers["Vary"]
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "zh-Hans"


def test_an_unknown_cookie_value_falls_back_to_chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "zh-Hans"


def test_a_language_kept_in_the_session_counts_as_a_choice(client):
    session = client.session
    session["_language"] = "en"
    session.save()
    assert _lang(client.get("/")) == "en"
