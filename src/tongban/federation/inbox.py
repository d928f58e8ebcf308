"""The receiving side (docs/federation.md §3): validate, store before answering, receipt, apply in order.

`receive(wire)` checks one message (envelope, receiver, sender, key validity at the message's time,
signature, digest, payload schema, the agreed item list), stores it in the inbox — unique on
(sender, message id), so a repeat writes nothing and returns the first receipt — and signs a
receipt, all in one short transaction with the audit entry last. Applying the message (its type's
handler) happens afterwards, only once its predecessor in the same case has been applied."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tongban.core.errors import Problem

from . import conf
from .envelope import MessageType, digest, envelope_problems, parse_iso, verify_signature
from .models import AgreedItem, InboxMessage, Peer
from .receipts import make_receipt
from .schemas import payload_problems

log = logging.getLogger("tongban.federation")


def _p(field_: str, rule: str, zh: str, en: str) -> Problem:
    return Problem(field=field_, rule=rule, zh=zh, en=en)


@dataclass
class Outcome:
    message_id: str
    receipt: dict | None = None
    problems: list[Problem] = field(default_factory=list)
    duplicate: bool = False
    sender_id: int | None = None
    collab_id: str = ""


def check(wire: object) -> tuple[list[Problem], Peer | None]:
    """Every rule a received message must pass, in order; the first failing rule is reported."""
    problems = envelope_problems(wire)
    if problems:
        return problems, None
    env, payload = wire["envelope"], wire["payload"]
    if env["receiver"] != conf.node_code():
        return [_p("envelope.receiver", "fed.receiver", "接收节点不是本节点", "the receiver is not this node")], None
    peer = Peer.objects.filter(code=env["sender"], status=Peer.Status.ACTIVE).first()
    if peer is None:
        return [_p("envelope.sender", "fed.sender.unknown", "发送节点不是已导入的对端节点",
                   "the sender is not an imported peer")], None
    key = next((k for k in peer.keys.all() if k.key_id == env["key_id"]), None)
    if key is None or key.algorithm != env["algorithm"]:
        return [_p("envelope.key_id", "fed.key.unknown", "签名密钥不在对端节点的公钥清单中",
                   "the signing key is not listed for the sender")], peer
    created = parse_iso(env["created_at"])
    if not key.valid_at(created):
        return [_p("envelope.key_id", "fed.key.expired", "签名密钥在消息时间不在有效期内",
                   "the signing key was not valid at the message's time")], peer
    if created > timezone.now() + timedelta(seconds=conf.clock_skew_s()):
        return [_p("envelope.created_at", "fed.clock", "消息时间晚于当前时间", "created_at is in the future")], peer
    if not verify_signature(key.algorithm, key.public_key, wire["signature"], env):
        return [_p("signature", "fed.signature", "签名验证失败", "the signature does not verify")], peer
    if digest(payload) != env["payload_digest"]:
        return [_p("payload", "fed.digest", "载荷摘要与信封不一致（载荷被改动）",
                   "the payload's digest differs from the envelope's (payload altered)")], peer
    problems = payload_problems(env["type"], payload)
    if problems:
        return problems, peer
    if env["type"] == MessageType.HANDOVER:
        item = payload["item"]
        agreed = AgreedItem.objects.filter(peer=peer, handled_by=AgreedItem.HandledBy.SELF,
                                           item_code=item["item_code"], version=item["version"]).exists()
        if not agreed:
            return [_p("payload.item", "fed.item.not_agreed", "该事项（版本）不在与发送节点约定的通办事项清单中",
                       "the item (version) is not on the agreed list with the sender")], peer
    return [], peer


def receive(wire: object) -> Outcome:
    """Check and store one message; the receipt is in the outcome (the first one for a repeat)."""
    mid = wire.get("envelope", {}).get("message_id", "") if isinstance(wire, dict) and \
        isinstance(wire.get("envelope"), dict) else ""
    problems, peer = check(wire)
    if problems:
        log.info("federation message refused", extra={"message_id": str(mid)[:64],
                                                       "rules": ",".join(p.rule for p in problems[:5])})
        return Outcome(str(mid)[:64], problems=problems)
    env = wire["envelope"]
    with transaction.atomic(durable=True):
        peer = Peer.objects.select_for_update(of=("self",)).get(pk=peer.pk)  # serialises this sender's stores
        first = InboxMessage.objects.filter(sender=peer, message_id=env["message_id"]).first()
        if first is not None:
            if first.payload_digest != env["payload_digest"] or first.seq != env["seq"]:
                return Outcome(mid, problems=[_p("envelope.message_id", "fed.duplicate.conflict",
                                                 "同一消息标识已收到不同内容", "this message id arrived with other content")])
            InboxMessage.objects.filter(pk=first.pk).update(duplicates=F("duplicates") + 1)
            return Outcome(mid, receipt=first.receipt, duplicate=True, sender_id=peer.pk, collab_id=first.collab_id)
        if InboxMessage.objects.filter(sender=peer, seq=env["seq"]).exists() or InboxMessage.objects.filter(
                sender=peer, collab_id=env["collab_id"], collab_seq=env["collab_seq"]).exists():
            return Outcome(mid, problems=[_p("envelope.seq", "fed.seq.conflict", "该序号已被另一条消息使用",
                                             "another message already has this sequence number")])
        now = timezone.now()
        contiguous = peer.in_contiguous_seq
        if env["seq"] == contiguous + 1:
            contiguous += 1
            while InboxMessage.objects.filter(sender=peer, seq=contiguous + 1).exists():
                contiguous += 1
        receipt = make_receipt(envelope=env, received_at=now, contiguous_seq=contiguous)
        InboxMessage.objects.create(
            sender=peer, message_id=env["message_id"], collab_id=env["collab_id"], collab_seq=env["collab_seq"],
            type=env["type"], seq=env["seq"], envelope=env, payload=wire["payload"], signature=wire["signature"],
            payload_digest=env["payload_digest"], received_at=now, receipt=receipt)
        peer.in_contiguous_seq = contiguous
        peer.in_max_seq = max(peer.in_max_seq, env["seq"])
        peer.save(update_fields=["in_contiguous_seq", "in_max_seq"])
        from tongban.audit.services import append_entry

        append_entry(action="federation.received", object_type="federation.message", object_id=mid,
                     case_ref=env["collab_id"],
                     after={"type": env["type"], "sender": peer.code, "seq": env["seq"],
                            "collab_seq": env["collab_seq"], "payload_digest": env["payload_digest"],
                            "receipt_digest": digest(receipt)})
    return Outcome(mid, receipt=receipt, sender_id=peer.pk, collab_id=env["collab_id"])


def receive_batch(messages: list) -> dict:
    """Store every valid message of a batch, then apply what became ready. The answer lists a receipt
    per stored (or repeated) message and the problems of each refused one."""
    outcomes = [receive(m) for m in messages]
    for key in {(o.sender_id, o.collab_id) for o in outcomes if o.receipt is not None}:
        apply_ready(*key)
    return {"receipts": [o.receipt for o in outcomes if o.receipt is not None],
            "refused": [{"message_id": o.message_id, "problems": [p.as_dict() for p in o.problems]}
                        for o in outcomes if o.problems]}


# --- applying, in order ---------------------------------------------------------------------------

Handler = Callable[[InboxMessage], None]
HANDLERS: dict[str, Handler] = {}
# Types that travel in both directions of a case (`case.withdrawn`, `supervision.notice`): one handler
# per side, chosen by which side of the collab id this node is (side_of).
ACCEPTING, HANDLING = "accepting", "handling"
SIDED: dict[str, dict[str, Handler]] = {}


class NoCaseHere(Exception):
    """A two-way message for a collab id this node neither accepted nor handles (the message fails,
    visible in status; `retry --inbox` re-applies it)."""


def handler(type_: str, *, side: str | None = None):
    """Register the function that acts on a message type (called outside any transaction; idempotent).
    A type that goes both ways registers one function per side (`side=ACCEPTING` / `HANDLING`). A
    second, different function for the same type and side is a programming error, not an override."""

    def decorate(fn: Handler) -> Handler:
        table = HANDLERS if side is None else SIDED.setdefault(type_, {})
        key = type_ if side is None else side
        known = table.get(key)
        if known is not None and (known.__module__, known.__qualname__) != (fn.__module__, fn.__qualname__):
            raise RuntimeError(f"a handler for {type_} ({side or 'any side'}) is already registered: {known.__qualname__}")
        if (side is None and type_ in SIDED) or (side is not None and type_ in HANDLERS):
            raise RuntimeError(f"{type_} is registered both per side and for any side")
        table[key] = fn
        return fn

    return decorate


def side_of(message: InboxMessage) -> str | None:
    """Which side of the message's case this node is: ACCEPTING when it minted the collab id (a remote
    sub-case of it exists here), HANDLING when the sender handed the case over to it (a FederatedCase
    row), else None."""
    from django.apps import apps

    from .models import FederatedCase

    if apps.get_model("cases", "SubCase").objects.filter(collab_id=message.collab_id).exclude(remote_node="").exists():
        return ACCEPTING
    if FederatedCase.objects.filter(peer_id=message.sender_id, collab_id=message.collab_id).exists():
        return HANDLING
    return None


def handler_for(message: InboxMessage) -> Handler | None:
    sided = SIDED.get(message.type)
    if not sided:
        return HANDLERS.get(message.type)
    side = side_of(message)
    if side is None:
        raise NoCaseHere(f"{message.type}: no case of collab id {message.collab_id} was accepted here or handed "
                         f"over here by {message.envelope.get('sender', '')}")
    return sided.get(side)


def apply_ready(sender_id: int, collab_id: str) -> int:
    """Apply the held messages of one case from one sender, in collab_seq order, as far as the chain is
    unbroken. A handler runs OUTSIDE any transaction: it calls the case services, which are top-level
    (durable) transactions of their own, so it must be idempotent by message id (it may run again
    after a crash before the message is marked applied, or twice at once from two appliers). The
    message is then marked applied, with its audit entry, in a short transaction; a failing handler
    marks it failed (visible in status; `retry --inbox` puts it back)."""
    from tongban.audit.services import append_entry

    applied = 0
    while True:
        message = (InboxMessage.objects.filter(sender_id=sender_id, collab_id=collab_id,
                                               status=InboxMessage.Status.HELD).order_by("collab_seq").first())
        if message is None:
            return applied
        if message.collab_seq > 1 and not InboxMessage.objects.filter(
                sender_id=sender_id, collab_id=collab_id, collab_seq=message.collab_seq - 1,
                status=InboxMessage.Status.APPLIED).exists():
            return applied  # held until its predecessor arrives (and is applied)
        try:
            fn = handler_for(message)
            if fn is not None:
                fn(message)
        except Exception as exc:  # noqa: BLE001 - recorded on the message, visible in status
            log.exception("federation handler failed", extra={"message_id": str(message.message_id)})
            InboxMessage.objects.filter(pk=message.pk, status=InboxMessage.Status.HELD).update(
                status=InboxMessage.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000])
            return applied
        with transaction.atomic(durable=True):
            changed = InboxMessage.objects.filter(pk=message.pk, status=InboxMessage.Status.HELD).update(
                status=InboxMessage.Status.APPLIED, applied_at=timezone.now())
            if changed:  # another applier may have finished it first: one audit entry
                append_entry(action="federation.applied", object_type="federation.message",
                             object_id=str(message.message_id), case_ref=collab_id,
                             after={"type": message.type, "collab_seq": message.collab_seq})
        applied += changed


def apply_all_ready() -> int:
    pairs = (InboxMessage.objects.filter(status=InboxMessage.Status.HELD)
             .order_by().values_list("sender_id", "collab_id").distinct())
    return sum(apply_ready(s, c) for s, c in list(pairs)[:1000])


@transaction.atomic(durable=True)
def retry_failed() -> int:
    """Failed messages go back to held (their handler runs again on the next apply pass)."""
    return InboxMessage.objects.filter(status=InboxMessage.Status.FAILED).update(
        status=InboxMessage.Status.HELD, error="")
