"""Admin of the exchange: catalogue, grants, standard vocabulary (edited here), query log (read-only),
demo registers. Personal numbers are masked in list pages."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tongban.core.codes import mask

from . import models


class ResourceFieldInline(admin.TabularInline):
    model = models.ResourceField
    extra = 0
    fields = ["position", "name", "label", "type", "sensitivity", "standard"]
    autocomplete_fields = ["standard"]


@admin.register(models.DataResource)
class DataResourceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "owner", "sharing_type", "subject_kind", "update_frequency", "adapter", "active"]
    list_filter = ["sharing_type", "subject_kind", "update_frequency", "active"]
    search_fields = ["code", "name", "owner__name"]
    raw_id_fields = ["owner"]
    inlines = [ResourceFieldInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "owner", "subject_kind", "active", "description"]}),
        (_("共享"), {"fields": ["sharing_type", "legal_basis", "not_shared_reason", "update_frequency"]}),
        (_("适配器"), {"fields": ["adapter", "adapter_config"]}),
    ]


@admin.register(models.ResourceField)
class ResourceFieldAdmin(admin.ModelAdmin):
    list_display = ["resource", "name", "label", "type", "sensitivity", "standard"]
    list_filter = ["sensitivity", "type", "resource"]
    search_fields = ["name", "label", "resource__code"]
    autocomplete_fields = ["standard"]


@admin.register(models.Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["id", "resource", "consumer", "status", "valid_from", "valid_until", "requested_at"]
    list_filter = ["status", "resource"]
    search_fields = ["consumer__name", "resource__code", "purpose"]
    filter_horizontal = ["fields"]
    raw_id_fields = ["consumer"]
    # Decisions are made through the services (audited); the admin shows them.
    readonly_fields = ["status", "requested_by", "requested_at", "decided_by", "decided_at", "decision_reason",
                       "revoked_by", "revoked_at", "revoke_reason"]


class CodeValueInline(admin.TabularInline):
    model = models.CodeValue
    extra = 0


@admin.register(models.CodeList)
class CodeListAdmin(admin.ModelAdmin):
    list_display = ["name", "label"]
    search_fields = ["name", "label"]
    inlines = [CodeValueInline]


@admin.register(models.CodeMapping)
class CodeMappingAdmin(admin.ModelAdmin):
    list_display = ["code_list", "region", "local_code", "value"]
    list_filter = ["code_list"]
    search_fields = ["local_code", "value__code", "value__label"]


@admin.register(models.StandardField)
class StandardFieldAdmin(admin.ModelAdmin):
    list_display = ["name", "label", "label_en", "type", "code_list"]
    list_filter = ["type"]
    search_fields = ["name", "label", "label_en"]


@admin.register(models.FieldAlias)
class FieldAliasAdmin(admin.ModelAdmin):
    list_display = ["local_name", "region", "standard", "note"]
    list_filter = ["region"]
    search_fields = ["local_name", "standard__name", "standard__label"]
    autocomplete_fields = ["standard"]


@admin.register(models.QueryLog)
class QueryLogAdmin(admin.ModelAdmin):
    list_display = ["at", "outcome", "resource_code", "masked_subject", "consumer", "owner", "case_ref", "actor_label",
                    "rule"]
    list_filter = ["outcome", "resource_code"]
    search_fields = ["=subject_code", "=case_ref", "purpose"]
    date_hierarchy = "at"
    list_select_related = ["consumer", "owner"]

    @admin.display(description=_("查询对象"))
    def masked_subject(self, obj):
        return mask(obj.subject_code) if obj.subject_kind == "person" else obj.subject_code

    # The log is evidence: nobody edits or deletes it here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _PersonRegisterAdmin(admin.ModelAdmin):
    search_fields = ["=id_number", "name"]

    @admin.display(description=_("居民身份证号码"))
    def masked_id_number(self, obj):
        return mask(obj.id_number)


@admin.register(models.PopulationRecord)
class PopulationRecordAdmin(_PersonRegisterAdmin):
    list_display = ["name", "masked_id_number", "gender", "region_code", "updated_at"]


@admin.register(models.SocialSecurityRecord)
class SocialSecurityRecordAdmin(_PersonRegisterAdmin):
    list_display = ["name", "masked_id_number", "status", "employer_name", "updated_at"]
    list_filter = ["status"]


@admin.register(models.LegalEntityRecord)
class LegalEntityRecordAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "legal_representative", "registered_capital", "status", "updated_at"]
    search_fields = ["=uscc", "name", "legal_representative"]


@admin.register(models.RealEstateRecord)
class RealEstateRecordAdmin(admin.ModelAdmin):
    list_display = ["certificate_number", "owner_name", "address", "area", "usage", "updated_at"]
    search_fields = ["=certificate_number", "=owner_code", "owner_name", "address"]
