"""Region administrators (Role.ADMINISTRATOR with a region) in the Django admin.

A region administrator maintains their own region's (and its sub-regions') catalogue, bundle versions,
staff and calendar overrides, and sees nothing of another region. What they may reach comes from the
access layer (tongban.core.access), not from Django model permissions: each admin below names its access
kind, the kind's scope decides what the change lists and change pages show (anything else is "not
found"), and the kind's ADMINISTER / DELETE checks decide what may be changed or deleted. National data
(licence types, material kinds, bundles themselves, the national holiday notice) is read-only for them.
Superusers keep everything. Published versions are deleted by nobody (they are history: cases cite them).
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib import admin
from django.db.models import QuerySet

from tongban.accounts.roles import Role

from . import access
from .errors import Conflict, Forbidden


class AdminAction(StrEnum):
    ADMINISTER = "administer"  # change (or, for a new object, create) it
    DELETE = "delete"


def is_region_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff
                and getattr(user, "kind", "") == "staff" and user.region_id and user.has_role(Role.ADMINISTRATOR))


def administered_regions(user) -> list[str]:
    """The region codes a user administers: their region and everything below it (none for others)."""
    from tongban.cases.access import region_subtree

    return region_subtree(user.region_id) if is_region_admin(user) else []


def region_scope(user, qs: QuerySet, field: str) -> QuerySet:
    """`qs` narrowed to the objects whose `field` (a region code) the user administers."""
    if getattr(user, "is_superuser", False):
        return qs
    regions = administered_regions(user)
    return qs.filter(**{f"{field}__in": regions}) if regions else qs.none()


def require_region(user, region_code: str | None) -> None:
    """Forbidden unless the user may administer objects of `region_code` (None: national)."""
    if getattr(user, "is_superuser", False):
        return
    if region_code is None or region_code not in administered_regions(user):
        raise Forbidden("只能管理本区划的数据", "you may only administer your own region's data", "admin.region")


def published_is_kept(published: bool) -> None:
    if published:
        raise Conflict("已发布的版本不能修改或删除，请新建版本",
                       "a published version cannot be changed or deleted: create a new version", "admin.published")


class RegionScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows, pages and buttons come from the access kind `access_kind`."""

    access_kind = ""

    def get_queryset(self, request):
        return access.visible(request.user, self.access_kind, super().get_queryset(request))

    def _may(self, request, action: AdminAction, obj) -> bool:
        try:
            access.check(request.user, self.access_kind, action, obj)
        except (Forbidden, Conflict):
            return False
        return True

    def _staff(self, request) -> bool:
        return request.user.is_superuser or is_region_admin(request.user)

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)  # obj, if any, was found through get_queryset (the scope)

    def has_add_permission(self, request):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return self._staff(request) and (obj is None or self._may(request, AdminAction.ADMINISTER, obj))

    def has_delete_permission(self, request, obj=None):
        return self._staff(request) and (obj is None or self._may(request, AdminAction.DELETE, obj))

    def delete_queryset(self, request, queryset):
        # The bulk action deletes only what may be deleted one by one (never a published version).
        for obj in queryset:
            if self._may(request, AdminAction.DELETE, obj):
                self.delete_model(request, obj)

    def limit_regions(self, request, formfield, field: str = "code"):
        """A region (or department, hall) choice narrowed to what the user administers."""
        if formfield is not None and not request.user.is_superuser:
            formfield.queryset = region_scope(request.user, formfield.queryset, field)
        return formfield


class NationalReadOnlyAdmin(admin.ModelAdmin):
    """National vocabularies: region administrators may look (and pick them in their forms), not change."""

    def has_module_permission(self, request):
        return request.user.is_superuser or is_region_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or is_region_admin(request.user) or super().has_view_permission(request, obj)
