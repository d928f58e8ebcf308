"""Delivery between REAL nodes: separate processes (gunicorn + delivery worker per node) and separate
databases. Faults: a peer down with 100 messages queued, a worker killed with SIGKILL mid-send, the
same message delivered twice, forged messages refused with nothing written, pull mode."""

import base64
import json
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tongban.federation.envelope import verify_signature

from .fakes import FakeNode, handover, material

pytestmark = [pytest.mark.federation_nodes, pytest.mark.xdist_group("federation-nodes")]


def collab() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def delivered(nodes, code, c, n):
    return lambda: nodes.outbox(code, c).get("delivered", 0) == n


def descriptor_key(nodes, code):
    doc = json.loads((Path(nodes.fed.node_dir(code)) / "descriptor.json").read_text())
    return doc["descriptor"]["keys"][0]


def post(nodes, code, *messages):
    response = httpx.post(f"{nodes.fed.nodes[code].url}/federation/v1/messages", json={"messages": list(messages)},
                          timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_message_arrives_once_with_a_signed_receipt_and_both_trails_show_it(federation):
    nodes, c = federation, collab()
    nodes.send("fa", "fb", collab=c)
    nodes.wait(delivered(nodes, "fa", c, 1), what="delivery")
    [(mid, seq, status, dups)] = nodes.inbox_rows("fb", c)
    assert (seq, status, dups) == (1, "applied", 0)
    [(receipt,)] = nodes.query("fa", "SELECT receipt FROM federation_outboxmessage WHERE collab_id = %s", (c,))
    receipt = json.loads(receipt) if isinstance(receipt, str) else receipt
    key = descriptor_key(nodes, "fb")
    assert receipt["receipt"]["message_id"].replace("-", "") == str(mid).replace("-", "")
    assert verify_signature(key["algorithm"], key["public_key"], receipt["signature"], receipt["receipt"])
    assert [a for a, _ in nodes.audit("fa", c)] == ["federation.enqueued", "federation.delivered"]
    assert [a for a, _ in nodes.audit("fb", c)] == ["federation.received", "federation.applied"]


def test_peer_down_with_100_messages_queued_then_back_every_message_once_in_order(federation):
    nodes, fed = federation, federation.fed
    cases = [collab(), collab()]
    fed.stop("fb")
    try:
        for c in cases:
            nodes.send("fa", "fb", count=50, collab=c)
        assert sum(nodes.outbox("fa", c).get("pending", 0) for c in cases) == 100
        attempts = nodes.wait(lambda: nodes.scalar(
            "fa", "SELECT COUNT(*) FROM federation_outboxmessage WHERE attempts > 0 AND collab_id IN (%s, %s)",
            tuple(cases)), what="failed attempts while the peer is down")
        assert attempts > 0
    finally:
        fed.start("fb")
    for c in cases:
        nodes.wait(delivered(nodes, "fa", c, 50), timeout=180, what=f"backlog of {c}")
    for c in cases:
        rows = nodes.inbox_rows("fb", c)
        assert [r[1] for r in rows] == list(range(1, 51)) and {r[2] for r in rows} == {"applied"}
        applied = [after["collab_seq"] for action, after in nodes.audit("fb", c) if action == "federation.applied"]
        assert applied == list(range(1, 51))  # applied in order, each once


def test_a_worker_killed_mid_send_loses_nothing_and_duplicates_nothing(federation):
    nodes, fed = federation, federation.fed
    c = collab()
    fed.kill("fa", "deliver")
    try:
        nodes.send("fa", "fb", count=10, collab=c)  # queued first, so that one batch carries all ten
        fed.start_worker("fa", {"TONGBAN_FED_FAULT_PAUSE_AFTER_SEND_S": "120"})
        nodes.wait(lambda: len(nodes.inbox_rows("fb", c)) == 10, what="the peer storing the batch")
        assert nodes.outbox("fa", c) == {"pending": 10}  # receipts received, not yet recorded
    finally:
        fed.kill("fa", "deliver", sig=signal.SIGKILL)
        fed.start_worker("fa")  # the lease (3 s) runs out, the batch is sent again
    nodes.wait(delivered(nodes, "fa", c, 10), what="redelivery")
    rows = nodes.inbox_rows("fb", c)
    assert len(rows) == 10 and sum(r[3] for r in rows) == 10  # each stored once, seen twice
    assert [a for a, _ in nodes.audit("fb", c)].count("federation.applied") == 10


def test_the_same_message_delivered_twice_has_one_effect(federation):
    nodes, c = federation, collab()
    nodes.send("fa", "fb", collab=c)
    nodes.wait(delivered(nodes, "fa", c, 1), what="delivery")
    [(env, payload, sig, receipt)] = nodes.query(
        "fa", "SELECT envelope, payload, signature, receipt FROM federation_outboxmessage WHERE collab_id = %s", (c,))
    load = lambda v: json.loads(v) if isinstance(v, str) else v  # noqa: E731
    before = nodes.counts("fb")
    answer = post(nodes, "fb", {"envelope": load(env), "payload": load(payload), "signature": sig})
    assert answer["receipts"] == [load(receipt)]
    assert nodes.counts("fb") == before
    assert nodes.inbox_rows("fb", c)[0][3] == 1


def test_forged_messages_are_refused_with_a_named_reason_and_nothing_written(federation):
    nodes, fed = federation, federation.fed
    c = collab()
    # a real message of node fa, altered in transit
    fed.kill("fa", "deliver")
    try:
        nodes.send("fa", "fb", collab=c, payload='{"note": "原文"}')
        [(env, payload, sig)] = nodes.query(
            "fa", "SELECT envelope, payload, signature FROM federation_outboxmessage WHERE collab_id = %s", (c,))
    finally:
        fed.start_worker("fa")
    env = json.loads(env) if isinstance(env, str) else env
    tampered = {"envelope": env, "payload": {"note": "改过"}, "signature": sig}
    # an expired key: a node whose descriptor fb imported, whose key ran out a month ago
    now = datetime.now(UTC)
    old = FakeNode("fold", valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=30))
    path = Path(fed.node_dir("fb")) / "fold.json"
    path.write_text(json.dumps(old.descriptor()))
    fed.tongban("fb", "federation", "import-descriptor", str(path), "--fingerprint", old.fingerprint)
    # fa's real key would pass, but the item is not on the agreed list: sign as fa with a key fb knows
    # is impossible from here, so use a fake peer fb agreed nothing with
    stranger = FakeNode("fz")
    agreed_nothing = FakeNode("fnone")
    path = Path(fed.node_dir("fb")) / "fnone.json"
    path.write_text(json.dumps(agreed_nothing.descriptor()))
    fed.tongban("fb", "federation", "import-descriptor", str(path), "--fingerprint", agreed_nothing.fingerprint,
                "--offer", "TESTITEM:1", "--only-listed")
    before = nodes.counts("fb")
    answer = post(nodes, "fb", tampered, stranger.message("fb", "ping", {}), old.message("fb", "ping", {}),
                  agreed_nothing.message("fb", "case.handover", handover("NOTAGREED")))
    rules = [r["problems"][0]["rule"] for r in answer["refused"]]
    assert rules == ["fed.digest", "fed.sender.unknown", "fed.key.expired", "fed.item.not_agreed"]
    assert answer["receipts"] == []
    assert nodes.counts("fb") == before
    # the agreed item goes through
    ok = post(nodes, "fb", agreed_nothing.message("fb", "case.handover", handover("TESTITEM")))
    assert ok["refused"] == [] and nodes.counts("fb")[0] == before[0] + 1


