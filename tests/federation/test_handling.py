"""The handling node's side of a cross-node case, in one process: this test process is node `fb`
(湘潭 430300, the demo catalogue loaded) and `fa` (长沙 430100) is a fake peer that exists only here.
A 湘潭 resident's 老年人优待证 accepted at a 长沙 window arrives as `case.handover`; 湘潭's civil
affairs officer handles it in the normal workbench; what the officer does goes back to `fa`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tests.licences.factories import make_id_number
from tongban.cases import selectors, services, simulation
from tongban.cases.models import Case, CaseMaterial, DeadlineAlert, MaterialFile, SubCase
from tongban.catalog.models import Item
from tongban.federation import trustlists
from tongban.federation.descriptors import export_descriptor, import_descriptor
from tongban.federation.envelope import MessageType, iso
from tongban.federation.inbox import apply_ready, receive_batch
from tongban.federation.models import CaseHop, FederatedCase, InboxMessage, OutboxMessage, Peer
from tongban.workdays.calendar import add_workdays

from .fakes import FakeNode, material

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

SENIOR_CARD = "002030001000"
RESIDENT = make_id_number(31, region="430302", birth="19850312")


@pytest.fixture
def fa(node):
    """The fake 长沙 node, introduced; this node's descriptor (its offers) makes the agreed list."""
    fake = FakeNode("fa", regions=["430100"])
    import_descriptor(fake.descriptor(), fingerprint=fake.fingerprint)
    return fake


def senior_card() -> Item:
    return Item.objects.get(region_id="430300", basic_code=SENIOR_CARD)


def handover(*, version: int = 1, materials=None, item_code: str | None = None) -> dict:
    return {"item": {"item_code": item_code or senior_card().implementation_code, "version": version,
                     "basic_code": SENIOR_CARD},
            "applicant": {"kind": "person", "name": "彭秀英", "id_number": RESIDENT, "phone": "13800000000",
                          "address": "长沙市岳麓区麓山南路 1 号"},
            "accepting_region": "430100", "accepting_window": "长沙市政务服务中心 3 号窗口",
            "accepted_at": iso(datetime.now(UTC)), "local_case": "430100-20261130-00007",
            "form": {"holder": "彭秀英"}, "delivery": "post",
            "materials": materials if materials is not None else [
                {**material(2048, "身份证.pdf"), "material_code": "id-card"},
                {**material(1500, "照片.jpg"), "material_code": "photo", "media_type": "image/jpeg"}]}


def hand_over(fa: FakeNode, collab: str = "fa-430100-20261130-aaaa0001", **kwargs) -> dict:
    return receive_batch([fa.message("fb", MessageType.HANDOVER, handover(**kwargs), collab_id=collab)])


def local_case(collab: str = "fa-430100-20261130-aaaa0001") -> Case:
    return FederatedCase.objects.select_related("case").get(collab_id=collab).case


def the_sub(case: Case) -> SubCase:
    return SubCase.objects.select_related("department", "workflow", "item_version").get(case=case)


def act(sub: SubCase, action: str, **kwargs) -> SubCase:
    sub = SubCase.objects.select_related("department", "workflow", "item_version").get(pk=sub.pk)
    return services.act(subcase=sub, actor=simulation.officer_for(sub), action=action, step=sub.step,
                        decision=simulation.sample_decision(sub) if action == "approve" else None, **kwargs)


def sent(type_: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(type=type_).order_by("id"))


