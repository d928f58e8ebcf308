"""Read-only admin for the audit trail: nobody may add, change or delete entries here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tongban.core.codes import mask

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("partition", "seq", "at", "actor_label", "role", "action", "object_type", "object_id",
                    "case_ref", "masked_subject_code", "region_code")
    list_filter = ("role", "object_type")
    search_fields = ("=case_ref", "=subject_code", "=object_id", "^action", "=actor_label")
    ordering = ("-id",)
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over millions of rows
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    fields = readonly_fields
    list_select_related = ("actor",)
    actions = None

    @admin.display(description=_("当事人证件号码"))
    def masked_subject_code(self, obj: AuditEntry) -> str:
        return mask(obj.subject_code)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
