"""Staff security: login page, django-axes lockout, TOTP second factor (mandatory in production mode),
password rules and idle session expiry."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from .factories import PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Zhengwu-2026-安全"


@pytest.fixture
def staff(db):
    user = StaffFactory(username="clerk1", roles=["clerk"])
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password, "next": "/accounts/me/"})


def test_login_page_is_chinese_first(client):
    text = client.get("/accounts/login/").content.decode()
    assert text.index("登录") < text.index("Sign in") and "csrfmiddlewaretoken" in text


def test_applicant_logs_in_and_out(client):
    person = PersonFactory(username="zhang")
    person.set_password(PASSWORD)
    person.save()
    response = _login(client, "zhang", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
    assert client.get("/accounts/me/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/accounts/me/").status_code == 302


def test_fifth_failure_locks_out_with_a_bilingual_message(client, staff):
    for _ in range(4):
        response = _login(client, "clerk1", "wrong-password-1")
        assert response.status_code == 200 and "用户名或密码错误" in response.content.decode()
    response = _login(client, "clerk1", "wrong-password-1")
    assert response.status_code == 429
    text = response.content.decode()
    assert "登录尝试过多" in text and "Too many failed sign-ins" in text and "15" in text
    # Locked: even the right password is refused until the cool-off or an administrator's reset.
    assert _login(client, "clerk1", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_success_resets_the_failure_count(client, staff):
    for _ in range(4):
        _login(client, "clerk1", "wrong-password-1")
    assert _login(client, "clerk1", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert _login(client, "clerk1", "wrong-password-1").status_code == 200


def test_demo_profile_skips_otp_for_staff(client, staff, settings):
    settings.TONGBAN_DEMO_SKIP_OTP = True
    assert _login(client, "clerk1", PASSWORD)["Location"] == "/accounts/me/"
    assert client.get("/accounts/me/").status_code == 200


def test_production_mode_requires_enrolment_then_a_code(client, staff, settings):
    settings.TONGBAN_DEMO_SKIP_OTP = False
    response = _login(client, "clerk1", PASSWORD)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/setup/")
    # Every other page and the API stay closed until the second factor is done.
    blocked = client.get("/accounts/me/")
    assert blocked.status_code == 302 and blocked["Location"].startswith("/accounts/otp/setup/")
    api = client.get("/api/v1/catalog/items")
    assert api.status_code == 401 and api.json()["detail"][0]["rule"] == "otp.required"
    setup = client.get(response["Location"])
    assert setup.status_code == 200 and "<svg" in setup.content.decode()
    device = TOTPDevice.objects.get(user=staff)
    bad = client.post("/accounts/otp/setup/", {"token": "000000" if _now_code(device) != "000000" else "111111"})
    assert bad.status_code == 200 and not TOTPDevice.objects.get(pk=device.pk).confirmed
    # django-otp throttles after a wrong code (1 s, doubling); the test does not wait.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    done = client.post("/accounts/otp/setup/?next=/accounts/me/", {"token": _now_code(device)})
    assert done.status_code == 302 and done["Location"] == "/accounts/me/"
    assert client.get("/accounts/me/").status_code == 200
    # Next sign-in: the enrolled device is asked for.
    client.post("/accounts/logout/")
    response = _login(client, "clerk1", PASSWORD)
    assert response["Location"].startswith("/accounts/otp/?")
    device.refresh_from_db()
    device.last_t = -1  # allow the same time step again (django-otp refuses replays)
    device.save()
    verified = client.post("/accounts/otp/?next=/accounts/me/", {"token": _now_code(device)})
    assert verified.status_code == 302, verified.content.decode()
    assert client.get("/accounts/me/").status_code == 200


def test_production_profile_cannot_skip_otp(monkeypatch):
    import importlib

    import tongban.settings as module

    monkeypatch.setenv("TONGBAN_PROFILE", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("TONGBAN_DEMO_SKIP_OTP", "true")
    monkeypatch.setenv("TONGBAN_OIDC_KEY", django_settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"])
    try:
        reloaded = importlib.reload(module)
        assert reloaded.TONGBAN_DEMO_SKIP_OTP is False
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_applicants_never_need_otp(client, settings):
    settings.TONGBAN_DEMO_SKIP_OTP = False
    person = PersonFactory(username="li")
    person.set_password(PASSWORD)
    person.save()
    assert _login(client, "li", PASSWORD)["Location"] == "/accounts/me/"


def _now_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@pytest.mark.parametrize(("password", "code"), [
    ("Ab1-short", "password_too_short"),
    ("1234567890123", "password_entirely_numeric"),
    ("password1234", "password_too_common"),
    ("alllowercaseletters", "password_character_classes"),
])
def test_password_rules(password, code):
    with pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert code in [e.code for e in exc.value.error_list], exc.value.messages


def test_a_good_password_passes():
    validate_password(PASSWORD)
    validate_password("Qingpu-Window-2026")


def test_idle_staff_session_expires(client, staff, settings):
    settings.TONGBAN_DEMO_SKIP_OTP = True
    client.force_login(staff)
    assert client.get("/accounts/me/").status_code == 200
    session = client.session
    assert session.get_expiry_age() <= settings.TONGBAN_SESSION_IDLE_STAFF
    session["tongban_seen"] = int(time.time()) - settings.TONGBAN_SESSION_IDLE_STAFF - 1
    session.save()
    response = client.get("/accounts/me/")
    assert response.status_code == 302 and "expired=1" in response["Location"]
    assert client.get("/accounts/me/")["Location"].startswith("/accounts/login/")


def test_applicant_idle_limit_is_longer(client, settings):
    person = PersonFactory()
    client.force_login(person)
    client.get("/accounts/me/")
    session = client.session
    session["tongban_seen"] = int(time.time()) - settings.TONGBAN_SESSION_IDLE_STAFF - 1
    session.save()
    assert client.get("/accounts/me/").status_code == 200
    assert settings.TONGBAN_SESSION_IDLE_APPLICANT == 2 * 3600 and settings.TONGBAN_SESSION_IDLE_STAFF == 30 * 60
