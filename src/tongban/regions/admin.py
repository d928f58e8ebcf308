from django.contrib import admin

from .models import Department, Region, ServiceHall, Window


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "kind", "region")
    list_filter = ("kind", "region")
    search_fields = ("name", "uscc")
    list_select_related = ("region",)


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0


@admin.register(ServiceHall)
class ServiceHallAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "region")
    list_filter = ("region",)
    search_fields = ("name", "code")
    inlines = [WindowInline]
