"""Verification of a licence document. Fails closed: anything that cannot be established (the key,
the trust list, the status list) makes the licence invalid, with the reason.

Order of checks: well-formed -> key trusted (known, trust list not expired, key belongs to the
issuer) -> signature -> key valid when the licence was issued -> status list present, fresh (and,
offline, signed by a trusted key) -> not revoked / suspended -> within its validity dates.

A failure of our own (the database does not answer) is not a verdict on the licence: it is logged at
ERROR with the licence identifier and raised as `VerificationUnavailable` (the API answers 503
"verification unavailable", the page says so), never reported as "untrusted issuer" or "invalid".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError
from django.utils import timezone

from tongban.core.errors import NotFound
from tongban.regions.models import Department, Region

from . import cache, crypto
from .documents import EXPORT_FORMAT, FORMAT, summary
from .identifiers import SERIAL_WIDTH, parse_identifier
from .models import SigningKey, StatusList
from .trust import TrustContext, TrustedKey, context_for_region, context_from_bundle

log = logging.getLogger(__name__)


class VerificationUnavailable(Exception):
    """Verification could not be carried out (our database failed); says nothing about the licence."""

    reason_code = "verification_unavailable"
    reason_zh = "暂时无法核验证照，请稍后再试"
    reason_en = "verification is unavailable at the moment; try again later"

    def __init__(self, identifier: str):
        self.identifier = identifier
        super().__init__(f"licence verification unavailable for {identifier or 'a licence'}")


REASONS: dict[str, tuple[str, str]] = {
    "ok": ("证照有效", "the licence is valid"),
    "malformed": ("证照文档格式不正确", "the licence document is malformed"),
    "unknown_key": ("签名密钥未知", "the signing key is unknown"),
    "untrusted_issuer": ("发证机关不在本区划信任或互认的列表中", "the issuer is not trusted or recognised in this region"),
    "trust_list_expired": ("信任列表已过期", "the trust list has expired"),
    "issuer_mismatch": ("签名密钥不属于发证机关", "the signing key does not belong to the issuer"),
    "bad_signature": ("签名无效（内容可能被篡改）", "bad signature (the content may have been changed)"),
    "key_not_valid": ("签发时签名密钥不在有效期内", "the key was not valid when the licence was issued"),
    "status_missing": ("无法取得证照状态列表", "no status list is available"),
    "status_stale": ("证照状态列表已过期", "the status list is stale"),
    "status_invalid": ("证照状态列表签名无效", "the status list signature is not valid"),
    "revoked": ("证照已注销", "the licence has been revoked"),
    "suspended": ("证照已中止", "the licence is suspended"),
    "not_yet_valid": ("证照尚未生效", "the licence is not yet valid"),
    "expired": ("证照已超过有效期", "the licence has expired"),
}


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    reason_code: str
    reason_zh: str
    reason_en: str
    licence: dict | None = None

    def as_dict(self) -> dict:
        return {"valid": self.valid, "reason": self.reason_code, "reason_zh": self.reason_zh,
                "reason_en": self.reason_en, "licence": self.licence}


@dataclass(frozen=True)
class StatusView:
    revocation: bytes
    suspension: bytes
    size: int
    valid_until: datetime


def _result(code: str, payload: dict | None = None) -> VerifyResult:
    zh, en = REASONS[code]
    return VerifyResult(code == "ok", code, zh, en, summary(payload) if isinstance(payload, dict) else None)


def _db_status(issuer_uscc: str) -> StatusView | None:
    def build() -> StatusView | None:
        row = StatusList.objects.filter(issuer__uscc=issuer_uscc).exclude(signature="").first()
        if row is None:
            return None
        return StatusView(crypto.decode_bitstring(row.revocation), crypto.decode_bitstring(row.suspension),
                          row.size, row.valid_until)
    return cache.status_cache.get(("db", issuer_uscc), build)


def _snapshot_status(snapshot: object, issuer_uscc: str, context: TrustContext,
                     now: datetime) -> StatusView | str:
    """A status list carried with the document: it must be the issuer's, signed by a key trusted in
    `context`. Returns the view or a reason code."""
    if not isinstance(snapshot, dict) or snapshot.get("issuer") != issuer_uscc:
        return "status_missing"
    proof = snapshot.get("proof") or {}
    key = context.keys.get(str(proof.get("kid")))
    if key is None or key.issuer_uscc != issuer_uscc or now > key.list_expires:
        return "status_invalid"
    try:
        lists = snapshot["lists"]
        revocation, suspension = lists["revocation"]["encodedList"], lists["suspension"]["encodedList"]
        # The view is built only from these values; a cache hit therefore returns exactly what an
        # earlier snapshot, whose signature by this key verified, said with these same values.
        cache_key = ("snapshot", key.kid, key.public_key, proof["value"], revocation, suspension,
                     snapshot["size"], snapshot["validUntil"])

        def build() -> StatusView | None:
            body = {k: v for k, v in snapshot.items() if k != "proof"}
            public = crypto.load_public_key(key.alg, key.public_key)
            if not crypto.verify(key.alg, public, crypto.unb64u(proof["value"]), crypto.canonical_json(body)):
                return None
            return StatusView(crypto.decode_bitstring(revocation), crypto.decode_bitstring(suspension),
                              int(snapshot["size"]), datetime.fromisoformat(snapshot["validUntil"]))
        view = cache.status_cache.get(cache_key, build)
    except (KeyError, TypeError, ValueError, OSError):
        return "status_invalid"
    return view if view is not None else "status_invalid"


def _resolve_context(trust: TrustContext | Region | str | None, issuer_uscc: str) -> TrustContext | None:
    if isinstance(trust, TrustContext):
        return trust
    if trust is None:  # the issuer's home region, as the platform sees it
        trust = cache.trust_cache.get(("home", issuer_uscc), lambda: Department.objects.filter(
            uscc=issuer_uscc).values_list("region_id", flat=True).first())
        if trust is None:
            return None
    try:
        return context_for_region(trust)
    except NotFound:  # unknown region: nothing is trusted (a database error propagates: not a verdict)
        return None


def _unknown_key_reason(kid: str, context: TrustContext, bundle: dict | None) -> str:
    if context.offline:
        entry = (bundle or {}).get("issuer") or {}
        return "untrusted_issuer" if any(k.get("kid") == kid for k in entry.get("keys", [])) else "unknown_key"
    return "untrusted_issuer" if SigningKey.objects.filter(key_id=kid).exists() else "unknown_key"


def _well_formed(payload: object, proof: object) -> bool:
    if not isinstance(payload, dict) or not isinstance(proof, dict) or payload.get("format") != FORMAT:
        return False
    ident = parse_identifier(str(payload.get("identifier", "")))
    try:
        return (ident is not None and ident.type_code == payload["type"]["code"]
                and ident.issuer_uscc == payload["issuer"]["uscc"] and ident.version == payload["version"]
                and isinstance(proof.get("kid"), str) and isinstance(proof.get("value"), str)
                and len(payload["identifier"].split(".")[7]) == SERIAL_WIDTH)
    except (KeyError, TypeError, IndexError):
        return False


def _key_valid_at(key: TrustedKey, payload: dict) -> bool:
    issued_at = datetime.fromisoformat(payload["issued_at"])
    return issued_at >= key.valid_from and (key.valid_until is None or issued_at <= key.valid_until)


def verify_licence_document(doc: dict, *, trust: TrustContext | Region | str | None = None,
                            now: datetime | None = None) -> VerifyResult:
    """Verify a licence document (or an export bundle holding one) in the given trust context: a
    `TrustContext`, a region (its database trust), or None for the issuer's home region.
    Raises `VerificationUnavailable` when the database fails (logged at ERROR with the identifier)."""
    try:
        return _verify(doc, trust=trust, now=now)
    except DatabaseError as exc:
        identifier = _identifier_of(doc)
        log.error("licence verification unavailable: database error", exc_info=True,
                  extra={"licence": identifier, "error": exc.__class__.__name__})
        raise VerificationUnavailable(identifier) from exc


def _identifier_of(doc: object) -> str:
    try:
        inner = doc.get("licence") if doc.get("format") == EXPORT_FORMAT else doc  # type: ignore[union-attr]
        return str(inner["payload"]["identifier"])[:200]
    except (AttributeError, KeyError, TypeError):
        return ""


def _verify(doc: dict, *, trust: TrustContext | Region | str | None, now: datetime | None) -> VerifyResult:
    now = now or timezone.now()
    bundle = doc if isinstance(doc, dict) and doc.get("format") == EXPORT_FORMAT else None
    licence_doc = bundle.get("licence") if bundle else doc
    if not isinstance(licence_doc, dict):
        return _result("malformed")
    payload, proof = licence_doc.get("payload"), licence_doc.get("proof")
    if not _well_formed(payload, proof):
        return _result("malformed", payload)
    issuer_uscc = payload["issuer"]["uscc"]
    context = _resolve_context(trust, issuer_uscc)
    if context is None:
        return _result("untrusted_issuer", payload)
    key = context.keys.get(proof["kid"])
    if key is None:
        return _result(_unknown_key_reason(proof["kid"], context, bundle), payload)
    if now > key.list_expires:
        return _result("trust_list_expired", payload)
    if key.issuer_uscc != issuer_uscc:
        return _result("issuer_mismatch", payload)
    try:
        public = crypto.load_public_key(key.alg, key.public_key)
        signature = crypto.unb64u(proof["value"])
        good = proof.get("alg") == key.alg and crypto.verify(key.alg, public, signature, crypto.canonical_json(payload))
        if not good:
            return _result("bad_signature", payload)
        if not _key_valid_at(key, payload):
            return _result("key_not_valid", payload)
        status = (_snapshot_status(bundle.get("status_list") if bundle else None, issuer_uscc, context, now)
                  if context.offline else _db_status(issuer_uscc))
        if status is None or isinstance(status, str):
            return _result(status or "status_missing", payload)
        if now > status.valid_until:
            return _result("status_stale", payload)
        index = payload["status"]["statusListIndex"]
        if not isinstance(index, int) or not 0 <= index < status.size:
            return _result("malformed", payload)
        if crypto.bit_is_set(status.revocation, index):
            return _result("revoked", payload)
        if crypto.bit_is_set(status.suspension, index):
            return _result("suspended", payload)
        today = now.astimezone(timezone.get_default_timezone()).date().isoformat()
        if today < payload["valid_from"]:
            return _result("not_yet_valid", payload)
        if payload["valid_until"] is not None and today > payload["valid_until"]:
            return _result("expired", payload)
    except (KeyError, TypeError, ValueError):
        return _result("malformed", payload)
    return _result("ok", payload)


def trust_from_file(data: dict) -> TrustContext:
    """A trust bundle, a single trust list, or an export bundle's embedded list, as an offline context."""
    if data.get("format") == EXPORT_FORMAT:
        return context_from_bundle(data.get("trust_list") or {})
    return context_from_bundle(data)