def test_a_handover_becomes_one_real_case_in_the_departments_workbench_even_if_applied_twice(fa):
    answer = hand_over(fa)
    assert answer["refused"] == [] and len(answer["receipts"]) == 1
    case = local_case()
    sub = the_sub(case)
    assert (case.status, case.region_id, case.intake_region_id, case.applicant_code) == \
        (Case.Status.ACCEPTED, "430300", "430100", RESIDENT)
    assert sub.item_version.item == senior_card() and sub.item_version.version == 1  # pinned
    assert sub.status == SubCase.Status.ACTIVE and sub.department.name == "湘潭市民政局"
    assert sub.ack_due == add_workdays(sub.started_on, 1, "430300").due and sub.acknowledged_at is None
    fc = case.federated
    assert (fc.peer.code, fc.accepting_region, fc.accepting_window, fc.remote_case, fc.holder) == \
        ("fa", "430100", "长沙市政务服务中心 3 号窗口", "430100-20261130-00007", "fb")
    # Materials stored under their SHA-256 on the checklist lines, as given.
    files = {f.material.code: f for f in MaterialFile.objects.filter(material__case=case)}
    given = {m["material_code"]: m["sha256"] for m in handover()["materials"]}
    assert {code: f.sha256 for code, f in files.items()} == given
    assert files["id-card"].file.read() == bytes((i * 7) % 256 for i in range(2048))
    by_standard = {p.get("x-standard"): case.form.get(n) for n, p in case.plan["form"]["properties"].items()}
    assert by_standard["person.name"] == "彭秀英" and by_standard["person.id_number"] == RESIDENT
    assert case.delivery_method == Case.Delivery.POST
    # The civil-affairs officer of 湘潭 sees it in the normal queue; another department's officer does not.
    officer = simulation.officer_for(sub)
    assert case.number in {s.case.number for s in selectors.officer_queue(officer).rows}
    police = simulation.officer_for(SubCase(department=sub.department.region.departments.get(name="湘潭市公安局")))
    assert case.number not in {s.case.number for s in selectors.officer_queue(police).rows}
    # Applied again (a crash before the message was marked applied; or a second applier): no second case.
    message = InboxMessage.objects.get(type=MessageType.HANDOVER)
    InboxMessage.objects.filter(pk=message.pk).update(status=InboxMessage.Status.HELD)
    apply_ready(message.sender_id, message.collab_id)
    from tongban.federation.handling import handle_handover

    assert handle_handover(message).case_id == case.pk
    assert FederatedCase.objects.count() == 1 and Case.objects.filter(applicant_code=RESIDENT).count() == 1
    assert list(CaseHop.objects.values_list("kind", "holder")) == [("received", "fb")]


def test_a_tampered_material_or_an_item_off_the_agreed_list_is_refused_and_writes_nothing(fa):
    bad = {**material(2048, "身份证.pdf"), "material_code": "id-card"}
    bad["content"] = material(2047, "x")["content"]  # the bytes no longer hash to the declared digest
    answer = hand_over(fa, materials=[bad])
    assert answer["receipts"] == [] and {p["rule"] for p in answer["refused"][0]["problems"]} == {"fed.payload"}
    answer = hand_over(fa, collab="fa-430100-20261130-aaaa0002", version=7)  # a version not agreed
    assert [p["rule"] for p in answer["refused"][0]["problems"]] == ["fed.item.not_agreed"]
    other = Item.objects.filter(region_id="430100").first()  # 长沙's own item: never on our list
    answer = hand_over(fa, collab="fa-430100-20261130-aaaa0003", item_code=other.implementation_code)
    assert [p["rule"] for p in answer["refused"][0]["problems"]] == ["fed.item.not_agreed"]
    assert not InboxMessage.objects.exists() and not FederatedCase.objects.exists()
    assert not Case.objects.filter(applicant_code=RESIDENT).exists()


def test_the_acknowledgement_is_the_first_step_and_goes_back_in_the_same_transaction(fa):
    hand_over(fa)
    sub = the_sub(local_case())
    assert sub.step == "accept"
    sub = act(sub, "approve")
    assert sub.acknowledged_at is not None and sub.step == "review"
    [ack] = sent(MessageType.ACKNOWLEDGED)
    assert ack.collab_id == "fa-430100-20261130-aaaa0001" and ack.payload["local_case"] == sub.case.number
    assert ack.payload["due_on"] == sub.promised_due.isoformat()
    assert ack.envelope["receiver"] == "fa"
    # Nothing is sent for a failed action: the message exists only if the change committed.
    with pytest.raises(Exception):  # noqa: B017 - the step is stale: a Conflict
        services.act(subcase=sub, actor=simulation.officer_for(sub), action="approve", step="accept")
    assert len(sent(MessageType.ACKNOWLEDGED)) == 1


