"""The holder: own licences, showing by QR (亮证), one-time use authorisations (授权用证), use log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.core.errors import Conflict, InvalidInput, NotFound
from tongban.licences import services, sharing
from tongban.licences.models import LicenceUse
from tongban.licences.selectors import access_licence_by_holder, licences_of_holder, uses_of_licence

from .factories import DepartmentFactory, LicenceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

ITEM = "430101000010"


@pytest.fixture
def holder(enterprise):
    return enterprise.legal_representative


@pytest.fixture
def officer(issuer):
    return UserFactory(kind="staff", department=issuer, id_number="")


def test_the_legal_representative_holds_the_enterprises_licences_and_nobody_else(issue, holder):
    licence = issue()
    assert list(licences_of_holder(holder)) == [licence]
    assert access_licence_by_holder(holder, licence.pk) == licence
    stranger = UserFactory()
    with pytest.raises(NotFound):
        access_licence_by_holder(stranger, licence.pk)
    assert list(licences_of_holder(stranger)) == []


def test_a_person_holds_licences_issued_to_their_id_number(issue, make_issuer):
    person = UserFactory()
    person_type = LicenceTypeFactory(holder_kind="111", fields=[])
    licence = issue(lt=person_type, by=make_issuer(person_type), holder_code_type="111",
                    holder_code=person.id_number, holder_name=person.real_name, data={})
    assert access_licence_by_holder(person, licence.pk) == licence


def test_superseded_versions_are_hidden_unless_history_is_asked_for(issue, holder):
    old = issue()
    new = services.amend_licence(licence=old, reason="变更", data={**old.data, "scope": "热食类"})
    assert list(licences_of_holder(holder)) == [new]
    assert set(licences_of_holder(holder, include_history=True)) == {old, new}


def test_show_token_discloses_only_the_chosen_fields_and_expires(issue, holder, client):
    licence = issue()
    token = sharing.create_show_token(holder=holder, licence_id=licence.pk, fields=["holder_name", "data.address"])
    shown = sharing.verify_show_token(token=token.token)
    assert shown["valid"] is True
    assert set(shown["fields"]) == {"type_name", "issuer_name", "holder_name", "data.address"}
    assert "business_name" not in str(shown) and licence.holder_code not in str(shown)
    assert token.qr_svg().startswith("<svg") and token.qr_png().startswith(b"\x89PNG")

    later = token.expires_at + timedelta(seconds=1)
    assert sharing.verify_show_token(token=token.token, now=later)["reason"] == "token_expired"
    body, _, mac = token.token.partition(".")
    assert sharing.verify_show_token(token=body + "." + mac[::-1])["reason"] == "token_invalid"
    response = client.get(f"/api/v1/licences/show/{token.token}")
    assert response.status_code == 200 and response.json()["fields"]["holder_name"] == licence.holder_name
    assert LicenceUse.objects.filter(licence=licence, kind="shown").count() == 2


def test_show_token_refuses_undisclosable_fields_and_other_peoples_licences(issue, holder):
    licence = issue()
    with pytest.raises(InvalidInput):
        sharing.create_show_token(holder=holder, licence_id=licence.pk, fields=["payload"])
    with pytest.raises(NotFound):
        sharing.create_show_token(holder=UserFactory(), licence_id=licence.pk, fields=["holder_name"])


def test_show_token_reports_a_revoked_licence(issue, holder):
    licence = issue()
    token = sharing.create_show_token(holder=holder, licence_id=licence.pk, fields=[])
    services.revoke_licence(licence=licence, reason="吊销")
    assert sharing.verify_show_token(token=token.token)["reason"] == "revoked"


def test_authorisation_is_single_use_for_one_item_and_one_case(issue, holder, officer):
    licence = issue()
    _, code = sharing.authorise_use(holder=holder, licence_id=licence.pk, item_basic_code=ITEM, case_ref="CASE-9")
    with pytest.raises(Conflict) as exc:
        sharing.consume_authorisation(code=code, item_basic_code=ITEM, case_ref="CASE-10", officer=officer,
                                      reason="核验营业执照")
    assert exc.value.problem.rule == "authorisation.scope"
    with pytest.raises(Conflict):
        sharing.consume_authorisation(code=code, item_basic_code="430100012345", case_ref="CASE-9",
                                      officer=officer, reason="核验")
    used = sharing.consume_authorisation(code=code.lower(), item_basic_code=ITEM, case_ref="CASE-9",
                                         officer=officer, reason="核验营业执照")
    assert used.licence == licence and used.result.valid
    with pytest.raises(Conflict) as exc:
        sharing.consume_authorisation(code=code, item_basic_code=ITEM, case_ref="CASE-9", officer=officer,
                                      reason="再用一次")
    assert exc.value.problem.rule == "authorisation.used"
    with pytest.raises(NotFound):
        sharing.consume_authorisation(code="WRONGCODE2", item_basic_code=ITEM, case_ref="CASE-9", officer=officer,
                                      reason="核验")


def test_authorisation_expires_and_needs_a_staff_officer(issue, holder, officer):
    licence = issue()
    auth, code = sharing.authorise_use(holder=holder, licence_id=licence.pk, item_basic_code=ITEM, case_ref="C-1")
    with pytest.raises(NotFound):
        sharing.consume_authorisation(code=code, item_basic_code=ITEM, case_ref="C-1", officer=holder, reason="x")
    with pytest.raises(Conflict) as exc:
        sharing.consume_authorisation(code=code, item_basic_code=ITEM, case_ref="C-1", officer=officer, reason="x",
                                      now=auth.expires_at + timedelta(seconds=1))
    assert exc.value.problem.rule == "authorisation.expired"


def test_an_officer_of_a_region_that_does_not_recognise_the_issuer_gets_no_licence(issue, holder):
    from .factories import RegionFactory

    far_officer = UserFactory(kind="staff", id_number="",
                              department=DepartmentFactory(region=RegionFactory(code="421200")))
    _, code = sharing.authorise_use(holder=holder, licence_id=issue().pk, item_basic_code=ITEM, case_ref="C-2")
    with pytest.raises(Conflict) as exc:
        sharing.consume_authorisation(code=code, item_basic_code=ITEM, case_ref="C-2", officer=far_officer,
                                      reason="异地核验")
    assert exc.value.problem.rule == "licence.untrusted_issuer"


def test_uses_are_visible_to_the_holder_only(issue, holder, officer):
    licence = issue()
    _, code = sharing.authorise_use(holder=holder, licence_id=licence.pk, item_basic_code=ITEM, case_ref="CASE-9")
    sharing.consume_authorisation(code=code, item_basic_code=ITEM, case_ref="CASE-9", officer=officer,
                                  reason="核验营业执照")
    [use] = uses_of_licence(licence, holder)
    assert (use.officer, use.department, use.case_ref, use.item_basic_code, use.reason) == (
        officer, officer.department, "CASE-9", ITEM, "核验营业执照")
    assert use.at <= timezone.now()
    with pytest.raises(NotFound):
        uses_of_licence(licence, UserFactory())
    with pytest.raises(NotFound):
        uses_of_licence(licence, officer)
