"""The handling node's side of a cross-node case (异地代收代办; docs/federation.md §8).

A peer accepted an application at its window for an item this node handles and sent `case.handover`.
Here the handler makes a REAL local case of it — the pinned item version, the applicant, the form,
the materials (each file's SHA-256 checked again), the licences used — accepted on the day the
window accepted it, its sub-case started in the item's department, so the department's officers
handle it in their normal workbench under this node's catalogue and workflow.

What the officers do reaches the accepting node through the case services' hook points
(tongban.cases.signals), each message queued in the transaction of the change that causes it:

- approving the workflow's first step is the acknowledgement (受理确认), due within
  `TONGBAN_CROSS_REGION_ACK_DAYS` working days of this region (SubCase.ack_due) → `case.acknowledged`;
- a correction request (the `return` action) → `case.notice`;
- the decision (approve, with the result licence signed by this node's department, or deny) →
  `case.decision`.

Incoming `case.correction` (materials supplied: attached, the held item resumes), `case.delivery`
(recorded), `case.delivered` (the local case closes as delivered by the accepting node) and
`case.withdrawn` (the local case is withdrawn) have handlers here; the two-way types (`case.withdrawn`,
`supervision.notice`) are registered for the handling side (inbox.side_of).

Every step is a `CaseHop` (which node holds the case from then on) and a `federation.hop` audit entry
under the collab id. Handlers run outside any transaction and may run twice: the hand-over is unique
on (peer, collab id), the others on the message id of their hop.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import date

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils import timezone

from tongban.audit.services import append_entry
from tongban.cases.models import Case, CaseMaterial, DeadlineAlert, MaterialFile, SubCase
from tongban.core.system import SYSTEM
from tongban.core.transactions import service

from . import conf
from .envelope import MessageType, iso, parse_iso
from .inbox import HANDLING, handler
from .models import AgreedItem, CaseHop, FederatedCase, InboxMessage, Peer
from .outbox import enqueue

log = logging.getLogger("tongban.federation")


class HandoverRefused(Exception):
    """A hand-over this node cannot turn into a case (recorded on the inbox message as its error)."""


# --- helpers ----------------------------------------------------------------------------------------


def _peer_user(peer: Peer):
    """The account that stands for the peer node as the filer and uploader of what it handed over: a
    system account that cannot sign in and sees nothing (no department)."""
    from tongban.accounts.models import User

    user, _ = User.objects.get_or_create(
        username=f"node-{peer.code}", defaults={"kind": User.Kind.SYSTEM, "is_active": False,
                                                "real_name": f"{peer.name or peer.code}（对端节点）",
                                                "password": make_password(None)})
    return user


def _ensure_region(code: str, peer: Peer):
    """The accepting region as a row of this database (a node holds its own regions only): created,
    named after the peer, under its province when this node knows it."""
    from tongban.regions.models import Region

    region = Region.objects.filter(pk=code).first()
    if region is not None:
        return region
    province = Region.objects.filter(pk=f"{code[:2]}0000").first()
    level = Region.Level.CITY if code.endswith("00") else Region.Level.COUNTY
    return Region.objects.create(code=code, name=f"{peer.name or peer.code}（{code}）"[:64], level=level,
                                 parent=province)


def _hop(fc: FederatedCase, kind: str, holder: str, *, message_id=None, detail: dict | None = None) -> CaseHop:
    fc.holder = holder
    fc.save(update_fields=["holder"])
    hop = CaseHop.objects.create(federated=fc, kind=kind, holder=holder, message_id=message_id, detail=detail or {})
    append_entry(action="federation.hop", object_type="case", object_id=fc.case.number, case_ref=fc.collab_id,
                 region_code=fc.case.region_id,
                 after={"hop": kind, "holder": holder, "peer": fc.peer.code, "case": fc.case.number,
                        **({"message_id": str(message_id)} if message_id else {}), **(detail or {})})
    return hop


def _send(fc: FederatedCase, type_: str, payload: dict):
    message = enqueue(receiver=fc.peer.code, type=type_, collab_id=fc.collab_id, payload=payload)
    append_entry(action="federation.enqueued", object_type="federation.message", object_id=str(message.message_id),
                 case_ref=fc.collab_id, after={"type": type_, "receiver": fc.peer.code, "seq": message.seq,
                                               "case": fc.case.number})
    return message


def _store_file(row: CaseMaterial, material: dict, uploader) -> MaterialFile:
    """One handed-over file under its SHA-256, the digest checked against the bytes (again: the schema
    checked it on receipt; a file is never stored under a name it does not hash to)."""
    raw = base64.b64decode(material["content"], validate=True)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != material["sha256"] or len(raw) != material["size"]:
        raise HandoverRefused(f"material {material['name']}: SHA-256 or size differs from the payload's")
    path = f"cases/{digest[:2]}/{digest}"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(raw))
    record = MaterialFile(material=row, name=material["name"][:200], content_type=material.get("media_type", "")[:64],
                          size=len(raw), sha256=digest, scanned=False, uploaded_by=uploader)
    record.file.name = path
    record.save()
    return record


def _row_for(case: Case, material: dict, *, extra_n: int) -> CaseMaterial:
    """The checklist line a handed-over file belongs to: same material code, else same name, else an
    extra (not required) line, so nothing handed over is dropped."""
    rows = case.materials.all()
    code = material.get("material_code", "")
    row = (rows.filter(code=code).first() if code else None) or rows.filter(name=material["name"]).first()
    if row is None:
        row = CaseMaterial.objects.create(case=case, code=f"peer-{extra_n}", name=material["name"][:128],
                                          source=CaseMaterial.Source.APPLICANT, required=False,
                                          status=CaseMaterial.Status.PROVIDED)
    return row


# --- case.handover -------------------------------------------------------------------------------------


def _pinned_plan(version, region_code: str) -> dict:
    """The plan of one item at exactly the version the hand-over names (not the one in force today)."""
    from tongban.bundles import planner
    from tongban.bundles.specs import from_item_version

    basic = version.item.basic_code
    return planner.make_plan(bundle={"code": basic, "name": version.name, "version": version.version, "theme": ""},
                             definition={"items": [{"key": basic, "item": basic}]}, region_code=region_code,
                             answers={}, items={basic: from_item_version(version)}, strict=False)


def _party(applicant: dict) -> dict:
    from tongban.accounts.models import Enterprise, User

    if applicant["kind"] == "enterprise":
        enterprise = Enterprise.objects.filter(uscc=applicant["id_number"]).select_related("legal_representative").first()
        return {"applicant_kind": Case.ApplicantKind.ENTERPRISE, "applicant_code": applicant["id_number"][:18],
                "applicant_name": applicant["name"][:128], "enterprise": enterprise,
                "applicant_user": enterprise.legal_representative if enterprise else None}
    person = User.objects.filter(id_number=applicant["id_number"].upper(), kind=User.Kind.PERSON).first()
    return {"applicant_kind": Case.ApplicantKind.PERSON, "applicant_code": applicant["id_number"].upper()[:18],
            "applicant_name": applicant["name"][:128], "enterprise": None, "applicant_user": person}


def _form(plan: dict, given: dict, applicant: dict) -> dict:
    """The hand-over's answers for the fields this item's form has; the standard identity fields the
    accepting window verified fill what is still empty."""
    properties = plan.get("form", {}).get("properties", {})
    form = {name: value for name, value in (given or {}).items() if name in properties}
    identity = {"person.name": applicant["name"], "person.id_number": applicant["id_number"],
                "enterprise.name": applicant["name"], "enterprise.uscc": applicant["id_number"],
                "person.phone": applicant.get("phone", ""), "person.address": applicant.get("address", "")}
    for name, prop in properties.items():
        value = identity.get(prop.get("x-standard", ""))
        if form.get(name) in (None, "") and value:
            form[name] = value
    return form


def handle_handover(message: InboxMessage) -> FederatedCase:
    """The `case.handover` handler's work, idempotent: the existing case when one was made already."""
    existing = FederatedCase.objects.filter(peer_id=message.sender_id, collab_id=message.collab_id).first()
    if existing is not None:
        return existing
    try:
        return _receive_handover(message_pk=message.pk)
    except IntegrityError:  # another applier made it a moment ago (unique on peer and collab id)
        existing = FederatedCase.objects.filter(peer_id=message.sender_id, collab_id=message.collab_id).first()
        if existing is None:
            raise
        return existing


