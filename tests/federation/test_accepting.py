"""The accepting node's side of a cross-node case (异地代收代办), in one process: this test process is
node `changsha` (serving 430100); a fake peer `xiangtan` (serving 430300, its own key pair, never in
this database) hands back what a real handling node would. Everything on this side goes through the
public services, the federation inbox and the API."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import pytest
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture

from .fakes import FakeNode

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

BASIC = "002030001000"  # 老年人优待证办理


@pytest.fixture
def changsha(settings):
    settings.TONGBAN_NODE_CODE = "changsha"
    settings.TONGBAN_NODE_URL = "http://127.0.0.1:8998"
    settings.TONGBAN_NODE_REGIONS = "430100"
    return settings


def xiangtan_trust_list() -> dict:
    from tongban.licences.models import TrustList
    from tongban.licences.trust import publish_trust_list
    from tongban.regions.models import Region

    row = TrustList.objects.filter(region_id="430300").exclude(document="").first()
    if row is None:
        row = publish_trust_list(region=Region.objects.get(code="430300"))
    return json.loads(row.document)


@pytest.fixture
def xiangtan(changsha):
    """The peer node 湘潭: offers its 老年人优待证 (item code and version from its catalogue) and carries
    430300's signed licence trust list in its descriptor."""
    from tongban.catalog.models import Item
    from tongban.federation.descriptors import import_descriptor

    item = Item.objects.get(region_id="430300", basic_code=BASIC)
    fake = FakeNode("xiangtan", regions=("430300",))
    offer = {"basic_code": BASIC, "item_code": item.implementation_code, "version": 1, "name": "老年人优待证办理",
             "region": "430300"}
    import_descriptor(fake.descriptor(offers=[offer], trust_lists=[xiangtan_trust_list()]),
                      fingerprint=fake.fingerprint)
    fake.item_code = item.implementation_code
    return fake


def _user(username):
    from tongban.accounts.models import User

    return User.objects.get(username=username)


def accepted_remote_case(delivery: str = "post"):
    """A 湘潭 resident's 老年人优待证, filed and accepted at a 长沙 window."""
    from tongban.cases import services, simulation

    clerk, resident = _user("changsha-clerk"), _user("xiangtan-citizen")
    case = services.start_case(actor=clerk, region_code="430300", item_code=BASIC,
                               applicant_id_number=resident.id_number, applicant_name=resident.real_name)
    case = simulation.fill_form(case, clerk)
    simulation.hand_in_materials(case, clerk, scanned=True)
    if delivery == "post":
        services.choose_delivery(case=case, actor=clerk, method="post", address="湖南省湘潭市雨湖区示例路 1 号")
    services.submit_case(case=case, actor=clerk)
    services.accept_case(case=case, actor=clerk)
    case.refresh_from_db()
    return case


def remote_sub(case):
    return case.subcases.get()


def deliver(fake: FakeNode, sub, type_: str, payload: dict) -> dict:
    from tongban.federation.inbox import receive_batch

    wire = fake.message("changsha", type_, payload, collab_id=sub.collab_id)
    answer = receive_batch([wire])
    assert answer["refused"] == [], answer
    return wire


def now_iso():
    from django.utils import timezone

    from tongban.federation.envelope import iso

    return iso(timezone.now())


def issue_xiangtan_licence(case) -> dict:
    """What 湘潭's civil-affairs department would sign: a real licence of its department and key (this
    database holds the demo's 430300 keys), as `case.decision` carries it."""
    from django.utils import timezone

    from tongban.catalog.models import LicenceType
    from tongban.licences.selectors import published_status_list
    from tongban.licences.services import issue_licence
    from tongban.regions.models import Department

    department = Department.objects.get(region_id="430300", kind="civil_affairs")
    licence_type = LicenceType.objects.get(name="老年人优待证")
    today = timezone.localdate()
    licence = issue_licence(licence_type=licence_type, issuer=department, holder_code_type="111",
                            holder_code=case.applicant_code, holder_name=case.applicant_name,
                            data={"姓名": case.applicant_name, "公民身份号码": case.applicant_code,
                                  "发证日期": today.isoformat()}, valid_from=today, source_ref="XT-1")
    return {"identifier": licence.identifier, "issuer": department.uscc, "key_id": licence.signing_key.key_id,
            "algorithm": licence.signing_key.algorithm, "payload": json.loads(licence.payload),
            "signature": licence.signature, "status_list": published_status_list(department.uscc)}