def test_pull_mode_a_node_nobody_can_reach_fetches_its_messages(federation):
    nodes, c = federation, collab()
    nodes.send("fa", "fc", count=3, collab=c)
    nodes.wait(delivered(nodes, "fa", c, 3), what="pull")
    assert [r[1:3] for r in nodes.inbox_rows("fc", c)] == [(1, "applied"), (2, "applied"), (3, "applied")]
    # and fc's own messages to fa are pushed as usual
    c2 = collab()
    nodes.send("fc", "fa", collab=c2)
    nodes.wait(delivered(nodes, "fc", c2, 1), what="push from the pull-only node")


def test_status_json_of_a_node(federation):
    status = federation.fed.status("fa")
    assert status["node"]["code"] == "fa" and {p["code"] for p in status["peers"]} >= {"fb", "fc"}
    assert set(status["outbox"]) >= {"pending", "delivered", "dead", "oldest_pending_s"}
    assert set(status["inbox"]) >= {"received", "duplicates"}


def test_material_digest_survives_the_trip(federation):
    """A hand-over with a 200 KB material reaches the handling node byte for byte."""
    nodes, c = federation, collab()

    payload = handover("TESTITEM", materials=[material(200_000)])
    path = Path(nodes.fed.node_dir("fa")) / f"{c}.json"
    path.write_text(json.dumps(payload))
    nodes.send("fa", "fb", collab=c, type_="case.handover", payload=f"@{path}")
    nodes.wait(delivered(nodes, "fa", c, 1), what="hand-over delivery")
    [(stored,)] = nodes.query("fb", "SELECT payload FROM federation_inboxmessage WHERE collab_id = %s", (c,))
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert len(base64.b64decode(stored["materials"][0]["content"])) == 200_000
