from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from tongban.core.regionadmin import RegionScopedAdmin, is_region_admin

from .models import Enterprise, Mandate, SystemClient, User
from .roles import Role

# What a region administrator edits on their region's staff (never superuser flags or raw permissions).
REGION_ADMIN_FIELDSETS = (
    (None, {"fields": ("username", "password")}),
    (_("通办"), {"fields": ("real_name", "phone", "region", "department", "hall")}),
    (_("角色"), {"fields": ("is_active", "groups")}),
)


@admin.register(User)
class UserAdmin(RegionScopedAdmin, BaseUserAdmin):
    """Superusers see every account; a region administrator the staff of their region (access kind
    "staff-user"), with the roles as the only permissions they can give."""

    access_kind = "staff-user"
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

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return REGION_ADMIN_FIELDSETS
        return super().get_fieldsets(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "region":
            return self.limit_regions(request, field)
        if db_field.name in ("department", "hall"):
            return self.limit_regions(request, field, "region_id")
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and not request.user.is_superuser:
            field.queryset = Group.objects.filter(name__in=Role.values)
        return field

    def save_model(self, request, obj, form, change):
        if is_region_admin(request.user) and not request.user.is_superuser:
            # A region administrator creates staff of their own region, never a superuser.
            obj.kind, obj.is_superuser = User.Kind.STAFF, False
            if obj.region_id is None:
                obj.region_id = request.user.region_id
        super().save_model(request, obj, form, change)


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
