"""Catalogue administration in the Django admin (Chinese). Published versions are read-only. Region
administrators maintain their own region's items (tongban.core.regionadmin); the vocabularies are national."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import NotFound
from tongban.core.regionadmin import NationalReadOnlyAdmin, RegionScopedAdmin, is_region_admin

from . import diff
from .models import Item, ItemMaterial, ItemVersion, LicenceType, MaterialKind


@admin.register(LicenceType)
class LicenceTypeAdmin(NationalReadOnlyAdmin):
    list_display = ("name", "code", "holder_kind", "validity_years")
    search_fields = ("name", "code")


@admin.register(MaterialKind)
class MaterialKindAdmin(NationalReadOnlyAdmin):
    list_display = ("name", "code", "licence_type", "data_resource")
    search_fields = ("name", "code")
    list_select_related = ("licence_type",)


class ItemVersionInline(admin.TabularInline):
    model = ItemVersion
    fields = ("version", "status", "valid_from", "statutory_days", "promised_days", "visits")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return is_region_admin(request.user) or super().has_view_permission(request, obj)


@admin.register(Item)
class ItemAdmin(RegionScopedAdmin):
    access_kind = "catalog-item"
    list_display = ("name", "basic_code", "implementation_code", "region", "department", "compare")
    list_filter = ("region", "department__kind")
    search_fields = ("name", "basic_code", "implementation_code")
    list_select_related = ("region", "department")
    inlines = [ItemVersionInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "region":
            return self.limit_regions(request, field)
        if db_field.name == "department":
            return self.limit_regions(request, field, "region_id")
        return field

    @admin.display(description=_("区域比对"))
    def compare(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:catalog_item_diff", args=[obj.basic_code]), _("比对各区划"))

    def get_urls(self):
        return [path("diff/<str:basic_code>/", self.admin_site.admin_view(self.diff_view), name="catalog_item_diff"),
                *super().get_urls()]

    def diff_view(self, request, basic_code):
        try:
            comparison = diff.compare_item(basic_code)
        except NotFound:
            comparison = None
        context = {**self.admin_site.each_context(request), "title": _("事项区域差异比对"), "comparison": comparison,
                   "basic_code": basic_code, "opts": self.model._meta}
        return TemplateResponse(request, "admin/catalog/item_diff.html", context)


class ItemMaterialInline(admin.TabularInline):
    model = ItemMaterial
    extra = 0
    autocomplete_fields = ("kind",)

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    has_add_permission = has_delete_permission = has_change_permission

    def has_view_permission(self, request, obj=None):
        return is_region_admin(request.user) or super().has_view_permission(request, obj)


@admin.register(ItemVersion)
class ItemVersionAdmin(RegionScopedAdmin):
    access_kind = "catalog-item-version"
    list_display = ("name", "item", "version", "status", "valid_from", "statutory_days", "promised_days")
    list_filter = ("status", "item__region", "item_type")
    search_fields = ("name", "item__implementation_code", "item__basic_code")
    list_select_related = ("item__region",)
    inlines = [ItemMaterialInline]
    readonly_fields = ("status", "published_at")

    # Published versions are immutable (create a new version instead) and never deleted: the access
    # kind's checks say so (tongban.catalog.access).

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return self.limit_regions(request, field, "region_id") if db_field.name == "item" else field
