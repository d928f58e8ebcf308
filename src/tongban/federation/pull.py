"""Pull mode (docs/federation.md §3): a node that peers cannot reach fetches its messages.

The puller signs a request carrying the receipts of what it stored from the previous answer; the
peer records those receipts (exactly as for a push), then answers with the next pending messages for
the puller, leased so that another pull does not get them again until the lease runs out."""

from __future__ import annotations

import logging

import httpx
from django.utils import timezone

from tongban.core.errors import Problem

from . import conf, keys
from .envelope import PULL_V, is_uuid, iso, parse_iso, verify_signature
from .models import OutboxMessage, Peer
from .outbox import claim, record_receipts, record_refusals
from .receipts import check_receipt

log = logging.getLogger("tongban.federation")
PULL_FIELDS = {"v", "puller", "peer", "created_at", "max", "receipts", "refused", "key_id", "algorithm"}
MAX_PULL = 100


def _p(rule: str, zh: str, en: str, field: str = "request") -> Problem:
    return Problem(field=field, rule=rule, zh=zh, en=en)


def serve(document: object) -> tuple[dict | None, list[Problem]]:
    """Answer a pull request: ({"messages": [...]}, []) or (None, problems)."""
    body = document.get("request") if isinstance(document, dict) else None
    if not isinstance(body, dict) or set(body) != PULL_FIELDS or not isinstance(document.get("signature"), str) \
            or body.get("v") != PULL_V or not isinstance(body.get("receipts"), list) \
            or not isinstance(body.get("refused"), list) \
            or not isinstance(body.get("max"), int) or isinstance(body.get("max"), bool):
        return None, [_p("fed.envelope", "拉取请求格式错误", "malformed pull request")]
    if body["peer"] != conf.node_code():
        return None, [_p("fed.receiver", "拉取请求的对象不是本节点", "the pull request is not addressed to this node")]
    peer = Peer.objects.filter(code=body["puller"], status=Peer.Status.ACTIVE).first()
    if peer is None:
        return None, [_p("fed.sender.unknown", "拉取节点不是已导入的对端节点", "the puller is not an imported peer")]
    key = peer.keys.filter(key_id=body["key_id"]).first()
    if key is None or key.algorithm != body["algorithm"]:
        return None, [_p("fed.key.unknown", "签名密钥不在对端节点的公钥清单中", "the signing key is not listed for the puller")]
    try:
        created = parse_iso(body["created_at"])
    except ValueError:
        return None, [_p("fed.envelope", "时间格式错误", "created_at is malformed")]
    if not key.valid_at(created):
        return None, [_p("fed.key.expired", "签名密钥已不在有效期内", "the signing key is not valid")]
    if abs((timezone.now() - created).total_seconds()) > conf.clock_skew_s():
        return None, [_p("fed.clock", "拉取请求时间超出允许范围（可能是重放）", "the pull request is too old or in the future")]
    if not verify_signature(key.algorithm, key.public_key, document["signature"], body):
        return None, [_p("fed.signature", "签名验证失败", "the signature does not verify")]
    accepted = []
    for receipt in body["receipts"][:MAX_PULL * 2]:
        mid = receipt.get("receipt", {}).get("message_id") if isinstance(receipt, dict) else None
        row = OutboxMessage.objects.filter(peer=peer, message_id=mid).first() if isinstance(mid, str) else None
        if row is not None and not check_receipt(peer, row, receipt):
            accepted.append((row, receipt))
    record_receipts(peer, accepted)
    refused = []
    for entry in body["refused"][:MAX_PULL * 2]:
        mid = entry.get("message_id") if isinstance(entry, dict) else None
        row = OutboxMessage.objects.filter(peer=peer, message_id=mid, status=OutboxMessage.Status.PENDING).first() \
            if isinstance(mid, str) and is_uuid(mid) else None
        if row is not None and isinstance(entry.get("problems"), list):
            refused.append((row, entry["problems"][:20]))
    if refused:
        record_refusals(refused)
    rows = claim(f"pull:{peer.code}", limit=max(1, min(MAX_PULL, body["max"])), peer=peer)
    return {"messages": [r.wire() for r in rows]}, []


def pull_request(peer: Peer, receipts: list[dict], refused: list[dict] | None = None, *,
                 limit: int = MAX_PULL) -> dict:
    key = keys.ensure_node_key()
    body = {"v": PULL_V, "puller": conf.node_code(), "peer": peer.code, "created_at": iso(timezone.now()),
            "max": limit, "receipts": receipts, "refused": refused or [], "key_id": key.key_id,
            "algorithm": key.algorithm}
    return {"request": body, "signature": keys.sign(key, body)}


def pull_from(peer: Peer, *, client: httpx.Client | None = None) -> int:
    """Pull rounds from one peer until it has nothing left; returns the messages stored."""
    from .inbox import receive_batch

    client = client or httpx.Client(timeout=conf.http_timeout_s())
    receipts: list[dict] = []
    refused: list[dict] = []
    stored = 0
    for _ in range(1000):
        response = client.post(f"{peer.url}/federation/v1/pull", json=pull_request(peer, receipts, refused))
        if response.status_code != 200:
            raise ValueError(f"pull from {peer.code}: HTTP {response.status_code}: {response.text[:300]}")
        messages = response.json().get("messages", [])
        if not messages and not receipts and not refused:
            break
        answer = receive_batch(messages) if messages else {"receipts": [], "refused": []}
        receipts, refused = answer["receipts"], answer["refused"]
        stored += len(messages)
    return stored


def pull_all() -> int:
    total = 0
    for peer in Peer.objects.filter(status=Peer.Status.ACTIVE):
        try:
            total += pull_from(peer)
        except (httpx.HTTPError, ValueError) as exc:
            log.info("federation pull failed", extra={"peer": peer.code, "error": str(exc)[:200]})
    return total