@service
def _receive_handover(*, message_pk: int) -> FederatedCase:
    from tongban.cases import numbers
    from tongban.cases.services._common import trail
    from tongban.cases.services.handling import start_ready_subcases
    from tongban.cases.services.intake import _create_subcases, _sync_materials
    from tongban.catalog.models import ItemVersion

    message = InboxMessage.objects.select_related("sender").get(pk=message_pk)
    peer, payload = message.sender, message.payload
    item = payload["item"]
    if not AgreedItem.objects.filter(peer=peer, handled_by=AgreedItem.HandledBy.SELF, item_code=item["item_code"],
                                     version=item["version"]).exists():
        raise HandoverRefused(f"item {item['item_code']} v{item['version']} is not on the agreed list with {peer.code}")
    version = (ItemVersion.objects.select_related("item__department", "item__region")
               .filter(item__implementation_code=item["item_code"], version=item["version"],
                       item__region_id__in=conf.node_regions()).first())
    if version is None:
        raise HandoverRefused(f"item {item['item_code']} v{item['version']} is not in this node's catalogue")
    today = timezone.localdate()
    region = version.item.region
    intake_region = _ensure_region(payload["accepting_region"], peer)
    plan = _pinned_plan(version, region.code)
    filer = _peer_user(peer)
    accepted_at = parse_iso(payload["accepted_at"])
    post = payload.get("delivery") == "post"
    case = Case.objects.create(
        number=numbers.reserve_case_number(region.code, today), kind=Case.Kind.ITEM, channel=Case.Channel.WINDOW,
        title=plan["bundle"]["name"], item_code=version.item.basic_code, region=region, intake_region=intake_region,
        plan_date=today, filed_by=filer, answers={}, plan=plan, form=_form(plan, payload.get("form"), payload["applicant"]),
        status=Case.Status.SUBMITTED, submitted_at=timezone.now(), submitted_on=today,
        # The results go back to the accepting node, which delivers them (window or post): never
        # electronically from here.
        delivery_method=Case.Delivery.POST if post else Case.Delivery.WINDOW,
        delivery_address=payload["applicant"].get("address", "")[:256] if post else "",
        **_party(payload["applicant"]))
    fc = FederatedCase.objects.create(
        peer=peer, collab_id=message.collab_id, case=case, handover_message=message.message_id,
        accepting_region=intake_region.code, accepting_window=payload.get("accepting_window", "")[:200],
        accepted_at=accepted_at, remote_case=payload.get("local_case", "")[:200], item_code=item["item_code"],
        item_version=item["version"], delivery=payload.get("delivery", ""), licences_used=payload.get("licences_used", []),
        holder=conf.node_code())
    _sync_materials(case)
    for n, material in enumerate(payload.get("materials", []), start=1):
        row = _row_for(case, material, extra_n=n)
        _store_file(row, material, filer)
        if row.status != CaseMaterial.Status.PROVIDED:
            row.status, row.defect = CaseMaterial.Status.PROVIDED, ""
            row.save(update_fields=["status", "defect", "updated_at"])
    for used in payload.get("licences_used", []):
        row = case.materials.filter(licence_type_code=used.get("licence_type", "") or "-").first()
        if row is not None:
            row.status = CaseMaterial.Status.PROVIDED
            row.licence_check = {"source": "peer", "node": peer.code, "identifier": used["identifier"],
                                 "issuer": used.get("issuer", ""), "verified_by": "accepting node"}
            row.save(update_fields=["status", "licence_check", "updated_at"])
    _create_subcases(case)
    case.status, case.accepted_on = Case.Status.ACCEPTED, accepted_at.astimezone(timezone.get_default_timezone()).date()
    case.save(update_fields=["status", "accepted_on", "updated_at"])
    trail("federated_received", case, actor=SYSTEM,
          after={"collab_id": fc.collab_id, "from_node": peer.code, "accepting_region": intake_region.code,
                 "accepting_window": fc.accepting_window, "remote_case": fc.remote_case,
                 "item": f"{item['item_code']}@{item['version']}",
                 "materials": [m["sha256"] for m in payload.get("materials", [])]})
    # The handling clock starts on receipt in this region's working days (acknowledgement included).
    start_ready_subcases(case, on=today, actor=None)
    _hop(fc, CaseHop.Kind.RECEIVED, conf.node_code(), message_id=message.message_id,
         detail={"accepted_at": payload["accepted_at"], "accepting_region": intake_region.code})
    return fc


