"""Signed anchors over the partitioned trail (decision 0012).

`make_anchor()` reads every partition head (one plain SELECT: a consistent snapshot of committed heads,
no lock, so appends never wait for it), computes the Merkle root over them (`chain.heads_root`), links
the anchor to the previous one by hash and signs the anchor's canonical bytes with the platform's
anchor key. It runs as the periodic job `audit.anchor` of the leased background runner
(`tongban background`, decision 0009), every TONGBAN_AUDIT_ANCHOR_SECONDS (default 60); it writes a
new anchor only when some head moved, and anchoring twice is harmless (idempotent by content).

The anchor key lives in the database with its private half encrypted under the key store's
key-encryption key (as licence and node keys do). `check_anchors()` accepts a key only if its private
half decrypts under this platform's KEK and matches the public key, so someone who can write to the
database but does not hold the KEK cannot add a key of their own and re-sign forged anchors.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.utils import timezone

from tongban.licences import crypto, keystore

from .chain import GENESIS_HASH, anchor_bytes, heads_root
from .models import AnchorKey, AuditAnchor, AuditPartitionHead

_cache: dict[str, object] = {}
_trusted: dict[str, bool] = {}
_lock = threading.Lock()


def anchor_interval_seconds() -> int:
    return int(getattr(settings, "TONGBAN_AUDIT_ANCHOR_SECONDS", 60))


# --- the key --------------------------------------------------------------------------------------------


def active_key(using: str = DEFAULT_DB_ALIAS) -> AnchorKey | None:
    return AnchorKey.objects.using(using).filter(status=AnchorKey.Status.ACTIVE).first()


def ensure_key(using: str = DEFAULT_DB_ALIAS, algorithm: str = crypto.ED25519) -> AnchorKey:
    """The active anchor key, made on first use."""
    key = active_key(using)
    if key is not None:
        return key
    now = timezone.now().replace(microsecond=0)
    short = "ed" if algorithm == crypto.ED25519 else "sm2"
    key_id = f"audit-anchor:{short}:{now:%Y%m%d}:{secrets.token_hex(4)}"
    private = crypto.generate_private_key(algorithm)
    kek = keystore.key_encryption_key()
    try:
        with transaction.atomic(using=using):
            return AnchorKey.objects.using(using).create(
                key_id=key_id, algorithm=algorithm, public_key=crypto.public_key_b64(algorithm, private),
                encrypted_private_key=crypto.encrypt_private_key(
                    kek, crypto.private_key_der(algorithm, private), key_id=key_id),
                kek_fingerprint=keystore.kek_fingerprint(kek), created_at=now)
    except IntegrityError:  # another runner made it first
        return active_key(using)


def _private(key: AnchorKey):
    with _lock:
        cached = _cache.get(key.key_id)
    if cached is None:
        kek = keystore.key_encryption_key()
        der = crypto.decrypt_private_key(kek, key.encrypted_private_key, key_id=key.key_id)
        cached = crypto.load_private_key(key.algorithm, der)
        with _lock:
            _cache[key.key_id] = cached
    return cached


def key_is_ours(key: AnchorKey) -> bool:
    """The key's private half decrypts under this platform's KEK and belongs to its public key."""
    marker = f"{key.key_id}:{key.public_key}:{key.encrypted_private_key}"
    with _lock:
        known = _trusted.get(marker)
    if known is None:
        try:
            kek = keystore.key_encryption_key()
            known = (keystore.kek_fingerprint(kek) == key.kek_fingerprint
                     and crypto.public_key_b64(key.algorithm, _private(key)) == key.public_key)
        except Exception:  # noqa: BLE001 - any failure to decrypt or parse means "not ours"
            known = False
        with _lock:
            _trusted[marker] = known
    return known


# --- making anchors -------------------------------------------------------------------------------------


def current_heads(using: str = DEFAULT_DB_ALIAS) -> list[list]:
    """[[partition, last_seq, last_hash], ...] of every non-empty partition, in partition order."""
    return [[p, s, h] for p, s, h in AuditPartitionHead.objects.using(using).filter(last_seq__gt=0)
            .order_by("partition").values_list("partition", "last_seq", "last_hash")]


def make_anchor(*, using: str = DEFAULT_DB_ALIAS, force: bool = False) -> AuditAnchor | None:
    """Sign the current heads as the next anchor; None when nothing moved since the last one (unless
    `force`). Safe to run from several runners at once: the anchor number is unique, the loser's
    insert fails and it reports the winner's anchor."""
    key = ensure_key(using)
    heads = current_heads(using)
    last = AuditAnchor.objects.using(using).order_by("-number").first()
    if last is not None and last.heads == heads and not force:
        return None
    number = 1 if last is None else last.number + 1
    prev_hash = GENESIS_HASH if last is None else last.hash
    at = timezone.now()
    body = anchor_bytes(number=number, at=at, heads=heads, prev_hash=prev_hash, key_id=key.key_id)
    anchor = AuditAnchor(number=number, at=at, heads=heads, root=heads_root(heads), prev_hash=prev_hash,
                         hash=hashlib.sha256(body).hexdigest(), key=key,
                         signature=crypto.b64u(crypto.sign(key.algorithm, _private(key), body)))
    try:
        with transaction.atomic(using=using):
            anchor.save(using=using)
    except IntegrityError:
        return AuditAnchor.objects.using(using).order_by("-number").first()
    return anchor


