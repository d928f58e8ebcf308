"""Remote sub-cases: the ACCEPTING node's side of a cross-node case (异地代收代办, docs/federation.md §8,
docs/decisions/0014-remote-subcase.md).

An item of a region served by a peer node (an `AgreedItem` with `handled_by=peer`) is filed and
accepted at this node's window like a local one (形式审查 and identity check against this node's
counterpart item of the same basic code), but its sub-case is remote: no local department or
workflow, the peer's item code and version pinned from the agreed list. Acceptance enqueues
`case.handover` in the acceptance's own transaction; the peer's `case.acknowledged`, `case.notice`
and `case.decision` move the remote status here (handlers below: outside any transaction, each a
durable service of its own, idempotent by message id through the unique `Action.key`); the
applicant's correction (`case.correction`) and the delivery from this node (`case.delivery`,
`case.delivered`) go back the same way."""

from __future__ import annotations

import base64
import logging
from datetime import date

from django.conf import settings
from django.utils import timezone

from tongban.core.errors import Conflict, InvalidInput, NotFound, Problem
from tongban.core.transactions import service
from tongban.federation import conf as fed_conf
from tongban.federation.envelope import MessageType, iso, parse_iso
from tongban.federation.inbox import ACCEPTING, handler

from ..models import Action, Case, CaseMaterial, RemoteLicence, SubCase
from ._common import lock_case, tell, trail

log = logging.getLogger(__name__)
RS = SubCase.RemoteStatus


def _p(field: str, rule: str, zh: str, en: str) -> Problem:
    return Problem(field=field, rule=rule, zh=zh, en=en)


# --- filing ----------------------------------------------------------------------------------------


def agreed_remote_item(region_code: str, basic_code: str):
    """The agreed item through which a peer node handles `basic_code` for `region_code`, or None
    (always None on a node without TONGBAN_NODE_CODE, or for a region this node serves itself)."""
    if not fed_conf.enabled() or not basic_code or region_code in fed_conf.node_regions():
        return None
    from tongban.federation.models import AgreedItem, Peer

    return (AgreedItem.objects.filter(handled_by=AgreedItem.HandledBy.PEER, region=region_code, basic_code=basic_code,
                                      peer__status=Peer.Status.ACTIVE)
            .select_related("peer").order_by("-version").first())


def refuse_unserved_region(region_code: str) -> None:
    """On a federation node, a region it does not serve is reachable only through the agreed list."""
    if fed_conf.enabled() and region_code not in fed_conf.node_regions():
        raise InvalidInput(_p("region", "cross_node.not_agreed",
                              f"区划 {region_code} 不由本节点办理，且该事项不在与其办理节点约定的通办事项清单中",
                              f"region {region_code} is not served by this node and the item is not on the agreed "
                              "list with the node that serves it"))


def remote_plan_entry(agreed) -> dict:
    """What the plan keeps about the remote item (and `_create_subcases` copies onto the sub-case)."""
    return {"node": agreed.peer.code, "node_name": agreed.peer.name, "region": agreed.region,
            "item_code": agreed.item_code, "version": agreed.version, "name": agreed.name}


def require_window(actor) -> None:
    if getattr(actor, "kind", "") != "staff":
        raise InvalidInput(_p("region", "cross_node.window", "异地代收代办的事项须在本地综合窗口现场核验身份后受理",
                              "an item handled by another node is filed at a window of this node (identity check)"))


# --- acceptance: hand-over ---------------------------------------------------------------------------


def ack_days() -> int:
    return int(getattr(settings, "TONGBAN_CROSS_REGION_ACK_DAYS", 1))


def calendar_region(code: str) -> str | None:
    """The handling region's calendar as far as this node knows it: the region itself when this
    database has it, else its province (GB/T 2260: the first two digits), else the national one."""
    from tongban.regions.models import Region

    for candidate in (code, f"{code[:2]}0000"):
        if candidate and Region.objects.filter(pk=candidate).exists():
            return candidate
    return None