@handler(MessageType.HANDOVER)
def on_handover(message: InboxMessage) -> None:
    handle_handover(message)


# --- officers' actions → messages to the accepting node ------------------------------------------------


def on_subcase_acted(sender, *, subcase: SubCase, case: Case, action: str, step_from: str, status_from: str,
                     reason: str, materials: dict, on: date, actor, **_) -> None:
    """Receiver of cases.signals.subcase_acted, inside the action's transaction."""
    fc = FederatedCase.objects.filter(case_id=case.pk).select_related("peer", "case").first()
    if fc is None:
        return
    node = conf.node_code()
    first = subcase.workflow.steps()[0]["code"]
    if action == "approve" and step_from == first and not fc.hops.filter(kind=CaseHop.Kind.ACKNOWLEDGED).exists():
        acknowledged_at = subcase.acknowledged_at or timezone.now()
        due = subcase.promised_due or subcase.statutory_due
        _send(fc, MessageType.ACKNOWLEDGED, {"local_case": case.number, "acknowledged_at": iso(acknowledged_at),
                                             "due_on": due.isoformat() if due else None})
        _hop(fc, CaseHop.Kind.ACKNOWLEDGED, node, detail={"by": actor.get_username(), "ack_due": _day(subcase.ack_due),
                                                           "late": bool(subcase.ack_due and on > subcase.ack_due)})
    if action == "return":
        rows = {m.code: m for m in case.materials.filter(code__in=list(materials))}
        lines = [f"{rows[c].name}：{text}" for c, text in materials.items() if c in rows]
        _send(fc, MessageType.NOTICE, {"kind": "correction", "reasons": [reason, *lines][:50],
                                       "materials_requested": list(materials)[:100]})
        _hop(fc, CaseHop.Kind.NOTICE, fc.peer.code, detail={"materials": list(materials)})
    if status_from == SubCase.Status.ACTIVE and subcase.status in (SubCase.Status.APPROVED, SubCase.Status.DENIED):
        from .trustlists import licence_for_message

        approved = subcase.status == SubCase.Status.APPROVED
        licence = subcase.result_licence if approved and subcase.result_licence_id else None
        _send(fc, MessageType.DECISION, {
            "outcome": "approve" if approved else "deny", "reason": subcase.outcome_reason or reason,
            "decided_at": iso(timezone.now()), "licence": licence_for_message(licence) if licence else None})
        _hop(fc, CaseHop.Kind.DECIDED, fc.peer.code,
             detail={"outcome": subcase.status, **({"licence": licence.identifier} if licence else {})})


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def on_alert(sender, *, alert: DeadlineAlert, subcase: SubCase, **_) -> None:
    """Receiver of cases.signals.deadline_alert_raised: a clock that ran out on a case this node holds is
    this node's (责任追溯): recorded as an `overdue` hop attributed to it."""
    if alert.kind == DeadlineAlert.Kind.WARNING:
        return
    fc = FederatedCase.objects.filter(case_id=subcase.case_id).select_related("peer", "case").first()
    if fc is None:
        if subcase.is_remote and subcase.collab_id:  # accepting side: an overdue this node holds (§8 Clocks)
            from tongban.cases.services.remote import hop

            hop(subcase, CaseHop.Kind.OVERDUE, conf.node_code(),
                detail={"clock": alert.kind, "due": alert.due.isoformat(), "node": conf.node_code()})
        return
    _hop(fc, CaseHop.Kind.OVERDUE, conf.node_code(),
         detail={"clock": alert.kind, "due": alert.due.isoformat(), "node": conf.node_code()})


