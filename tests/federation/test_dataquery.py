"""Data across nodes: an officer of one node queries a shared resource of a peer node, under a grant of
that peer, as a signed synchronous request; purpose, case and officer travel with it and both sides
log it (QueryLog and the audit trail) like a local exchange query. This process is node `fb`; `fa` is
a fake peer (its own key pair) that asks (owner side) or answers (consumer side)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.accounts.models import User
from tongban.accounts.roles import Role
from tongban.audit.models import AuditEntry
from tongban.core.errors import InvalidInput
from tongban.exchange.models import DataResource, LegalEntityRecord, QueryLog
from tongban.federation import keys
from tongban.federation.dataquery import (
    ANSWER_V,
    QUERY_V,
    PeerQueryFailed,
    grant_peer,
    query_peer,
    revoke_peer_grant,
)
from tongban.federation.descriptors import import_descriptor
from tongban.federation.envelope import iso, verify_signature

from .fakes import FakeNode

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]
CONSUMER = {"uscc": "114301004301000957", "name": "长沙市民政局"}


@pytest.fixture
def fa(node):
    fake = FakeNode("fa", regions=["430100"])
    import_descriptor(fake.descriptor(), fingerprint=fake.fingerprint)
    return fake


def staff(department, role=Role.OFFICER) -> User:
    return User.objects.filter(department=department, groups__name=role).order_by("pk").first()


def request_from(fake: FakeNode, *, fields=("name", "address"), created_at=None, subject=None, **over) -> dict:
    body = {"v": QUERY_V, "query_id": str(uuid.uuid4()), "requester": fake.code, "peer": "fb",
            "created_at": iso(created_at or datetime.now(UTC)), "resource": "legal_entities",
            "subject": subject or LegalEntityRecord.objects.order_by("uscc").first().uscc, "fields": list(fields),
            "purpose": "跨域通办：核验申请企业登记信息", "case_ref": "430100-20261130-00009", "consumer": CONSUMER,
            "officer": {"username": "changsha-civil", "name": "长沙审批员", "role": "officer"},
            "key_id": fake.key_id, "algorithm": fake.algorithm, **over}
    return {"request": body, "signature": fake.sign(body)}


def ask(client, document) -> tuple[int, dict]:
    response = client.post("/federation/v1/query", data=json.dumps(document, ensure_ascii=False),
                           content_type="application/json")
    return response.status_code, response.json()


def test_the_owner_answers_a_peers_query_only_under_its_grant_and_logs_it(fa, client):
    resource = DataResource.objects.select_related("owner").get(code="legal_entities")
    status, body = ask(client, request_from(fa))
    assert status == 422 and [p["rule"] for p in body["detail"]] == ["grant.none"]  # deny by default
    owner_officer = staff(resource.owner)
    grant = grant_peer(peer_code="fa", consumer_uscc=CONSUMER["uscc"], consumer_name=CONSUMER["name"],
                       resource_code="legal_entities", fields=["name", "address"], purpose="跨域通办企业信息核验",
                       valid_until=timezone.now() + timedelta(days=30), actor=owner_officer)
    status, body = ask(client, request_from(fa))
    assert status == 200, body
    answer = body["answer"]
    assert [f["name"] for f in answer["fields"]] == ["name", "address"] and answer["fields"][0]["value"]
    assert answer["provenance"]["owner_uscc"] == resource.owner.uscc
    mine = keys.active_key()
    assert verify_signature(mine.algorithm, mine.public_key, body["signature"], answer)  # signed by this node
    row = QueryLog.objects.get(ref=answer["ref"])
    assert (row.outcome, row.owner_id, row.purpose, row.case_ref) == \
        ("granted", resource.owner_id, "跨域通办：核验申请企业登记信息", "430100-20261130-00009")
    assert "(fa)" in row.actor_label.replace("（", "(").replace("）", ")")
    entry = AuditEntry.objects.get(object_id=answer["ref"])
    assert entry.action == "exchange.query" and entry.after["peer"] == "fa" and entry.after["consumer"] == CONSUMER["uscc"]
    # A field beyond the grant, another consumer department: refused by name, and logged.
    status, body = ask(client, request_from(fa, fields=["name", "legal_representative_id_number"]))
    assert status == 422 and body["detail"][0]["rule"] == "fields.not_granted"
    status, body = ask(client, request_from(fa, consumer={"uscc": "11430100430100060L", "name": "长沙市公安局"}))
    assert status == 422 and body["detail"][0]["rule"] == "grant.none"
    assert QueryLog.objects.filter(outcome="refused", actor_label__contains="fa").count() == 3
    # Revoked: refused again.
    revoke_peer_grant(grant_id=grant.pk, actor=owner_officer, reason="协议到期")
    assert ask(client, request_from(fa))[1]["detail"][0]["rule"] == "grant.none"


def test_an_unauthenticated_or_stale_request_is_refused_and_logs_nothing(fa, client):
    before = QueryLog.objects.count()
    forged = request_from(fa)
    forged["request"]["fields"] = ["name", "legal_representative_id_number"]  # changed after signing
    assert ask(client, forged)[1]["detail"][0]["rule"] == "fed.signature"
    stranger = FakeNode("fz")
    assert ask(client, request_from(stranger, requester="fz"))[1]["detail"][0]["rule"] == "fed.sender.unknown"
    replay = request_from(fa, created_at=datetime.now(UTC) - timedelta(hours=1))
    assert ask(client, replay)[1]["detail"][0]["rule"] == "fed.clock"
    assert QueryLog.objects.count() == before


def test_only_the_owner_department_grants(fa):
    resource = DataResource.objects.select_related("owner").get(code="legal_entities")
    other = staff(resource.owner.region.departments.exclude(pk=resource.owner_id).first())
    with pytest.raises(InvalidInput) as exc:
        grant_peer(peer_code="fa", consumer_uscc=CONSUMER["uscc"], resource_code="legal_entities", fields=["name"],
                   purpose="x", valid_until=timezone.now() + timedelta(days=1), actor=other)
    assert exc.value.problems[0].rule == "actor.not_owner"


def peer_answering(fake: FakeNode, seen: list, *, sign_with: FakeNode | None = None):
    """The fake peer as the owner: checks our signature, answers with its own."""

    def handle(request: httpx.Request) -> httpx.Response:
        document = json.loads(request.content)
        body = document["request"]
        mine = keys.active_key()
        seen.append({"atomic_blocks": len(connection.atomic_blocks), "body": body,
                     "signed": verify_signature(mine.algorithm, mine.public_key, document["signature"], body)})
        signer = sign_with or fake
        answer = {"v": ANSWER_V, "query_id": body["query_id"], "responder": fake.code, "requester": body["requester"],
                  "answered_at": iso(datetime.now(UTC)), "ref": str(uuid.uuid4()), "resource": body["resource"],
                  "fields": [{"name": "name", "label": "姓名", "standard_name": "person.name", "value": "彭秀英",
                              "code_label": None}],
                  "provenance": {"resource": body["resource"], "owner": "长沙市公安局"},
                  "key_id": fake.key_id, "algorithm": fake.algorithm}
        return httpx.Response(200, json={"answer": answer, "signature": signer.sign(answer)})

    return httpx.MockTransport(handle)


def test_an_officer_queries_a_peers_resource_outside_any_transaction_and_both_purpose_and_log_are_kept(fa):
    officer = User.objects.filter(department__name="湘潭市民政局", groups__name=Role.OFFICER).first()
    seen: list = []
    outside = len(connection.atomic_blocks)
    answer = query_peer(peer="fa", resource_code="population", subject="430102198501010014", fields=["name"],
                        purpose="老年人优待证：核验户籍信息", case_ref="430300-20261130-00001", actor=officer,
                        transport=peer_answering(fa, seen))
    assert answer["values"] == {"name": "彭秀英"} and answer["standard_values"] == {"person.name": "彭秀英"}
    [call] = seen
    assert call["signed"] and call["atomic_blocks"] == outside  # no transaction open during the call
    assert call["body"]["officer"]["username"] == officer.username and call["body"]["consumer"]["uscc"] == \
        officer.department.uscc and call["body"]["purpose"] == "老年人优待证：核验户籍信息"
    row = QueryLog.objects.get(ref=answer["ref"])
    assert (row.outcome, row.resource_code, row.consumer_id, row.actor_id, row.case_ref) == \
        ("granted", "fa:population", officer.department_id, officer.pk, "430300-20261130-00001")
    entry = AuditEntry.objects.get(object_id=answer["ref"])
    assert entry.after["peer"] == "fa" and entry.after["remote_ref"] == answer["remote_ref"]


def test_a_forged_answer_or_a_query_without_purpose_gives_nothing(fa):
    officer = User.objects.filter(department__name="湘潭市民政局", groups__name=Role.OFFICER).first()
    seen: list = []
    with pytest.raises(PeerQueryFailed) as exc:
        query_peer(peer="fa", resource_code="population", subject="430102198501010014", fields=["name"],
                   purpose="核验", case_ref="430300-20261130-00001", actor=officer,
                   transport=peer_answering(fa, seen, sign_with=FakeNode("fa")))  # another key, same name
    assert exc.value.problem.rule == "fed.signature"
    assert QueryLog.objects.filter(resource_code="fa:population").get().outcome == "failed"
    with pytest.raises(InvalidInput) as exc:
        query_peer(peer="fa", resource_code="population", subject="430102198501010014", fields=["name"],
                   purpose="", case_ref="430300-20261130-00001", actor=officer, transport=peer_answering(fa, seen))
    assert [p.rule for p in exc.value.problems] == ["required"] and len(seen) == 1  # never asked