def start_remote(case: Case, sub: SubCase, *, on: date, actor) -> None:
    """Called by `start_ready_subcases` inside the acceptance's transaction (the sub-case is locked):
    the item is handed over to its node, the message queued in this same transaction."""
    from tongban.audit.services import append_entry
    from tongban.federation.outbox import enqueue, new_collab_id
    from tongban.workdays.calendar import add_workdays

    sub.status, sub.started_on, sub.step = SubCase.Status.ACTIVE, on, ""
    sub.remote_status = RS.HANDED_OVER
    sub.ack_due = add_workdays(on, ack_days(), calendar_region(sub.remote_region)).due
    sub.collab_id = sub.collab_id or new_collab_id(case.intake_region_id)
    sub.revision += 1
    sub.save()
    message = enqueue(receiver=sub.remote_node, type=MessageType.HANDOVER, collab_id=sub.collab_id,
                      payload=handover_payload(case, sub, actor))
    append_entry(action="federation.enqueued", object_type="federation.message", object_id=str(message.message_id),
                 case_ref=sub.collab_id, subject_code=case.applicant_code,
                 after={"type": message.type, "receiver": sub.remote_node, "seq": message.seq, "case": case.number,
                        "item_code": sub.remote_item_code, "version": sub.remote_item_version})
    trail("subcase_handed_over", case, subcase=sub, actor=actor,
          after={"collab_id": sub.collab_id, "node": sub.remote_node, "region": sub.remote_region,
                 "item_code": sub.remote_item_code, "version": sub.remote_item_version,
                 "ack_due": sub.ack_due.isoformat(), "message_id": str(message.message_id)})
    hop(sub, "handed_over", fed_conf.node_code(), message_id=message.message_id, detail={"ack_due": sub.ack_due.isoformat()})
    tell(case, "handed_over", f"“{sub.item_version.name}”已移交办理地（{sub.remote_region}）办理，"
                              f"业务协同编号 {sub.collab_id}，办理地应于 {sub.ack_due} 前确认受理。")


def _material_entries(rows) -> list[dict]:
    out = []
    for row in rows:
        for f in row.files.filter(removed_at__isnull=True).order_by("id"):
            with f.file.open("rb") as fh:
                raw = fh.read()
            out.append({"name": f.name[:200], "material_code": row.code, "sha256": f.sha256, "size": len(raw),
                        "media_type": f.content_type or "application/octet-stream",
                        "content": base64.b64encode(raw).decode("ascii")})
    return out


DELIVERY = {Case.Delivery.WINDOW: "window", Case.Delivery.POST: "post", Case.Delivery.ELECTRONIC: "online"}


def handover_payload(case: Case, sub: SubCase, actor) -> dict:
    """`case.handover`: only what the case holds (form, applicant, files with SHA-256, licences used)."""
    rows = [m for m in case.materials.all() if not m.used_by or sub.key in m.used_by]
    licences = [{"identifier": m.licence.identifier, "licence_type": m.licence_type_code,
                 "issuer": m.licence.issuer.uscc} for m in rows if m.licence_id]
    hall = getattr(actor, "hall", None) or case.intake_hall
    return {
        "item": {"item_code": sub.remote_item_code, "version": sub.remote_item_version,
                 "basic_code": sub.item_version.item.basic_code},
        "applicant": {"kind": case.applicant_kind, "name": case.applicant_name, "id_number": case.applicant_code,
                      "address": case.delivery_address},
        "accepting_region": case.intake_region_id, "accepting_window": hall.name[:200] if hall else "",
        "accepted_at": iso(timezone.now()), "local_case": case.number, "form": dict(case.form),
        "materials": _material_entries(rows), "licences_used": licences,
        "delivery": DELIVERY.get(case.delivery_method, "window"),
    }


# --- incoming messages (handlers: outside any transaction; idempotent by message id) -----------------


def _lock_remote(message) -> SubCase:
    """The remote sub-case the message is about, locked (case first), checked to belong to the sender."""
    from ._common import lock_subcase

    row = (SubCase.objects.filter(collab_id=message.collab_id).values_list("pk", "remote_node").first())
    if row is None or row[1] != message.envelope["sender"]:
        raise NotFound(f"no remote sub-case with collab id {message.collab_id} for {message.envelope['sender']}")
    return lock_subcase(row[0])


