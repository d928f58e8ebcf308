"""Trust lists (信任列表) and cross-region recognition (跨域互认).

Each region publishes a signed list of the issuers it trusts (department USCC) with their public
keys (key id, algorithm, validity, status) and a `next_update` after which the list is no longer
trusted (fail closed). A verifier in region A trusts the issuers in the lists of A, of A's ancestor
regions (a province's departments issue for its cities), and of every region A explicitly
recognises; recognition is not transitive.

`TrustContext` is the resolved, in-memory view a verifier uses: from the database for a region
(cached per process, see `cache`) or from an exported trust bundle (offline verification).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from tongban.core.errors import Conflict, NotFound
from tongban.regions.models import Department, Region

from . import cache, crypto, keystore
from .models import SigningKey, TrustedIssuer, TrustList, TrustRecognition

LIST_FORMAT = "tongban-trust-list/1"

# Sent inside the publishing transaction with `trust_list` (the TrustList row, document written):
# a federation node forwards its regions' new lists to its peers (tongban.federation.trustlists).
trust_list_published = Signal()
BUNDLE_FORMAT = "tongban-trust-bundle/1"


def trust_list_ttl() -> timedelta:
    return timedelta(days=int(getattr(settings, "TONGBAN_TRUST_LIST_DAYS", 7)))


# --- writes -----------------------------------------------------------------------------------

def _trust_list(region: Region) -> TrustList:
    trust_list, _ = TrustList.objects.get_or_create(region=region)
    return TrustList.objects.select_for_update().get(pk=trust_list.pk)


@transaction.atomic
def add_trusted_issuer(*, region: Region, department: Department, publish: bool = True) -> TrustedIssuer:
    trust_list = _trust_list(region)
    entry, _ = TrustedIssuer.objects.get_or_create(trust_list=trust_list, department=department)
    if publish:
        publish_trust_list(region=region)
    return entry


@transaction.atomic
def remove_trusted_issuer(*, region: Region, department: Department) -> None:
    trust_list = _trust_list(region)
    TrustedIssuer.objects.filter(trust_list=trust_list, department=department).delete()
    publish_trust_list(region=region)


@transaction.atomic
def recognise_region(*, region: Region, recognised: Region, actor=None) -> TrustRecognition:
    """Region `region` trusts the issuers on `recognised`'s published list from now on."""
    if region.pk == recognised.pk:
        raise Conflict("不能认可本区划自身", "a region cannot recognise itself", rule="trust.recognise.self")
    recognition, _ = TrustRecognition.objects.get_or_create(region=region, recognised=recognised,
                                                            defaults={"created_by": actor})
    publish_trust_list(region=region)
    return recognition


@transaction.atomic
def withdraw_recognition(*, region: Region, recognised: Region) -> None:
    TrustRecognition.objects.filter(region=region, recognised=recognised).delete()
    publish_trust_list(region=region)


def _issuer_entry(department: Department, keys: list[SigningKey]) -> dict:
    return {"uscc": department.uscc, "name": department.name, "region": department.region_id,
            "keys": [k.public_entry() for k in sorted(keys, key=lambda k: k.key_id)]}


@transaction.atomic
def publish_trust_list(*, region: Region, now: datetime | None = None) -> TrustList:
    """Re-sign the region's list (sequence + 1, new next_update) with the region's key (created on
    first use). Revoked keys are left out; retired keys stay, to verify what they signed."""
    now = (now or timezone.now()).replace(microsecond=0)
    trust_list = _trust_list(region)
    departments = [e.department for e in trust_list.entries.select_related("department").order_by("department__uscc")]
    keys_by_department: dict[int, list[SigningKey]] = {}
    for key in SigningKey.objects.filter(department__in=departments).exclude(status=SigningKey.Status.REVOKED):
        keys_by_department.setdefault(key.department_id, []).append(key)
    trust_list.sequence += 1
    trust_list.issued_at = now
    trust_list.next_update = now + trust_list_ttl()
    body = {
        "format": LIST_FORMAT,
        "region": region.code,
        "region_name": region.name,
        "sequence": trust_list.sequence,
        "issued_at": now.isoformat(),
        "next_update": trust_list.next_update.isoformat(),
        "recognises": sorted(TrustRecognition.objects.filter(region=region).values_list("recognised_id", flat=True)),
        "issuers": [_issuer_entry(d, keys_by_department.get(d.pk, [])) for d in departments],
    }
    signer = keystore.active_key(region=region) or keystore.create_key(region=region)
    body["proof"] = {"alg": signer.algorithm, "kid": signer.key_id, "public_key": signer.public_key,
                     "value": crypto.b64u(keystore.sign_with(signer, crypto.canonical_json(body)))}
    trust_list.document = crypto.canonical_json(body).decode("utf-8")
    trust_list.save(update_fields=["sequence", "issued_at", "next_update", "document"])
    cache.invalidate()
    trust_list_published.send(sender=TrustList, trust_list=trust_list)
    return trust_list


