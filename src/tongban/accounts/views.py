"""Sign-in pages (Chinese first): password login with django-axes throttling, the staff TOTP step
(verify, or enrol a first device), logout, choosing the "acting as" party, and the mandates page."""

from __future__ import annotations

import datetime as dt

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.views import AuthorizationView

from tongban.core.errors import InvalidInput, NotFound

from .access import MandateAction, access_mandate_for
from .middleware import SESSION_KEY, otp_pending, otp_required
from .models import Enterprise, User
from .selectors import mandates_visible_to, parties_for, party_for_key
from .services import grant_mandate, revoke_mandate


def _safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired"] = bool(self.request.GET.get("expired"))
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        if otp_pending(self.request):
            target = "accounts:otp-verify" if any(devices_for_user(self.request.user)) else "accounts:otp-setup"
            return HttpResponseRedirect(f"{reverse(target)}?next={self.get_success_url()}")
        return response


class LogoutView(auth_views.LogoutView):
    template_name = "accounts/logged_out.html"


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes lockout response: bilingual, 429 for the login page and the API alike."""
    hours = settings.AXES_COOLOFF_TIME
    minutes = int(round(float(hours) * 60)) if hours else None
    return render(request, "accounts/locked_out.html",
                  {"limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}, status=429)


class TokenForm(forms.Form):
    token = forms.RegexField(regex=r"^\d{6}$", label="动态口令 / one-time code", max_length=6,
                             error_messages={"invalid": "请输入 6 位数字动态口令 / enter the 6-digit code"})


def _otp_guard(request):
    if not request.user.is_authenticated:
        return HttpResponseRedirect(settings.LOGIN_URL)
    if not otp_required(request.user):
        return HttpResponseRedirect(_safe_next(request))
    return None


def otp_verify(request):
    """Second step for staff: a TOTP code from an enrolled device."""
    if (response := _otp_guard(request)) is not None:
        return response
    devices = [d for d in devices_for_user(request.user) if isinstance(d, TOTPDevice)]
    if not devices:
        return HttpResponseRedirect(reverse("accounts:otp-setup"))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return HttpResponseRedirect(_safe_next(request))
        form.add_error("token", "动态口令错误或已过期 / the code is wrong or has expired")
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _safe_next(request)})


def otp_setup(request):
    """Enrol a first TOTP device: show the secret (QR code), confirm with one code."""
    if (response := _otp_guard(request)) is not None:
        return response
    if any(d.confirmed for d in devices_for_user(request.user)):
        return HttpResponseRedirect(reverse("accounts:otp-verify"))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="default", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request))
        form.add_error("token", "动态口令错误，请核对手机时间后重试 / the code is wrong; check the phone's clock")
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(request, "accounts/otp_setup.html", {"form": form, "qr": qr, "next": _safe_next(request),
                                                       "secret": _base32(device.bin_key)})


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")


@require_POST
@login_required
def acting_as(request):
    """Choose the party to act as: `party` = "person" or "enterprise:<USCC>"."""
    key = (request.POST.get("party") or "").strip()
    party = party_for_key(request.user, key)
    if party is None:
        messages.error(request, "您不能以该身份办理（无委托或委托已失效） / "
                                "you may not act as that party (no mandate, or it has ended)")
    else:
        request.session[SESSION_KEY] = party.key
        messages.success(request, f"现以“{party.name}”身份办理 / you now act as {party.name}")
    return HttpResponseRedirect(_safe_next(request, reverse("accounts:me")))


class GrantForm(forms.Form):
    enterprise = forms.CharField(label="委托企业（统一社会信用代码） / principal (USCC)", max_length=18)
    agent = forms.CharField(label="受托人（用户名或身份证号码） / agent (username or ID number)", max_length=150)
    item_codes = forms.CharField(label="事项基本编码（每行一个，留空为全部事项） / item basic codes (one a line; empty: all)",
                                 required=False, widget=forms.Textarea(attrs={"rows": 3}))
    valid_from = forms.DateField(label="生效日期 / from", required=False)
    valid_until = forms.DateField(label="截止日期 / until")
    allow_subdelegation = forms.BooleanField(label="允许转委托 / allow sub-delegation", required=False)


@login_required
def me(request):
    """Who am I, whom can I act as, which mandates do I hold or have granted (grant and revoke here)."""
    form = GrantForm(request.POST or None, initial={"valid_until": dt.date.today() + dt.timedelta(days=365)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        agent = (User.objects.filter(username=data["agent"]).first()
                 or User.objects.filter(id_number=data["agent"].upper()).exclude(id_number="").first())
        enterprise = Enterprise.objects.filter(uscc=data["enterprise"].upper()).first()
        codes = [c.strip() for c in data["item_codes"].split() if c.strip()]
        if agent is None:
            form.add_error("agent", "未找到该受托人 / no such agent")
        elif enterprise is None:
            form.add_error("enterprise", "未找到该企业 / no such enterprise")
        else:
            try:
                grant_mandate(granted_by=request.user, principal=enterprise, agent=agent, item_codes=codes,
                              all_items=not codes, valid_from=data["valid_from"], valid_until=data["valid_until"],
                              allow_subdelegation=data["allow_subdelegation"])
            except InvalidInput as exc:
                for p in exc.problems:
                    form.add_error(None, f"{p.field}: {p.zh} / {p.en}")
            else:
                messages.success(request, "已委托 / mandate granted")
                return HttpResponseRedirect(reverse("accounts:me"))
    mandates = mandates_visible_to(request.user)
    return render(request, "accounts/me.html", {
        "parties": parties_for(request.user), "acting": request.acting_as, "form": form,
        "mandates": mandates, "today": dt.date.today(),
        "enterprises": Enterprise.objects.filter(legal_representative=request.user)})


@require_POST
@login_required
def revoke(request, mandate_id: int):
    try:
        mandate = access_mandate_for(request.user, mandate_id, to=MandateAction.REVOKE)
    except NotFound:
        raise Http404 from None  # not the user's: nothing to say about it (same answer as a missing one)
    try:
        revoke_mandate(mandate=mandate, revoked_by=request.user, reason=request.POST.get("reason", ""))
    except NotFound:
        messages.error(request, "委托不存在或无权撤销 / no such mandate, or you may not revoke it")
    except InvalidInput as exc:
        messages.error(request, "; ".join(f"{p.zh} / {p.en}" for p in exc.problems))
    else:
        messages.success(request, "委托已撤销（含其转委托） / mandate revoked (with its sub-delegations)")
    return HttpResponseRedirect(reverse("accounts:me"))


class TongbanAuthorizationView(AuthorizationView):
    """OIDC authorisation: records the party the user acts as in this session with the code."""

    template_name = "accounts/authorize.html"

    def create_authorization_response(self, request, scopes, credentials, allow):
        acting = getattr(request, "acting_as", None)
        credentials = {**credentials, "acting_as_key": acting.key if acting is not None else "person"}
        return super().create_authorization_response(request, scopes, credentials, allow)



