"""Template context every page of the portal needs: display modes and the account URLs."""

from __future__ import annotations

from . import modes


def portal(request) -> dict:
    return {
        "care_mode": modes.care_mode(request),
        "kiosk_mode": modes.kiosk_mode(request),
        "kiosk_idle_seconds": modes.kiosk_idle_seconds(),
        "portal_login_url": modes.login_url(),
        "portal_logout_url": modes.logout_url(),
    }
