"""Issuer trust: trust lists, expiry, cross-region recognition (跨域互认), key rotation and revocation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tongban.licences import keystore, services, trust
from tongban.licences.models import TrustList
from tongban.licences.selectors import licence_document
from tongban.licences.verification import verify_licence_document

from .factories import RegionFactory

pytestmark = pytest.mark.django_db


def test_a_key_missing_from_every_trust_list_is_untrusted(issue, make_issuer, licence_type):
    outsider = make_issuer(licence_type, trusted=False)
    doc = licence_document(issue(by=outsider))
    assert verify_licence_document(doc, trust="430100").reason_code == "untrusted_issuer"
    doc["proof"]["kid"] = "no-such-key"
    assert verify_licence_document(doc, trust="430100").reason_code == "unknown_key"


def test_a_licence_signed_by_a_key_of_another_issuer_is_rejected(issue, make_issuer, licence_type):
    licence = issue()
    impostor = make_issuer(licence_type)
    doc = licence_document(licence)
    doc["proof"]["kid"] = keystore.active_key(department=impostor).key_id
    assert verify_licence_document(doc, trust="430100").reason_code == "issuer_mismatch"


def test_another_regions_licence_verifies_only_once_that_region_is_recognised(issue, make_issuer, licence_type):
    changsha = RegionFactory(code="430100")
    zhuzhou = RegionFactory(code="430200", name="株洲市")
    doc = licence_document(issue(by=make_issuer(licence_type, region=zhuzhou)))
    assert verify_licence_document(doc, trust="430200").valid
    assert verify_licence_document(doc, trust="430100").reason_code == "untrusted_issuer"
    trust.recognise_region(region=changsha, recognised=zhuzhou)
    assert verify_licence_document(doc, trust="430100").valid
    assert json.loads(TrustList.objects.get(region=changsha).document)["recognises"] == ["430200"]
    trust.withdraw_recognition(region=changsha, recognised=zhuzhou)
    assert verify_licence_document(doc, trust="430100").reason_code == "untrusted_issuer"


def test_recognition_is_not_transitive(issue, make_issuer, licence_type):
    a, b, c = (RegionFactory(code=code) for code in ("430100", "430200", "430300"))
    doc = licence_document(issue(by=make_issuer(licence_type, region=c)))
    trust.recognise_region(region=a, recognised=b)
    trust.recognise_region(region=b, recognised=c)
    assert verify_licence_document(doc, trust="430200").valid
    assert verify_licence_document(doc, trust="430100").reason_code == "untrusted_issuer"


def test_a_provinces_issuers_are_trusted_in_its_cities(issue, make_issuer, licence_type, region):
    province = RegionFactory(code="430000", name="湖南省", level="province")
    region.parent = province
    region.save(update_fields=["parent"])
    doc = licence_document(issue(by=make_issuer(licence_type, region=province)))
    assert verify_licence_document(doc, trust="430100").valid


def test_an_expired_trust_list_is_not_trusted(issue):
    licence = issue()
    expires = TrustList.objects.get(region_id="430100").next_update
    result = verify_licence_document(licence_document(licence), trust="430100", now=expires + timedelta(seconds=1))
    assert result.reason_code == "trust_list_expired"


def test_rotation_keeps_old_licences_valid_and_signs_new_ones_with_the_new_key(issue, issuer):
    old = issue()
    new_key = services.rotate_signing_key(department=issuer)
    new = issue()
    assert new.signing_key == new_key and old.signing_key != new_key
    assert verify_licence_document(licence_document(old), trust="430100").valid
    assert verify_licence_document(licence_document(new), trust="430100").valid


def test_a_revoked_key_no_longer_verifies_what_it_signed(issue, issuer):
    licence = issue()
    services.rotate_signing_key(department=issuer)
    services.revoke_signing_key(key=licence.signing_key)
    assert verify_licence_document(licence_document(licence), trust="430100").reason_code == "untrusted_issuer"


def test_the_trust_list_is_signed_by_the_region(issue):
    issue()
    document = trust.trust_list_document("430100")
    assert trust.context_from_bundle(document).keys  # its own signature verifies
    document["issuers"][0]["keys"][0]["public_key"] = document["proof"]["public_key"]
    assert not trust.context_from_bundle(document).keys  # a changed list trusts nothing
