"""The sending side: `enqueue` (inside the caller's transaction) and the delivery worker (docs/federation.md §3).

The worker claims due rows with a lease, sends them with httpx outside any transaction, and marks a
row delivered only on a valid signed receipt from the peer. Transport failures back off
exponentially; a refusal or too many failures make a dead letter, which `retry` puts back."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from tongban.core.errors import InvalidInput, Problem

from . import conf, keys
from .envelope import ENVELOPE_V, MessageType, digest, iso, new_message_id, parse_iso
from .models import OutboxMessage, Peer
from .receipts import check_receipt
from .schemas import payload_problems

log = logging.getLogger("tongban.federation")
MAX_REQUEST_BYTES = 8 * 1024 * 1024  # a batch is cut before it grows past this (one message may exceed it)


def _p(field: str, rule: str, zh: str, en: str) -> Problem:
    return Problem(field=field, rule=rule, zh=zh, en=en)


def new_collab_id(region: str = "") -> str:
    """业务协同编号, minted by the accepting node: `<node>-<region>-<yyyymmdd>-<8 hex>`."""
    parts = [conf.node_code() or "local"] + ([region] if region else [])
    return "-".join([*parts, f"{timezone.localdate():%Y%m%d}", uuid.uuid4().hex[:8]])


def enqueue(*, receiver: str, type: str, collab_id: str, payload: dict,  # noqa: A002 - the envelope's word
            in_reply_to: str | None = None) -> OutboxMessage:
    """Queue a signed message to peer `receiver`. Call it inside the transaction of the change that
    causes it: the message exists if and only if that change commits. Never touches the network.
    Raises InvalidInput (nothing written) for an unknown peer, type or a payload off its schema."""
    if not conf.enabled():
        raise InvalidInput(_p("TONGBAN_NODE_CODE", "fed.node", "本部署未配置节点代码", "TONGBAN_NODE_CODE is not set"))
    if type not in [t.value for t in MessageType] or type == MessageType.RECEIPT:
        raise InvalidInput(_p("type", "fed.type", "消息类型未定义", "unknown message type"))
    problems = payload_problems(type, payload)
    if problems:
        raise InvalidInput(problems)
    with transaction.atomic():
        peer = Peer.objects.select_for_update(of=("self",)).filter(code=receiver, status=Peer.Status.ACTIVE).first()
        if peer is None:
            raise InvalidInput(_p("receiver", "fed.receiver.unknown", "接收节点不是已导入的对端节点",
                                  "the receiver is not an imported peer"))
        peer.out_seq += 1
        peer.save(update_fields=["out_seq"])
        last = OutboxMessage.objects.filter(peer=peer, collab_id=collab_id).aggregate(m=Max("collab_seq"))["m"] or 0
        now = timezone.now()
        wire = build_wire(receiver=peer.code, type=type, collab_id=collab_id, collab_seq=last + 1, seq=peer.out_seq,
                          payload=payload, in_reply_to=in_reply_to, now=now)
        return OutboxMessage.objects.create(
            message_id=wire["envelope"]["message_id"], peer=peer, collab_id=collab_id, collab_seq=last + 1,
            type=str(type), seq=peer.out_seq, envelope=wire["envelope"], payload=payload,
            signature=wire["signature"], created_at=now, next_attempt_at=now)


def build_wire(*, receiver: str, type: str, collab_id: str, collab_seq: int, seq: int,  # noqa: A002
               payload: dict, in_reply_to: str | None = None, now=None) -> dict:
    """A signed wire message (envelope, payload, signature) from this node."""
    key = keys.ensure_node_key()
    envelope = {"v": ENVELOPE_V, "message_id": new_message_id(), "collab_id": collab_id, "collab_seq": collab_seq,
                "type": str(type), "sender": conf.node_code(), "receiver": receiver,
                "created_at": iso(now or timezone.now()), "seq": seq, "in_reply_to": in_reply_to,
                "payload_digest": digest(payload), "key_id": key.key_id, "algorithm": key.algorithm}
    return {"envelope": envelope, "payload": payload, "signature": keys.sign(key, envelope)}


@transaction.atomic(durable=True)
def send(*, receiver: str, type: str, collab_id: str, payload: dict) -> OutboxMessage:  # noqa: A002
    """An operator's message (a ping, say): queued and recorded in the audit trail."""
    message = enqueue(receiver=receiver, type=type, collab_id=collab_id, payload=payload)
    from tongban.audit.services import append_entry

    append_entry(action="federation.enqueued", object_type="federation.message", object_id=str(message.message_id),
                 case_ref=collab_id, after={"type": type, "receiver": receiver, "seq": message.seq})
    return message


# --- the delivery worker ------------------------------------------------------------------------------

