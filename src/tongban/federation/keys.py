"""This node's signing key, on the licence key store's primitives: the private half is an AES-256-GCM
envelope under the same key-encryption key (`tongban.licences.keystore`), decrypted once per process."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.core.errors import Conflict
from tongban.licences import crypto, keystore

from . import conf
from .models import NodeKey

ROTATION_OVERLAP = timedelta(days=30)
_cache: dict[str, tuple[str, object]] = {}
_lock = threading.Lock()


def active_key() -> NodeKey | None:
    return NodeKey.objects.filter(status=NodeKey.Status.ACTIVE).first()


def _new_key(algorithm: str, now) -> NodeKey:
    if algorithm not in crypto.ALGORITHMS:
        raise crypto.UnknownAlgorithm(algorithm)
    short = "ed" if algorithm == crypto.ED25519 else "sm2"
    key_id = f"node:{conf.node_code() or 'local'}:{short}:{now:%Y%m%d}:{secrets.token_hex(4)}"
    private = crypto.generate_private_key(algorithm)
    kek = keystore.key_encryption_key()
    return NodeKey.objects.create(
        key_id=key_id, algorithm=algorithm, public_key=crypto.public_key_b64(algorithm, private),
        encrypted_private_key=crypto.encrypt_private_key(kek, crypto.private_key_der(algorithm, private), key_id=key_id),
        kek_fingerprint=keystore.kek_fingerprint(kek), valid_from=now, created_at=now)


def ensure_node_key() -> NodeKey:
    """The active node key, made on first use (algorithm from TONGBAN_NODE_KEY_ALGORITHM)."""
    key = active_key()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(conf.key_algorithm(), timezone.now().replace(microsecond=0))
    except IntegrityError:  # another process made it first
        return active_key()


@transaction.atomic(durable=True)
def rotate_key(*, algorithm: str | None = None) -> tuple[NodeKey, NodeKey | None]:
    """A new active key; the previous one is retired and stays valid for verification for 30 days."""
    now = timezone.now().replace(microsecond=0)
    previous = NodeKey.objects.select_for_update(of=("self",)).filter(status=NodeKey.Status.ACTIVE).first()
    if previous is not None:
        previous.status = NodeKey.Status.RETIRED
        previous.valid_until = now + ROTATION_OVERLAP
        previous.save(update_fields=["status", "valid_until"])
    key = _new_key(algorithm or (previous.algorithm if previous else conf.key_algorithm()), now)
    from tongban.audit.services import append_entry

    append_entry(action="federation.key.rotate", object_type="federation.nodekey", object_id=key.key_id,
                 after={"key_id": key.key_id, "algorithm": key.algorithm,
                        "retired": previous.key_id if previous else None})
    return key, previous


def sign(key: NodeKey, document: dict) -> str:
    """base64url signature of the canonical JSON of `document` with `key`'s private half."""
    if key.status != NodeKey.Status.ACTIVE and key.valid_until is not None and key.valid_until <= timezone.now():
        raise Conflict("节点密钥已过期", "node key has expired", rule="fed.key.expired")
    with _lock:
        cached = _cache.get(key.key_id)
    if cached is None or cached[0] != key.encrypted_private_key:
        kek = keystore.key_encryption_key()
        if keystore.kek_fingerprint(kek) != key.kek_fingerprint:
            raise ImproperlyConfigured(f"node key {key.key_id} was encrypted under another {keystore.KEK_ENV}")
        der = crypto.decrypt_private_key(kek, key.encrypted_private_key, key_id=key.key_id)
        cached = (key.encrypted_private_key, crypto.load_private_key(key.algorithm, der))
        with _lock:
            _cache[key.key_id] = cached
    return crypto.b64u(crypto.sign(key.algorithm, cached[1], crypto.canonical_json(document)))


def fingerprint(key: NodeKey) -> str:
    return crypto.key_fingerprint(key.public_key)
