"""The demo helper and the admin pages."""

from __future__ import annotations

import pytest

from tongban.licences import crypto, demo
from tongban.licences.models import SigningKey, TrustList, TrustRecognition
from tongban.licences.verification import verify_licence_document
from tongban.regions.models import Department

from .factories import DepartmentFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_ensure_demo_keys_is_idempotent_and_uses_sm2_in_xianning():
    xianning = RegionFactory(code="421200", name="咸宁市")
    changsha, zhuzhou = RegionFactory(code="430100"), RegionFactory(code="430200")
    market = DepartmentFactory(region=xianning, kind=Department.Kind.MARKET_REGULATION)
    other = DepartmentFactory(region=xianning, kind=Department.Kind.TAX)
    DepartmentFactory(region=changsha)
    DepartmentFactory(region=zhuzhou)
    first = demo.ensure_demo_keys()
    assert first["keys_created"] == 4
    assert SigningKey.objects.get(department=market, status="active").algorithm == crypto.SM2_SM3
    assert SigningKey.objects.get(department=other, status="active").algorithm == crypto.ED25519
    assert set(TrustRecognition.objects.values_list("region_id", "recognised_id")) == {
        ("430100", "430200"), ("430200", "430100")}
    sequences = dict(TrustList.objects.values_list("region_id", "sequence"))
    assert demo.ensure_demo_keys()["keys_created"] == 0
    assert dict(TrustList.objects.values_list("region_id", "sequence")) == sequences
    assert SigningKey.objects.filter(department__isnull=False).count() == 4


def test_demo_sm2_licence_verifies(issue, make_issuer, licence_type):
    RegionFactory(code="421200")
    department = make_issuer(licence_type, region=RegionFactory(code="421200"), algorithm=crypto.SM2_SM3)
    from tongban.licences.selectors import licence_document

    assert verify_licence_document(licence_document(issue(by=department)), trust="421200").valid


@pytest.mark.parametrize("model", ["licence", "signingkey", "trustlist", "trustrecognition", "statuslist",
                                   "licenceuse", "useauthorisation", "licencetypeissuer"])
def test_admin_pages_render_without_private_material(client, issue, model):
    licence = issue()
    admin = UserFactory(is_staff=True, is_superuser=True, kind="staff", id_number="")
    client.force_login(admin)
    response = client.get(f"/admin/licences/{model}/")
    assert response.status_code == 200
    if model == "signingkey":
        key = licence.signing_key
        page = client.get(f"/admin/licences/signingkey/{key.pk}/change/").content.decode()
        assert key.public_key in page and key.encrypted_private_key not in page
    if model == "licence":
        assert licence.holder_code not in response.content.decode()  # masked in the list
        page = client.get(f"/admin/licences/licence/{licence.pk}/change/").content.decode()
        assert licence.signature in page