# --- messages from the accepting node -------------------------------------------------------------------


def _federated(message: InboxMessage) -> FederatedCase | None:
    return (FederatedCase.objects.select_related("peer", "case")
            .filter(peer_id=message.sender_id, collab_id=message.collab_id).first())


def _done(fc: FederatedCase, message: InboxMessage) -> bool:
    return fc.hops.filter(message_id=message.message_id).exists()


@service
def _apply_correction(*, message_pk: int) -> None:
    from tongban.cases.services._common import lock_case, lock_subcases, snapshot, trail
    from tongban.cases.services.handling import _resume

    message = InboxMessage.objects.get(pk=message_pk)
    fc = _federated(message)
    case = lock_case(fc.case)
    if _done(fc, message):
        return
    filer = _peer_user(fc.peer)
    held = lock_subcases(case, hold=SubCase.Hold.CORRECTION)
    defective = list(case.materials.filter(status=CaseMaterial.Status.DEFECTIVE))
    for n, material in enumerate(message.payload.get("materials", []), start=1):
        code = material.get("material_code", "")
        row = next((m for m in defective if m.code == code or m.name == material["name"]), None)
        if row is None and not code and len(defective) == 1:
            row = defective[0]  # one line was asked for: the file answers it
        row = row or _row_for(case, material, extra_n=100 + n)
        _store_file(row, material, filer)
        row.status, row.defect = CaseMaterial.Status.PROVIDED, ""
        row.save(update_fields=["status", "defect", "updated_at"])
    still = list(case.materials.filter(status=CaseMaterial.Status.DEFECTIVE).values_list("code", flat=True))
    today = timezone.localdate()
    if not still:
        for sub in held:
            before = snapshot(sub)
            days = _resume(sub, today, "收件地已移交补正材料", None)
            sub.revision += 1
            sub.save()
            trail("correction_supplied", case, subcase=sub, actor=SYSTEM, before=before,
                  after={**snapshot(sub), "paused_workdays": days, "from_node": fc.peer.code})
    _hop(fc, CaseHop.Kind.CORRECTION, conf.node_code(), message_id=message.message_id,
         detail={"materials": [m["sha256"] for m in message.payload.get("materials", [])], "still_defective": still})