def test_an_unacknowledged_handover_raises_one_overdue_alert_attributed_to_this_node(fa):
    hand_over(fa)
    sub = the_sub(local_case())
    late = add_workdays(sub.ack_due, 1, "430300").due
    assert services.sweep(on=sub.ack_due)["ack_overdue"] == 0  # due today: not yet late
    assert services.sweep(on=late)["ack_overdue"] == 1
    assert services.sweep(on=late)["ack_overdue"] == 0  # the sweep again: still one
    assert DeadlineAlert.objects.filter(subcase=sub, kind=DeadlineAlert.Kind.ACK_OVERDUE).count() == 1
    [hop] = [h for h in CaseHop.objects.filter(kind=CaseHop.Kind.OVERDUE) if h.detail["clock"] == "ack_overdue"]
    assert hop.holder == "fb" and hop.detail["due"] == sub.ack_due.isoformat()
    # The 湘潭 supervisor's board lists it.
    from tongban.accounts.models import User
    from tongban.accounts.roles import Role

    supervisor = User.objects.filter(region_id="430300", groups__name=Role.SUPERVISOR).first()
    board = selectors.board(supervisor, on=late)
    assert [s.pk for s in board["ack_overdue"]] == [sub.pk]
    assert board["cross_node"][0]["collab_id"] == "fa-430100-20261130-aaaa0001"
    from tongban.federation.selectors import status

    assert status()["handled_cases"] == {"held_here": 1, "held_by_peer": 0, "closed": 0, "overdue_hops_here": 2}
    # Acknowledged late: the hop says so; no further alert.
    act(sub, "approve", on=late)
    assert services.sweep(on=late)["ack_overdue"] == 0
    assert CaseHop.objects.get(kind=CaseHop.Kind.ACKNOWLEDGED).detail["late"] is True


def test_the_decision_carries_a_licence_the_accepting_node_verifies_offline(fa):
    hand_over(fa)
    sub = the_sub(local_case())
    for _ in range(5):
        if sub.status != SubCase.Status.ACTIVE:
            break
        sub = act(sub, "approve")
    assert sub.status == SubCase.Status.APPROVED and sub.result_licence_id
    [decision] = sent(MessageType.DECISION)
    payload = decision.payload
    assert payload["outcome"] == "approve" and payload["licence"]["identifier"] == sub.result_licence.identifier
    assert payload["licence"]["payload"]["holder"]["code"] == RESIDENT
    # What the accepting node does with it: verify offline against the trust lists of our descriptor
    # (held here as if a peer serving 430300 had sent them; the verification is the same code).
    peer = Peer.objects.get(code="fa")
    peer.regions = ["430300"]
    peer.save(update_fields=["regions"])
    trustlists.store_peer_lists(peer, export_descriptor()["descriptor"]["trust_lists"])
    assert trustlists.verify_peer_licence(payload["licence"], peer=peer).valid
    forged = {**payload["licence"], "payload": {**payload["licence"]["payload"], "data": {}}}
    assert trustlists.verify_peer_licence(forged, peer=peer).reason_code == "bad_signature"
    # The case waits for the accepting node's delivery; `case.delivered` closes it here.
    case = local_case()
    assert case.status == Case.Status.READY
    assert list(CaseHop.objects.values_list("kind", "holder")) == [
        ("received", "fb"), ("acknowledged", "fb"), ("decided", "fa")]
    receive_batch([fa.message("fb", MessageType.DELIVERY, {"method": "post", "address": "长沙市岳麓区麓山南路 1 号",
                                                           "tracking_number": "SF123"},
                              collab_id="fa-430100-20261130-aaaa0001"),
                   fa.message("fb", MessageType.DELIVERED, {"method": "post", "delivered_at": iso(datetime.now(UTC)),
                                                            "receiver": "彭秀英"},
                              collab_id="fa-430100-20261130-aaaa0001")])
    case.refresh_from_db()
    assert case.status == Case.Status.DELIVERED and case.tracking_number == "SF123"
    assert CaseHop.objects.order_by("id").last().holder == ""
    assert set(InboxMessage.objects.values_list("status", flat=True)) == {"applied"}


