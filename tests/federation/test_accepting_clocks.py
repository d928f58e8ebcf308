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


def test_each_hop_records_which_node_holds_the_case_here_too(xiangtan):
    from tongban.audit.selectors import trail_for_case
    from tongban.cases import services
    from tongban.federation.models import CaseHop

    from .test_accepting import deliver, now_iso

    case = accepted_remote_case()
    sub = remote_sub(case)

    def hops():
        return list(CaseHop.objects.filter(subcase=sub).order_by("at", "id").values_list("kind", "holder"))

    assert hops() == [("handed_over", "changsha")]  # sent, not yet receipted: still this node's
    receipt_from(xiangtan, sub)
    receipt_from(xiangtan, sub)  # the same receipt again (a resend): one hop
    assert hops()[-1] == ("received", "xiangtan") and CaseHop.objects.filter(subcase=sub, kind="received").count() == 1
    deliver(xiangtan, sub, "case.acknowledged",
            {"local_case": "XT-430300-0001", "acknowledged_at": now_iso(), "due_on": "2099-01-05"})
    deliver(xiangtan, sub, "case.notice", {"kind": "correction", "reasons": ["照片不清晰"], "materials_requested": []})
    sub.refresh_from_db()
    services.supply_correction(case=case, actor=_user("changsha-clerk"))
    deliver(xiangtan, sub, "case.decision", {"outcome": "deny", "reason": "不符合条件", "decided_at": now_iso()})
    assert hops() == [("handed_over", "changsha"), ("received", "xiangtan"), ("acknowledged", "xiangtan"),
                      ("notice", "changsha"), ("correction", "xiangtan"), ("decided", "changsha")]
    entries = [e.after["hop"] for e in trail_for_case(sub.collab_id) if e.action == "federation.hop"]
    assert entries == [k for k, _ in hops()]
    # The progress API shows the holder, since when, every hop with how long it was held, and the
    # hand-back due date (the item's limit from the acknowledgement, in 湘潭's working days).
    client = Client()
    client.force_login(_user("xiangtan-citizen"))
    [row] = client.get(f"/api/v1/cases/{case.number}/progress").json()
    remote = row["remote"]
    assert remote["holder"] == "changsha" and remote["held_since"]
    assert [h["kind"] for h in remote["hops"]] == [k for k, _ in hops()]
    assert all(h["held_for_s"] >= 0 for h in remote["hops"])
    assert remote["handback_due"]


def test_the_hand_back_due_date_counts_the_items_limit_in_the_handling_regions_working_days(xiangtan):
    from django.utils import timezone

    from tongban.cases.services.remote import handback_due
    from tongban.workdays.calendar import add_workdays

    from .test_accepting import deliver, now_iso

    case = accepted_remote_case()
    sub = remote_sub(case)
    assert handback_due(sub) is None  # not acknowledged yet
    deliver(xiangtan, sub, "case.acknowledged", {"local_case": "XT-1", "acknowledged_at": now_iso(), "due_on": None})
    sub.refresh_from_db()
    expected = add_workdays(timezone.localdate(), sub.item_version.promised_days, "430300").due
    assert handback_due(sub) == expected


def test_the_accepting_board_shows_who_holds_each_handed_out_case_and_since_when(xiangtan):
    case = accepted_remote_case()
    sub = remote_sub(case)
    row = board_row(case)
    assert row["holder"] == "changsha" and row["held_since"]
    receipt_from(xiangtan, sub)
    row = board_row(case)
    assert row["holder"] == "xiangtan"
    client = Client()
    client.force_login(_user("changsha-supervisor"))
    html = client.get("/console/board/").content.decode()
    assert sub.collab_id in html and "xiangtan（" in html


def test_an_overdue_held_here_is_an_overdue_hop_of_this_node(xiangtan):
    from tongban.cases import services
    from tongban.federation.models import CaseHop

    case = accepted_remote_case()
    sub = remote_sub(case)
    services.sweep(on=sub.ack_due + timedelta(days=3))
    hop = CaseHop.objects.filter(subcase=sub, kind="overdue").get()
    assert hop.holder == "changsha" and hop.detail["clock"] == "ack_overdue"
