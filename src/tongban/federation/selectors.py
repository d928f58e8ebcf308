"""Reads for operators: `status()` (what `tongban federation status --json` prints) and `health()`."""

from __future__ import annotations

from django.db.models import Count, Min, Sum
from django.utils import timezone

from . import conf
from .envelope import iso
from .models import AgreedItem, InboxMessage, NodeKey, OutboxMessage, Peer


def peers() -> list[dict]:
    out_counts = {(r["peer_id"], r["status"]): r["n"] for r in
                  OutboxMessage.objects.order_by().values("peer_id", "status").annotate(n=Count("id"))}
    agreed = {(r["peer_id"], r["handled_by"]): r["n"] for r in
              AgreedItem.objects.order_by().values("peer_id", "handled_by").annotate(n=Count("id"))}
    rows = []
    for peer in Peer.objects.prefetch_related("keys").order_by("code"):
        rows.append({
            "code": peer.code, "name": peer.name, "url": peer.url, "regions": peer.regions,
            "reachable": peer.reachable, "status": peer.status,
            "keys": [{"key_id": k.key_id, "algorithm": k.algorithm, "valid_from": iso(k.valid_from),
                      "valid_until": iso(k.valid_until) if k.valid_until else None} for k in peer.keys.all()],
            "agreed_items": {"peer_handles": agreed.get((peer.pk, "peer"), 0),
                             "we_handle": agreed.get((peer.pk, "self"), 0)},
            "sent_seq": peer.out_seq, "acked_seq": peer.out_acked_seq,
            "received_max_seq": peer.in_max_seq, "received_contiguous_seq": peer.in_contiguous_seq,
            "gap": peer.in_max_seq - peer.in_contiguous_seq,
            "outbox": {s: out_counts.get((peer.pk, s), 0) for s in OutboxMessage.Status.values},
            "descriptor_issued_at": iso(peer.descriptor_issued_at),
        })
    return rows


def outbox_counts() -> dict:
    counts = {r["status"]: r["n"] for r in OutboxMessage.objects.order_by().values("status").annotate(n=Count("id"))}
    oldest = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).aggregate(m=Min("created_at"))["m"]
    return {"pending": counts.get("pending", 0), "delivered": counts.get("delivered", 0),
            "dead": counts.get("dead", 0),
            "oldest_pending_s": round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0}


def inbox_counts() -> dict:
    counts = {r["status"]: r["n"] for r in InboxMessage.objects.order_by().values("status").annotate(n=Count("id"))}
    duplicates = InboxMessage.objects.aggregate(d=Sum("duplicates"))["d"] or 0
    return {"received": sum(counts.values()), "duplicates": duplicates, "held": counts.get("held", 0),
            "applied": counts.get("applied", 0), "failed": counts.get("failed", 0)}


def handled_case_counts() -> dict:
    """Cases this node handles for peers (the handling side, §8): open ones held here (this node's move)
    or by the peer (awaiting the applicant's correction, or delivery after the decision), closed ones,
    and the overdue hops recorded against this node."""
    from .models import CaseHop, FederatedCase

    node = conf.node_code()
    held = {r["holder"]: r["n"] for r in FederatedCase.objects.order_by().values("holder").annotate(n=Count("id"))}
    return {"held_here": held.get(node, 0), "held_by_peer": sum(n for h, n in held.items() if h and h != node),
            "closed": held.get("", 0),
            "overdue_hops_here": CaseHop.objects.filter(kind=CaseHop.Kind.OVERDUE, holder=node).count()}


def handed_out_counts() -> dict:
    """Items this node accepted at its windows and handed over to peers (the accepting side, §8): open
    ones by remote status, those whose acknowledgement is overdue, and the finished ones."""
    from django.utils import timezone

    from tongban.cases.models import SubCase
    from tongban.cases.services.remote import handover_receipted

    remote = SubCase.objects.exclude(remote_node="")
    open_ = remote.filter(status__in=SubCase.OPEN)
    by_status = {r["remote_status"]: r["n"] for r in open_.order_by().values("remote_status").annotate(n=Count("id"))}
    late = open_.filter(ack_due__lt=timezone.localdate(), acknowledged_at__isnull=True)
    return {"open": sum(by_status.values()), "by_status": by_status,
            # this node's own (not handed over by ack_due) / the handling nodes' (they held the case)
            "ack_overdue": late.filter(~handover_receipted(by_ack_due=True)).count(),
            "ack_overdue_at_peer": late.filter(handover_receipted(by_ack_due=True)).count(),
            "finished": remote.exclude(status__in=SubCase.OPEN).count()}


def status() -> dict:
    key = NodeKey.objects.filter(status=NodeKey.Status.ACTIVE).first()
    return {
        "node": {"code": conf.node_code(), "name": conf.node_name(), "url": conf.node_url(),
                 "regions": conf.node_regions(), "reachable": conf.reachable(),
                 "key": {"key_id": key.key_id, "algorithm": key.algorithm} if key else None},
        "peers": peers(), "outbox": outbox_counts(), "inbox": inbox_counts(),
        "handled_cases": handled_case_counts(), "handed_out": handed_out_counts(),
    }


def health() -> dict:
    """For /healthz: not ok when the oldest pending message is older than TONGBAN_FED_STUCK_AFTER_S."""
    if not conf.enabled():
        return {"ok": True, "enabled": False}
    outbox = outbox_counts()
    stuck = outbox["oldest_pending_s"] > conf.stuck_after_s()
    return {"ok": not stuck, "enabled": True, "stuck": stuck, "pending": outbox["pending"], "dead": outbox["dead"],
            "oldest_pending_s": outbox["oldest_pending_s"], "stuck_after_s": conf.stuck_after_s()}
