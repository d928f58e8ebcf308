"""The hash chain's canonical serialisation, kept free of the database so an auditor can reuse it.

An entry's hash is SHA-256 (lower-case hex) over the UTF-8 bytes of a JSON object holding every
content field, its `seq` and the previous entry's hash, written canonically:

- keys sorted at every level, separators "," and ":" with no whitespace, non-ASCII characters
  written as themselves (not \\u escapes), NaN and infinities not allowed;
- `at` as UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always six fraction digits);
- `actor_id` as an integer or null; every text field as a string ("" when empty);
- `before`/`after` as JSON (null when absent), where a float with an integral value is written as
  an integer (1.0 -> 1), so the value reads back identically from SQLite text and PostgreSQL jsonb;
- a format marker "v": 1.

The first entry's `prev_hash` is GENESIS_HASH (64 zeros). docs/audit.md repeats this definition.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

HASH_FORMAT_VERSION = 1
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


def canonical_bytes(*, seq: int, at: datetime, actor_id: int | None, prev_hash: str,
                    before: Any, after: Any, **text: str) -> bytes:
    missing = set(TEXT_FIELDS) - set(text)
    extra = set(text) - set(TEXT_FIELDS)
    if missing or extra:
        raise TypeError(f"canonical_bytes: missing {sorted(missing)}, unexpected {sorted(extra)}")
    payload: dict[str, Any] = {name: str(text[name]) for name in TEXT_FIELDS}
    payload.update(
        v=HASH_FORMAT_VERSION,
        seq=int(seq),
        at=format_at(at),
        actor_id=None if actor_id is None else int(actor_id),
        before=_integral_floats_to_int(before),
        after=_integral_floats_to_int(after),
        prev_hash=prev_hash,
    )
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(**fields: Any) -> str:
    """SHA-256 hex of canonical_bytes(**fields)."""
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()