def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _due(now) -> Q:
    return (Q(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
            & (Q(lease_until__isnull=True) | Q(lease_until__lt=now)))


def claim(worker: str, *, limit: int = 100, peer: Peer | None = None, now=None) -> list[OutboxMessage]:
    """Claim up to `limit` due messages (for pushable peers, or for `peer` when it pulls) with a lease.
    The candidates are locked with SKIP LOCKED where the database has it (PostgreSQL); the claim itself
    is a conditional UPDATE, so on SQLite, too, a row is claimed by one worker only."""
    now = now or timezone.now()
    token = f"{worker}/{uuid.uuid4().hex[:8]}"
    scope = Q(peer=peer) if peer is not None else Q(peer__reachable=True, peer__status=Peer.Status.ACTIVE)
    with transaction.atomic():
        ids = list(OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(_due(now) & scope).order_by("id").values_list("id", flat=True)[:limit])
        if not ids:
            return []
        OutboxMessage.objects.filter(_due(now), id__in=ids).update(
            claimed_by=token, lease_until=now + timedelta(seconds=conf.lease_s()), attempts=F("attempts") + 1)
    return list(OutboxMessage.objects.filter(id__in=ids, claimed_by=token).select_related("peer").order_by("id"))


def backoff_s(attempts: int) -> float:
    base = min(conf.retry_max_s(), conf.retry_base_s() * (2 ** max(0, attempts - 1)))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def _chunks(rows: list[OutboxMessage]):
    chunk, size = [], 0
    limit = conf.batch_size()
    for row in rows:
        weight = len(row.signature) + sum(len(str(v)) for v in row.payload.values()) + 600
        if chunk and (len(chunk) >= limit or size + weight > MAX_REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(row)
        size += weight
    if chunk:
        yield chunk


_client_local = threading.local()


def _client():
    # httpx is imported here, not at module level: every process imports this module (the case
    # services enqueue messages) but only the delivery worker sends, and the CLI starts faster without it.
    import httpx

    client = getattr(_client_local, "client", None)
    if client is None:
        client = _client_local.client = httpx.Client(timeout=conf.http_timeout_s())
    return client


def _http_error() -> type[Exception]:
    import httpx

    return httpx.HTTPError


def post_messages(peer: Peer, rows: list[OutboxMessage]) -> dict:
    """POST a batch to the peer; returns its JSON answer. Raises httpx.HTTPError or ValueError."""
    response = _client().post(f"{peer.url}/federation/v1/messages", json={"messages": [r.wire() for r in rows]})
    if response.status_code != 200:
        raise ValueError(f"HTTP {response.status_code}: {response.text[:300]}")
    answer = response.json()
    if not isinstance(answer, dict):
        raise ValueError("answer is not an object")
    return answer


def deliver_batch(worker: str, *, limit: int = 100) -> int:
    """Claim, send and record one round. Returns how many messages were claimed."""
    rows = claim(worker, limit=limit)
    by_peer: dict[int, list[OutboxMessage]] = {}
    for row in rows:
        by_peer.setdefault(row.peer_id, []).append(row)
    for peer_rows in by_peer.values():
        peer = peer_rows[0].peer
        for chunk in _chunks(peer_rows):
            try:
                answer = post_messages(peer, chunk)
            except (_http_error(), ValueError) as exc:
                record_failure(chunk, f"{exc.__class__.__name__}: {exc}"[:1000])
                continue
            pause = conf.fault_pause_after_send_s()
            if pause:
                log.warning("fault injection: pausing after send", extra={"seconds": pause})
                time.sleep(pause)
            record_answer(peer, chunk, answer)
    return len(rows)


def record_answer(peer: Peer, rows: list[OutboxMessage], answer: dict) -> None:
    receipts = {r.get("receipt", {}).get("message_id"): r for r in answer.get("receipts", []) if isinstance(r, dict)
                and isinstance(r.get("receipt"), dict)}
    refused = {r.get("message_id"): r.get("problems", []) for r in answer.get("refused", []) if isinstance(r, dict)}
    delivered, dead, failed = [], [], []
    for row in rows:
        mid = str(row.message_id)
        if mid in receipts:
            problem = check_receipt(peer, row, receipts[mid])
            (failed if problem else delivered).append((row, problem or receipts[mid]))
        elif mid in refused:
            dead.append((row, refused[mid]))
        else:
            failed.append((row, "no receipt in the answer"))
    record_receipts(peer, delivered)
    if dead:
        record_refusals(dead)
    for row, why in failed:
        record_failure([row], str(why))


def record_receipts(peer: Peer, delivered: list[tuple[OutboxMessage, dict]]) -> int:
    """Mark messages delivered with their verified receipts, one short transaction, audit last."""
    if not delivered:
        return 0
    from tongban.audit.services import append_entry

    now = timezone.now()
    done = 0
    with transaction.atomic(durable=True):
        for row, receipt in delivered:
            changed = OutboxMessage.objects.filter(pk=row.pk, status=OutboxMessage.Status.PENDING).update(
                status=OutboxMessage.Status.DELIVERED, delivered_at=now, receipt=receipt, lease_until=None,
                claimed_by="", last_error="")
            if changed:
                done += 1
                row.receipt = receipt
                if row.type == MessageType.HANDOVER:  # the accepting side's `received` hop (who holds the case)
                    from tongban.cases.services.remote import on_handover_receipted

                    on_handover_receipted(row.collab_id, parse_iso(receipt["receipt"]["received_at"]))
        acked = max(r["receipt"]["contiguous_seq"] for _, r in delivered)
        Peer.objects.filter(pk=peer.pk, out_acked_seq__lt=acked).update(out_acked_seq=acked)
        for row, receipt in delivered:
            append_entry(action="federation.delivered", object_type="federation.message",
                         object_id=str(row.message_id), case_ref=row.collab_id,
                         after={"type": row.type, "receiver": peer.code, "seq": row.seq,
                                "payload_digest": row.envelope["payload_digest"],
                                "receipt_digest": digest(receipt), "received_at": receipt["receipt"]["received_at"]})
    return done


def record_refusals(dead: list[tuple[OutboxMessage, list]]) -> None:
    from tongban.audit.services import append_entry

    with transaction.atomic(durable=True):
        for row, problems in dead:
            text = "; ".join(f"{p.get('field')}: [{p.get('rule')}] {p.get('zh')} / {p.get('en')}"
                             for p in problems if isinstance(p, dict))[:2000] or "refused"
            OutboxMessage.objects.filter(pk=row.pk, status=OutboxMessage.Status.PENDING).update(
                status=OutboxMessage.Status.DEAD, last_error=text, lease_until=None, claimed_by="")
            append_entry(action="federation.dead", object_type="federation.message", object_id=str(row.message_id),
                         case_ref=row.collab_id, reason=text[:500], after={"type": row.type, "seq": row.seq})
    log.warning("federation messages refused by the peer", extra={"count": len(dead)})


def record_failure(rows: list[OutboxMessage], error: str) -> None:
    """A transport failure: back off (or dead-letter after too many attempts); only rows still held."""
    now = timezone.now()
    limit = conf.max_attempts()
    for row in rows:
        fields = {"last_error": error[:2000], "lease_until": None, "claimed_by": ""}
        if row.attempts >= limit:
            fields["status"] = OutboxMessage.Status.DEAD
        else:
            fields["next_attempt_at"] = now + timedelta(seconds=backoff_s(row.attempts))
        OutboxMessage.objects.filter(pk=row.pk, claimed_by=row.claimed_by,
                                     status=OutboxMessage.Status.PENDING).update(**fields)
    log.info("federation delivery failed; will retry", extra={"count": len(rows), "error": error[:200]})


@transaction.atomic(durable=True)
def retry(*, message_ids: list[str] | None = None, all_dead: bool = False) -> int:
    """Put dead letters back (the given ones, or all of them with `all_dead`), due now."""
    rows = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD)
    if not all_dead:
        rows = rows.filter(message_id__in=message_ids or [])
    ids = list(rows.values_list("message_id", flat=True))
    if not ids:
        return 0
    OutboxMessage.objects.filter(message_id__in=ids).update(
        status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), lease_until=None,
        claimed_by="")
    from tongban.audit.services import append_entry

    append_entry(action="federation.retry", object_type="federation.outbox", object_id=str(len(ids)),
                 after={"message_ids": [str(i) for i in ids[:200]]})
    return len(ids)