def _seen(message) -> bool:
    return Action.objects.filter(key=_key(message)).exists()


def _key(message) -> str:
    return f"fed:{message.message_id}"


def _record(sub: SubCase, message, action: str, status_from: str, reason: str = "") -> None:
    Action.objects.create(case=sub.case, subcase=sub, key=_key(message), action=action[:24], actor=None,
                          role="system", status_from=status_from, status_to=sub.status, reason=reason[:2000])


def hop(sub: SubCase, kind: str, holder: str, *, message_id=None, detail: dict | None = None, at=None):
    """One hop of the remote item on this (accepting) node, in the handling side's shape (`CaseHop`:
    which node holds the case from then on, and when), mirrored as a `federation.hop` audit entry
    under the collab id. Inside the caller's transaction."""
    from tongban.audit.services import append_entry
    from tongban.federation.models import CaseHop

    row = CaseHop.objects.create(subcase=sub, kind=kind, holder=holder, message_id=message_id, detail=detail or {},
                                 **({"at": at} if at else {}))
    append_entry(action="federation.hop", object_type="case", object_id=sub.case.number, case_ref=sub.collab_id,
                 region_code=sub.case.region_id,
                 after={"hop": kind, "holder": holder, "peer": sub.remote_node, "case": sub.case.number,
                        **({"message_id": str(message_id)} if message_id else {}), **(detail or {})})
    return row


def on_handover_receipted(collab_id: str, received_at) -> None:
    """Called by the outbox inside the transaction that records the hand-over's signed receipt: from
    then on the handling node holds the case."""
    sub = SubCase.objects.select_related("case").filter(collab_id=collab_id).exclude(remote_node="").first()
    if sub is not None and not sub.hops.filter(kind="received").exists():
        hop(sub, "received", sub.remote_node, at=received_at, detail={"receipt": True})


@handler(MessageType.ACKNOWLEDGED)
def on_acknowledged(message) -> None:
    _apply_acknowledged(message=message)


@service
def _apply_acknowledged(*, message) -> None:
    sub = _lock_remote(message)
    if _seen(message):
        return
    p, before = message.payload, sub.remote_status
    sub.remote_case_number = p["local_case"][:64]
    sub.acknowledged_at = parse_iso(p["acknowledged_at"])
    if p.get("due_on"):
        sub.promised_due = date.fromisoformat(p["due_on"])
    if sub.remote_status in (RS.HANDED_OVER, RS.CORRECTION_SENT, ""):
        sub.remote_status = RS.ACKNOWLEDGED
    sub.revision += 1
    sub.save()
    _record(sub, message, "remote_acknowledged", sub.status)
    hop(sub, "acknowledged", sub.remote_node, message_id=message.message_id,
        detail={"ack_due": sub.ack_due.isoformat() if sub.ack_due else None, "due_on": p.get("due_on"),
                "late": bool(sub.ack_due and sub.acknowledged_at.astimezone(timezone.get_current_timezone()).date()
                             > sub.ack_due)})
    trail("remote_acknowledged", sub.case, subcase=sub, actor=None,
          before={"remote_status": before},
          after={"remote_status": sub.remote_status, "remote_case": sub.remote_case_number,
                 "acknowledged_at": p["acknowledged_at"], "due_on": p.get("due_on"), "collab_id": sub.collab_id})
    due = f"，承诺于 {p['due_on']} 前作出决定" if p.get("due_on") else ""
    tell(sub.case, "remote_acknowledged", f"“{sub.item_version.name}”已由办理地受理（办件编号 {sub.remote_case_number}）{due}。")


@handler(MessageType.NOTICE)
def on_notice(message) -> None:
    _apply_notice(message=message)


