"""The hash chain's canonical serialisation, kept free of the database so an auditor can reuse it.

An entry's hash is SHA-256 (lower-case hex) over the UTF-8 bytes of a JSON object holding every
content field, its `seq` and the previous entry's hash, written canonically:

- keys sorted at every level, separators "," and ":" with no whitespace, non-ASCII characters
  written as themselves (not \\u escapes), NaN and infinities not allowed;
- `at` as UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always six fraction digits);
- `actor_id` as an integer or null; every text field as a string ("" when empty);
- `before`/`after` as JSON (null when absent), where a float with an integral value is written as
  an integer (1.0 -> 1), so the value reads back identically from SQLite text and PostgreSQL jsonb;
- a format marker "v": 1 for the legacy chain (partition 0, entries written before the trail was
  partitioned), "v": 2 with the partition number "p" for every partition from 1 on.

Each partition is its own chain: `seq` counts 1, 2, 3 ... within the partition and the first entry's
`prev_hash` is GENESIS_HASH (64 zeros). An entry goes to partition 1 + (first 8 bytes of
SHA-256(key) as a big-endian integer) mod PARTITIONS, where the key is its case reference, else its
region code, else "" (see `partition_for`).

An anchor commits to every partition's head at one moment: a Merkle tree (RFC 6962 hashing: leaves
SHA-256(0x00 || data), inner nodes SHA-256(0x01 || left || right)) over the heads in partition order,
each head's data the canonical JSON {"hash": h, "p": p, "seq": s}; the anchor's canonical JSON (see
`anchor_bytes`) is hashed, chained to the previous anchor and signed. docs/audit.md repeats all this.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

HASH_FORMAT_VERSION = 2  # entries of partitions 1..PARTITIONS; the legacy partition 0 is format 1
LEGACY_PARTITION = 0
# Fixed: a case's entries all land in one partition. Changing it later keeps every chain valid (an entry
# stores its partition) but splits the trails of open cases over two partitions.
PARTITIONS = 64
ANCHOR_FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# The text fields hashed as they are stored (all but at, seq, actor_id, before, after, prev_hash).
TEXT_FIELDS = (
    "actor_label", "role", "action", "object_type", "object_id",
    "region_code", "subject_code", "case_ref", "reason",
)


def format_at(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime(AT_FORMAT)


def normalise_json(value: Any) -> Any:
    """Turn any JSON-able value (dates, decimals, UUIDs, lazy strings allowed) into plain JSON data
    in the form that is stored and hashed: string keys, integral floats as ints, no NaN/inf."""
    if value is None:
        return None
    plain = json.loads(json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False))
    return _integral_floats_to_int(plain)


def _integral_floats_to_int(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):  # pragma: no cover - json.dumps(allow_nan=False) refuses first
            raise ValueError("NaN and infinity are not allowed in audit data")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: _integral_floats_to_int(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_to_int(v) for v in value]
    return value


def partition_for(*, case_ref: str = "", region_code: str = "") -> int:
    """The partition (1..PARTITIONS) of an entry: by its case reference, else its region code, else
    the platform's ("" key). Entries of one case share a chain; different cases and regions spread."""
    key = case_ref or region_code or ""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % PARTITIONS


def canonical_bytes(*, partition: int, seq: int, at: datetime, actor_id: int | None, prev_hash: str,
                    before: Any, after: Any, **text: str) -> bytes:
    missing = set(TEXT_FIELDS) - set(text)
    extra = set(text) - set(TEXT_FIELDS)
    if missing or extra:
        raise TypeError(f"canonical_bytes: missing {sorted(missing)}, unexpected {sorted(extra)}")
    payload: dict[str, Any] = {name: str(text[name]) for name in TEXT_FIELDS}
    payload.update(
        v=1 if partition == LEGACY_PARTITION else HASH_FORMAT_VERSION,
        seq=int(seq),
        at=format_at(at),
        actor_id=None if actor_id is None else int(actor_id),
        before=_integral_floats_to_int(before),
        after=_integral_floats_to_int(after),
        prev_hash=prev_hash,
    )
    if partition != LEGACY_PARTITION:
        payload["p"] = int(partition)
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(**fields: Any) -> str:
    """SHA-256 hex of canonical_bytes(**fields)."""
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()


# --- anchors ---------------------------------------------------------------------------------------------


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def head_leaf(partition: int, seq: int, digest: str) -> bytes:
    """The Merkle leaf data of one partition head."""
    return _json_bytes({"p": int(partition), "seq": int(seq), "hash": digest})


def merkle_root(leaves: list[bytes]) -> str:
    """RFC 6962 Merkle tree hash (hex) of `leaves` in order; the empty tree is SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    return _mth(leaves).hex()


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)  # the largest power of two below len(leaves)
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def heads_root(heads: list[list]) -> str:
    """Merkle root over [[partition, seq, hash], ...] sorted by partition."""
    return merkle_root([head_leaf(p, s, h) for p, s, h in sorted(heads)])


def anchor_bytes(*, number: int, at: datetime, heads: list[list], prev_hash: str, key_id: str) -> bytes:
    """The canonical bytes an anchor's hash and signature cover."""
    ordered = sorted(heads)
    return _json_bytes({
        "v": ANCHOR_FORMAT_VERSION, "type": "tongban.audit.anchor", "n": int(number), "at": format_at(at),
        "partitions": len(ordered), "entries": sum(int(s) for _p, s, _h in ordered),
        "root": heads_root(ordered), "prev_hash": prev_hash, "key_id": key_id,
    })
