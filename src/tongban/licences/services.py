"""Writes of the licence library: issue, suspend, resume, revoke, amend (new version), status lists.

Each function is one transaction. Serials are reserved under a row lock on the (type, issuer)
counter and status-list indexes under a row lock on the issuer's status list, so concurrent
issuance never hands out the same identifier or index.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.audit.services import append_entry
from tongban.catalog.models import LicenceType
from tongban.core.codes import check_id_number, check_uscc
from tongban.core.errors import Conflict, InvalidInput, Problem
from tongban.core.transactions import service
from tongban.regions.models import Department

from . import cache, crypto, keystore
from .documents import build_payload, check_data, status_url
from .identifiers import build_identifier
from .models import Licence, LicenceTypeIssuer, SerialCounter, SigningKey, StatusList

log = logging.getLogger(__name__)

STATUS_LIST_BITS = 131072  # 16 KiB, the W3C minimum for group privacy


def status_list_ttl() -> timedelta:
    return timedelta(hours=int(getattr(settings, "TONGBAN_STATUS_LIST_HOURS", 48)))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_valid_until(licence_type: LicenceType, valid_from: date) -> date | None:
    if not licence_type.validity_years:
        return None
    return _add_years(valid_from, licence_type.validity_years) - timedelta(days=1)


def _check_holder(code_type: str, code: str, name: str, licence_type: LicenceType) -> list[Problem]:
    if code_type not in Licence.HolderCodeType.values:
        return [Problem("holder_code_type", "licence.holder.code_type", "持证主体代码类型应为 111（身份证）或 001（统一社会信用代码）",
                        "holder code type must be 111 (ID number) or 001 (USCC)")]
    problems: list[Problem] = []
    if code_type != licence_type.holder_kind:
        problems.append(Problem("holder_code_type", "licence.holder.kind",
                                f"证照类型 {licence_type.name} 的持证主体代码类型应为 {licence_type.holder_kind}",
                                f"licence type {licence_type.code} is held by code type {licence_type.holder_kind}"))
    problems += check_id_number(code, "holder_code") if code_type == "111" else check_uscc(code, "holder_code")
    if not (name or "").strip():
        problems.append(Problem("holder_name", "required", "持证主体名称必填", "holder name is required"))
    return problems


def _check_validity(valid_from: date, valid_until: date | None) -> list[Problem]:
    if valid_until is not None and valid_until < valid_from:
        return [Problem("valid_until", "licence.validity.order", "有效期止不能早于有效期起",
                        "valid_until must not be before valid_from")]
    return []


def _lock_status_list(issuer: Department, now: datetime) -> StatusList:
    StatusList.objects.get_or_create(issuer=issuer, defaults=_empty_status_list(now))  # race-safe (savepoint)
    return StatusList.objects.select_for_update(of=("self",)).get(issuer=issuer)


def _empty_status_list(now: datetime) -> dict:
    empty = crypto.encode_bitstring(bytes(STATUS_LIST_BITS // 8))
    return {"size": STATUS_LIST_BITS, "revocation": empty, "suspension": empty, "published_at": now,
            "valid_until": now, "key_id": "", "signature": ""}


def _reserve_serial(licence_type: LicenceType, issuer: Department) -> int:
    SerialCounter.objects.get_or_create(licence_type=licence_type, issuer=issuer)  # race-safe (savepoint)
    counter = SerialCounter.objects.select_for_update(of=("self",)).get(licence_type=licence_type, issuer=issuer)
    counter.last_serial += 1
    counter.save(update_fields=["last_serial"])
    return counter.last_serial


def _reserve_index(status_list: StatusList, now: datetime) -> int:
    index = status_list.next_index
    status_list.next_index += 1
    fields = ["next_index"]
    if index >= status_list.size:  # grow: double the bitstrings (rare), then republish
        for name in ("revocation", "suspension"):
            bits = crypto.decode_bitstring(getattr(status_list, name))
            setattr(status_list, name, crypto.encode_bitstring(bits + bytes(len(bits))))
        status_list.size *= 2
        fields += ["size", "revocation", "suspension"]
    status_list.save(update_fields=fields)
    if "size" in fields or not status_list.signature:
        publish_status_list(status_list=status_list, now=now)
    return index


def _signing_key(issuer: Department) -> SigningKey:
    key = keystore.active_key(department=issuer)
    if key is None:
        raise Conflict(f"发证部门 {issuer.name} 没有启用的签名密钥", f"issuer {issuer.uscc} has no active signing key",
                       rule="licence.issuer.no_key")
    return key


def _sign_and_save(licence: Licence, previous: Licence | None) -> Licence:
    lt, issuer = licence.licence_type, licence.issuer
    key = _signing_key(issuer)
    payload = build_payload(
        identifier=licence.identifier, type_code=lt.code, type_name=lt.name, issuer_uscc=issuer.uscc,
        issuer_name=issuer.name, issuer_region=issuer.region_id, holder_code_type=licence.holder_code_type,
        holder_code=licence.holder_code, holder_name=licence.holder_name, data=licence.data,
        valid_from=licence.valid_from, valid_until=licence.valid_until, version=licence.version,
        issued_at=licence.issued_at, status_index=licence.status_index,
        previous=previous.identifier if previous else None)
    body = crypto.canonical_json(payload)
    licence.payload = body.decode("utf-8")
    licence.signing_key = key
    licence.signature = crypto.b64u(keystore.sign_with(key, body))
    licence.save()
    return licence


@service
def issue_licence(*, licence_type: LicenceType, issuer: Department, holder_code_type: str, holder_code: str,
                  holder_name: str, data: dict, valid_from: date, valid_until: date | None = None,
                  source_ref: str = "", actor=None) -> Licence:
    """Issue version 001 of a new licence, signed with the issuer's active key."""
    holder_code = (holder_code or "").strip().upper()
    problems = _check_holder(holder_code_type, holder_code, holder_name, licence_type)
    problems += check_data(data, licence_type.fields)
    if valid_until is None:
        valid_until = default_valid_until(licence_type, valid_from)
    problems += _check_validity(valid_from, valid_until)
    if problems:
        raise InvalidInput(problems)
    if not LicenceTypeIssuer.objects.filter(licence_type=licence_type, department=issuer, active=True).exists():
        raise Conflict(f"{issuer.name} 无权颁发 {licence_type.name}",
                       f"department {issuer.uscc} may not issue licence type {licence_type.code}",
                       rule="licence.issuer.not_authorised")
    now = timezone.now().replace(microsecond=0)
    serial = _reserve_serial(licence_type, issuer)
    status_list = _lock_status_list(issuer, now)
    licence = Licence(
        identifier=build_identifier(type_code=licence_type.code, issuer_uscc=issuer.uscc, serial=serial, version=1),
        licence_type=licence_type, issuer=issuer, serial=serial, version=1, holder_code_type=holder_code_type,
        holder_code=holder_code, holder_name=holder_name.strip(), data=dict(data), valid_from=valid_from,
        valid_until=valid_until, issued_at=now, status_index=_reserve_index(status_list, now),
        source_ref=source_ref, issued_by=actor)
    _sign_and_save(licence, previous=None)
    log.info("licence issued", extra={"identifier": licence.identifier, "source_ref": source_ref})
    _audit("licence.issued", licence, actor, after={"status_index": licence.status_index,
                                                    "key_id": licence.signing_key.key_id})
    return licence


