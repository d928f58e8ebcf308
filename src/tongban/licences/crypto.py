"""Pure cryptographic helpers: canonical JSON, Ed25519 and SM2/SM3 signatures, private-key
encryption at rest, and W3C Bitstring Status List encoding. No database, no settings.

- Ed25519 through `cryptography` (the default algorithm).
- SM2 signatures with SM3 (GB/T 32918.2, default distinguishing ID 1234567812345678 of GM/T 0009)
  through `tongsuopy`, whose API mirrors pyca/cryptography (`ec.SM2()`, `hashes.SM3()`).
- Public keys travel as base64url SubjectPublicKeyInfo DER; parsed keys are cached by their bytes,
  which is always correct because the same bytes always parse to the same key.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes as c_hashes
from cryptography.hazmat.primitives import serialization as c_ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tongsuopy.crypto import hashes as t_hashes
from tongsuopy.crypto import serialization as t_ser
from tongsuopy.crypto.asymciphers import ec as t_ec
from tongsuopy.crypto.exceptions import InvalidSignature as TongsuoInvalidSignature

ED25519 = "Ed25519"
SM2_SM3 = "SM2-SM3"
ALGORITHMS = (ED25519, SM2_SM3)

_SM2_SIG = t_ec.ECDSA(t_hashes.SM3())  # with an SM2-curve key, Tongsuo computes a real SM2 signature


class UnknownAlgorithm(ValueError):
    pass


def canonical_json(obj: object) -> bytes:
    """Sorted keys, UTF-8, no whitespace: the exact bytes that are signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- key pairs -------------------------------------------------------------------------------

def generate_private_key(algorithm: str):
    if algorithm == ED25519:
        return Ed25519PrivateKey.generate()
    if algorithm == SM2_SM3:
        return t_ec.generate_private_key(t_ec.SM2())
    raise UnknownAlgorithm(algorithm)


def private_key_der(algorithm: str, key) -> bytes:
    """PKCS#8 DER of a private key, only ever handed to `encrypt_private_key`."""
    if algorithm == ED25519:
        return key.private_bytes(c_ser.Encoding.DER, c_ser.PrivateFormat.PKCS8, c_ser.NoEncryption())
    if algorithm == SM2_SM3:
        return key.private_bytes(t_ser.Encoding.DER, t_ser.PrivateFormat.PKCS8, t_ser.NoEncryption())
    raise UnknownAlgorithm(algorithm)


def load_private_key(algorithm: str, der: bytes):
    if algorithm == ED25519:
        key = c_ser.load_der_private_key(der, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key
    if algorithm == SM2_SM3:
        return t_ser.load_der_private_key(der, password=None)
    raise UnknownAlgorithm(algorithm)


def public_key_b64(algorithm: str, private_key) -> str:
    """base64url SubjectPublicKeyInfo DER of the private key's public half."""
    public = private_key.public_key()
    if algorithm == ED25519:
        der = public.public_bytes(c_ser.Encoding.DER, c_ser.PublicFormat.SubjectPublicKeyInfo)
    elif algorithm == SM2_SM3:
        der = public.public_bytes(t_ser.Encoding.DER, t_ser.PublicFormat.SubjectPublicKeyInfo)
    else:
        raise UnknownAlgorithm(algorithm)
    return b64u(der)


@lru_cache(maxsize=4096)
def load_public_key(algorithm: str, spki_b64u: str):
    """Parse (once per process) a base64url SPKI public key; ValueError if it is not one."""
    der = unb64u(spki_b64u)
    if algorithm == ED25519:
        key = c_ser.load_der_public_key(der)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    if algorithm == SM2_SM3:
        key = t_ser.load_der_public_key(der)
        if not isinstance(key.curve, t_ec.SM2):
            raise ValueError("not an SM2 public key")
        return key
    raise UnknownAlgorithm(algorithm)


def sign(algorithm: str, private_key, data: bytes) -> bytes:
    if algorithm == ED25519:
        return private_key.sign(data)
    if algorithm == SM2_SM3:
        return private_key.sign(data, _SM2_SIG)
    raise UnknownAlgorithm(algorithm)


def verify(algorithm: str, public_key, signature: bytes, data: bytes) -> bool:
    try:
        if algorithm == ED25519:
            public_key.verify(signature, data)
        elif algorithm == SM2_SM3:
            public_key.verify(signature, data, _SM2_SIG)
        else:
            return False
    except (InvalidSignature, TongsuoInvalidSignature, ValueError):
        return False
    return True


def key_fingerprint(spki_b64u: str) -> str:
    digest = c_hashes.Hash(c_hashes.SHA256())
    digest.update(unb64u(spki_b64u))
    return digest.finalize().hex()


# --- private keys at rest ---------------------------------------------------------------------

def derive_key(master: bytes, purpose: str, length: int = 32) -> bytes:
    """A purpose-bound subkey (HKDF-SHA256), so one master secret never serves two uses."""
    return HKDF(algorithm=c_hashes.SHA256(), length=length, salt=b"tongban.licences",
                info=purpose.encode()).derive(master)


def encrypt_private_key(kek: bytes, der: bytes, *, key_id: str) -> str:
    """AES-256-GCM under the key-encryption key; the key id is authenticated data, so a blob
    copied onto another key's row does not decrypt."""
    nonce = os.urandom(12)
    return "v1." + b64u(nonce + AESGCM(kek).encrypt(nonce, der, key_id.encode()))


def decrypt_private_key(kek: bytes, blob: str, *, key_id: str) -> bytes:
    version, _, body = blob.partition(".")
    if version != "v1":
        raise ValueError("unknown private-key envelope")
    raw = unb64u(body)
    return AESGCM(kek).decrypt(raw[:12], raw[12:], key_id.encode())


# --- W3C Bitstring Status List ----------------------------------------------------------------

def encode_bitstring(bits: bytes | bytearray) -> str:
    """Multibase base64url (prefix "u") of the GZIP-compressed bitstring (W3C Bitstring Status List)."""
    return "u" + b64u(gzip.compress(bytes(bits), mtime=0))


def decode_bitstring(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("status list must be multibase base64url ('u' prefix)")
    return gzip.decompress(unb64u(encoded[1:]))


def bit_is_set(bits: bytes | bytearray, index: int) -> bool:
    """Index 0 is the left-most (most significant) bit of the first byte, as in the W3C spec."""
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))


def set_bit(bits: bytearray, index: int, value: bool) -> None:
    mask = 0x80 >> (index & 7)
    if value:
        bits[index >> 3] |= mask
    else:
        bits[index >> 3] &= ~mask & 0xFF