@service
def _apply_notice(*, message) -> None:
    """A one-time notice / correction request from the handling node: shown to the applicant here;
    the materials it names (by code or name) become defective so that the applicant replaces them."""
    sub = _lock_remote(message)
    if _seen(message):
        return
    case, p, before = sub.case, message.payload, sub.remote_status
    wanted = set(p.get("materials_requested", []))
    marked = []
    for row in case.materials.select_for_update(of=("self",)).all():
        if row.code in wanted or row.name in wanted:
            row.status, row.defect = CaseMaterial.Status.DEFECTIVE, "；".join(p["reasons"])[:256]
            row.save(update_fields=["status", "defect", "updated_at"])
            marked.append(row.code)
    sub.remote_status = RS.CORRECTION
    sub.hold, sub.held_since = SubCase.Hold.CORRECTION, timezone.localdate()
    sub.remote_notice = {**p, "material_codes": marked, "received_at": iso(timezone.now())}
    sub.revision += 1
    sub.save()
    _record(sub, message, "remote_notice", sub.status, "；".join(p["reasons"]))
    hop(sub, "notice", fed_conf.node_code(), message_id=message.message_id, detail={"materials": marked})
    trail("remote_notice", case, subcase=sub, actor=None, reason="；".join(p["reasons"])[:1000],
          before={"remote_status": before}, after={"remote_status": sub.remote_status, "materials": marked,
                                                   "kind": p.get("kind"), "collab_id": sub.collab_id})
    tell(case, "remote_notice", f"办理地要求补正“{sub.item_version.name}”：{'；'.join(p['reasons'])}"
                                + (f"（需补正：{'、'.join(p['materials_requested'])}）" if p.get("materials_requested") else "")
                                + "。请在本地提交补正材料。")


@handler(MessageType.DECISION)
def on_decision(message) -> None:
    _apply_decision(message=message)


class LicenceNotVerified(Exception):
    """The licence in a decision did not verify against the peer's trust lists: the message is marked
    failed (visible in `federation status`); after the trust lists are fixed (a newer descriptor),
    `tongban federation retry --inbox` applies it again."""


def verify_remote_licence(peer_code: str, licence: dict) -> dict:
    """Verify a licence issued on a peer node offline, against the signed trust lists held for that
    peer (from its descriptor, or a later `trust.list` message: 跨域互认) and the status-list snapshot
    in the message (tongban.federation.trustlists.verify_peer_licence)."""
    from tongban.federation.trustlists import verify_peer_licence

    return verify_peer_licence(licence, peer=peer_code).as_dict()


@service
def _apply_decision(*, message) -> None:
    from .handling import _cancel_dependants, _finish, after_change

    sub = _lock_remote(message)
    if _seen(message):
        return
    if not sub.is_open:
        raise Conflict("该事项已结束", "the item is already finished", rule="subcase.finished")
    case, p, before = sub.case, message.payload, sub.remote_status
    on = timezone.localdate()
    decided_on = parse_iso(p["decided_at"]).astimezone(timezone.get_current_timezone()).date()
    sender = message.envelope["sender"]
    if p["outcome"] == "approve":
        licence = p.get("licence")
        if licence is not None:
            result = verify_remote_licence(sender, licence)
            if not result["valid"]:
                raise LicenceNotVerified(f"licence {licence['identifier']} from {sender}: {result['reason']} "
                                         f"({result['reason_en']})")
            summary = result.get("licence") or {}
            payload = licence["payload"]
            RemoteLicence.objects.update_or_create(subcase=sub, defaults={
                "identifier": licence["identifier"][:80], "holder_code": str(payload.get("holder", {}).get("code", ""))[:18],
                "holder_name": str(payload.get("holder", {}).get("name", ""))[:128],
                "type_name": str(payload.get("type", {}).get("name", ""))[:128],
                "issuer_uscc": licence["issuer"][:18], "issuer_name": str(payload.get("issuer", {}).get("name", ""))[:128],
                "source_node": sender, "document": licence, "verification": {**result, "licence": summary},
                "valid": True})
        _finish(sub, SubCase.Status.APPROVED, on, p.get("reason", ""))
        sub.remote_status = RS.APPROVED
    else:
        _finish(sub, SubCase.Status.DENIED, on, p.get("reason") or "办理地不予许可")
        sub.remote_status = RS.DENIED
    sub.decided_on = decided_on
    sub.revision += 1
    sub.save()
    _record(sub, message, f"remote_{p['outcome']}", SubCase.Status.ACTIVE, p.get("reason", ""))
    hop(sub, "decided", fed_conf.node_code(), message_id=message.message_id, detail={"outcome": p["outcome"]})
    trail(f"remote_{p['outcome']}", case, subcase=sub, actor=None, reason=p.get("reason", "")[:1000],
          before={"remote_status": before},
          after={"remote_status": sub.remote_status, "decided_at": p["decided_at"], "collab_id": sub.collab_id,
                 "licence": (p.get("licence") or {}).get("identifier"), "licence_verified": bool(p.get("licence"))})
    if p["outcome"] == "approve":
        what = f"，电子证照 {p['licence']['identifier']} 已核验有效" if p.get("licence") else ""
        tell(case, "remote_approved", f"“{sub.item_version.name}”办理地准予许可{what}。")
    else:
        tell(case, "remote_denied", f"“{sub.item_version.name}”办理地不予许可：{p.get('reason') or '未说明理由'}")
        _cancel_dependants(case, sub, on, None)
    after_change(lock_case(case), on, None)


