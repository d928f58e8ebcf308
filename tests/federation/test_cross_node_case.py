"""Issue 13's first "Done when", end to end between REAL nodes (separate gunicorn and delivery-worker
processes, separate databases, demo data per node, peers introduced by descriptors):

a 湘潭 (430300) resident's 老年人优待证 is accepted at a 长沙 (430100) window on node 长沙 (异地代收代办),
handed over, acknowledged and approved by 湘潭's civil-affairs officer on node 湘潭 through the normal
API, the licence verifies on node 长沙 against 湘潭's trust list, it is delivered by post from 长沙,
both trails show every hop, and the applicant follows each state on node 长沙 alone."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from .nodes import Nodes

pytestmark = [pytest.mark.federation_nodes, pytest.mark.xdist_group("federation-nodes")]

BASIC = "002030001000"  # 老年人优待证办理
PASSWORD = "tongban-demo"  # noqa: S105 - the published demo credential
ADDRESS = "湖南省湘潭市雨湖区示例路 1 号"
# `demo_nodes` (tests/federation/conftest.py): 长沙 and 湘潭 with their demo data, one per session.


def login(nodes: Nodes, code: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=nodes.fed.nodes[code].url, timeout=60)
    client.get("/accounts/login/")
    answer = client.post("/accounts/login/", data={"username": username, "password": PASSWORD,
                                                   "csrfmiddlewaretoken": client.cookies.get("csrftoken")})
    assert answer.status_code in (200, 302), answer.text[:500]
    client.headers["X-CSRFToken"] = client.cookies.get("csrftoken")
    assert client.get("/api/v1/me").status_code == 200, f"{username} is not signed in on {code}"
    return client


def progress(client: httpx.Client, number: str) -> dict:
    answer = client.get(f"/api/v1/cases/{number}/progress")
    assert answer.status_code == 200, answer.text
    [row] = answer.json()
    return row


def resident_on_changsha(nodes: Nodes) -> httpx.Client:
    """The 湘潭 resident signs in on node 长沙 (the first sign-in makes the account: the demo's ID and name)."""
    nodes.fed.tongban("changsha", "shell", "-c", (
        "from tongban.accounts.models import User; from tongban.core.demo import demo_person, DEMO_PASSWORD; "
        "i, n = demo_person('430300'); u = User.objects.filter(username='xt-resident').first() or User("
        "username='xt-resident', kind=User.Kind.PERSON, id_number=i, real_name=n); u.set_password(DEMO_PASSWORD); "
        "u.save()"))
    return login(nodes, "changsha", "xt-resident")


def accept_at_changsha_window(nodes: Nodes) -> tuple[str, str]:
    """Filed, examined, accepted and handed over at a 长沙 window (the demo clerk, through the services)."""
    out = nodes.fed.tongban("changsha", "simulate", "--item", BASIC, "--region", "430300", "--intake-region",
                            "430100", "--post", ADDRESS).stdout
    match = re.search(r"^(\S+) accepted \S+ → xiangtan \(430300\) handed_over (\S+)$", out, re.M)
    assert match, out
    return match.group(1), match.group(2)


def xiangtan_task(nodes: Nodes, officer: httpx.Client, collab: str) -> dict:
    """The item of the case 湘潭 made for this hand-over, in its civil-affairs officer's queue."""
    [(xt_number,)] = nodes.wait(lambda: nodes.query(
        "xiangtan", "SELECT c.number FROM cases_case c JOIN federation_federatedcase f ON f.case_id = c.id "
                    "WHERE f.collab_id = %s", (collab,)), what="the case made on 湘潭")
    tasks = nodes.wait(lambda: [t for t in officer.get("/api/v1/tasks").json()["items"] if t["case"] == xt_number],
                       what="the task in 湘潭's queue")
    return tasks[0]


def test_a_xiangtan_residents_senior_card_accepted_in_changsha_handled_in_xiangtan(demo_nodes):
    nodes, fed = demo_nodes, demo_nodes.fed

    resident = resident_on_changsha(nodes)

    # 1. At a 长沙 window: filed, examined, accepted and handed over (the demo clerk, through the services).
    number, collab = accept_at_changsha_window(nodes)
    row = progress(resident, number)
    assert row["remote"]["status"] == "handed_over" and row["remote"]["node"] == "xiangtan"
    assert row["remote"]["ack_due"] and row["awaiting"]["from"] == "remote"

    # 2. On node 湘潭: a real case of its own, in the civil-affairs officer's normal queue.
    nodes.wait(lambda: nodes.query("xiangtan", "SELECT status FROM federation_inboxmessage WHERE collab_id = %s",
                                   (collab,)) == [("applied",)], what="the hand-over applied on 湘潭")
    officer = login(nodes, "xiangtan", "xiangtan-civil")
    task = xiangtan_task(nodes, officer, collab)
    xt_number = task["case"]
    assert xt_number != number and xt_number.startswith("430300-")
    files = nodes.query("xiangtan", "SELECT f.sha256 FROM cases_materialfile f JOIN cases_casematerial m "
                                    "ON m.id = f.material_id JOIN cases_case c ON c.id = m.case_id "
                                    "WHERE c.number = %s", (xt_number,))
    sent = nodes.query("changsha", "SELECT f.sha256 FROM cases_materialfile f JOIN cases_casematerial m "
                                   "ON m.id = f.material_id JOIN cases_case c ON c.id = m.case_id "
                                   "WHERE c.number = %s", (number,))
    assert sorted(files) == sorted(sent) and sent  # every file arrived, byte for byte (SHA-256)

    # 3. 受理确认 and every step approved through the API, as the officer's workbench does.
    step, first = task["step"], True
    while step:
        answer = officer.post(f"/api/v1/subcases/{task['id']}/actions", json={"action": "approve", "step": step},
                              headers={"Idempotency-Key": f"{collab}-{step}"})
        assert answer.status_code == 200, answer.text
        step = answer.json()["step"] if answer.json()["status"] == "active" else ""
        if first:  # the acknowledgement reaches 长沙: the applicant sees it there
            row = nodes.wait(lambda: (r := progress(resident, number))["remote"]["status"] == "acknowledged" and r,
                             what="the acknowledgement on 长沙")
            assert row["remote"]["case_number"] == xt_number and row["remote"]["acknowledged_at"]
            assert row["remote"]["decision_due"] and row["awaiting"]["what"].startswith("办理地审查决定")
            first = False

    # 4. The decision and its licence on 长沙: verified against 湘潭's trust list, kept for the applicant.
    row = nodes.wait(lambda: (r := progress(resident, number))["status"] == "approved" and r,
                     what="the decision on 长沙")
    assert row["remote"]["status"] == "approved" and row["remote"]["licence"]["valid"] is True
    [(identifier, valid, holder)] = nodes.query(
        "changsha", "SELECT identifier, valid, holder_code FROM cases_remotelicence")
    assert identifier == row["result"] and valid in (True, 1)
    [(xt_identifier,)] = nodes.query("xiangtan", "SELECT identifier FROM licences_licence WHERE source_ref = %s",
                                     (xt_number,))
    assert identifier == xt_identifier  # the licence 湘潭's department signed
    case = resident.get(f"/api/v1/cases/{number}").json()
    assert case["status"] == "ready"

    # 5. Delivered by post from 长沙; 湘潭 is told.
    clerk = login(nodes, "changsha", "changsha-clerk")
    answer = clerk.post(f"/api/v1/cases/{number}/deliver", json={"tracking_number": "SF1300000001"})
    assert answer.status_code == 200 and answer.json()["status"] == "delivered", answer.text
    nodes.wait(lambda: [t for (t,) in nodes.query(
        "xiangtan", "SELECT type FROM federation_inboxmessage WHERE collab_id = %s AND status = 'applied' "
                    "ORDER BY collab_seq", (collab,))] == ["case.handover", "case.delivery", "case.delivered"],
               what="delivery applied on 湘潭")
    assert resident.get(f"/api/v1/cases/{number}").json()["status"] == "delivered"

    # 6. Both trails show every hop, and both chains verify.
    nodes.wait(lambda: nodes.outbox("changsha", collab) == {"delivered": 3}, what="长沙's messages receipted")
    nodes.wait(lambda: nodes.outbox("xiangtan", collab).get("delivered", 0) >= 2, what="湘潭's messages receipted")
    cs = [(a, (after or {}).get("type")) for a, after in nodes.audit("changsha", collab)]
    xt = [(a, (after or {}).get("type")) for a, after in nodes.audit("xiangtan", collab)]
    for hop in ("case.handover", "case.delivery", "case.delivered"):
        assert ("federation.enqueued", hop) in cs and ("federation.delivered", hop) in cs
        assert ("federation.received", hop) in xt and ("federation.applied", hop) in xt
    for hop in ("case.acknowledged", "case.decision"):
        assert ("federation.enqueued", hop) in xt and ("federation.delivered", hop) in xt
        assert ("federation.received", hop) in cs and ("federation.applied", hop) in cs
    case_trail = [a for (a,) in nodes.query("changsha", "SELECT action FROM audit_auditentry WHERE case_ref = %s "
                                                        "ORDER BY seq", (number,))]
    for action in ("case.accepted", "case.subcase_handed_over", "case.remote_acknowledged", "case.remote_approve",
                   "case.delivered"):
        assert action in case_trail, case_trail
    for code in ("changsha", "xiangtan"):
        verified = json.loads(fed.tongban(code, "audit", "verify", "--json").stdout)
        assert verified["ok"] is True, verified


def test_a_correction_asked_on_xiangtan_is_supplied_on_changsha(demo_nodes):
    """补正 across nodes: 湘潭's officer returns the item asking for a new photo; the applicant sees it
    on 长沙, uploads the photo there and confirms; the file reaches 湘潭 (same SHA-256), the item resumes
    with the officer, who approves it."""
    import hashlib

    nodes = demo_nodes
    resident = resident_on_changsha(nodes)
    number, collab = accept_at_changsha_window(nodes)
    officer = login(nodes, "xiangtan", "xiangtan-civil")
    task = xiangtan_task(nodes, officer, collab)
    answer = officer.post(f"/api/v1/subcases/{task['id']}/actions",
                          json={"action": "return", "step": task["step"], "reason": "照片不符合要求",
                                "materials": {"photo": "须为近期免冠彩色照片"}})
    assert answer.status_code == 200 and answer.json()["hold"] == "correction", answer.text

    row = nodes.wait(lambda: (r := progress(resident, number))["remote"]["status"] == "correction" and r,
                     what="the correction request on 长沙")
    assert row["awaiting"]["from"] == "applicant" and row["remote"]["notice"]["materials_requested"] == ["photo"]
    from tongban.cases.simulation import minimal_pdf

    photo = minimal_pdf("a new photo")
    upload = resident.post(f"/api/v1/cases/{number}/materials/photo/files",
                           files={"file": ("photo.pdf", photo, "application/pdf")})
    assert upload.status_code == 201, upload.text
    assert resident.post(f"/api/v1/cases/{number}/correction-supplied").status_code == 200
    assert progress(resident, number)["remote"]["status"] == "correction_sent"

    digest = hashlib.sha256(photo).hexdigest()
    nodes.wait(lambda: nodes.query("xiangtan", "SELECT hold FROM cases_subcase WHERE id = %s", (task["id"],))
               == [("",)], what="the item resumed on 湘潭")
    assert nodes.query("xiangtan", "SELECT COUNT(*) FROM cases_materialfile WHERE sha256 = %s", (digest,)) == [(1,)]
    step = task["step"]
    while step:
        answer = officer.post(f"/api/v1/subcases/{task['id']}/actions", json={"action": "approve", "step": step})
        assert answer.status_code == 200, answer.text
        step = answer.json()["step"] if answer.json()["status"] == "active" else ""
    row = nodes.wait(lambda: (r := progress(resident, number))["status"] == "approved" and r, what="the decision")
    assert row["remote"]["licence"]["valid"] is True