def anchor_job() -> str:
    """The periodic job `audit.anchor`."""
    anchor = make_anchor()
    return "unchanged" if anchor is None else f"anchor {anchor.number} root {anchor.root}"


# --- checking anchors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorProblem:
    number: int
    rule: str  # anchor_gap / anchor_link / anchor_hash / anchor_root / anchor_key / anchor_signature / anchor_rewind
    zh: str
    en: str


def check_anchors(*, using: str = DEFAULT_DB_ALIAS, batch_size: int = 2000) -> tuple[AuditAnchor | None, AnchorProblem | None]:
    """Walk every anchor in order: numbers without gaps, each linked to the previous one's hash, its
    hash and Merkle root recomputed, its key ours, its signature valid, and no partition head going
    back (a partition's seq never decreases, and an unchanged seq keeps its hash). Returns the last
    anchor and the first problem (None when all are sound)."""
    keys: dict[int, AnchorKey] = {}
    expected_number, prev_hash = 1, GENESIS_HASH
    previous_heads: dict[int, tuple[int, str]] = {}
    last = None
    qs = AuditAnchor.objects.using(using).order_by("number")
    while True:
        rows = list(qs.filter(number__gte=expected_number)[:batch_size])
        if not rows:
            break
        for anchor in rows:
            n = anchor.number
            if n != expected_number:
                return last, AnchorProblem(expected_number, "anchor_gap", f"锚定 {expected_number} 缺失（被删除？）",
                                           f"anchor {expected_number} is missing (deleted?)")
            if anchor.prev_hash != prev_hash:
                return last, AnchorProblem(n, "anchor_link", f"锚定 {n} 的前一锚定哈希不符",
                                           f"anchor {n}: prev_hash does not match anchor {n - 1}")
            key = keys.get(anchor.key_id)
            if key is None:
                key = AnchorKey.objects.using(using).filter(pk=anchor.key_id).first()
                if key is None:
                    return last, AnchorProblem(n, "anchor_key", f"锚定 {n} 的签名密钥缺失",
                                               f"anchor {n}: its signing key is missing")
                keys[anchor.key_id] = key
            body = anchor_bytes(number=n, at=anchor.at, heads=anchor.heads, prev_hash=anchor.prev_hash,
                                key_id=key.key_id)
            if heads_root(anchor.heads) != anchor.root:
                return last, AnchorProblem(n, "anchor_root", f"锚定 {n} 的默克尔根与其记录的链头不符",
                                           f"anchor {n}: the Merkle root does not match its recorded heads")
            if hashlib.sha256(body).hexdigest() != anchor.hash:
                return last, AnchorProblem(n, "anchor_hash", f"锚定 {n} 的内容与其哈希不符",
                                           f"anchor {n}: content does not match its hash")
            if not key_is_ours(key):
                return last, AnchorProblem(n, "anchor_key", f"锚定 {n} 的签名密钥不是本平台的密钥",
                                           f"anchor {n}: signed with key {key.key_id}, which is not this "
                                           "platform's (its private half does not open under our key-encryption key)")
            try:
                signature = crypto.unb64u(anchor.signature)
            except ValueError:
                signature = b""
            public = crypto.load_public_key(key.algorithm, key.public_key)
            if not crypto.verify(key.algorithm, public, signature, body):
                return last, AnchorProblem(n, "anchor_signature", f"锚定 {n} 的签名无效",
                                           f"anchor {n}: the signature does not verify")
            for p, s, h in anchor.heads:
                before = previous_heads.get(p)
                if before is not None and (s < before[0] or (s == before[0] and h != before[1])):
                    return last, AnchorProblem(n, "anchor_rewind", f"锚定 {n} 中分区 {p} 的链头倒退或分叉",
                                               f"anchor {n}: partition {p} went back or forked "
                                               f"(seq {before[0]} -> {s})")
            missing = set(previous_heads) - {p for p, _s, _h in anchor.heads}
            if missing:
                p = min(missing)
                return last, AnchorProblem(n, "anchor_rewind", f"锚定 {n} 中分区 {p} 消失",
                                           f"anchor {n}: partition {p} disappeared")
            previous_heads = {p: (s, h) for p, s, h in anchor.heads}
            prev_hash, last, expected_number = anchor.hash, anchor, n + 1
    return last, None
