"""The signed envelope, receipts and pull requests: pure functions, no database (docs/federation.md §2).

Signatures cover the canonical JSON (`tongban.licences.crypto.canonical_json`) of the envelope, which
binds the payload through its SHA-256 digest."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum

from tongban.core.errors import Problem
from tongban.licences import crypto

ENVELOPE_V = "tongban-fed/1"
RECEIPT_V = "tongban-fed-receipt/1"
PULL_V = "tongban-fed-pull/1"
DESCRIPTOR_V = "tongban-node/1"
MAX_BATCH = 100


class MessageType(StrEnum):
    HANDOVER = "case.handover"            # 案件移交 (accepting → handling node)
    RECEIPT = "receipt"                   # 签收回执 (the signed transport receipt; never queued)
    ACKNOWLEDGED = "case.acknowledged"    # 受理确认
    NOTICE = "case.notice"                # 一次性告知 / 补正要求
    CORRECTION = "case.correction"        # 补正材料
    DECISION = "case.decision"            # 办理决定（含证照）
    DELIVERY = "case.delivery"            # 送达指令
    DELIVERED = "case.delivered"          # 已送达
    WITHDRAWN = "case.withdrawn"          # 撤回
    SUPERVISION = "supervision.notice"    # 督办通知
    PING = "ping"                         # 连通性检查
    TRUST_LIST = "trust.list"             # 信任列表更新（跨域互认：办理地区划的签名信任列表）


QUEUED_TYPES = tuple(t for t in MessageType if t is not MessageType.RECEIPT)


def iso(at: datetime) -> str:
    """UTC with six fraction digits and Z, the one textual form of a time in signed documents."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError("time must be UTC ending in Z")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def digest(payload: dict) -> str:
    return hashlib.sha256(crypto.canonical_json(payload)).hexdigest()


def new_message_id() -> str:
    return str(uuid.uuid4())


# --- envelope schema -----------------------------------------------------------------------------

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
_COLLAB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
ENVELOPE_FIELDS = {
    "v": str, "message_id": str, "collab_id": str, "collab_seq": int, "type": str, "sender": str,
    "receiver": str, "created_at": str, "seq": int, "in_reply_to": (str, type(None)),
    "payload_digest": str, "key_id": str, "algorithm": str,
}


def _p(field: str, rule: str, zh: str, en: str) -> Problem:
    return Problem(field=field, rule=rule, zh=zh, en=en)


def envelope_problems(wire: object) -> list[Problem]:
    """Shape checks of a wire message (`{"envelope", "payload", "signature"}`); [] when well formed."""
    if not isinstance(wire, dict) or set(wire) != {"envelope", "payload", "signature"}:
        return [_p("message", "fed.envelope", "消息必须且只能包含 envelope、payload、signature",
                   "a message has exactly envelope, payload and signature")]
    env, problems = wire["envelope"], []
    if not isinstance(env, dict):
        return [_p("envelope", "fed.envelope", "信封必须是对象", "envelope must be an object")]
    if not isinstance(wire["payload"], dict):
        problems.append(_p("payload", "fed.envelope", "载荷必须是对象", "payload must be an object"))
    if not isinstance(wire["signature"], str) or not wire["signature"]:
        problems.append(_p("signature", "fed.envelope", "缺少签名", "signature is missing"))
    extra = set(env) - set(ENVELOPE_FIELDS)
    if extra:
        problems.append(_p(f"envelope.{sorted(extra)[0]}", "fed.envelope", "信封含有未定义的字段",
                           "envelope has an undefined field"))
    for name, kind in ENVELOPE_FIELDS.items():
        value = env.get(name, ...)
        if value is ... or not isinstance(value, kind) or isinstance(value, bool):
            problems.append(_p(f"envelope.{name}", "fed.envelope", "信封字段缺失或类型错误",
                               "envelope field missing or of the wrong type"))
    if problems:
        return problems
    checks = [
        ("v", env["v"] == ENVELOPE_V, "信封版本不受支持", "unsupported envelope version"),
        ("message_id", is_uuid(env["message_id"]), "消息标识必须是 UUID", "message_id must be a UUID"),
        ("collab_id", bool(_COLLAB.match(env["collab_id"])), "业务协同编号格式错误", "collab_id is malformed"),
        ("collab_seq", env["collab_seq"] >= 1, "协同序号必须从 1 开始", "collab_seq starts at 1"),
        ("type", env["type"] in QUEUED_TYPES, "消息类型未定义", "unknown message type"),
        ("sender", bool(_CODE.match(env["sender"])), "发送节点代码格式错误", "sender code is malformed"),
        ("receiver", bool(_CODE.match(env["receiver"])), "接收节点代码格式错误", "receiver code is malformed"),
        ("created_at", _is_time(env["created_at"]), "时间必须是 UTC（…Z）", "created_at must be UTC (…Z)"),
        ("seq", env["seq"] >= 1, "序号必须从 1 开始", "seq starts at 1"),
        ("payload_digest", bool(_HEX64.match(env["payload_digest"])), "摘要必须是 SHA-256 十六进制",
         "payload_digest must be hex SHA-256"),
        ("algorithm", env["algorithm"] in crypto.ALGORITHMS, "签名算法不受支持", "unsupported algorithm"),
    ]
    if env["in_reply_to"] is not None:
        checks.append(("in_reply_to", is_uuid(env["in_reply_to"]), "回复的消息标识必须是 UUID",
                       "in_reply_to must be a UUID"))
    return [_p(f"envelope.{f}", "fed.envelope", zh, en) for f, ok, zh, en in checks if not ok]


def is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _is_time(text: str) -> bool:
    try:
        parse_iso(text)
    except ValueError:
        return False
    return True


# --- signing --------------------------------------------------------------------------------------

def signed_bytes(document: dict) -> bytes:
    return crypto.canonical_json(document)


def verify_signature(algorithm: str, public_key_b64u: str, signature_b64u: str, document: dict) -> bool:
    try:
        key = crypto.load_public_key(algorithm, public_key_b64u)
        signature = crypto.unb64u(signature_b64u)
    except (ValueError, TypeError, crypto.UnknownAlgorithm):
        return False
    return crypto.verify(algorithm, key, signature, signed_bytes(document))


RECEIPT_FIELDS = {"v", "type", "message_id", "sender", "receiver", "payload_digest", "seq", "received_at",
                  "contiguous_seq", "key_id", "algorithm"}
