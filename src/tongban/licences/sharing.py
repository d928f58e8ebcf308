"""The holder's side: show a licence by QR code (亮证) and authorise one use (授权用证).

- A show token is short-lived (5 minutes by default) and HMAC-SHA256-signed with a platform secret
  derived from the key-encryption key. It names the licence and the fields the holder chose to
  disclose; whoever scans it learns those fields and whether the licence is valid now, nothing else.
- A use authorisation is a one-time code for one item (basic code) and one case, expiring
  (30 minutes by default); an officer consumes it once and gets the verified licence. Every use,
  and every scan of a show token, is written to `LicenceUse`, which the holder can read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.utils import timezone

from tongban.audit.services import append_entry
from tongban.core.codes import check_basic_code, mask
from tongban.core.errors import Conflict, InvalidInput, NotFound, Problem
from tongban.core.transactions import service

from . import crypto, keystore
from .models import Licence, LicenceUse, UseAuthorisation
from .selectors import access_licence_by_holder, licence_document
from .verification import REASONS, VerifyResult, verify_licence_document

SHOW_TOKEN_SECONDS = 300
AUTHORISATION_MINUTES = 30
ALWAYS_SHOWN = ("type_name", "issuer_name")
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
_TOKEN_REASONS = {
    "token_invalid": ("亮证码无效", "the show token is not valid"),
    "token_expired": ("亮证码已过期", "the show token has expired"),
}


@dataclass(frozen=True)
class ShowToken:
    token: str
    expires_at: datetime

    def qr_svg(self, prefix: str = "") -> str:
        return segno.make(prefix + self.token, error="m").svg_inline(scale=4)

    def qr_png(self, prefix: str = "") -> bytes:
        import io

        out = io.BytesIO()
        segno.make(prefix + self.token, error="m").save(out, kind="png", scale=6)
        return out.getvalue()


@dataclass(frozen=True)
class VerifiedLicence:
    licence: Licence
    result: VerifyResult
    use: LicenceUse


def disclosable_fields(licence: Licence) -> list[str]:
    return ["holder_name", "holder_code", "valid_from", "valid_until", "identifier",
            *(f"data.{k}" for k in sorted(licence.data))]


def _mac(body: bytes) -> bytes:
    return hmac.new(keystore.platform_secret("show-token"), body, hashlib.sha256).digest()


def create_show_token(*, holder, licence_id: int, fields: list[str], ttl_seconds: int = SHOW_TOKEN_SECONDS,
                      now: datetime | None = None) -> ShowToken:
    """A QR token disclosing only `fields` of the holder's licence, valid for `ttl_seconds`."""
    licence = access_licence_by_holder(holder, licence_id)
    allowed = set(disclosable_fields(licence))
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise InvalidInput([Problem("fields", "licence.show.field", f"不可出示的字段：{', '.join(unknown)}",
                                    f"fields that cannot be shown: {', '.join(unknown)}")])
    if not 0 < ttl_seconds <= 3600:
        raise InvalidInput([Problem("ttl_seconds", "licence.show.ttl", "有效时长应在 1 至 3600 秒之间",
                                    "ttl must be between 1 and 3600 seconds")])
    expires = (now or timezone.now()) + timedelta(seconds=ttl_seconds)
    body = crypto.canonical_json({"l": licence.pk, "f": sorted(set(fields)), "x": int(expires.timestamp())})
    return ShowToken(crypto.b64u(body) + "." + crypto.b64u(_mac(body)), expires)


def _token_failure(code: str) -> dict:
    zh, en = _TOKEN_REASONS.get(code) or REASONS[code]
    return {"valid": False, "reason": code, "reason_zh": zh, "reason_en": en, "fields": {}}


def _disclose(licence: Licence, fields: list[str]) -> dict:
    values = {"type_name": licence.licence_type.name, "issuer_name": licence.issuer.name}
    for name in fields:
        if name.startswith("data."):
            values[name] = licence.data.get(name[5:])
        elif name == "holder_code":
            values[name] = mask(licence.holder_code)
        elif name in ("valid_from", "valid_until"):
            value = getattr(licence, name)
            values[name] = value.isoformat() if value else None
        else:
            values[name] = getattr(licence, name)
    return values


