"""Issuing, signing, versions and the lifecycle (valid / suspended / revoked / expired)."""

from __future__ import annotations

import copy
import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from stdnum.iso7064 import mod_37_36

from tongban.core.errors import Conflict, InvalidInput
from tongban.licences import crypto, services
from tongban.licences.models import Licence, StatusList
from tongban.licences.selectors import licence_document
from tongban.licences.verification import verify_licence_document

from .factories import LicenceTypeFactory, make_id_number

pytestmark = pytest.mark.django_db


def _verify(licence, **kwargs):
    return verify_licence_document(licence_document(licence), trust=licence.issuer.region_id, **kwargs)


def test_issued_licence_has_a_checked_identifier_and_a_valid_ed25519_signature(issue, issuer):
    licence = issue()
    parts = licence.identifier.split(".")
    assert parts[6] == issuer.uscc and parts[8] == "001"
    assert mod_37_36.is_valid("".join(parts[5:9]) + parts[9])
    assert licence.signing_key.algorithm == crypto.ED25519
    assert licence.valid_until == date(2029, 12, 31)  # 5 years, from validity_years
    result = _verify(licence)
    assert result.valid and result.reason_code == "ok"
    assert result.licence["holder_code"].count("*") == 10


def test_sm2_issuer_signs_with_sm2_sm3(issue, make_issuer, licence_type):
    sm2_issuer = make_issuer(licence_type, algorithm=crypto.SM2_SM3)
    licence = issue(by=sm2_issuer)
    assert licence_document(licence)["proof"]["alg"] == crypto.SM2_SM3
    assert _verify(licence).valid


def test_serials_increase_per_type_and_issuer(issue):
    first, second = issue(), issue()
    assert (first.serial, second.serial) == (1, 2)
    assert first.status_index != second.status_index


def test_holder_and_data_are_validated_and_nothing_is_written(issue):
    with pytest.raises(InvalidInput) as exc:
        issue(holder_code="91430100MA4L000000", data={"business_name": "x", "colour": "red", "floor_area": "big"})
    rules = {p.rule for p in exc.value.problems}
    assert {"gb32100", "licence.data.unknown", "licence.data.required", "licence.data.integer"} <= rules
    assert not Licence.objects.exists()


def test_person_licence_type_needs_an_id_number(issue, make_issuer):
    person_type = LicenceTypeFactory(holder_kind="111", validity_years=None,
                                     fields=["qualification"])
    issuer = make_issuer(person_type)
    licence = issue(lt=person_type, by=issuer, holder_code_type="111", holder_code=make_id_number(7),
                    holder_name="李四", data={"qualification": "A"})
    assert licence.valid_until is None and _verify(licence).valid
    with pytest.raises(InvalidInput):
        issue(lt=person_type, by=issuer, holder_code_type="001", data={"qualification": "A"})


def test_a_department_not_authorised_for_the_type_cannot_issue(issue, make_issuer):
    other_type = LicenceTypeFactory()
    stranger = make_issuer(other_type)
    with pytest.raises(Conflict):
        issue(by=stranger)


def test_one_changed_field_breaks_the_signature(issue):
    doc = licence_document(issue())
    for path in (("data", "address"), ("holder", "name"), ("valid_until",)):
        tampered = copy.deepcopy(doc)
        target = tampered["payload"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = "2099-12-31" if path == ("valid_until",) else "改过了"
        assert verify_licence_document(tampered, trust="430100").reason_code == "bad_signature"


def test_revoked_licence_is_invalid_and_revocation_is_final(issue):
    licence = issue()
    services.revoke_licence(licence=licence, reason="吊销")
    assert _verify(licence).reason_code == "revoked"
    with pytest.raises(Conflict):
        services.resume_licence(licence=licence, reason="想恢复")
    with pytest.raises(Conflict):
        services.revoke_licence(licence=licence, reason="再注销")
    assert _verify(licence).reason_code == "revoked"


def test_suspended_then_resumed(issue):
    licence = issue()
    services.suspend_licence(licence=licence, reason="整改")
    assert _verify(licence).reason_code == "suspended"
    services.resume_licence(licence=licence, reason="整改完成")
    assert _verify(licence).valid
    revision = StatusList.objects.get(issuer=licence.issuer).revision
    assert revision >= 3  # published at first issue, then on each change


def test_a_change_makes_a_new_version_and_supersedes_the_old(issue):
    old = issue()
    new = services.amend_licence(licence=old, reason="变更地址", data={**old.data, "address": "长沙市天心区 2 号"})
    old.refresh_from_db()
    assert (new.serial, new.version) == (old.serial, 2)
    assert new.identifier.split(".")[8] == "002" and new.identifier != old.identifier
    assert old.status == Licence.Status.REVOKED and old.next_version == new
    assert _verify(new).valid
    assert _verify(old).reason_code == "revoked"
    assert licence_document(new)["payload"]["previous"] == old.identifier
    with pytest.raises(Conflict):
        services.amend_licence(licence=new, reason="没变", data=dict(new.data))


def test_expired_by_date_and_not_yet_valid(issue):
    licence = issue(valid_from=date(2020, 1, 1), valid_until=date(2021, 1, 1))
    assert _verify(licence).reason_code == "expired"
    future = issue(valid_from=timezone.localdate() + timedelta(days=30))
    assert _verify(future).reason_code == "not_yet_valid"


def test_stale_or_missing_status_list_fails_closed(issue):
    licence = issue()
    status_list = StatusList.objects.get(issuer=licence.issuer)
    assert _verify(licence, now=status_list.valid_until + timedelta(seconds=1)).reason_code == "status_stale"
    services.refresh_status_lists(now=status_list.valid_until)
    assert _verify(licence, now=status_list.valid_until + timedelta(seconds=1)).valid
    StatusList.objects.filter(pk=status_list.pk).update(signature="")
    from tongban.licences import cache

    cache.invalidate()
    assert _verify(licence).reason_code == "status_missing"


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuance_never_reuses_a_serial_or_status_index(licence_type, issuer, enterprise):
    errors, count = [], 6

    def worker():
        try:
            services.issue_licence(licence_type=licence_type, issuer=issuer, holder_code_type="001",
                                   holder_code=enterprise.uscc, holder_name=enterprise.name,
                                   data={"business_name": "a", "address": "b"}, valid_from=date(2025, 1, 1))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    serials = list(Licence.objects.values_list("serial", flat=True))
    indexes = list(Licence.objects.values_list("status_index", flat=True))
    assert sorted(serials) == list(range(1, count + 1)) and len(set(indexes)) == count