@handler(MessageType.CORRECTION)
def on_correction(message: InboxMessage) -> None:
    if _federated(message) is None:
        raise HandoverRefused("no case of this collab id was handed over by the sender")
    _apply_correction(message_pk=message.pk)


@service
def _apply_delivery(*, message_pk: int) -> None:
    from tongban.cases.services._common import lock_case, trail

    message = InboxMessage.objects.get(pk=message_pk)
    fc = _federated(message)
    case = lock_case(fc.case)
    if _done(fc, message):
        return
    payload = message.payload
    if message.type == MessageType.DELIVERY:
        case.delivery_method = Case.Delivery.POST if payload["method"] == "post" else Case.Delivery.WINDOW
        case.delivery_address = payload.get("address", "")[:256]
        case.tracking_number = payload.get("tracking_number", "")[:64]
        case.save(update_fields=["delivery_method", "delivery_address", "tracking_number", "updated_at"])
        trail("delivery_chosen", case, actor=SYSTEM, after={"delivery_method": case.delivery_method,
                                                            "by_node": fc.peer.code})
        _hop(fc, CaseHop.Kind.DELIVERY, fc.peer.code, message_id=message.message_id, detail=dict(payload))
        return
    before = {"status": case.status}
    if case.status in (Case.Status.READY, Case.Status.ACCEPTED):
        case.status = Case.Status.DELIVERED
        case.delivered_at = parse_iso(payload["delivered_at"])
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "delivered_at", "closed_at", "updated_at"])
        trail("delivered", case, actor=SYSTEM, before=before,
              after={"status": case.status, "method": payload["method"], "by_node": fc.peer.code,
                     "receiver": payload.get("receiver", "")})
    _hop(fc, CaseHop.Kind.DELIVERED, "", message_id=message.message_id, detail=dict(payload))