def run(*, stop: threading.Event, once: bool = False, idle_s: float = 0.5) -> int:
    """The delivery loop: apply held inbox messages, pull from peers when this node is unreachable,
    deliver due messages; with `once`, until nothing is due. Returns how many messages were claimed."""
    from . import inbox, pull

    worker = worker_id()
    total = 0
    last_pull = 0.0
    log.info("federation delivery worker started", extra={"worker": worker})
    while not stop.is_set():
        busy = 0
        try:
            if not transaction.get_connection().in_atomic_block:
                close_old_connections()
            inbox.apply_all_ready()
            if not conf.reachable() and (once or time.monotonic() - last_pull >= conf.pull_interval_s()):
                last_pull = time.monotonic()
                busy += pull.pull_all()
            claimed = deliver_batch(worker)
            total += claimed
            busy += claimed
        except Exception:  # noqa: BLE001 - the loop outlives any failure (database restarts, say)
            log.exception("federation delivery round failed", extra={"worker": worker})
            if once:
                raise
            stop.wait(5.0)
            continue
        if once and not busy:
            break
        if not busy:
            stop.wait(idle_s)
    return total


def deliver_due() -> int:
    """The periodic job: drain what is due now (a no-op on a node without TONGBAN_NODE_CODE)."""
    if not conf.enabled():
        return 0
    return run(stop=threading.Event(), once=True)