@handler(MessageType.WITHDRAWN, side=ACCEPTING)
def on_remote_withdrawn(message) -> None:
    """The handling node withdrew the case (the applicant withdrew there): the remote item stops here too
    (the other direction: tongban.federation.handling.on_withdrawn)."""
    _apply_remote_withdrawal(message=message)


@service
def _apply_remote_withdrawal(*, message) -> None:
    from .handling import _cancel_dependants, _finish, after_change

    sub = _lock_remote(message)
    if _seen(message):
        return
    case, reason = sub.case, message.payload.get("reason", "") or "申请人在办理地撤回申请"
    status_from, on = sub.status, timezone.localdate()
    if sub.is_open:  # a decision already made stands (as in withdraw_case)
        _finish(sub, SubCase.Status.WITHDRAWN, on, reason)
        sub.revision += 1
        sub.save()
    _record(sub, message, "remote_withdrawn", status_from, reason)
    hop(sub, "withdrawn", "", message_id=message.message_id, detail={"by_node": message.envelope["sender"]})
    trail("remote_withdrawn", case, subcase=sub, actor=None, reason=reason[:1000],
          before={"status": status_from}, after={"status": sub.status, "withdrawn_at": message.payload["withdrawn_at"],
                                                 "by_node": message.envelope["sender"], "collab_id": sub.collab_id})
    if status_from != sub.status:
        tell(case, "remote_withdrawn", f"“{sub.item_version.name}”已在办理地撤回：{reason}")
        _cancel_dependants(case, sub, on, None)
        after_change(lock_case(case), on, None)


@handler(MessageType.SUPERVISION, side=ACCEPTING)
def on_remote_supervision(message) -> None:
    """督办 from the handling node about a case accepted here (e.g. a correction awaited at this window,
    a result not yet delivered); the other direction: tongban.federation.handling.on_supervision."""
    _apply_remote_supervision(message=message)


@service
def _apply_remote_supervision(*, message) -> None:
    """A remote item has no department here, so the notice is recorded on the case (an action and a
    `case.remote_supervised` trail entry that the region's supervisors and the window see), not as a
    department's SupervisionNotice."""
    sub = _lock_remote(message)
    if _seen(message):
        return
    p = message.payload
    text = f"【{message.envelope['sender']}督办】{p['subject']}：{p['text']}"[:2000]
    _record(sub, message, "remote_supervised", sub.status, text)
    last = sub.hops.order_by("-at", "-id").first()
    hop(sub, "supervision", last.holder if last else sub.remote_node, message_id=message.message_id,
        detail={"subject": p["subject"], "due_on": p.get("due_on")})
    trail("remote_supervised", sub.case, subcase=sub, actor=None, reason=text[:1000],
          after={"subject": p["subject"], "due_on": p.get("due_on"), "by_node": message.envelope["sender"],
                 "collab_id": sub.collab_id})


