"""The key store: departments' and regions' signing keys, private halves encrypted at rest.

Private keys never leave this module: callers get a `SigningKey` row (public data) and ask
`sign_with(key, data)` for a signature. Private keys are stored as AES-256-GCM envelopes under the
key-encryption key (KEK) from the environment variable `TONGBAN_KEY_ENCRYPTION_KEY` (base64url of 32
random bytes). Outside production, when the variable is unset, the KEK is derived from
settings.SECRET_KEY with HKDF (development only; production refuses to start signing without it).
Nothing here logs key material.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from tongban.core.errors import Conflict

from . import crypto
from .models import SigningKey

log = logging.getLogger(__name__)

KEK_ENV = "TONGBAN_KEY_ENCRYPTION_KEY"
_private_cache: dict[str, tuple[str, object]] = {}
_lock = threading.Lock()


def key_encryption_key() -> bytes:
    raw = os.environ.get(KEK_ENV, "").strip()
    if raw:
        try:
            kek = crypto.unb64u(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{KEK_ENV} must be base64url of 32 bytes") from exc
        if len(kek) != 32:
            raise ImproperlyConfigured(f"{KEK_ENV} must be base64url of 32 bytes")
        return kek
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(f"{KEK_ENV} must be set in production")
    return crypto.derive_key(settings.SECRET_KEY.encode(), "kek/development")


def kek_fingerprint(kek: bytes) -> str:
    return hashlib.sha256(b"tongban-kek:" + kek).hexdigest()[:16]


def platform_secret(purpose: str) -> bytes:
    """A purpose-bound secret for platform tokens (亮证 QR tokens), derived from the KEK."""
    return crypto.derive_key(key_encryption_key(), f"platform/{purpose}")


def _new_key_id(owner: str, algorithm: str) -> str:
    short = "ed" if algorithm == crypto.ED25519 else "sm2"
    return f"{owner}:{short}:{timezone.now():%Y%m%d}:{secrets.token_hex(4)}"


def active_key(*, department=None, region=None) -> SigningKey | None:
    owner = {"department": department} if department is not None else {"region": region}
    return SigningKey.objects.filter(status=SigningKey.Status.ACTIVE, **owner).first()


@transaction.atomic
def create_key(*, department=None, region=None, algorithm: str = crypto.ED25519) -> SigningKey:
    """A new active key for a department or a region; the previous active key is retired (kept for
    verification of what it signed, no longer used to sign)."""
    if (department is None) == (region is None):
        raise ValueError("exactly one of department and region")
    if algorithm not in crypto.ALGORITHMS:
        raise crypto.UnknownAlgorithm(algorithm)
    owner = {"department": department} if department is not None else {"region": region}
    now = timezone.now().replace(microsecond=0)
    previous = SigningKey.objects.select_for_update().filter(status=SigningKey.Status.ACTIVE, **owner).first()
    if previous is not None:
        previous.status = SigningKey.Status.RETIRED
        previous.valid_until = now
        previous.save(update_fields=["status", "valid_until"])
    private = crypto.generate_private_key(algorithm)
    key_id = _new_key_id(department.uscc if department is not None else region.code, algorithm)
    kek = key_encryption_key()
    key = SigningKey(
        key_id=key_id, algorithm=algorithm, public_key=crypto.public_key_b64(algorithm, private),
        encrypted_private_key=crypto.encrypt_private_key(kek, crypto.private_key_der(algorithm, private), key_id=key_id),
        kek_fingerprint=kek_fingerprint(kek), status=SigningKey.Status.ACTIVE, valid_from=now, created_at=now, **owner,
    )
    key.full_clean(exclude=["encrypted_private_key", "kek_fingerprint", "department", "region"])
    key.save()
    log.info("licence signing key created", extra={"key_id": key_id, "algorithm": algorithm,
                                                    "retired": previous.key_id if previous else None})
    return key


@transaction.atomic
def revoke_key(*, key: SigningKey) -> SigningKey:
    """Withdraw trust from a key (e.g. compromised): it no longer verifies anything."""
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status == SigningKey.Status.REVOKED:
        raise Conflict("密钥已吊销", "key already revoked")
    key.status = SigningKey.Status.REVOKED
    key.valid_until = key.valid_until or timezone.now()
    key.save(update_fields=["status", "valid_until"])
    _private_cache.pop(key.key_id, None)
    return key


def sign_with(key: SigningKey, data: bytes) -> bytes:
    """Sign `data` with `key`'s private half (decrypted once per process and kept in memory)."""
    if key.status != SigningKey.Status.ACTIVE:
        raise Conflict("签名密钥不是启用状态", "signing key is not active", rule="key.inactive")
    with _lock:
        cached = _private_cache.get(key.key_id)
    if cached is None or cached[0] != key.encrypted_private_key:
        kek = key_encryption_key()
        if kek_fingerprint(kek) != key.kek_fingerprint:
            raise ImproperlyConfigured(f"key {key.key_id} was encrypted under another {KEK_ENV}")
        der = crypto.decrypt_private_key(kek, key.encrypted_private_key, key_id=key.key_id)
        cached = (key.encrypted_private_key, crypto.load_private_key(key.algorithm, der))
        with _lock:
            _private_cache[key.key_id] = cached
    return crypto.sign(key.algorithm, cached[1], data)
