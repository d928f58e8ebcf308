"""Notices (告知书、决定书): numbering, signing, text helpers, PDF and verification.

The content of a notice is frozen at issue (Notice.content) with its SHA-256 digest, and signed like a
licence by the issuing department's key (tongban.licences.keystore; Ed25519, or SM2/SM3 where the
department's key is SM2). The signed document is

    {"payload": {"format": "tongban-notice/1", "number", "kind", "case", "issuer": {...}, "issued_on",
                 "issued_at", "content": {...}},
     "proof": {"alg": "Ed25519" | "SM2-SM3", "kid": "<key id>", "value": "<base64url>"}}

with the signature over `canonical_json(payload)`. It verifies with the same trust lists as licences:
online against the platform's trust for the issuer's region, offline against an exported trust bundle
(`tongban licence trust-export REGION`, then `tongban notice verify FILE --trust BUNDLE`). The PDF is
rendered from the content on demand, deterministically.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tongban.core.errors import Conflict, NotFound
from tongban.licences import crypto, keystore
from tongban.licences.trust import TrustContext, context_for_region
from tongban.regions.models import Department

from .models import Case, Notice, NoticeCounter, SubCase

FORMAT = "tongban-notice/1"
CODES = {"one_time": "BZ", "acceptance": "SL", "refusal": "BSL", "correction": "BZ", "special": "TB",
         "extension": "YC", "decision": "JD", "cancellation": "ZZ", "withdrawal": "CH", "delivery": "CJ"}
_TRAILING = "。，、；：,.;: \t\n"


# --- text ----------------------------------------------------------------------------------------------------


def clause(text: object) -> str:
    """Free text (a reason typed by an officer) to be embedded mid-sentence: no trailing punctuation,
    so the sentence around it adds its own exactly once."""
    return str(text or "").strip().rstrip(_TRAILING)


def sentence(text: object) -> str:
    """Free text as a whole sentence: ends with exactly one full stop (or its own ! / ?)."""
    body = clause(text)
    return body if not body or body[-1] in "！？!?" else body + "。"


# --- numbering and signing --------------------------------------------------------------------------------


def next_number(case: Case, kind: str) -> str:
    """The case's next notice number, reserved under a row lock on its counter (so it is unique and
    gap-free: a rolled-back issue gives its number back with its transaction)."""
    NoticeCounter.objects.get_or_create(case=case)  # race-safe: a savepoint around the insert
    counter = NoticeCounter.objects.select_for_update(of=("self",)).get(case=case)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{case.number}-{CODES[kind]}{counter.last:02d}"


def signer_for(case: Case, subcase: SubCase | None) -> Department:
    """The department whose key signs: the item's department, or for the window's notices the
    government-services department of the region that received the case."""
    if subcase is not None and subcase.department_id:  # a remote sub-case has none: the window signs
        return subcase.department
    signer = (Department.objects.filter(region_id=case.intake_region_id, kind=Department.Kind.GOVERNMENT_SERVICES)
              .order_by("pk").first())
    if signer is None:
        raise Conflict(f"区划 {case.intake_region_id} 没有政务服务管理部门，无法签发文书",
                       f"region {case.intake_region_id} has no government-services department to sign notices",
                       rule="notice.signer.missing")
    return signer


def canonical(content: dict) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def build_payload(notice: Notice, signer: Department, issued_at: datetime) -> dict:
    return {"format": FORMAT, "number": notice.number, "kind": notice.kind, "case": notice.content["case"],
            "issuer": {"name": notice.issuer_name, "department": signer.name, "uscc": signer.uscc,
                       "region": signer.region_id},
            "issued_on": notice.issued_on.isoformat(), "issued_at": issued_at.isoformat(timespec="seconds"),
            "content": notice.content}


def sign(notice: Notice, signer: Department) -> None:
    """Fill the notice's digest, payload and signature (before it is saved)."""
    key = keystore.active_key(department=signer)
    if key is None:
        raise Conflict(f"{signer.name} 没有启用的签名密钥，无法签发文书", f"department {signer.uscc} has no active signing key",
                       rule="notice.signer.no_key")
    issued_at = timezone.now().replace(microsecond=0)
    body = crypto.canonical_json(build_payload(notice, signer, issued_at))
    notice.signer, notice.signing_key, notice.issued_at = signer, key, issued_at
    notice.digest = hashlib.sha256(canonical(notice.content)).hexdigest()
    notice.payload = body.decode("utf-8")
    notice.signature = crypto.b64u(keystore.sign_with(key, body))


def signed_document(notice: Notice) -> dict | None:
    """The notice as a self-describing signed JSON document (None for an unsigned, older notice)."""
    if not notice.signed:
        return None
    return {"payload": json.loads(notice.payload),
            "proof": {"alg": notice.signing_key.algorithm, "kid": notice.signing_key.key_id, "value": notice.signature}}


# --- verification ------------------------------------------------------------------------------------------

REASONS = {
    "ok": ("文书签名有效，内容未被篡改", "the notice's signature is valid; the content is unchanged"),
    "malformed": ("文书格式不正确", "the notice document is malformed"),
    "unknown_key": ("签名密钥未知或不受信任", "the signing key is unknown or not trusted"),
    "trust_list_expired": ("信任列表已过期", "the trust list has expired"),
    "issuer_mismatch": ("签名密钥不属于签发机关", "the signing key does not belong to the issuer"),
    "bad_signature": ("签名无效（内容可能被篡改）", "bad signature (the content may have been changed)"),
    "key_not_valid": ("签发时签名密钥不在有效期内", "the key was not valid when the notice was issued"),
}


