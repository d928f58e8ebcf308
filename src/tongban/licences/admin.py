"""Admin for the licence library. Licences, signatures and status lists are read-only here (they
change only through the services, which sign); private key material is never shown."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.audit.services import append_entry
from tongban.core.codes import mask
from tongban.core.errors import Conflict

from . import services, trust
from .models import (
    Licence,
    LicenceTypeIssuer,
    LicenceUse,
    SigningKey,
    StatusList,
    TrustedIssuer,
    TrustList,
    TrustRecognition,
    UseAuthorisation,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _lifecycle_action(service, label):
    def action(modeladmin, request, queryset):
        for licence in queryset:
            try:
                service(licence=licence, reason=f"管理后台操作（{request.user.get_username()}）", actor=request.user)
            except Conflict as exc:
                modeladmin.message_user(request, f"{licence.identifier}: {exc.problem.zh}", messages.WARNING)
    action.short_description = label
    action.__name__ = service.__name__
    return action


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    list_display = ("identifier", "licence_type", "issuer", "holder_name", "masked_holder_code", "version",
                    "status", "valid_until")
    list_filter = ("status", "licence_type", "issuer__region")
    search_fields = ("identifier", "holder_name", "holder_code", "source_ref")
    list_select_related = ("licence_type", "issuer")
    show_full_result_count = False
    exclude = ("holder_code",)
    readonly_fields = ("identifier", "licence_type", "issuer", "serial", "version", "holder_code_type",
                       "masked_holder_code", "holder_name", "data", "valid_from", "valid_until", "issued_at", "status",
                       "status_reason", "status_changed_at", "status_index", "previous", "source_ref", "issued_by",
                       "signing_key", "payload", "signature")
    actions = [_lifecycle_action(services.suspend_licence, _("中止所选证照")),
               _lifecycle_action(services.resume_licence, _("恢复所选证照")),
               _lifecycle_action(services.revoke_licence, _("注销所选证照（不可撤销）"))]

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("licences.change_licence")  # actions only

    @admin.display(description=_("持证主体代码"))
    def masked_holder_code(self, obj):
        return mask(obj.holder_code)


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ("key_id", "department", "region", "algorithm", "status", "valid_from", "valid_until")
    list_filter = ("algorithm", "status")
    search_fields = ("key_id", "department__uscc", "department__name")
    fields = ("key_id", "department", "region", "algorithm", "public_key", "status", "valid_from", "valid_until",
              "created_at")
    readonly_fields = fields
    actions = ["rotate"]

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("licences.change_signingkey")

    @admin.action(description=_("为所选密钥的部门轮换新密钥"))
    def rotate(self, request, queryset):
        for key in queryset.filter(department__isnull=False).select_related("department"):
            new = services.rotate_signing_key(department=key.department, algorithm=key.algorithm, actor=request.user)
            self.message_user(request, f"{key.department}: {new.key_id}")


class TrustedIssuerInline(admin.TabularInline):
    model = TrustedIssuer
    extra = 0
    raw_id_fields = ("department",)


@admin.register(TrustList)
class TrustListAdmin(admin.ModelAdmin):
    list_display = ("region", "sequence", "issued_at", "next_update")
    readonly_fields = ("sequence", "issued_at", "next_update", "document")
    inlines = [TrustedIssuerInline]
    actions = ["publish"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        trust.publish_trust_list(region=form.instance.region)

    @admin.action(description=_("重新签发所选信任列表"))
    def publish(self, request, queryset):
        for trust_list in queryset.select_related("region"):
            trust.publish_trust_list(region=trust_list.region)


@admin.register(TrustRecognition)
class TrustRecognitionAdmin(admin.ModelAdmin):
    list_display = ("region", "recognised", "created_at", "created_by")
    readonly_fields = ("created_at", "created_by")

    def save_model(self, request, obj, form, change):
        recognition = trust.recognise_region(region=obj.region, recognised=obj.recognised, actor=request.user)
        obj.pk = recognition.pk

    def delete_model(self, request, obj):
        trust.withdraw_recognition(region=obj.region, recognised=obj.recognised)


@admin.register(LicenceTypeIssuer)
class LicenceTypeIssuerAdmin(admin.ModelAdmin):
    """Grants go through the service (trail entry); the creation time is the system's, not typed in."""

    list_display = ("licence_type", "department", "active", "created_at")
    list_filter = ("active",)
    raw_id_fields = ("department",)
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):
        if change:
            with transaction.atomic():
                super().save_model(request, obj, form, change)
                append_entry(action="licence.issuer.changed", actor=request.user,
                             object_type="licence-type-issuer", object_id=str(obj.pk),
                             subject_code=obj.department.uscc,
                             after={"licence_type": obj.licence_type.code, "department": obj.department.uscc,
                                    "active": obj.active})
            return
        with transaction.atomic():
            saved = services.authorise_issuer(licence_type=obj.licence_type, department=obj.department,
                                              actor=request.user)
        obj.pk, obj.created_at, obj.active = saved.pk, saved.created_at, saved.active


@admin.register(StatusList)
class StatusListAdmin(ReadOnlyAdmin):
    list_display = ("issuer", "revision", "next_index", "size", "published_at", "valid_until")
    exclude = ("revocation", "suspension")


@admin.register(UseAuthorisation)
class UseAuthorisationAdmin(ReadOnlyAdmin):
    list_display = ("licence", "item_basic_code", "case_ref", "created_at", "expires_at", "consumed_at", "consumed_by")
    exclude = ("code_digest",)


@admin.register(LicenceUse)
class LicenceUseAdmin(ReadOnlyAdmin):
    list_display = ("licence", "kind", "at", "officer", "department", "case_ref", "item_basic_code", "reason")
    list_filter = ("kind",)
