"""Trust lists between nodes (跨域互认 across nodes, docs/federation.md §8).

A node's descriptor carries the signed trust lists (tongban-trust-list/1, tongban.licences.trust) of
the regions it serves; importing the descriptor stores them as `PeerTrustList` rows. When one of
those lists is re-published (a department's key rotated or revoked, an issuer added, the periodic
refresh before `next_update`), the node sends it to every peer as a `trust.list` message, enqueued
in the publishing transaction. The accepting node then verifies a licence the handling node's
department issued offline — `verify_peer_licence` — against the peer's lists and the signed status
list snapshot that came with the decision: no call to the peer at verification time.

A peer's list is trusted only for the regions the peer serves (its descriptor's `regions`), only
when its own proof verifies, and only if its sequence is newer than the one held."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tongban.licences import cache
from tongban.licences.documents import EXPORT_FORMAT
from tongban.licences.trust import LIST_FORMAT, TrustContext, _signed_list_ok
from tongban.licences.verification import VerifyResult, verify_licence_document

from . import conf
from .models import Peer, PeerTrustList

log = logging.getLogger("tongban.federation")


def own_trust_lists() -> list[dict]:
    """The published trust lists of the regions this node serves (for the descriptor)."""
    from tongban.licences.models import TrustList

    rows = TrustList.objects.filter(region_id__in=conf.node_regions()).exclude(document="").order_by("region_id")
    return [json.loads(row.document) for row in rows]


def store_peer_lists(peer: Peer, lists: list) -> dict:
    """Keep the peer's lists that are well formed, self-signed, for a region the peer serves and newer
    than what is held. Returns {"stored": [...regions], "ignored": [{"region", "why"}]}. Joins the
    caller's transaction (the descriptor import or the message handler's)."""
    stored, ignored = [], []
    for document in lists or []:
        region = str(document.get("region", ""))[:6] if isinstance(document, dict) else ""
        why = ""
        if not isinstance(document, dict) or document.get("format") != LIST_FORMAT:
            why = "format"
        elif region not in (peer.regions or []):
            why = "region not served by the peer"
        elif not _signed_list_ok(document):
            why = "signature"
        if why:
            ignored.append({"region": region, "why": why})
            continue
        try:
            sequence = int(document["sequence"])
            next_update = datetime.fromisoformat(document["next_update"])
        except (KeyError, TypeError, ValueError):
            ignored.append({"region": region, "why": "format"})
            continue
        held = PeerTrustList.objects.select_for_update(of=("self",)).filter(peer=peer, region=region).first()
        if held is not None and held.sequence >= sequence:
            ignored.append({"region": region, "why": "not newer"})
            continue
        PeerTrustList.objects.update_or_create(peer=peer, region=region, defaults={
            "sequence": sequence, "next_update": next_update, "document": document, "imported_at": timezone.now()})
        stored.append(region)
    if stored:
        cache.invalidate()
    if ignored:
        log.info("peer trust lists ignored", extra={"peer": peer.code, "ignored": ignored})
    return {"stored": stored, "ignored": ignored}


def peer_context(peer: Peer | None = None) -> TrustContext:
    """An offline trust context of the lists held for `peer` (or for every active peer)."""
    rows = PeerTrustList.objects.filter(peer__status=Peer.Status.ACTIVE)
    if peer is not None:
        rows = rows.filter(peer=peer)
    context = TrustContext(region=f"peer:{peer.code}" if peer else "peers", offline=True)
    for row in rows.order_by("peer_id", "region"):
        context.add_list(row.document)
    return context


def licence_for_message(licence) -> dict:
    """The `IssuedLicence` payload of a licence this node's department issued: the signed document and
    the issuer's signed status list now (for the receiver's offline status check)."""
    from tongban.core.errors import NotFound
    from tongban.licences.selectors import published_status_list

    try:
        status = published_status_list(licence.issuer.uscc)
    except NotFound:
        status = None
    return {"identifier": licence.identifier, "issuer": licence.issuer.uscc, "key_id": licence.signing_key.key_id,
            "algorithm": licence.signing_key.algorithm, "payload": json.loads(licence.payload),
            "signature": licence.signature, "status_list": status}


def export_bundle_of(issued: dict) -> dict:
    """The licence export bundle (tongban-licence-export/1) a `case.decision`'s `licence` stands for."""
    return {"format": EXPORT_FORMAT, "licence": {
                "payload": issued.get("payload"),
                "proof": {"alg": issued.get("algorithm", ""), "kid": issued.get("key_id"), "value": issued.get("signature")}},
            "issuer": None, "trust_list": None, "status_list": issued.get("status_list")}


def verify_peer_licence(issued: dict, *, peer: Peer | str | None = None, now: datetime | None = None) -> VerifyResult:
    """Verify a `case.decision` licence (an `IssuedLicence` dict) against the trust lists held for
    `peer` (a Peer, its code, or None for every active peer), offline: signature, key trusted by the
    peer's list for its issuer and not expired, key valid at issue, status snapshot signed by a trusted
    key and fresh, not revoked or suspended, within validity. Same reasons as local verification."""
    if isinstance(peer, str):
        peer = Peer.objects.filter(code=peer).first()
        if peer is None:
            return verify_licence_document(export_bundle_of(issued), trust=TrustContext(region="none", offline=True),
                                           now=now)
    return verify_licence_document(export_bundle_of(issued), trust=peer_context(peer), now=now)


# --- forwarding re-published lists ------------------------------------------------------------------

def forward_published(sender, trust_list, **_) -> None:
    """Receiver of licences.trust.trust_list_published: inside the publishing transaction, queue the new
    list to every active peer when this node serves its region. A no-op on a non-federation node."""
    if not conf.enabled() or trust_list.region_id not in conf.node_regions():
        return
    from .envelope import MessageType
    from .outbox import enqueue

    document = json.loads(trust_list.document)
    with transaction.atomic():
        for code in Peer.objects.filter(status=Peer.Status.ACTIVE).values_list("code", flat=True):
            enqueue(receiver=code, type=MessageType.TRUST_LIST, collab_id=f"trust-{conf.node_code()}-{trust_list.region_id}",
                    payload={"lists": [document]})
