"""Identifiers (GB/T 36904), signatures (Ed25519, SM2/SM3), key encryption, status bitstrings."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from stdnum.iso7064 import mod_37_36
from tongsuopy.crypto import hashes as t_hashes

from tongban.licences import crypto, keystore
from tongban.licences.identifiers import build_identifier, parse_identifier
from tongban.licences.models import SigningKey

from .factories import make_uscc

TYPE_CODE = make_uscc(1, "100000") + "001"
ISSUER = make_uscc(2, "430100")


def test_identifier_check_character_is_iso7064_mod_37_36_over_the_middle_segments():
    identifier = build_identifier(type_code=TYPE_CODE, issuer_uscc=ISSUER, serial=42, version=3)
    parts = identifier.split(".")
    assert parts[:5] == ["1", "2", "156", "3005", "2"]
    assert parts[5] == TYPE_CODE and parts[6] == ISSUER and parts[7] == "00000042" and parts[8] == "003"
    assert mod_37_36.is_valid("".join(parts[5:9]) + parts[9])
    assert parse_identifier(identifier).serial == 42


def test_identifier_with_a_changed_character_does_not_parse():
    identifier = build_identifier(type_code=TYPE_CODE, issuer_uscc=ISSUER, serial=42, version=1)
    assert parse_identifier(identifier.replace(".00000042.", ".00000043.")) is None
    with pytest.raises(ValueError):
        build_identifier(type_code=TYPE_CODE, issuer_uscc=ISSUER, serial=0, version=1)


def test_canonical_json_sorts_keys_without_whitespace_in_utf8():
    assert crypto.canonical_json({"b": 1, "a": "证照"}) == '{"a":"证照","b":1}'.encode()


@pytest.mark.parametrize("algorithm", crypto.ALGORITHMS)
def test_sign_and_verify(algorithm):
    private = crypto.generate_private_key(algorithm)
    public = crypto.load_public_key(algorithm, crypto.public_key_b64(algorithm, private))
    signature = crypto.sign(algorithm, private, b"licence")
    assert crypto.verify(algorithm, public, signature, b"licence")
    assert not crypto.verify(algorithm, public, signature, b"licencf")


# SM2 curve (GB/T 32918.5) for an independent check of what tongsuopy produces.
_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_A = _P - 3
_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_G = (0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
      0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0)


def _add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % _P == 0:
        return None
    lam = ((3 * p[0] * p[0] + _A) * pow(2 * p[1], -1, _P) if p == q else (q[1] - p[1]) * pow(q[0] - p[0], -1, _P)) % _P
    x = (lam * lam - p[0] - q[0]) % _P
    return x, (lam * (p[0] - x) - p[1]) % _P


def _mul(k, p):
    r = None
    while k:
        if k & 1:
            r = _add(r, p)
        p, k = _add(p, p), k >> 1
    return r


def _sm3(data: bytes) -> bytes:
    h = t_hashes.Hash(t_hashes.SM3())
    h.update(data)
    return h.finalize()


def test_sm2_signature_is_gbt_32918_with_the_default_distinguishing_id():
    private = crypto.generate_private_key(crypto.SM2_SM3)
    numbers = private.public_key().public_numbers()
    r, s = decode_dss_signature(crypto.sign(crypto.SM2_SM3, private, b"licence"))
    b32 = lambda v: v.to_bytes(32, "big")  # noqa: E731
    uid = b"1234567812345678"
    z = _sm3((len(uid) * 8).to_bytes(2, "big") + uid + b32(_A) + b32(_B) + b32(_G[0]) + b32(_G[1])
             + b32(numbers.x) + b32(numbers.y))
    e = int.from_bytes(_sm3(z + b"licence"), "big")
    x1 = _add(_mul(s, _G), _mul((r + s) % _N, (numbers.x, numbers.y)))[0]
    assert (e + x1) % _N == r


@pytest.mark.django_db
def test_private_keys_are_encrypted_at_rest_and_bound_to_their_key_id(region):
    key = keystore.create_key(region=region, algorithm=crypto.ED25519)
    row = SigningKey.objects.get(pk=key.pk)
    kek = keystore.key_encryption_key()
    der = crypto.decrypt_private_key(kek, row.encrypted_private_key, key_id=row.key_id)
    assert der not in row.encrypted_private_key.encode() and row.encrypted_private_key.startswith("v1.")
    with pytest.raises(Exception):  # noqa: B017 - any authentication failure
        crypto.decrypt_private_key(kek, row.encrypted_private_key, key_id="another-key")
    assert "encrypted_private_key" not in key.public_entry()


def test_bitstring_round_trip_uses_the_w3c_bit_order():
    bits = bytearray(16)
    crypto.set_bit(bits, 0, True)
    crypto.set_bit(bits, 9, True)
    assert bits[0] == 0x80 and bits[1] == 0x40
    decoded = crypto.decode_bitstring(crypto.encode_bitstring(bits))
    assert crypto.bit_is_set(decoded, 9) and not crypto.bit_is_set(decoded, 10)
    crypto.set_bit(bits, 9, False)
    assert bits[1] == 0