def _audit(action: str, licence: Licence, actor, *, reason: str = "", after: dict | None = None) -> None:
    """The audit entry, always the last step of the transaction (see tongban.audit.services)."""
    append_entry(action=action, actor=actor, object_type="licence", object_id=licence.identifier,
                 region_code=licence.issuer.region_id, subject_code=licence.holder_code,
                 case_ref=licence.source_ref, reason=reason, after=after)


def _locked(licence: Licence) -> Licence:
    return Licence.objects.select_for_update(of=("self",)).select_related("issuer", "licence_type").get(pk=licence.pk)


def _set_status(licence: Licence, status: str, reason: str, now: datetime) -> None:
    licence.status, licence.status_reason, licence.status_changed_at = status, reason[:256], now
    licence.save(update_fields=["status", "status_reason", "status_changed_at"])
    status_list = _lock_status_list(licence.issuer, now)
    bits = {name: bytearray(crypto.decode_bitstring(getattr(status_list, name))) for name in ("revocation", "suspension")}
    crypto.set_bit(bits["revocation"], licence.status_index, status == Licence.Status.REVOKED)
    crypto.set_bit(bits["suspension"], licence.status_index, status == Licence.Status.SUSPENDED)
    status_list.revocation = crypto.encode_bitstring(bits["revocation"])
    status_list.suspension = crypto.encode_bitstring(bits["suspension"])
    status_list.save(update_fields=["revocation", "suspension"])
    publish_status_list(status_list=status_list, now=now)


