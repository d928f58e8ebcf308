"""Chinese first: the language is the user's own choice (the `set_language` cookie), else zh-hans.

Django's LocaleMiddleware follows the browser's Accept-Language, so an English browser would get
English pages without asking. A government portal in China speaks Simplified Chinese unless the user
picks English with the switch in the header (which sets settings.LANGUAGE_COOKIE_NAME); a language
kept in the session (`_language`, older Django) counts as a choice too. This replaces
LocaleMiddleware in settings.MIDDLEWARE at the same place (after sessions, before CommonMiddleware).
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

SESSION_LANGUAGE_KEY = "_language"


def chosen_language(request) -> str | None:
    """The supported language the user picked (cookie, then session), or None."""
    candidates = [request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)]
    session = getattr(request, "session", None)
    if session is not None:
        candidates.append(session.get(SESSION_LANGUAGE_KEY))
    for code in candidates:
        if code and translation.check_for_language(code):
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                continue
    return None


class PreferredLanguageMiddleware(LocaleMiddleware):
    """LocaleMiddleware without Accept-Language: the user's choice, else settings.LANGUAGE_CODE."""

    def process_request(self, request):
        translation.activate(chosen_language(request) or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response = super().process_response(request, response)
        patch_vary_headers(response, ("Cookie",))
        return response