# --- back to the handling node: correction, delivery ---------------------------------------------------


def send_correction(case: Case, sub: SubCase, *, actor, note: str = "") -> None:
    """Inside `supply_correction`'s transaction: the replaced files go to the handling node."""
    from tongban.audit.services import append_entry
    from tongban.federation.outbox import enqueue

    codes = set(sub.remote_notice.get("material_codes") or [])
    rows = [m for m in case.materials.all() if m.code in codes]
    before = sub.remote_status
    sub.hold, sub.held_since = SubCase.Hold.NONE, None
    sub.remote_status = RS.CORRECTION_SENT
    sub.revision += 1
    sub.save()
    message = enqueue(receiver=sub.remote_node, type=MessageType.CORRECTION, collab_id=sub.collab_id,
                      payload={"materials": _material_entries(rows), "note": note[:2000]})
    append_entry(action="federation.enqueued", object_type="federation.message", object_id=str(message.message_id),
                 case_ref=sub.collab_id, after={"type": message.type, "receiver": sub.remote_node, "seq": message.seq})
    trail("remote_correction_sent", case, subcase=sub, actor=actor, before={"remote_status": before},
          after={"remote_status": sub.remote_status, "materials": sorted(codes), "collab_id": sub.collab_id})
    hop(sub, "correction", sub.remote_node, message_id=message.message_id, detail={"materials": sorted(codes)})


def send_delivery(case: Case, *, actor) -> None:
    """Inside the delivery's transaction: each remote item's node learns how and when its result was
    handed over here (`case.delivery` for window or post, then `case.delivered`)."""
    from tongban.audit.services import append_entry
    from tongban.federation.outbox import enqueue

    method = DELIVERY.get(case.delivery_method, "window")
    for sub in case.subcases.exclude(remote_node="").exclude(collab_id=None).filter(status=SubCase.Status.APPROVED):
        messages = []
        if method in ("window", "post"):
            messages.append(enqueue(receiver=sub.remote_node, type=MessageType.DELIVERY, collab_id=sub.collab_id,
                                    payload={"method": method, "address": case.delivery_address[:2000],
                                             "tracking_number": case.tracking_number[:200]}))
        messages.append(enqueue(receiver=sub.remote_node, type=MessageType.DELIVERED, collab_id=sub.collab_id,
                                payload={"method": method, "delivered_at": iso(case.delivered_at or timezone.now()),
                                         "receiver": case.applicant_name[:200]}))
        for message in messages:
            append_entry(action="federation.enqueued", object_type="federation.message",
                         object_id=str(message.message_id), case_ref=sub.collab_id,
                         after={"type": message.type, "receiver": sub.remote_node, "seq": message.seq})
        hop(sub, "delivered", "", message_id=messages[-1].message_id, detail={"method": method})


def send_withdrawal(sub: SubCase, *, reason: str) -> None:
    """Inside the withdrawal's transaction: the handling node learns that the applicant withdrew."""
    from tongban.audit.services import append_entry
    from tongban.federation.outbox import enqueue

    message = enqueue(receiver=sub.remote_node, type=MessageType.WITHDRAWN, collab_id=sub.collab_id,
                      payload={"withdrawn_at": iso(timezone.now()), "reason": reason[:2000]})
    hop(sub, "withdrawn", "", message_id=message.message_id, detail={"by_node": fed_conf.node_code()})
    append_entry(action="federation.enqueued", object_type="federation.message", object_id=str(message.message_id),
                 case_ref=sub.collab_id, after={"type": message.type, "receiver": sub.remote_node, "seq": message.seq})


# --- who holds the acknowledgement clock (docs/federation.md §8, "Clocks") --------------------------------