@service
def verify_show_token(*, token: str, now: datetime | None = None) -> dict:
    """Check a scanned show token and the licence behind it; log the scan for the holder."""
    now = now or timezone.now()
    body_b64, _, mac_b64 = (token or "").strip().partition(".")
    try:
        body = crypto.unb64u(body_b64)
        good = hmac.compare_digest(crypto.unb64u(mac_b64), _mac(body))
        claims = json.loads(body) if good else None
    except (ValueError, TypeError):
        claims = None
    if not isinstance(claims, dict):
        return _token_failure("token_invalid")
    if now.timestamp() > claims.get("x", 0):
        return _token_failure("token_expired")
    licence = Licence.objects.select_related("licence_type", "issuer", "signing_key").filter(pk=claims.get("l")).first()
    if licence is None:
        return _token_failure("token_invalid")
    result = verify_licence_document(licence_document(licence), now=now)
    LicenceUse.objects.create(licence=licence, kind=LicenceUse.Kind.SHOWN, at=now, reason="亮证核验")
    return {"valid": result.valid, "reason": result.reason_code, "reason_zh": result.reason_zh,
            "reason_en": result.reason_en, "expires_at": datetime.fromtimestamp(claims["x"], tz=now.tzinfo).isoformat(),
            "fields": _disclose(licence, list(claims.get("f", [])))}


def _digest(code: str) -> str:
    return hashlib.sha256(b"tongban-use-code:" + code.strip().upper().encode()).hexdigest()


@service
def authorise_use(*, holder, licence_id: int, item_basic_code: str, case_ref: str,
                  ttl: timedelta = timedelta(minutes=AUTHORISATION_MINUTES),
                  now: datetime | None = None) -> tuple[UseAuthorisation, str]:
    """A one-time code letting an officer use the licence for this item and case only. The code is
    returned once and stored only as a hash."""
    licence = access_licence_by_holder(holder, licence_id)
    problems = check_basic_code(item_basic_code, "item_basic_code")
    if not (case_ref or "").strip():
        problems.append(Problem("case_ref", "required", "办件编号必填", "case reference is required"))
    if problems:
        raise InvalidInput(problems)
    if licence.status != Licence.Status.VALID:
        raise Conflict("只有有效的证照可以授权使用", "only a valid licence can be authorised for use")
    now = now or timezone.now()
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    authorisation = UseAuthorisation.objects.create(
        licence=licence, granted_by=holder, item_basic_code=item_basic_code, case_ref=case_ref.strip(),
        code_digest=_digest(code), created_at=now, expires_at=now + ttl)
    append_entry(action="licence.use_authorised", actor=holder, object_type="licence", object_id=licence.identifier,
                 case_ref=case_ref.strip(), reason=f"item {item_basic_code}")
    return authorisation, code


@service
def consume_authorisation(*, code: str, item_basic_code: str, case_ref: str, officer, reason: str,
                          now: datetime | None = None) -> VerifiedLicence:
    """An officer uses an authorisation code once, for its item and case; the licence is verified
    (in the officer's region's trust) and the use logged."""
    if not (reason or "").strip():
        raise InvalidInput(Problem("reason", "required", "请填写用证事由", "a reason is required"))
    if officer is None or getattr(officer, "kind", "") != "staff":
        raise NotFound("authorisation")
    now = now or timezone.now()
    authorisation = (UseAuthorisation.objects.select_for_update(of=("self",)).select_related("licence__signing_key")
                     .filter(code_digest=_digest(code or "")).first())
    if authorisation is None:
        raise NotFound("authorisation")
    if authorisation.consumed_at is not None:
        raise Conflict("授权码已被使用", "the authorisation code has already been used", rule="authorisation.used")
    if now > authorisation.expires_at:
        raise Conflict("授权码已过期", "the authorisation code has expired", rule="authorisation.expired")
    if authorisation.item_basic_code != item_basic_code or authorisation.case_ref != (case_ref or "").strip():
        raise Conflict("授权码不适用于该事项或办件", "the authorisation is for another item or case",
                       rule="authorisation.scope")
    licence = authorisation.licence
    department = getattr(officer, "department", None)
    trust = department.region_id if department is not None else getattr(officer, "region_id", None)
    result = verify_licence_document(licence_document(licence), trust=trust, now=now)
    if not result.valid:
        raise Conflict(f"证照无效：{result.reason_zh}", f"licence not valid: {result.reason_en}",
                       rule=f"licence.{result.reason_code}")
    authorisation.consumed_at, authorisation.consumed_by = now, officer
    authorisation.save(update_fields=["consumed_at", "consumed_by"])
    use = LicenceUse.objects.create(
        licence=licence, kind=LicenceUse.Kind.AUTHORISED, at=now, officer=officer, department=department,
        item_basic_code=item_basic_code, case_ref=authorisation.case_ref, reason=reason.strip()[:256],
        authorisation=authorisation)
    append_entry(action="licence.used", actor=officer, object_type="licence", object_id=licence.identifier,
                 case_ref=authorisation.case_ref, reason=reason.strip())
    return VerifiedLicence(licence, result, use)
