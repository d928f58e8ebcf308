"""Clocks of a cross-node case on the ACCEPTING node (docs/federation.md §8, "Clocks"): an overdue
acknowledgement is attributed once across the federation, to the node that held the case when the
clock ran out; this node records per hop who held the case. One process: this node is `changsha`,
`xiangtan` a fake peer that signs the transport receipt of the hand-over as a real node would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.federation.envelope import iso

from . import test_accepting as accepting
from .test_accepting import _user, accepted_remote_case, remote_sub

changsha, xiangtan = accepting.changsha, accepting.xiangtan  # the accepting node's fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


def receipt_from(fake, sub) -> None:
    """The handling node answers the hand-over's delivery with its signed receipt (outbox.record_answer,
    the delivery worker's path after the HTTP call)."""
    from tongban.federation.models import OutboxMessage, Peer
    from tongban.federation.outbox import record_answer

    row = OutboxMessage.objects.get(collab_id=sub.collab_id, type="case.handover")
    body = {"v": "tongban-fed-receipt/1", "type": "receipt", "message_id": str(row.message_id), "sender": "changsha",
            "receiver": fake.code, "payload_digest": row.envelope["payload_digest"], "seq": row.seq,
            "received_at": iso(datetime.now(UTC)), "contiguous_seq": row.seq, "key_id": fake.key_id,
            "algorithm": fake.algorithm}
    record_answer(Peer.objects.get(code=fake.code), [row], {"receipts": [{"receipt": body, "signature": fake.sign(body)}]})
    row.refresh_from_db()
    assert row.status == "delivered"


def board_row(case) -> dict:
    client = Client()
    client.force_login(_user("changsha-supervisor"))
    board = client.get("/api/v1/board").json()
    [row] = [r for r in board["cross_node_out"] if r["case"] == case.number]
    return row


def test_before_the_receipt_a_late_acknowledgement_is_this_nodes_own_overdue(xiangtan):
    from tongban.cases import selectors, services
    from tongban.cases.models import DeadlineAlert

    case = accepted_remote_case()
    sub = remote_sub(case)  # the hand-over is still pending: 湘潭 never got it
    later = sub.ack_due + timedelta(days=3)
    services.sweep(on=later)
    assert list(DeadlineAlert.objects.filter(subcase=sub).values_list("kind", flat=True)) == ["ack_overdue"]
    board = selectors.board(_user("changsha-supervisor"), on=later)
    assert [s.pk for s in board["ack_overdue"]] == [sub.pk]
    [row] = board["cross_node_out"]
    assert row["ack_late_held_by"] == "changsha"


def test_after_the_receipt_the_overdue_is_the_handling_nodes_and_not_counted_here(xiangtan):
    from tongban.cases import selectors, services
    from tongban.cases.models import DeadlineAlert

    case = accepted_remote_case()
    sub = remote_sub(case)
    receipt_from(xiangtan, sub)
    later = sub.ack_due + timedelta(days=3)
    counts = services.sweep(on=later)
    assert counts["ack_overdue"] == 0 and not DeadlineAlert.objects.filter(subcase=sub).exists()
    board = selectors.board(_user("changsha-supervisor"), on=later)
    assert board["ack_overdue"] == []  # not this node's overdue
    [row] = board["cross_node_out"]
    assert row["ack_late_held_by"] == "xiangtan"  # shown, naming the node that holds the case


def test_a_receipt_that_came_after_the_due_date_leaves_the_overdue_here(xiangtan):
    from tongban.cases import services
    from tongban.cases.models import DeadlineAlert
    from tongban.federation.models import OutboxMessage

    case = accepted_remote_case()
    sub = remote_sub(case)
    receipt_from(xiangtan, sub)
    # The delivery worker got the receipt only two days after the acknowledgement was due (the outbox
    # was stuck here): the time is the one thing the test moves.
    late = datetime.combine(sub.ack_due + timedelta(days=2), datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    OutboxMessage.objects.filter(collab_id=sub.collab_id, type="case.handover").update(delivered_at=late)
    services.sweep(on=sub.ack_due + timedelta(days=3))
    assert list(DeadlineAlert.objects.filter(subcase=sub).values_list("kind", flat=True)) == ["ack_overdue"]


def test_federation_status_splits_own_and_peer_overdue_acknowledgements(xiangtan):
    from django.utils import timezone

    from tongban.cases.models import SubCase
    from tongban.federation.selectors import handed_out_counts

    first, second = accepted_remote_case(), accepted_remote_case()
    receipt_from(xiangtan, remote_sub(second))
    past = timezone.localdate() - timedelta(days=5)
    SubCase.objects.filter(case__in=[first, second]).update(ack_due=past)  # both acknowledgements overdue now
    receipted = remote_sub(second)
    receipted.refresh_from_db()
    from tongban.federation.models import OutboxMessage

    OutboxMessage.objects.filter(collab_id=receipted.collab_id).update(
        delivered_at=datetime.combine(past, datetime.min.time(), tzinfo=UTC))
    counts = handed_out_counts()
    assert (counts["ack_overdue"], counts["ack_overdue_at_peer"]) == (1, 1)
    row = board_row(second)
    assert row["ack_late_held_by"] == "xiangtan"
    assert board_row(first)["ack_late_held_by"] == "changsha"