def republish_for_department(*, department: Department) -> int:
    """After a key change: re-publish every list that names the department."""
    regions = Region.objects.filter(licence_trust_list__entries__department=department).distinct()
    for region in regions:
        publish_trust_list(region=region)
    return len(regions)


def refresh_trust_lists(*, now: datetime | None = None) -> int:
    """Re-publish lists past half their validity (run periodically, like status lists)."""
    now = now or timezone.now()
    stale = TrustList.objects.filter(next_update__lt=now + trust_list_ttl() / 2).select_related("region")
    for trust_list in stale:
        publish_trust_list(region=trust_list.region, now=now)
    return len(stale)


# --- reads: documents and contexts ------------------------------------------------------------

def trust_list_document(region_code: str) -> dict:
    trust_list = TrustList.objects.filter(region_id=region_code).exclude(document="").first()
    if trust_list is None:
        raise NotFound(region_code)
    return json.loads(trust_list.document)


def trusted_region_codes(region: Region) -> list[str]:
    recognised = TrustRecognition.objects.filter(region=region).values_list("recognised_id", flat=True)
    return list(dict.fromkeys([*region.lineage_codes(), *recognised]))


def export_trust_bundle(region_code: str) -> dict:
    """Everything a verifier in `region_code` trusts, for offline verification (`--trust FILE`)."""
    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise NotFound(region_code)
    lists = TrustList.objects.filter(region_id__in=trusted_region_codes(region)).exclude(document="")
    return {"format": BUNDLE_FORMAT, "region": region.code, "exported_at": timezone.now().isoformat(),
            "lists": [json.loads(t.document) for t in lists.order_by("region_id")]}


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    alg: str
    public_key: str
    issuer_uscc: str
    issuer_name: str
    valid_from: datetime
    valid_until: datetime | None
    list_region: str
    list_expires: datetime


@dataclass
class TrustContext:
    """The keys a verifier trusts. `offline` contexts (from a bundle) take status from the status
    list snapshot carried with the document; database contexts read the live status lists."""

    region: str
    keys: dict[str, TrustedKey] = field(default_factory=dict)
    offline: bool = False

    def add_list(self, document: dict) -> None:
        expires = datetime.fromisoformat(document["next_update"])
        for issuer in document.get("issuers", []):
            for k in issuer.get("keys", []):
                if k.get("status") == SigningKey.Status.REVOKED:
                    continue
                known = self.keys.get(k["kid"])
                if known is not None and known.list_expires >= expires:
                    continue
                self.keys[k["kid"]] = TrustedKey(
                    kid=k["kid"], alg=k["alg"], public_key=k["public_key"], issuer_uscc=issuer["uscc"],
                    issuer_name=issuer.get("name", ""), valid_from=datetime.fromisoformat(k["valid_from"]),
                    valid_until=datetime.fromisoformat(k["valid_until"]) if k.get("valid_until") else None,
                    list_region=document["region"], list_expires=expires)


def _signed_list_ok(document: dict) -> bool:
    proof = document.get("proof") or {}
    body = {k: v for k, v in document.items() if k != "proof"}
    try:
        public = crypto.load_public_key(proof["alg"], proof["public_key"])
        return crypto.verify(proof["alg"], public, crypto.unb64u(proof["value"]), crypto.canonical_json(body))
    except (KeyError, ValueError, TypeError):
        return False


def _build_context(region_code: str) -> TrustContext:
    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise NotFound(region_code)
    context = TrustContext(region=region_code)
    codes = trusted_region_codes(region)
    for trust_list in TrustList.objects.filter(region_id__in=codes).exclude(document=""):
        context.add_list(json.loads(trust_list.document))
    return context


def context_for_region(region: Region | str) -> TrustContext:
    code = region if isinstance(region, str) else region.code
    return cache.trust_cache.get(("region", code), lambda: _build_context(code))


def context_from_bundle(bundle: dict) -> TrustContext:
    """An offline context from an exported trust bundle (or a single trust list). Lists whose own
    signature does not verify are ignored (a damaged file trusts nothing)."""
    lists = bundle.get("lists") if bundle.get("format") == BUNDLE_FORMAT else [bundle]
    context = TrustContext(region=str(bundle.get("region", "")), offline=True)
    for document in lists or []:
        if isinstance(document, dict) and document.get("format") == LIST_FORMAT and _signed_list_ok(document):
            context.add_list(document)
    return context
