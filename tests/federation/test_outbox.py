"""The sending side in one process: enqueue joins the caller's transaction, claims are exclusive and
leased, only a valid signed receipt marks a message delivered, dead letters come back with retry,
and /healthz reports a stuck outbox."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tongban.core.errors import InvalidInput
from tongban.federation import outbox
from tongban.federation.envelope import iso
from tongban.federation.models import OutboxMessage, Peer
from tongban.licences import crypto

from .fakes import FakeNode


def fake_receipt(signer: FakeNode, row: OutboxMessage, *, contiguous=None) -> dict:
    body = {"v": "tongban-fed-receipt/1", "type": "receipt", "message_id": str(row.message_id), "sender": "fb",
            "receiver": "fa", "payload_digest": row.envelope["payload_digest"], "seq": row.seq,
            "received_at": iso(datetime.now(UTC)), "contiguous_seq": contiguous or row.seq,
            "key_id": signer.key_id, "algorithm": signer.algorithm}
    return {"receipt": body, "signature": signer.sign(body)}


@pytest.mark.django_db(transaction=True)
def test_a_message_exists_only_if_the_change_that_caused_it_commits(peer):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(receiver="fa", type="ping", collab_id="x-1", payload={})
        raise RuntimeError("the change failed")
    assert OutboxMessage.objects.count() == 0
    assert Peer.objects.get(code="fa").out_seq == 0
    outbox.send(receiver="fa", type="ping", collab_id="x-1", payload={})
    assert OutboxMessage.objects.get().seq == 1


@pytest.mark.django_db
def test_enqueue_refuses_an_unknown_peer_or_a_payload_off_its_schema(peer):
    with pytest.raises(InvalidInput) as exc:
        outbox.enqueue(receiver="nobody", type="ping", collab_id="x", payload={})
    assert exc.value.problems[0].rule == "fed.receiver.unknown"
    with pytest.raises(InvalidInput) as exc:
        outbox.enqueue(receiver="fa", type="case.decision", collab_id="x", payload={"outcome": "maybe"})
    assert {p.rule for p in exc.value.problems} == {"fed.payload"}
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_sequences_per_peer_and_per_case(peer):
    rows = [outbox.enqueue(receiver="fa", type="ping", collab_id=c, payload={}) for c in ("a", "b", "a", "a")]
    assert [(r.seq, r.collab_seq) for r in rows] == [(1, 1), (2, 1), (3, 2), (4, 3)]
    key = crypto.load_public_key(rows[0].envelope["algorithm"], __import__(
        "tongban.federation.models", fromlist=["NodeKey"]).NodeKey.objects.get().public_key)
    assert crypto.verify(rows[0].envelope["algorithm"], key, crypto.unb64u(rows[0].signature),
                         crypto.canonical_json(rows[0].envelope))


@pytest.mark.django_db
def test_a_claim_is_exclusive_until_its_lease_runs_out(peer, settings):
    settings.TONGBAN_FED_LEASE_S = 30
    for _ in range(3):
        outbox.enqueue(receiver="fa", type="ping", collab_id="c", payload={})
    first = outbox.claim("w1", limit=2)
    second = outbox.claim("w2", limit=10)
    assert len(first) == 2 and len(second) == 1 and not {r.pk for r in first} & {r.pk for r in second}
    assert outbox.claim("w3") == []
    later = timezone.now() + timedelta(seconds=31)
    assert len(outbox.claim("w3", now=later)) == 3  # leases expired: a killed worker loses nothing


@pytest.mark.django_db
def test_only_a_valid_receipt_signed_by_the_peer_marks_delivered(peer):
    row = outbox.enqueue(receiver="fa", type="ping", collab_id="c", payload={})
    [claimed] = outbox.claim("w")
    forger = FakeNode("fa")
    outbox.record_answer(Peer.objects.get(code="fa"), [claimed], {"receipts": [fake_receipt(forger, claimed)]})
    row.refresh_from_db()
    assert row.status == "pending" and "listed" in row.last_error and row.next_attempt_at > timezone.now()
    [claimed] = outbox.claim("w", now=row.next_attempt_at + timedelta(seconds=1))
    receipt = fake_receipt(peer, claimed)
    outbox.record_answer(Peer.objects.get(code="fa"), [claimed], {"receipts": [receipt]})
    row.refresh_from_db()
    assert row.status == "delivered" and row.receipt == receipt
    assert Peer.objects.get(code="fa").out_acked_seq == 1


@pytest.mark.django_db
def test_a_refusal_is_a_dead_letter_and_retry_puts_it_back(peer):
    row = outbox.enqueue(receiver="fa", type="ping", collab_id="c", payload={})
    [claimed] = outbox.claim("w")
    problem = {"field": "envelope.sender", "rule": "fed.sender.unknown", "zh": "未知", "en": "unknown"}
    outbox.record_answer(Peer.objects.get(code="fa"), [claimed],
                         {"receipts": [], "refused": [{"message_id": str(row.message_id), "problems": [problem]}]})
    row.refresh_from_db()
    assert row.status == "dead" and "fed.sender.unknown" in row.last_error
    assert outbox.retry(all_dead=True) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)


@pytest.mark.django_db
def test_transport_failures_back_off_then_dead_letter(peer, settings):
    settings.TONGBAN_FED_MAX_ATTEMPTS = 2
    row = outbox.enqueue(receiver="fa", type="ping", collab_id="c", payload={})
    outbox.record_failure(outbox.claim("w"), "ConnectError")
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1
    outbox.record_failure(outbox.claim("w", now=row.next_attempt_at), "ConnectError")
    row.refresh_from_db()
    assert row.status == "dead"


@pytest.mark.django_db
def test_healthz_reports_a_stuck_outbox(client, peer, settings):
    settings.TONGBAN_FED_STUCK_AFTER_S = 60
    row = outbox.enqueue(receiver="fa", type="ping", collab_id="c", payload={})
    assert client.get("/healthz").json()["federation"]["ok"] is True
    OutboxMessage.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    report = client.get("/healthz").json()
    assert report["federation"]["stuck"] is True and report["ok"] is False