def handover_receipted(*, by_ack_due: bool = False):
    """An `Exists` over a sub-case's collab id: its `case.handover` carries the handling node's signed
    transport receipt (`delivered`), optionally no later than the day the acknowledgement was due.
    From the receipt on, the handling node holds the case and its acknowledgement clock (it raises the
    one `ack_overdue` of the federation); before it, or when the receipt came after `ack_due`, this
    node had not handed over in time and the overdue is this node's own."""
    from django.db.models import Exists, OuterRef

    from tongban.federation.models import OutboxMessage

    rows = OutboxMessage.objects.filter(collab_id=OuterRef("collab_id"), type=MessageType.HANDOVER,
                                        status=OutboxMessage.Status.DELIVERED)
    if by_ack_due:
        rows = rows.filter(delivered_at__date__lte=OuterRef("ack_due"))
    return Exists(rows)


# --- reading --------------------------------------------------------------------------------------------

AWAITING = {
    RS.HANDED_OVER: ("办理地受理确认", "remote"),
    RS.ACKNOWLEDGED: ("办理地审查决定", "remote"),
    RS.CORRECTION_SENT: ("办理地审查补正材料", "remote"),
}


def remote_progress(sub: SubCase) -> dict:
    """The remote part of a progress row: node, region, pinned item, remote status, hop dates."""
    from tongban.federation.models import OutboxMessage

    handover = (OutboxMessage.objects.filter(collab_id=sub.collab_id, type=MessageType.HANDOVER)
                .values("status", "created_at", "delivered_at").first()) if sub.collab_id else None
    licence = getattr(sub, "remote_licence", None) if sub.status == SubCase.Status.APPROVED else None
    return {
        "node": sub.remote_node, "region": sub.remote_region, "item_code": sub.remote_item_code,
        "version": sub.remote_item_version, "status": sub.remote_status,
        "status_label": str(RS(sub.remote_status).label) if sub.remote_status in RS.values else sub.remote_status,
        "case_number": sub.remote_case_number, "collab_id": sub.collab_id,
        "handed_over_at": handover["created_at"] if handover else None,
        "received_by_node_at": handover["delivered_at"] if handover else None,
        "ack_due": sub.ack_due, "acknowledged_at": sub.acknowledged_at,
        "decision_due": sub.promised_due,
        "notice": {k: sub.remote_notice.get(k) for k in ("kind", "reasons", "materials_requested", "due_on")}
        if sub.remote_status == RS.CORRECTION else None,
        "licence": {"identifier": licence.identifier, "issuer": licence.issuer_name or licence.issuer_uscc,
                    "valid": licence.valid, "verification": licence.verification.get("reason")} if licence else None,
        "handback_due": handback_due(sub), **held(sub),
    }


def handback_due(sub: SubCase) -> date | None:
    """When the result should come back: the item's decision limit (its promised working days) counted
    from the acknowledgement, in the handling region's working days. Correction pauses are not added."""
    from tongban.workdays.calendar import add_workdays

    if sub.acknowledged_at is None:
        return None
    start = sub.acknowledged_at.astimezone(timezone.get_current_timezone()).date()
    return add_workdays(start, sub.item_version.promised_days, calendar_region(sub.remote_region)).due


def held(sub: SubCase) -> dict:
    """Who holds the remote item now and since when, and per hop who held it for how long (seconds up to
    the next hop, or to now for the last one while open)."""
    rows = list(sub.hops.order_by("at", "id").values("kind", "holder", "at", "message_id"))
    now = timezone.now()
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        end = following["at"] if following else (now if row["holder"] else row["at"])
        row["held_for_s"] = int((end - row["at"]).total_seconds())
    last = rows[-1] if rows else None
    return {"holder": last["holder"] if last else "", "held_since": last["at"] if last else None, "hops": rows}


def remote_awaiting(sub: SubCase, pending_names: list[str]) -> dict | None:
    if not sub.is_open:
        return None
    if sub.remote_status == RS.CORRECTION:
        names = "、".join(pending_names) or "、".join(sub.remote_notice.get("materials_requested") or [])
        return {"what": "补正材料" + (f"：{names}" if names else ""), "from": "applicant"}
    what, who = AWAITING.get(sub.remote_status, ("办理地办理", "remote"))
    return {"what": f"{what}（{sub.remote_region}，{sub.remote_node}）", "from": who}
