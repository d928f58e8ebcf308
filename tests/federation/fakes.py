"""A peer that exists only in the test process: its own key pair (never in any database), descriptors
and messages built with the same pure functions a node uses. For crafting what a real node would
never send (tampered, expired key, unknown sender)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from tongban.federation.envelope import DESCRIPTOR_V, ENVELOPE_V, digest, iso, new_message_id
from tongban.licences import crypto


class FakeNode:
    def __init__(self, code: str, *, url: str = "http://127.0.0.1:9", regions=("430100",),
                 valid_from: datetime | None = None, valid_until: datetime | None = None,
                 algorithm: str = crypto.ED25519):
        self.code, self.url, self.regions, self.algorithm = code, url, list(regions), algorithm
        self.private = crypto.generate_private_key(algorithm)
        self.public = crypto.public_key_b64(algorithm, self.private)
        self.key_id = f"node:{code}:test:{self.public[-8:]}"
        self.valid_from = valid_from or datetime.now(UTC) - timedelta(days=1)
        self.valid_until = valid_until
        self.seq = 0
        self.collab_seqs: dict[str, int] = {}

    @property
    def fingerprint(self) -> str:
        return crypto.key_fingerprint(self.public)

    def sign(self, document: dict) -> str:
        return crypto.b64u(crypto.sign(self.algorithm, self.private, crypto.canonical_json(document)))

    def descriptor(self, *, offers=(), issued_at: datetime | None = None, trust_lists=None) -> dict:
        body = {"format": DESCRIPTOR_V, "node": self.code, "name": self.code, "url": self.url, "regions": self.regions,
                "reachable": True,
                "keys": [{"key_id": self.key_id, "algorithm": self.algorithm, "public_key": self.public,
                          "valid_from": iso(self.valid_from),
                          "valid_until": iso(self.valid_until) if self.valid_until else None}],
                "offers": list(offers), "issued_at": iso(issued_at or datetime.now(UTC))}
        if trust_lists is not None:
            body["trust_lists"] = list(trust_lists)
        return {"descriptor": body, "signature": {"key_id": self.key_id, "algorithm": self.algorithm,
                                                  "value": self.sign(body)}}

    def message(self, receiver: str, type_: str, payload: dict, *, collab_id: str = "fake-collab-1",
                created_at: datetime | None = None, seq: int | None = None, collab_seq: int | None = None) -> dict:
        if seq is None:
            self.seq += 1
            seq = self.seq
        if collab_seq is None:
            collab_seq = self.collab_seqs.get(collab_id, 0) + 1
            self.collab_seqs[collab_id] = collab_seq
        envelope = {"v": ENVELOPE_V, "message_id": new_message_id(), "collab_id": collab_id, "collab_seq": collab_seq,
                    "type": type_, "sender": self.code, "receiver": receiver,
                    "created_at": iso(created_at or datetime.now(UTC)), "seq": seq, "in_reply_to": None,
                    "payload_digest": digest(payload), "key_id": self.key_id, "algorithm": self.algorithm}
        return {"envelope": envelope, "payload": payload, "signature": self.sign(envelope)}


def material(size: int = 1024, name: str = "申请表.pdf") -> dict:
    raw = bytes((i * 7) % 256 for i in range(size))
    return {"name": name, "sha256": hashlib.sha256(raw).hexdigest(), "size": size,
            "media_type": "application/pdf", "content": base64.b64encode(raw).decode()}


def handover(item_code: str, version: int = 1, *, materials=()) -> dict:
    return {"item": {"item_code": item_code, "version": version, "basic_code": ""},
            "applicant": {"kind": "person", "name": "彭秀英", "id_number": "430302195803120013"},
            "accepting_region": "430100", "accepted_at": iso(datetime.now(UTC)), "materials": list(materials)}