def test_a_denial_and_a_correction_round_go_back_as_notice_and_decision(fa):
    hand_over(fa)
    sub = act(the_sub(local_case()), "approve")  # acknowledged
    sub = act(sub, "return", reason="照片不符合要求", materials={"photo": "须为近期一寸免冠彩色照片"})
    [notice] = sent(MessageType.NOTICE)
    assert notice.payload["kind"] == "correction" and notice.payload["materials_requested"] == ["photo"]
    assert "照片不符合要求" in notice.payload["reasons"][0]
    assert sub.hold == SubCase.Hold.CORRECTION
    photo = {**material(900, "新照片.jpg"), "material_code": "photo", "media_type": "image/jpeg"}
    correction = fa.message("fb", MessageType.CORRECTION, {"materials": [photo], "note": "已补正"},
                            collab_id="fa-430100-20261130-aaaa0001")
    receive_batch([correction])
    receive_batch([correction])  # delivered twice: one effect
    sub.refresh_from_db()
    assert sub.hold == "" and sub.case.materials.get(code="photo").status == CaseMaterial.Status.PROVIDED
    assert MaterialFile.objects.filter(sha256=photo["sha256"]).count() == 1
    sub = act(sub, "deny", reason="不符合申领条件")
    [decision] = sent(MessageType.DECISION)
    assert decision.payload == {**decision.payload, "outcome": "deny", "reason": "不符合申领条件", "licence": None}
    kinds = list(CaseHop.objects.values_list("kind", "holder"))
    assert kinds == [("received", "fb"), ("acknowledged", "fb"), ("notice", "fa"), ("correction", "fb"),
                     ("decided", "fa")]


def test_a_withdrawal_at_the_accepting_node_withdraws_the_local_case(fa):
    hand_over(fa)
    receive_batch([fa.message("fb", MessageType.WITHDRAWN, {"withdrawn_at": iso(datetime.now(UTC)),
                                                            "reason": "申请人不再需要"},
                              collab_id="fa-430100-20261130-aaaa0001")])
    case = local_case()
    assert case.status == Case.Status.WITHDRAWN and the_sub(case).status == SubCase.Status.WITHDRAWN
    assert CaseHop.objects.order_by("id").last().kind == "withdrawn"
    # The sweep has nothing to say about a withdrawn case.
    assert services.sweep(on=add_workdays(the_sub(case).ack_due, 3, "430300").due)["ack_overdue"] == 0


def test_every_hop_is_in_the_trail_under_the_collab_id(fa):
    from tongban.audit.models import AuditEntry

    hand_over(fa)
    act(the_sub(local_case()), "approve")
    actions = list(AuditEntry.objects.filter(case_ref="fa-430100-20261130-aaaa0001").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["federation.received", "federation.hop", "federation.applied", "federation.enqueued",
                       "federation.hop"]


def test_the_officer_sees_where_the_case_came_from_on_the_task_page_and_in_the_api(fa, client):
    hand_over(fa)
    case = local_case()
    sub = the_sub(case)
    client.force_login(simulation.officer_for(sub))
    html = client.get(f"/console/tasks/{sub.pk}/").content.decode()
    assert "fa-430100-20261130-aaaa0001" in html and "长沙市政务服务中心 3 号窗口" in html and "430100-20261130-00007" in html
    origin = client.get(f"/api/v1/cases/{case.number}").json()["origin"]
    assert (origin["node"], origin["accepting_region"], origin["holder"]) == ("fa", "430100", "fb")
    # Another department's officer gets nothing of it.
    police = simulation.officer_for(SubCase(department=sub.department.region.departments.get(name="湘潭市公安局")))
    client.force_login(police)
    assert client.get(f"/console/tasks/{sub.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{case.number}").status_code == 404


def test_a_supervision_notice_from_the_accepting_node_reaches_the_handling_department(fa):
    from tongban.cases.models import SupervisionNotice

    hand_over(fa)
    sub = the_sub(local_case())
    notice = fa.message("fb", MessageType.SUPERVISION, {"subject": "受理确认超时", "text": "请尽快确认受理",
                                                        "due_on": "2030-01-02"}, collab_id="fa-430100-20261130-aaaa0001")
    receive_batch([notice])
    receive_batch([notice])  # twice: one notice
    [row] = SupervisionNotice.objects.filter(subcase=sub)
    assert row.department == sub.department and "请尽快确认受理" in row.text and str(row.respond_by) == "2030-01-02"
    assert row.issued_by.username == "node-fa" and not row.issued_by.is_active
    officer = simulation.officer_for(sub)
    assert row in selectors.supervision_notices_for_department(officer)
    assert CaseHop.objects.order_by("id").last().kind == "supervision"
