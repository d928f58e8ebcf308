from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Enterprise, Mandate, SystemClient, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "real_name", "kind", "masked_id_number", "region", "department", "is_active")
    list_filter = ("kind", "region", "groups", "is_active")
    search_fields = ("username", "real_name", "department__name")
    list_select_related = ("region", "department")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("通办"), {"fields": ("kind", "real_name", "id_number", "phone", "region", "department", "hall")}),
    )

    @admin.display(description=_("身份证号码"))
    def masked_id_number(self, obj):
        return obj.masked_id_number


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "legal_representative", "region")
    search_fields = ("name", "uscc")
    list_filter = ("region",)
    raw_id_fields = ("legal_representative",)


@admin.register(Mandate)
class MandateAdmin(admin.ModelAdmin):
    """Read-only here: mandates are granted and revoked through accounts.services (audited, cascading)."""

    list_display = ("principal", "agent", "all_items", "valid_from", "valid_until", "allow_subdelegation",
                    "parent", "revoked_at")
    list_filter = ("all_items", "allow_subdelegation", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("principal__name", "principal__uscc", "agent__username", "agent__real_name")
    list_select_related = ("principal", "agent", "parent")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SystemClient)
class SystemClientAdmin(admin.ModelAdmin):
    list_display = ("application", "department", "user", "scopes", "created_at")
    list_select_related = ("application", "department", "user")
    raw_id_fields = ("application", "department", "user")