def _answer(code: str, payload: object = None, proof: object = None) -> dict:
    zh, en = REASONS[code]
    payload = payload if isinstance(payload, dict) else {}
    proof = proof if isinstance(proof, dict) else {}
    content = payload.get("content") if isinstance(payload.get("content"), dict) else {}
    issuer = payload.get("issuer") if isinstance(payload.get("issuer"), dict) else {}
    return {"valid": code == "ok", "reason": code, "reason_zh": zh, "reason_en": en,
            "number": payload.get("number"), "kind": payload.get("kind"), "title": content.get("title"),
            "case": payload.get("case"), "issued_on": payload.get("issued_on"), "issuer": issuer.get("name"),
            "issuer_department": issuer.get("department"), "issuer_uscc": issuer.get("uscc"),
            "alg": proof.get("alg"), "kid": proof.get("kid")}


def verify_document(document: object, *, trust: TrustContext | str | None = None,
                    now: datetime | None = None) -> dict:
    """Verify a signed notice document in a trust context (an offline `TrustContext` from a trust
    bundle, a region code, or None for the issuer's own region as the platform trusts it)."""
    now = now or timezone.now()
    if not isinstance(document, dict):
        return _answer("malformed")
    payload, proof = document.get("payload"), document.get("proof")
    try:
        if (not isinstance(payload, dict) or payload.get("format") != FORMAT or not isinstance(proof, dict)
                or not isinstance(proof.get("kid"), str) or not isinstance(proof.get("value"), str)):
            return _answer("malformed", payload, proof)
        issuer_uscc = payload["issuer"]["uscc"]
        context = trust if isinstance(trust, TrustContext) else context_for_region(trust or payload["issuer"]["region"])
        key = context.keys.get(proof["kid"])
        if key is None:
            return _answer("unknown_key", payload, proof)
        if now > key.list_expires:
            return _answer("trust_list_expired", payload, proof)
        if key.issuer_uscc != issuer_uscc:
            return _answer("issuer_mismatch", payload, proof)
        public = crypto.load_public_key(key.alg, key.public_key)
        if proof.get("alg") != key.alg or not crypto.verify(key.alg, public, crypto.unb64u(proof["value"]),
                                                             crypto.canonical_json(payload)):
            return _answer("bad_signature", payload, proof)
        issued_at = datetime.fromisoformat(payload["issued_at"])
        if issued_at < key.valid_from or (key.valid_until is not None and issued_at > key.valid_until):
            return _answer("key_not_valid", payload, proof)
    except (KeyError, TypeError, ValueError):
        return _answer("malformed", payload, proof)
    except NotFound:  # a region unknown here: nothing it signed is trusted
        return _answer("unknown_key", payload, proof)
    return _answer("ok", payload, proof)


def find(token: str) -> Notice | None:
    if not token or len(token) > 32:
        return None
    return Notice.objects.filter(token=token).select_related("case", "signing_key", "signer").first()


def verify_path(notice: Notice) -> str:
    return reverse("cases:verify-notice", args=[notice.token])


def verify_url(notice: Notice, request=None) -> str:
    path = verify_path(notice)
    if request is not None:
        return request.build_absolute_uri(path)
    base = getattr(settings, "TONGBAN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + path


def document_for(notice: Notice, request=None):
    from tongban.core import pdf

    content = notice.content
    paragraphs = list(content.get("paragraphs", []))
    sections = [pdf.Section(paragraphs=paragraphs)]
    if content.get("rows"):
        sections.append(pdf.Section(heading="明细", rows=[(str(k), str(v)) for k, v in content["rows"]]))
    sections.append(pdf.Section(rows=[("办件编号", content.get("case", "")), ("事项", content.get("case_title", ""))]))
    return pdf.Document(title=content.get("title", notice.get_kind_display()), number=notice.number,
                        issuer=notice.issuer_name, issued_on=notice.issued_on, sections=sections,
                        verify_url=verify_url(notice, request), recipient=content.get("recipient", ""),
                        seal_text=notice.issuer_name, footer="扫描二维码或访问上述网址核验本文书真伪")


def render_pdf(notice: Notice, request=None) -> bytes:
    from tongban.core import pdf

    return pdf.render(document_for(notice, request))


def _intact(notice: Notice) -> bool:
    return hashlib.sha256(canonical(notice.content)).hexdigest() == notice.digest


def verify(token: str) -> dict:
    """Public answer for a notice's QR code: genuine or not, with only non-personal facts. A signed
    notice is genuine when its stored content matches what was signed and the signature verifies with
    the issuer's region's trust list; an older, unsigned notice only by its digest (and says so)."""
    notice = find(token)
    if notice is None or not _intact(notice):
        return {"valid": False}
    answer = {"valid": True, "signed": notice.signed, "number": notice.number, "kind": notice.kind,
              "title": notice.content.get("title"), "issued_on": notice.issued_on, "issuer": notice.issuer_name,
              "case": notice.case.number, "digest": notice.digest}
    if notice.signed:
        document = signed_document(notice)
        check = verify_document(document)
        same = document["payload"].get("content") == notice.content and document["payload"].get("number") == notice.number
        if check["valid"] and not same:
            check.update(reason_zh="签发记录与签名内容不一致", reason_en="the stored notice differs from what was signed")
        answer.update(valid=check["valid"] and same, signature=check["reason_zh"], signature_en=check["reason_en"],
                      alg=check["alg"], kid=check["kid"], issuer_department=check["issuer_department"],
                      issuer_uscc=check["issuer_uscc"])
    return answer