def test_a_node_without_node_code_keeps_todays_single_database_cross_region_case(settings):
    from tongban.cases.services.remote import agreed_remote_item

    settings.TONGBAN_NODE_CODE = ""
    assert agreed_remote_item("430300", BASIC) is None
    case = accepted_remote_case()
    sub = remote_sub(case)
    assert case.region_id == "430300" and case.cross_region  # today's behaviour: one database, local sub-case
    assert sub.department.region_id == "430300" and not sub.is_remote and sub.workflow_id


def test_acceptance_at_the_window_hands_the_item_over_in_the_same_transaction(xiangtan):
    from tongban.audit.selectors import trail_for_case
    from tongban.cases.models import Case, CaseMaterial
    from tongban.federation.models import OutboxMessage

    case = accepted_remote_case()
    sub = remote_sub(case)
    assert case.status == Case.Status.ACCEPTED and case.intake_region_id == "430100"
    assert sub.is_remote and sub.department_id is None and sub.workflow_id is None
    assert (sub.remote_node, sub.remote_region, sub.remote_item_code, sub.remote_item_version) == (
        "xiangtan", "430300", xiangtan.item_code, 1)
    assert sub.remote_status == "handed_over" and sub.ack_due and sub.collab_id.startswith("changsha-430100-")
    [message] = OutboxMessage.objects.filter(collab_id=sub.collab_id)
    assert (message.type, message.peer.code, message.status) == ("case.handover", "xiangtan", "pending")
    payload = message.payload
    assert payload["item"] == {"item_code": xiangtan.item_code, "version": 1, "basic_code": BASIC}
    assert payload["applicant"]["id_number"] == case.applicant_code and payload["local_case"] == case.number
    assert payload["accepting_region"] == "430100" and payload["delivery"] == "post"
    files = {f.sha256 for m in case.materials.all() for f in m.files.all()}
    assert {m["sha256"] for m in payload["materials"]} == files and files
    for m in payload["materials"]:
        assert hashlib.sha256(base64.b64decode(m["content"])).hexdigest() == m["sha256"]
    assert [e.action for e in trail_for_case(sub.collab_id)] == ["federation.enqueued", "federation.hop"]
    assert "case.subcase_handed_over" in [e.action for e in trail_for_case(case.number)]
    assert not case.materials.filter(status=CaseMaterial.Status.DEFECTIVE).exists()


def test_an_item_not_on_the_agreed_list_is_not_handed_over(xiangtan):
    """Another 430300 item (not offered by the peer): 430300 is not served here, so the filing is
    refused with a named rule; no case, no message."""
    from tongban.cases import services
    from tongban.core.errors import InvalidInput
    from tongban.federation.models import OutboxMessage

    resident = _user("xiangtan-citizen")
    before = OutboxMessage.objects.count()
    with pytest.raises(InvalidInput) as err:
        services.start_case(actor=_user("changsha-clerk"), region_code="430300", item_code="000117001000",
                            applicant_id_number=resident.id_number, applicant_name=resident.real_name)
    assert err.value.problems[0].rule == "cross_node.not_agreed"
    assert OutboxMessage.objects.count() == before


def test_online_filing_of_a_remote_item_is_refused_by_name(xiangtan):
    from tongban.cases import services
    from tongban.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        services.start_case(actor=_user("xiangtan-citizen"), region_code="430300", item_code=BASIC)
    assert err.value.problems[0].rule == "cross_node.window"


