import pytest
from django.contrib.admin.sites import site
from django.db import models
from django.db.models import ProtectedError
from django.db.models.deletion import Collector
from django.test import RequestFactory

from tongban.audit.models import AppendOnlyError, AuditEntry
from tongban.audit.services import append_entry, verify_chain

pytestmark = pytest.mark.django_db


def test_queryset_update_and_delete_are_refused():
    append_entry(action="case.accept")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=1).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().reason == ""


def test_saving_or_deleting_an_existing_entry_is_refused():
    entry = append_entry(action="case.accept")
    entry.reason = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    loaded = AuditEntry.objects.get(pk=entry.pk)
    loaded.reason = "changed"
    with pytest.raises(AppendOnlyError):
        loaded.save(update_fields=["reason"])
    assert verify_chain().ok


def test_writing_entries_outside_append_entry_is_refused():
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.create(seq=1, action="x", actor_label="x", prev_hash="0", hash="0")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([AuditEntry(seq=1, action="x")])
    with pytest.raises(AppendOnlyError):
        AuditEntry(seq=1, action="x").save()
    assert not AuditEntry.objects.exists()


def test_a_user_in_the_trail_cannot_be_deleted(make_user):
    # Checked on the audit relation alone, so the test does not depend on other apps' tables.
    user = make_user()
    append_entry(action="case.accept", actor=user)
    field = AuditEntry._meta.get_field("actor")
    assert field.remote_field.on_delete is models.PROTECT
    collector = Collector(using="default", origin=user)
    with pytest.raises(ProtectedError):
        field.remote_field.on_delete(collector, field, AuditEntry.objects.filter(actor=user), "default")


def test_admin_is_read_only(admin_user):
    import tongban.urls  # noqa: F401  (the URLs register every app's admin: settings use SimpleAdminConfig)

    model_admin = site._registry[AuditEntry]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)
    assert str(AuditEntry._meta.verbose_name) == "审计日志"


def test_admin_pages_render_for_viewing(admin_client):
    entry = append_entry(action="case.accept", subject_code="430102199001011234")
    listing = admin_client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    assert "4301**********1234" in listing.content.decode()
    detail = admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
