"""Licence API (thin: parse, call one service or selector, return). Mounted at /api/v1/licences.

- POST /verify                 verify a licence document or export bundle (always 200, fails closed)
- GET  /status/{issuer_uscc}   the issuer's signed status list (W3C Bitstring Status List style)
- GET  /trust/{region_code}    the region's signed trust list
- GET  /show/{token}           check a 亮证 QR token: the disclosed fields and whether the licence is valid
- GET  /{licence_id}/pdf       the printable licence (证照打印版, PDF) for its holder (signed-in session)
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Router, Schema, Status
from ninja.security import django_auth

from tongban.core.errors import Problem

from . import printing, selectors, sharing, trust
from .verification import VerificationUnavailable, verify_licence_document

router = Router(tags=["licences"])


class VerifyIn(Schema):
    document: dict[str, Any]
    region: str | None = None


class VerifyOut(Schema):
    valid: bool
    reason: str
    reason_zh: str
    reason_en: str
    licence: dict[str, Any] | None = None


class ShowOut(Schema):
    valid: bool
    reason: str
    reason_zh: str
    reason_en: str
    expires_at: str | None = None
    fields: dict[str, Any]


class ProblemsOut(Schema):
    detail: list[dict]


@router.post("/verify", response={200: VerifyOut, 503: ProblemsOut}, summary="Verify a licence (signature, issuer trust, status, validity)",
             description="Body: the licence document ({payload, proof}) or an export bundle, and optionally the "
                         "verifying region (default: the issuer's home region). Always 200; `valid` is false "
                         "with a reason code (unknown_key, untrusted_issuer, bad_signature, revoked, suspended, "
                         "expired, status_stale, status_missing, trust_list_expired, ...) when any check fails; 503 "
                         "`verification_unavailable` when the platform itself cannot check (never a verdict).")
def verify(request, body: VerifyIn):
    try:
        return verify_licence_document(body.document, trust=body.region or None).as_dict()
    except VerificationUnavailable as exc:  # our failure, not the licence's: 503, never "untrusted"
        return Status(503, {"detail": [Problem("document", exc.reason_code, exc.reason_zh, exc.reason_en).as_dict()]})


@router.get("/status/{issuer_uscc}", response=dict[str, Any], summary="An issuer's signed status list",
            description="Revocation and suspension bitstrings (GZIP + multibase base64url, index 0 = most "
                        "significant bit of the first byte), `validUntil` after which verifiers must reject it, "
                        "and the issuer's signature over the canonical JSON of everything but `proof`.")
def status_list(request, issuer_uscc: str):
    return selectors.published_status_list(issuer_uscc)


@router.get("/trust/{region_code}", response=dict[str, Any], summary="A region's signed trust list")
def trust_list(request, region_code: str):
    return trust.trust_list_document(region_code)


@router.get("/show/{token}", response=ShowOut, summary="Check a licence shown by QR code (亮证)",
            description="Returns only the fields the holder chose to disclose, and whether the licence is valid "
                        "now. Tokens expire after a few minutes (reason token_expired).")
def show(request, token: str):
    return sharing.verify_show_token(token=token)


@router.get("/{licence_id}/pdf", auth=django_auth, summary="Printable licence (证照打印版, PDF) for its holder",
            description="A4 PDF in Chinese: type, holder (code masked), every field with its label, issuer, "
                        "validity, identifier, status today, and a QR code leading to the public verification "
                        "page /verify/licence/<identifier>. Only the holder (the person, or the enterprise's "
                        "legal representative) gets it; anyone else gets 404.",
            openapi_extra={"responses": {200: {"description": "the PDF", "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}})
def licence_pdf(request, licence_id: int):
    licence = selectors.access_licence_by_holder(request.user, licence_id)
    base = printing.public_base_url() if printing.configured_base_url() else request.build_absolute_uri("/")
    response = HttpResponse(printing.licence_pdf(licence, base_url=base), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="licence-{licence.pk}-v{licence.version}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