def test_acknowledgement_notice_correction_decision_and_post_delivery(xiangtan):
    from tongban.audit.selectors import trail_for_case
    from tongban.cases import services, simulation
    from tongban.cases.models import Action, Case, CaseMaterial, RemoteLicence
    from tongban.federation.inbox import HANDLERS
    from tongban.federation.models import InboxMessage, OutboxMessage

    case = accepted_remote_case()
    sub = remote_sub(case)
    resident, clerk = _user("xiangtan-citizen"), _user("changsha-clerk")

    from tongban.federation.selectors import status

    assert status()["handed_out"] == {"open": 1, "by_status": {"handed_over": 1}, "ack_overdue": 0,
                                         "ack_overdue_at_peer": 0, "finished": 0}
    # 受理确认 on the handling node
    wire = deliver(xiangtan, sub, "case.acknowledged",
                   {"local_case": "XT-430300-0001", "acknowledged_at": now_iso(), "due_on": "2099-01-05"})
    sub.refresh_from_db()
    assert (sub.remote_status, sub.remote_case_number, str(sub.promised_due)) == (
        "acknowledged", "XT-430300-0001", "2099-01-05")
    assert sub.acknowledged_at is not None
    # the same message again (a repeat on the wire, and the handler run twice): one effect
    from tongban.federation.inbox import receive_batch

    assert receive_batch([copy.deepcopy(wire)])["receipts"]
    HANDLERS["case.acknowledged"](InboxMessage.objects.get(message_id=wire["envelope"]["message_id"]))
    assert Action.objects.filter(subcase=sub, action="remote_acknowledged").count() == 1

    client = Client()
    client.force_login(resident)
    [row] = client.get(f"/api/v1/cases/{case.number}/progress").json()
    assert row["remote"]["status"] == "acknowledged" and row["remote"]["case_number"] == "XT-430300-0001"
    assert row["remote"]["decision_due"] == "2099-01-05" and row["awaiting"]["from"] == "remote"
    page = client.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-remote-status="acknowledged"' in page and "办理地办件编号 XT-430300-0001" in page

    # 补正: the handling node asks for a new photo; the applicant supplies it here
    photo = case.materials.get(code="photo")
    deliver(xiangtan, sub, "case.notice", {"kind": "correction", "reasons": ["照片不清晰"],
                                           "materials_requested": ["photo"]})
    sub.refresh_from_db()
    photo.refresh_from_db()
    assert sub.remote_status == "correction" and sub.hold == "correction"
    assert photo.status == CaseMaterial.Status.DEFECTIVE
    [row] = client.get(f"/api/v1/cases/{case.number}/progress").json()
    assert row["awaiting"]["from"] == "applicant" and row["remote"]["notice"]["reasons"] == ["照片不清晰"]
    services.attach_file(case=case, material_code="photo", name="photo2.pdf",
                         content=simulation.SAMPLE_PDF + b"clear photo", actor=resident)
    services.supply_correction(case=case, actor=resident)
    sub.refresh_from_db()
    assert sub.remote_status == "correction_sent" and sub.hold == ""
    [correction] = OutboxMessage.objects.filter(collab_id=sub.collab_id, type="case.correction")
    assert [m["material_code"] for m in correction.payload["materials"]] == ["photo", "photo"]

    # the decision, with 湘潭's signed licence, verified here against the trust list of its descriptor
    licence = issue_xiangtan_licence(case)
    deliver(xiangtan, sub, "case.decision", {"outcome": "approve", "decided_at": now_iso(), "licence": licence})
    sub.refresh_from_db()
    case.refresh_from_db()
    assert sub.status == "approved" and sub.remote_status == "approved"
    stored = RemoteLicence.objects.get(subcase=sub)
    assert stored.valid and stored.identifier == licence["identifier"] and stored.holder_code == case.applicant_code
    assert case.status == Case.Status.READY

    # delivered by post from this node: the handling node is told
    services.deliver_case(case=case, actor=clerk, tracking_number="SF1234567890")
    case.refresh_from_db()
    assert case.status == Case.Status.DELIVERED
    types = list(OutboxMessage.objects.filter(collab_id=sub.collab_id).order_by("collab_seq").values_list("type", flat=True))
    assert types == ["case.handover", "case.correction", "case.delivery", "case.delivered"]
    delivery = OutboxMessage.objects.get(collab_id=sub.collab_id, type="case.delivery").payload
    assert delivery["method"] == "post" and delivery["tracking_number"] == "SF1234567890"
    [row] = client.get(f"/api/v1/cases/{case.number}/progress").json()
    assert row["result"] == licence["identifier"] and row["remote"]["licence"]["valid"] is True
    assert licence["identifier"] in client.get("/my/licences/").content.decode()  # in the applicant's library here
    actions = [e.action for e in trail_for_case(sub.collab_id)]
    assert actions.count("federation.received") == 3 and actions.count("federation.applied") == 3
    assert actions.count("federation.enqueued") == 4