@handler(MessageType.DELIVERY)
def on_delivery(message: InboxMessage) -> None:
    if _federated(message) is None:
        raise HandoverRefused("no case of this collab id was handed over by the sender")
    _apply_delivery(message_pk=message.pk)


@handler(MessageType.DELIVERED)
def on_delivered(message: InboxMessage) -> None:
    if _federated(message) is None:
        raise HandoverRefused("no case of this collab id was handed over by the sender")
    _apply_delivery(message_pk=message.pk)


@service
def _apply_withdrawal(*, message_pk: int) -> None:
    """The applicant withdrew at the accepting node: every item not yet decided stops here too (a decision
    already made stands, as in cases.services.withdraw_case)."""
    from tongban.cases.services._common import lock_case, lock_subcases, snapshot, trail
    from tongban.cases.services.handling import _finish

    message = InboxMessage.objects.get(pk=message_pk)
    fc = _federated(message)
    case = lock_case(fc.case)
    if _done(fc, message):
        return
    reason = message.payload.get("reason", "") or "申请人在收件地撤回申请"
    today = timezone.localdate()
    if case.status not in (Case.Status.DELIVERED, Case.Status.REFUSED, Case.Status.WITHDRAWN):
        before = snapshot(case)
        for sub in lock_subcases(case, status__in=SubCase.OPEN):
            _finish(sub, SubCase.Status.WITHDRAWN, today, reason)
            sub.revision += 1
            sub.save()
        case.status, case.closed_at = Case.Status.WITHDRAWN, timezone.now()
        case.save(update_fields=["status", "closed_at", "updated_at"])
        trail("withdrawn", case, actor=SYSTEM, reason=reason, before=before,
              after={**snapshot(case), "by_node": fc.peer.code})
    _hop(fc, CaseHop.Kind.WITHDRAWN, "", message_id=message.message_id, detail={"reason": reason})


@handler(MessageType.WITHDRAWN, side=HANDLING)
def on_withdrawn(message: InboxMessage) -> None:
    """The accepting node's withdrawal (the other direction: cases.services.remote.on_remote_withdrawn)."""
    _apply_withdrawal(message_pk=message.pk)


@service
def _apply_supervision(*, message_pk: int) -> None:
    """督办 from the accepting node about a case held here: a supervision notice to the department
    handling it (its officers see it in their workbench and answer it as any other), from `node-<peer>`."""
    from tongban.cases.models import SupervisionNotice
    from tongban.cases.services._common import lock_case, trail
    from tongban.workdays.calendar import add_workdays

    message = InboxMessage.objects.get(pk=message_pk)
    fc = _federated(message)
    case = lock_case(fc.case)
    if _done(fc, message):
        return
    sub = case.subcases.select_related("department").order_by("position").first()
    payload = message.payload
    today = timezone.localdate()
    respond_by = date.fromisoformat(payload["due_on"]) if payload.get("due_on") else \
        add_workdays(today, 2, sub.department.region_id).due
    text = f"【{fc.peer.name or fc.peer.code}督办】{payload['subject']}：{payload['text']}"[:4000]
    notice = SupervisionNotice.objects.create(department=sub.department, subcase=sub, issued_by=_peer_user(fc.peer),
                                              text=text, respond_by=respond_by)
    trail("supervised", case, subcase=sub, actor=SYSTEM, reason=text,
          after={"notice": notice.pk, "respond_by": respond_by.isoformat(), "from_node": fc.peer.code})
    _hop(fc, CaseHop.Kind.SUPERVISION, fc.holder, message_id=message.message_id,
         detail={"subject": payload["subject"], "respond_by": respond_by.isoformat()})


@handler(MessageType.SUPERVISION, side=HANDLING)
def on_supervision(message: InboxMessage) -> None:
    """督办 from the accepting node (the other direction: cases.services.remote.on_remote_supervision)."""
    _apply_supervision(message_pk=message.pk)


def connect() -> None:
    from tongban.cases import signals

    signals.subcase_acted.connect(on_subcase_acted, dispatch_uid="federation.subcase_acted")
    signals.deadline_alert_raised.connect(on_alert, dispatch_uid="federation.deadline_alert")

