"""Operators' acts that decide what a licence can say or who can sign one are in the trail: issuer
grants, key rotation and revocation (and catalogue imports: tests/catalog/test_files.py)."""

import pytest
from django.core.management import call_command

from tongban.audit.models import AuditEntry
from tongban.licences import keystore, services
from tongban.licences.models import LicenceTypeIssuer

from .factories import DepartmentFactory, LicenceTypeFactory

pytestmark = pytest.mark.django_db


def test_an_issuer_grant_is_audited_once(region):
    licence_type, department = LicenceTypeFactory(), DepartmentFactory(region=region)
    services.authorise_issuer(licence_type=licence_type, department=department, actor_label="cli:ops")
    services.authorise_issuer(licence_type=licence_type, department=department)  # no change, no entry
    [entry] = AuditEntry.objects.filter(action="licence.issuer.authorised")
    assert entry.actor_label == "cli:ops" and entry.subject_code == department.uscc
    assert entry.after == {"licence_type": licence_type.code, "department": department.uscc}


def test_key_rotation_and_revocation_are_audited(issuer):
    old = keystore.active_key(department=issuer)
    call_command("licence", "rotate-key", issuer.uscc)
    [rotated] = AuditEntry.objects.filter(action="licence.key.rotated")
    new = keystore.active_key(department=issuer)
    assert rotated.object_id == new.key_id and rotated.after["retired"] == old.key_id
    assert rotated.actor_label.startswith("cli:")
    services.revoke_signing_key(key=old, actor_label="cli:ops")
    assert AuditEntry.objects.filter(action="licence.key.revoked", object_id=old.key_id).count() == 1


def test_the_admin_grant_form_has_no_typed_creation_time_and_goes_to_the_trail(admin_client, region):
    licence_type, department = LicenceTypeFactory(), DepartmentFactory(region=region)
    form = admin_client.get("/admin/licences/licencetypeissuer/add/").content.decode()
    assert 'name="created_at' not in form
    response = admin_client.post("/admin/licences/licencetypeissuer/add/",
                                 {"licence_type": licence_type.pk, "department": department.pk, "active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LicenceTypeIssuer.objects.filter(licence_type=licence_type, department=department).exists()
    assert AuditEntry.objects.filter(action="licence.issuer.authorised", subject_code=department.uscc).count() == 1
