"""The receiving node's rules, through the HTTP endpoint: signatures, keys, schemas, the agreed list,
duplicates, ordering and sequence gaps; a refusal writes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from tongban.audit.models import AuditEntry
from tongban.federation.descriptors import import_descriptor
from tongban.federation.envelope import verify_signature
from tongban.federation.models import InboxMessage, NodeKey, Peer

from .fakes import FakeNode, handover, material

URL = "/federation/v1/messages"


def post(client, *messages):
    response = client.post(URL, {"messages": list(messages)}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def refused_rules(answer):
    return [p["rule"] for r in answer["refused"] for p in r["problems"]]


def snapshot():
    return InboxMessage.objects.count(), AuditEntry.objects.count(), list(Peer.objects.values_list(
        "in_max_seq", "in_contiguous_seq"))


@pytest.mark.django_db
def test_a_valid_message_is_stored_applied_and_answered_with_a_signed_receipt(client, peer):
    wire = peer.message("fb", "ping", {"note": "你好"})
    answer = post(client, wire)
    assert answer["refused"] == []
    [receipt] = answer["receipts"]
    body = receipt["receipt"]
    assert body["message_id"] == wire["envelope"]["message_id"] and body["contiguous_seq"] == 1
    key = NodeKey.objects.get(status="active")
    assert verify_signature(key.algorithm, key.public_key, receipt["signature"], body)
    stored = InboxMessage.objects.get()
    assert stored.status == "applied" and stored.receipt == receipt
    actions = list(AuditEntry.objects.filter(case_ref="fake-collab-1").values_list("action", flat=True))
    assert actions == ["federation.received", "federation.applied"]


@pytest.mark.django_db
def test_the_same_message_twice_has_one_effect_and_the_first_receipt(client, peer):
    wire = peer.message("fb", "ping", {})
    first = post(client, wire)["receipts"][0]
    before = snapshot()
    again = post(client, wire)
    assert again["receipts"] == [first]
    assert InboxMessage.objects.get().duplicates == 1
    assert snapshot()[:2] == before[:2]


@pytest.mark.django_db
@pytest.mark.parametrize("tamper, rule", [
    (lambda w: w["payload"].update(note="改过"), "fed.digest"),
    (lambda w: w["envelope"].update(seq=7), "fed.signature"),
    (lambda w: w["envelope"].update(receiver="fc"), "fed.receiver"),
    (lambda w: w["envelope"].update(type="case.unknown"), "fed.envelope"),
    (lambda w: w.update(extra=1), "fed.envelope"),
])
def test_a_tampered_message_is_refused_with_a_named_rule_and_nothing_written(client, peer, tamper, rule):
    wire = peer.message("fb", "ping", {"note": "原文"})
    tamper(wire)
    before = snapshot()
    answer = post(client, wire)
    assert answer["receipts"] == [] and rule in refused_rules(answer)
    problem = answer["refused"][0]["problems"][0]
    assert problem["zh"] and problem["en"]
    assert snapshot() == before


@pytest.mark.django_db
def test_an_unknown_sender_is_refused(client, peer):
    stranger = FakeNode("fz")
    before = snapshot()
    assert refused_rules(post(client, stranger.message("fb", "ping", {}))) == ["fed.sender.unknown"]
    # a known sender's code with a key it never listed
    impostor = FakeNode("fa")
    assert refused_rules(post(client, impostor.message("fb", "ping", {}))) == ["fed.key.unknown"]
    assert snapshot() == before


@pytest.mark.django_db
def test_a_key_not_valid_at_the_message_time_is_refused(client, node):
    now = datetime.now(UTC)
    old = FakeNode("fo", valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=30))
    import_descriptor(old.descriptor(), fingerprint=old.fingerprint)
    before = snapshot()
    assert refused_rules(post(client, old.message("fb", "ping", {}))) == ["fed.key.expired"]
    assert snapshot() == before
    # while the key was valid, the same key's message verifies
    answer = post(client, old.message("fb", "ping", {}, created_at=now - timedelta(days=60)))
    assert answer["refused"] == []


@pytest.mark.django_db
def test_a_handover_of_an_item_not_on_the_agreed_list_is_refused(client, peer):
    before = snapshot()
    answer = post(client, peer.message("fb", "case.handover", handover("OTHERITEM")),
                  peer.message("fb", "case.handover", handover("TESTITEM", version=2), collab_id="c2"))
    assert refused_rules(answer) == ["fed.item.not_agreed", "fed.item.not_agreed"]
    assert snapshot() == before
    ok = post(client, peer.message("fb", "case.handover", handover("TESTITEM", materials=[material(200_000)]),
                                   collab_id="c3", seq=1))
    assert ok["refused"] == [] and InboxMessage.objects.get().type == "case.handover"


@pytest.mark.django_db
def test_a_payload_off_its_schema_is_refused_naming_the_field(client, peer):
    bad = material(100)
    bad["sha256"] = "0" * 64
    answer = post(client, peer.message("fb", "case.handover", handover("TESTITEM", materials=[bad])))
    [problem] = answer["refused"][0]["problems"]
    assert problem["rule"] == "fed.payload" and problem["field"].startswith("payload.materials.0")
    assert InboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_messages_of_a_case_are_applied_in_order_whatever_the_arrival_order(client, peer):
    # (pings: the order is the transport's; the case handlers have their own tests, test_handling.py)
    first = peer.message("fb", "ping", {"note": "first"}, collab_id="case-1")
    second = peer.message("fb", "ping", {"note": "second"}, collab_id="case-1")
    post(client, second)
    assert InboxMessage.objects.get().status == "held"
    post(client, first)
    rows = list(InboxMessage.objects.order_by("applied_at").values_list("collab_seq", "status"))
    assert rows == [(1, "applied"), (2, "applied")]


@pytest.mark.django_db
def test_receipts_show_the_contiguous_sequence_so_a_gap_is_seen(client, peer):
    one = peer.message("fb", "ping", {}, collab_id="a")
    peer.message("fb", "ping", {}, collab_id="b")  # seq 2, "lost in transit"
    three = peer.message("fb", "ping", {}, collab_id="c")
    post(client, one)
    receipt = post(client, three)["receipts"][0]["receipt"]
    assert (receipt["seq"], receipt["contiguous_seq"]) == (3, 1)
    assert Peer.objects.filter(code="fa").values_list("in_max_seq", "in_contiguous_seq").get() == (3, 1)


@pytest.mark.django_db
def test_the_endpoints_are_absent_on_a_node_without_a_code(client, db, settings):
    settings.TONGBAN_NODE_CODE = ""
    assert client.post(URL, {"messages": []}, content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_a_batch_that_is_not_a_list_is_a_400_naming_the_rule(client, peer):
    response = client.post(URL, {"messages": "x"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"][0]["rule"] == "fed.batch"
    response = client.post(URL, "not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"][0]["rule"] == "fed.json"