def _require_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise InvalidInput(Problem("reason", "required", "请填写原因", "a reason is required"))


@service
def suspend_licence(*, licence: Licence, reason: str, actor=None) -> Licence:
    _require_reason(reason)
    licence = _locked(licence)
    if licence.status != Licence.Status.VALID:
        raise Conflict("只有有效的证照可以中止", "only a valid licence can be suspended")
    _set_status(licence, Licence.Status.SUSPENDED, reason, timezone.now())
    _audit("licence.suspended", licence, actor, reason=reason)
    return licence


@service
def resume_licence(*, licence: Licence, reason: str, actor=None) -> Licence:
    _require_reason(reason)
    licence = _locked(licence)
    if licence.status != Licence.Status.SUSPENDED:
        raise Conflict("只有已中止的证照可以恢复（注销不可撤销）",
                       "only a suspended licence can be resumed (revocation is final)")
    _set_status(licence, Licence.Status.VALID, reason, timezone.now())
    _audit("licence.resumed", licence, actor, reason=reason)
    return licence


@service
def revoke_licence(*, licence: Licence, reason: str, actor=None) -> Licence:
    """Revoke for good: a revoked licence never becomes valid again."""
    _require_reason(reason)
    licence = _locked(licence)
    if licence.status == Licence.Status.REVOKED:
        raise Conflict("证照已注销", "licence already revoked")
    _set_status(licence, Licence.Status.REVOKED, reason, timezone.now())
    _audit("licence.revoked", licence, actor, reason=reason)
    return licence


_UNSET = object()


@service
def amend_licence(*, licence: Licence, reason: str, holder_name: str | None = None, data: dict | None = None,
                  valid_from: date | None = None, valid_until: date | None | object = _UNSET,
                  source_ref: str = "", actor=None) -> Licence:
    """A change makes a new version: same serial, version + 1, new identifier and signature, new
    status index; the old version is revoked as superseded."""
    _require_reason(reason)
    old = _locked(licence)
    if old.status != Licence.Status.VALID:
        raise Conflict("只有有效的证照可以变更", "only a valid licence can be changed")
    new_data = dict(old.data if data is None else data)
    new_from = valid_from or old.valid_from
    new_until = old.valid_until if valid_until is _UNSET else valid_until
    new_name = (holder_name if holder_name is not None else old.holder_name).strip()
    problems = check_data(new_data, old.licence_type.fields) + _check_validity(new_from, new_until)  # type: ignore[arg-type]
    if not new_name:
        problems.append(Problem("holder_name", "required", "持证主体名称必填", "holder name is required"))
    if problems:
        raise InvalidInput(problems)
    if (new_data, new_from, new_until, new_name) == (old.data, old.valid_from, old.valid_until, old.holder_name):
        raise Conflict("没有变更内容", "nothing changed", rule="licence.amend.unchanged")
    now = timezone.now().replace(microsecond=0)
    status_list = _lock_status_list(old.issuer, now)
    new = Licence(
        identifier=build_identifier(type_code=old.licence_type.code, issuer_uscc=old.issuer.uscc,
                                    serial=old.serial, version=old.version + 1),
        licence_type=old.licence_type, issuer=old.issuer, serial=old.serial, version=old.version + 1,
        holder_code_type=old.holder_code_type, holder_code=old.holder_code, holder_name=new_name, data=new_data,
        valid_from=new_from, valid_until=new_until, issued_at=now, status_index=_reserve_index(status_list, now),
        previous=old, source_ref=source_ref or old.source_ref, issued_by=actor)
    _set_status(old, Licence.Status.REVOKED, f"superseded by {new.identifier}: {reason}", now)
    _sign_and_save(new, previous=old)
    _audit("licence.amended", new, actor, reason=reason, after={"previous": old.identifier})
    return new


def status_list_document(status_list: StatusList) -> dict:
    """The published status list, modelled on a W3C BitstringStatusListCredential."""
    return {
        "type": "BitstringStatusListCredential",
        "id": status_url(status_list.issuer.uscc),
        "issuer": status_list.issuer.uscc,
        "revision": status_list.revision,
        "validFrom": status_list.published_at.isoformat(timespec="seconds"),
        "validUntil": status_list.valid_until.isoformat(timespec="seconds"),
        "size": status_list.size,
        "lists": {
            "revocation": {"statusPurpose": "revocation", "encodedList": status_list.revocation},
            "suspension": {"statusPurpose": "suspension", "encodedList": status_list.suspension},
        },
    }


