"""跨域互认 across nodes: a node's descriptor carries the signed trust lists of the regions it serves;
importing it lets this node verify the peer's licences offline; a re-published list goes to every
peer as a `trust.list` message in the publishing transaction."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tests.licences.factories import make_id_number
from tongban.federation import trustlists
from tongban.federation.descriptors import export_descriptor, import_descriptor
from tongban.federation.envelope import MessageType
from tongban.federation.inbox import receive_batch
from tongban.federation.models import InboxMessage, OutboxMessage, PeerTrustList
from tongban.licences import trust
from tongban.licences.models import LicenceTypeIssuer, TrustList
from tongban.licences.services import issue_licence, revoke_licence

from .fakes import FakeNode

ID = make_id_number(7)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


def published(region: str) -> dict:
    import json

    return json.loads(TrustList.objects.get(region_id=region).document)


def senior_card_licence(region: str = "430100"):
    """A 老年人优待证 issued by the civil-affairs department of `region` (a licence of the peer's region)."""
    grant = LicenceTypeIssuer.objects.select_related("licence_type", "department").get(
        department__region_id=region, licence_type__name="老年人优待证")
    return issue_licence(licence_type=grant.licence_type, issuer=grant.department, holder_code_type="111",
                         holder_code=ID, holder_name="彭秀英",
                         data={"姓名": "彭秀英", "公民身份号码": ID, "发证日期": "2026-11-02"},
                         valid_from=date(2026, 11, 2))


def test_the_descriptor_carries_the_trust_lists_of_the_regions_the_node_serves(node):
    body = export_descriptor()["descriptor"]
    assert [t["region"] for t in body["trust_lists"]] == ["430300"]
    assert body["trust_lists"][0] == published("430300")


def test_a_peers_licence_verifies_offline_once_its_descriptor_brought_the_trust_list(node):
    licence = senior_card_licence("430100")
    issued = trustlists.licence_for_message(licence)
    fake = FakeNode("fa", regions=["430100"])
    assert trustlists.verify_peer_licence(issued, peer="fa").reason_code == "unknown_key"  # no peer, no list yet
    forged = {**published("430200"), "region": "430100"}  # self-proof broken
    document = fake.descriptor()
    document["descriptor"]["trust_lists"] = [published("430100"), published("430200"), forged]
    document["signature"]["value"] = fake.sign(document["descriptor"])
    peer = import_descriptor(document, fingerprint=fake.fingerprint)
    # Only the list of a region the peer serves, with a valid own proof, is kept.
    assert list(PeerTrustList.objects.filter(peer=peer).values_list("region", flat=True)) == ["430100"]
    result = trustlists.verify_peer_licence(issued, peer="fa")
    assert result.valid, result.as_dict()
    # A changed licence fails; a revoked one fails with the status snapshot that says so.
    tampered = {**issued, "payload": {**issued["payload"], "holder": {**issued["payload"]["holder"], "name": "某某"}}}
    assert trustlists.verify_peer_licence(tampered, peer="fa").reason_code == "bad_signature"
    revoke_licence(licence=licence, reason="测试注销")
    licence.refresh_from_db()
    assert trustlists.verify_peer_licence(trustlists.licence_for_message(licence), peer="fa").reason_code == "revoked"
    # A peer's list expires as the region's own would (fail closed).
    later = timezone.now() + timedelta(days=8)
    assert trustlists.verify_peer_licence(issued, peer="fa", now=later).reason_code == "trust_list_expired"


def test_a_republished_list_is_queued_to_every_peer_and_applied_there_only_when_newer(node):
    fake = FakeNode("fa", regions=["430100"])
    import_descriptor(fake.descriptor(), fingerprint=fake.fingerprint)
    trust.publish_trust_list(region=TrustList.objects.get(region_id="430300").region)
    sent = OutboxMessage.objects.get(type=MessageType.TRUST_LIST)
    assert sent.payload["lists"][0] == published("430300") and sent.collab_id == "trust-fb-430300"
    trust.publish_trust_list(region=TrustList.objects.get(region_id="430100").region)  # not a region of this node
    assert OutboxMessage.objects.filter(type=MessageType.TRUST_LIST).count() == 1

    # Receiving side: the peer's newer list replaces the held one; an older one is ignored.
    first = published("430100")
    receive_batch([fake.message("fb", MessageType.TRUST_LIST, {"lists": [first]}, collab_id="trust-fa-430100")])
    assert PeerTrustList.objects.get(region="430100").sequence == first["sequence"]
    trust.publish_trust_list(region=TrustList.objects.get(region_id="430100").region)
    newer_doc = published("430100")
    older = fake.message("fb", MessageType.TRUST_LIST, {"lists": [first]}, collab_id="trust-fa-430100")
    fresh = fake.message("fb", MessageType.TRUST_LIST, {"lists": [newer_doc]}, collab_id="trust-fa-430100")
    receive_batch([fresh, older])  # the older arrives after the newer in collab order: ignored
    assert PeerTrustList.objects.get(region="430100").sequence == newer_doc["sequence"]
    assert set(InboxMessage.objects.values_list("status", flat=True)) == {"applied"}
