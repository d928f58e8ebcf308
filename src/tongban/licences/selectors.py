"""Reads of the licence library, and the access checks every holder-facing read goes through.

`access_licence_by_holder(user, licence_id)` is the only way a holder reaches a licence: a person
holds the licences issued to their ID number (code type 111); the legal representative of an
enterprise holds the enterprise's licences (code type 001). Anyone else gets NotFound.
"""

from __future__ import annotations

import json
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.accounts.models import Enterprise
from tongban.core.errors import NotFound

from .documents import EXPORT_FORMAT
from .models import Licence, LicenceUse, StatusList, TrustList
from .services import status_list_document


def _holder_filter(user) -> Q | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    q = Q(pk__in=[])
    if user.id_number:
        q |= Q(holder_code_type=Licence.HolderCodeType.ID_NUMBER, holder_code=user.id_number)
    usccs = list(Enterprise.objects.filter(legal_representative=user).values_list("uscc", flat=True))
    if usccs:
        q |= Q(holder_code_type=Licence.HolderCodeType.USCC, holder_code__in=usccs)
    return q


def licences_of_holder(user, *, include_history: bool = False) -> QuerySet[Licence]:
    """The user's licences (personal and as legal representative); current versions unless
    `include_history`."""
    q = _holder_filter(user)
    if q is None:
        return Licence.objects.none()
    qs = Licence.objects.filter(q).select_related("licence_type", "issuer")
    return qs if include_history else qs.filter(next_version__isnull=True)


def access_licence_by_holder(user, licence_id: int) -> Licence:
    q = _holder_filter(user)
    licence = None if q is None else (
        Licence.objects.filter(q, pk=licence_id).select_related("licence_type", "issuer", "signing_key").first())
    if licence is None:
        raise NotFound(f"licence {licence_id}")
    return licence


def uses_of_licence(licence: Licence | int, holder) -> QuerySet[LicenceUse]:
    """Who used the licence, when, for which case and why: visible to its holder only."""
    licence = access_licence_by_holder(holder, licence if isinstance(licence, int) else licence.pk)
    return licence.uses.select_related("officer", "department").order_by("-at", "-id")


def licences_list(*, holder_code: str | None = None) -> QuerySet[Licence]:
    qs = Licence.objects.select_related("licence_type", "issuer").order_by("id")
    return qs.filter(holder_code=holder_code.strip().upper()) if holder_code else qs


def display_status(licence: Licence, today: date | None = None) -> str:
    """valid / suspended / revoked / superseded / expired / not_yet_valid, as a holder sees it."""
    today = today or timezone.localdate()
    if licence.status == Licence.Status.REVOKED:
        return "superseded" if licence.status_reason.startswith("superseded by") else "revoked"
    if licence.status == Licence.Status.SUSPENDED:
        return "suspended"
    if licence.valid_until is not None and today > licence.valid_until:
        return "expired"
    if today < licence.valid_from:
        return "not_yet_valid"
    return "valid"


def licence_document(licence: Licence) -> dict:
    """The signed licence document: the stored canonical payload and its proof."""
    return {"payload": json.loads(licence.payload),
            "proof": {"alg": licence.signing_key.algorithm, "kid": licence.signing_key.key_id,
                      "value": licence.signature}}


def get_licence(licence_id: int) -> Licence:
    licence = Licence.objects.select_related("licence_type", "issuer", "signing_key").filter(pk=licence_id).first()
    if licence is None:
        raise NotFound(f"licence {licence_id}")
    return licence


def published_status_list(issuer_uscc: str) -> dict:
    """The issuer's signed status list as published at GET /api/v1/licences/status/<uscc>."""
    row = StatusList.objects.select_related("issuer").filter(issuer__uscc=issuer_uscc).exclude(signature="").first()
    if row is None:
        raise NotFound(issuer_uscc)
    return {**status_list_document(row), "proof": {"kid": row.key_id, "value": row.signature}}


def export_bundle(licence: Licence) -> dict:
    """A self-contained file: the signed licence, the issuer's trust-list entry and the signed list
    it comes from, and a snapshot of the issuer's signed status list."""
    trust_list = TrustList.objects.filter(region_id=licence.issuer.region_id).exclude(document="").first()
    trust_doc = json.loads(trust_list.document) if trust_list else None
    entry = next((i for i in (trust_doc or {}).get("issuers", []) if i["uscc"] == licence.issuer.uscc), None)
    try:
        status = published_status_list(licence.issuer.uscc)
    except NotFound:
        status = None
    return {"format": EXPORT_FORMAT, "exported_at": timezone.now().isoformat(timespec="seconds"),
            "licence": licence_document(licence), "issuer": entry, "trust_list": trust_doc, "status_list": status}
