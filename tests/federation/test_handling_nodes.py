"""The handling node's clock between REAL nodes (separate gunicorn and delivery-worker processes and
databases): a hand-over from 长沙 that 湘潭 does not acknowledge in time raises exactly one overdue
alert on 湘潭, attributed to 湘潭 (the node holding the case). The sweep runs with a given business
date (`tongban cases sweep --on`), not by waiting."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tongban.federation.envelope import iso

from .fakes import material

pytestmark = [pytest.mark.federation_nodes, pytest.mark.xdist_group("federation-nodes")]

BASIC = "002030001000"  # 老年人优待证办理


def sweep(nodes, code: str, on: date) -> dict:
    return json.loads(nodes.fed.tongban(code, "cases", "sweep", "--on", on.isoformat(), "--json").stdout)


def test_the_acknowledgement_deadline_passing_on_the_handling_node_raises_one_alert_attributed_to_it(demo_nodes):
    nodes, fed = demo_nodes, demo_nodes.fed
    # 长沙 hands a 湘潭 item over: a signed message from its outbox, through its delivery worker.
    [(item_code,)] = nodes.query("xiangtan", "SELECT implementation_code FROM catalog_item WHERE region_id = %s "
                                             "AND basic_code = %s", ("430300", BASIC))
    collab = f"changsha-430100-{datetime.now(UTC):%Y%m%d}-ack00001"
    payload = {"item": {"item_code": item_code, "version": 1, "basic_code": BASIC},
               "applicant": {"kind": "person", "name": "彭秀英", "id_number": "430302198503120312"},
               "accepting_region": "430100", "accepting_window": "长沙市政务服务中心 3 号窗口",
               "accepted_at": iso(datetime.now(UTC)), "local_case": "430100-20261130-00001",
               "materials": [{**material(4096, "身份证.pdf"), "material_code": "id-card"}]}
    path = Path(fed.node_dir("changsha")) / f"{collab}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False))
    nodes.send("changsha", "xiangtan", collab=collab, type_="case.handover", payload=f"@{path}")
    nodes.wait(lambda: nodes.query("xiangtan", "SELECT status FROM federation_inboxmessage WHERE collab_id = %s",
                                   (collab,)) == [("applied",)], what="the hand-over applied on 湘潭")
    [(sub_id, ack_due, acknowledged, holder)] = nodes.query("xiangtan", (
        "SELECT s.id, s.ack_due, s.acknowledged_at, f.holder FROM cases_subcase s "
        "JOIN federation_federatedcase f ON f.case_id = s.case_id WHERE f.collab_id = %s"), (collab,))
    ack_due = date.fromisoformat(str(ack_due)[:10])
    assert acknowledged is None and holder == "xiangtan"

    def alerts() -> int:
        return nodes.scalar("xiangtan", "SELECT COUNT(*) FROM cases_deadlinealert WHERE subcase_id = %s "
                                        "AND kind = 'ack_overdue'", (sub_id,))

    assert sweep(nodes, "xiangtan", ack_due)["ack_overdue"] == 0 and alerts() == 0  # due today: not late
    late = ack_due + timedelta(days=7)
    assert sweep(nodes, "xiangtan", late)["ack_overdue"] == 1
    assert sweep(nodes, "xiangtan", late)["ack_overdue"] == 0  # again (a second runner, a rerun): still one
    assert alerts() == 1
    # Attributed to the node that held the case when the clock ran out: an `overdue` hop, in the
    # case's hop record and in 湘潭's trail under the collab id.
    hops = nodes.query("xiangtan", "SELECT h.kind, h.holder, h.detail FROM federation_casehop h JOIN "
                                   "federation_federatedcase f ON f.id = h.federated_id WHERE f.collab_id = %s "
                                   "ORDER BY h.id", (collab,))
    overdue = [(k, who, json.loads(d) if isinstance(d, str) else d) for k, who, d in hops if k == "overdue"]
    assert [(who, d["clock"], d["due"]) for _, who, d in overdue if d["clock"] == "ack_overdue"] == \
        [("xiangtan", "ack_overdue", ack_due.isoformat())]
    assert hops[0][:2] == ("received", "xiangtan")
    trail = [after for action, after in nodes.audit("xiangtan", collab) if action == "federation.hop"]
    assert [(a["hop"], a["holder"]) for a in trail if a.get("clock") == "ack_overdue"] == [("overdue", "xiangtan")]