def publish_status_list(*, status_list: StatusList, now: datetime | None = None) -> StatusList:
    """Re-sign the issuer's status list with a new revision and validity window."""
    now = (now or timezone.now()).replace(microsecond=0)
    key = _signing_key(status_list.issuer)
    status_list.revision += 1
    status_list.published_at = now
    status_list.valid_until = now + status_list_ttl()
    status_list.key_id = key.key_id
    status_list.signature = crypto.b64u(keystore.sign_with(key, crypto.canonical_json(status_list_document(status_list))))
    status_list.save(update_fields=["revision", "published_at", "valid_until", "key_id", "signature"])
    cache.invalidate()
    return status_list


def refresh_status_lists(*, now: datetime | None = None) -> int:
    """Re-publish every status list past half its validity (run it periodically, e.g. hourly);
    a list nobody refreshes goes stale and verifiers then fail closed."""
    now = now or timezone.now()
    count = 0
    for pk in StatusList.objects.filter(valid_until__lt=now + status_list_ttl() / 2).values_list("pk", flat=True):
        with transaction.atomic():  # one short transaction per list (joins a caller's, as the demo loader's)
            status_list = StatusList.objects.select_for_update(of=("self",)).select_related("issuer").get(pk=pk)
            publish_status_list(status_list=status_list, now=now)
        count += 1
    return count


def _trail_key(action: str, key: SigningKey, *, actor, actor_label: str, retired: str = "") -> None:
    owner = key.department.uscc if key.department_id else (key.region.code if key.region_id else "")
    append_entry(action=action, actor=actor, actor_label=actor_label, object_type="signing-key",
                 object_id=key.key_id, subject_code=owner,
                 after={"key_id": key.key_id, "algorithm": key.algorithm, "owner": owner,
                        **({"retired": retired} if retired else {})})


@service
def rotate_signing_key(*, department: Department, algorithm: str | None = None, actor=None,
                       actor_label: str = "") -> SigningKey:
    """A new active key for the issuer (the old one is retired and kept for verification); the trust
    lists naming the issuer and its status list are re-published so verifiers see the new key."""
    from .trust import republish_for_department

    current = keystore.active_key(department=department)
    key = keystore.create_key(department=department,
                              algorithm=algorithm or (current.algorithm if current else crypto.ED25519))
    republish_for_department(department=department)
    status_list = StatusList.objects.select_for_update(of=("self",)).filter(issuer=department).first()
    if status_list is not None:
        publish_status_list(status_list=status_list)
    _trail_key("licence.key.rotated", key, actor=actor, actor_label=actor_label,
               retired=current.key_id if current else "")
    return key


@service
def revoke_signing_key(*, key: SigningKey, actor=None, actor_label: str = "") -> SigningKey:
    """Withdraw trust from a (compromised) key: trust lists drop it, so what it signed fails."""
    from .trust import publish_trust_list, republish_for_department

    key = keystore.revoke_key(key=key)
    if key.department_id:
        republish_for_department(department=key.department)
    else:
        publish_trust_list(region=key.region)
    cache.invalidate()
    _trail_key("licence.key.revoked", key, actor=actor, actor_label=actor_label)
    return key


def authorise_issuer(*, licence_type: LicenceType, department: Department, actor=None,
                     actor_label: str = "") -> LicenceTypeIssuer:
    """Allow `department` to issue `licence_type` (idempotent; a grant that changes something is in the
    trail as `licence.issuer.authorised`). Joins the caller's transaction."""
    entry, created = LicenceTypeIssuer.objects.get_or_create(licence_type=licence_type, department=department)
    changed = created
    if not created and not entry.active:
        entry.active = True
        entry.save(update_fields=["active"])
        changed = True
    if changed:
        append_entry(action="licence.issuer.authorised", actor=actor, actor_label=actor_label,
                     object_type="licence-type-issuer", object_id=str(entry.pk), subject_code=department.uscc,
                     region_code=department.region.code if department.region_id else "",
                     after={"licence_type": licence_type.code, "department": department.uscc})
    return entry
