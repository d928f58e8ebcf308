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


def test_a_console_page_follows_the_english_cookie(user_client):
    clerk = user_client("changsha-clerk")
    chinese = clerk.get("/console/window/").content.decode()
    assert "叫下一号" in chinese and "Call next" not in chinese
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = clerk.get("/console/window/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    english = response.content.decode()
    assert response.status_code == 200 and _lang(response) == "en"
    assert "Comprehensive window" in english and "Call next" in english and "Workbench" in english
    assert "Business services" in english  # the queue labels of console/models.py
    assert "叫下一号" not in english and "取号叫号" not in english
    board = user_client("changsha-supervisor").get("/console/board/").content.decode()  # same client, cookie kept
    assert "Supervision notice" in board and "Overdue items" in board


def test_staff_page_strings_are_in_the_english_catalogue():
    """Every literal {% translate %} of the portal, the consoles and the verification pages and every
    gettext literal of console/views.py has an English entry (else: run `make messages` and translate)."""
    import gettext
    import re
    from pathlib import Path

    root = Path(settings.BASE_DIR)
    with (root / "locale" / "en" / "LC_MESSAGES" / "django.mo").open("rb") as fh:
        english = gettext.GNUTranslations(fh)
    found = set()
    for app in ("portal", "console", "accounts", "cases", "licences"):
        for template in (root / app / "templates").rglob("*.html"):
            found |= set(re.findall(r"""{%\s*translate\s+["']([^"']+)["']""", template.read_text(encoding="utf-8")))
    views = (root / "console" / "views.py").read_text(encoding="utf-8")
    found |= set(re.findall(r"""\b_\(["']([^"']+)["']\)""", views))
    assert len(found) > 250
    missing = sorted(msgid for msgid in found if english.gettext(msgid) == msgid)
    assert missing == [], "run `make messages` and translate the new strings"
