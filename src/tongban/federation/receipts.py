"""Signed receipts: made by the receiver when it has stored a message, checked by the sender before it
marks the message delivered (docs/federation.md §3)."""

from __future__ import annotations

from . import conf, keys
from .envelope import RECEIPT_FIELDS, RECEIPT_V, MessageType, iso, parse_iso, verify_signature
from .models import Peer


def make_receipt(*, envelope: dict, received_at, contiguous_seq: int) -> dict:
    key = keys.ensure_node_key()
    body = {"v": RECEIPT_V, "type": str(MessageType.RECEIPT), "message_id": envelope["message_id"],
            "sender": envelope["sender"], "receiver": conf.node_code(), "payload_digest": envelope["payload_digest"],
            "seq": envelope["seq"], "received_at": iso(received_at), "contiguous_seq": contiguous_seq,
            "key_id": key.key_id, "algorithm": key.algorithm}
    return {"receipt": body, "signature": keys.sign(key, body)}


def check_receipt(peer: Peer, row, document: dict) -> str:
    """"" when `document` is a valid receipt by `peer` for outbox `row`, else why not."""
    body = document.get("receipt") if isinstance(document, dict) else None
    if not isinstance(body, dict) or set(body) != RECEIPT_FIELDS or not isinstance(document.get("signature"), str):
        return "receipt is malformed"
    expected = {"v": RECEIPT_V, "type": MessageType.RECEIPT.value, "message_id": str(row.message_id),
                "sender": conf.node_code(), "receiver": peer.code,
                "payload_digest": row.envelope["payload_digest"], "seq": row.seq}
    for name, value in expected.items():
        if body.get(name) != value:
            return f"receipt {name} does not match the message"
    if not isinstance(body.get("contiguous_seq"), int):
        return "receipt contiguous_seq is not a number"
    try:
        at = parse_iso(body["received_at"])
    except ValueError:
        return "receipt received_at is malformed"
    key = peer.keys.filter(key_id=body["key_id"]).first()
    if key is None or key.algorithm != body["algorithm"]:
        return "receipt signed by a key the peer has not listed"
    if not key.valid_at(at):
        return "receipt signed by a key not valid at its time"
    if not verify_signature(key.algorithm, key.public_key, document["signature"], body):
        return "receipt signature does not verify"
    return ""
