"""Peers are introduced only by signed descriptors whose signing key the operator confirmed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from tongban.core.errors import InvalidInput
from tongban.federation import keys
from tongban.federation.descriptors import export_descriptor, import_descriptor
from tongban.federation.models import AgreedItem, Peer, PeerKey

from .fakes import FakeNode


def rules(fn):
    with pytest.raises(InvalidInput) as exc:
        fn()
    return [p.rule for p in exc.value.problems]


@pytest.mark.django_db
def test_a_first_import_needs_the_confirmed_fingerprint(node):
    fake = FakeNode("fa")
    assert rules(lambda: import_descriptor(fake.descriptor())) == ["fed.descriptor.fingerprint"]
    assert rules(lambda: import_descriptor(fake.descriptor(), fingerprint="ab" * 32)) == ["fed.descriptor.fingerprint"]
    assert not Peer.objects.exists()
    peer = import_descriptor(fake.descriptor(offers=[{"item_code": "X1", "version": 2, "basic_code": "B1"}]),
                             fingerprint=fake.fingerprint, offers=["MINE:1"])
    assert peer.url == fake.url and peer.regions == ["430100"]
    assert set(AgreedItem.objects.values_list("handled_by", "item_code", "version")) == {("peer", "X1", 2),
                                                                                        ("self", "MINE", 1)}


@pytest.mark.django_db
def test_a_descriptor_with_a_broken_self_signature_or_stale_date_is_refused(node):
    fake = FakeNode("fa")
    doc = fake.descriptor()
    doc["descriptor"]["url"] = "http://evil.example"
    assert rules(lambda: import_descriptor(doc, trust_on_first_use=True)) == ["fed.descriptor.signature"]
    first = fake.descriptor()
    import_descriptor(first, fingerprint=fake.fingerprint)
    assert rules(lambda: import_descriptor(first, fingerprint=fake.fingerprint)) == ["fed.descriptor.stale"]


@pytest.mark.django_db
def test_an_update_signed_by_an_unknown_key_needs_its_fingerprint(node):
    fake = FakeNode("fa")
    import_descriptor(fake.descriptor(), fingerprint=fake.fingerprint)
    usurper = FakeNode("fa", url="http://127.0.0.1:6666")
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert rules(lambda: import_descriptor(usurper.descriptor(issued_at=later))) == ["fed.descriptor.untrusted"]
    assert Peer.objects.get().url == fake.url
    # the same node's own update (signed by the key already trusted) is accepted without a fingerprint
    fake.url = "http://127.0.0.1:7777"
    import_descriptor(fake.descriptor(issued_at=later))
    assert Peer.objects.get().url == "http://127.0.0.1:7777"


@pytest.mark.django_db
def test_export_after_rotation_lists_both_keys_and_is_endorsed_by_the_old_one(node):
    old = keys.ensure_node_key()
    new, retired = keys.rotate_key()
    assert retired.pk == old.pk
    doc = export_descriptor()
    assert [k["key_id"] for k in doc["descriptor"]["keys"]] == [old.key_id, new.key_id]
    assert doc["signature"]["key_id"] == new.key_id and doc["endorsement"]["key_id"] == old.key_id


@pytest.mark.django_db
def test_the_cli_exports_and_imports(node, tmp_path, capsys):
    out = tmp_path / "fb.json"
    call_command("federation", "export-descriptor", "--out", str(out), "--offer", "TESTITEM:1")
    printed = capsys.readouterr().out
    fingerprint = printed.split()[-1]
    assert keys.fingerprint(keys.active_key()) == fingerprint
    fake = FakeNode("fa")
    theirs = tmp_path / "fa.json"
    import json

    theirs.write_text(json.dumps(fake.descriptor()))
    call_command("federation", "import-descriptor", str(theirs), "--fingerprint", fake.fingerprint)
    assert PeerKey.objects.get().key_id == fake.key_id
    call_command("federation", "status", "--json")
    status = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert status["node"]["code"] == "fb" and status["peers"][0]["code"] == "fa"
    assert set(status["outbox"]) >= {"pending", "delivered", "dead", "oldest_pending_s"}