def test_a_licence_that_does_not_verify_is_not_accepted(xiangtan):
    from tongban.cases.models import RemoteLicence
    from tongban.federation.models import InboxMessage

    case = accepted_remote_case()
    sub = remote_sub(case)
    licence = issue_xiangtan_licence(case)
    licence["payload"]["holder"]["name"] = "别人"  # altered after signing
    wire = deliver(xiangtan, sub, "case.decision", {"outcome": "approve", "decided_at": now_iso(), "licence": licence})
    message = InboxMessage.objects.get(message_id=wire["envelope"]["message_id"])
    assert message.status == "failed" and "bad_signature" in message.error
    sub.refresh_from_db()
    assert sub.status == "active" and sub.remote_status == "handed_over"
    assert not RemoteLicence.objects.filter(subcase=sub).exists()


def test_a_denial_closes_the_item_with_the_reason(xiangtan):
    from tongban.cases.models import Case

    case = accepted_remote_case(delivery="electronic")
    sub = remote_sub(case)
    deliver(xiangtan, sub, "case.decision", {"outcome": "deny", "reason": "未满六十周岁", "decided_at": now_iso()})
    sub.refresh_from_db()
    case.refresh_from_db()
    assert (sub.status, sub.remote_status, sub.outcome_reason) == ("denied", "denied", "未满六十周岁")
    assert case.status == Case.Status.DELIVERED  # electronic: the denial notice goes out at once
    assert case.messages.filter(kind="remote_denied").exists()


def test_another_applicant_sees_nothing_of_the_remote_case(xiangtan):
    case = accepted_remote_case()
    client = Client()
    client.force_login(_user("changsha-citizen"))
    assert client.get(f"/api/v1/cases/{case.number}/progress").status_code == 404


def test_simulate_drives_a_cross_node_case_from_the_accepting_node(xiangtan):
    from io import StringIO

    from django.core.management import call_command

    from tongban.cases.models import SubCase
    from tongban.core.demo import demo_person

    out = StringIO()
    call_command("simulate", "--item", BASIC, "--region", "430300", "--intake-region", "430100",
                 "--post", "湖南省湘潭市雨湖区示例路 1 号", stdout=out)
    sub = SubCase.objects.exclude(remote_node="").get()
    assert sub.case.status == "accepted" and sub.case.delivery_method == "post"
    assert f"{sub.case.number} accepted {sub.key} → xiangtan (430300) handed_over {sub.collab_id}" in out.getvalue()
    assert sub.case.applicant_code == demo_person("430300")[0]


def test_the_applicant_withdraws_here_and_the_handling_node_is_told(xiangtan):
    from tongban.cases import services
    from tongban.federation.models import OutboxMessage

    case = accepted_remote_case()
    sub = remote_sub(case)
    services.withdraw_case(case=case, actor=_user("xiangtan-citizen"), reason="已在湘潭办理")
    sub.refresh_from_db()
    assert sub.status == "withdrawn"
    [message] = OutboxMessage.objects.filter(collab_id=sub.collab_id, type="case.withdrawn")
    assert message.payload["reason"] == "已在湘潭办理" and message.peer.code == "xiangtan"


def test_the_acknowledgement_date_uses_the_nearest_calendar_this_node_knows(changsha):
    from tongban.cases.services.remote import calendar_region

    assert calendar_region("430300") == "430300"  # in this database (all demo regions)
    assert calendar_region("439999") == "430000"  # unknown city: its province
    assert calendar_region("990000") is None  # nothing known: the national calendar


def test_the_supervisor_of_the_accepting_region_sees_the_items_handed_out_and_an_overdue_acknowledgement(xiangtan):
    from datetime import timedelta

    from django.utils import timezone

    from tongban.cases import services
    from tongban.cases.models import DeadlineAlert

    case = accepted_remote_case()
    sub = remote_sub(case)
    client = Client()
    client.force_login(_user("changsha-supervisor"))
    [row] = client.get("/api/v1/board").json()["cross_node_out"]
    assert (row["case"], row["node"], row["remote_status"], row["collab_id"]) == (
        case.number, "xiangtan", "handed_over", sub.collab_id)
    client.force_login(_user("zhuzhou-supervisor"))
    assert client.get("/api/v1/board").json()["cross_node_out"] == []
    # 湘潭 does not acknowledge in time: this node's sweep raises one alert for the hop it watches
    later = sub.ack_due + timedelta(days=3)
    services.sweep(on=later)
    services.sweep(on=later)
    assert list(DeadlineAlert.objects.filter(subcase=sub).values_list("kind", flat=True)) == ["ack_overdue"]
    assert timezone.localdate() < later
