"""Admin for the calendar: upload a year's notice, maintain single overrides. Writes go through services.
The national notice is the superuser's; region administrators see it and maintain their own region's
overrides (tongban.core.regionadmin, tongban.workdays.access)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import InvalidInput
from tongban.core.regionadmin import NationalReadOnlyAdmin, RegionScopedAdmin

from . import services
from .models import CalendarOverride, CalendarYear


class CalendarYearUploadForm(forms.ModelForm):
    file = forms.FileField(label=_("节假日安排文件（YAML）"),
                           help_text=_("格式见 docs/workdays.md；重新导入同一年份会替换该年的全国调整"))

    class Meta:
        model = CalendarYear
        fields: list[str] = []

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            self.content = upload.read()
            try:
                services.check_notice_document(content=self.content)
            except InvalidInput as exc:
                raise ValidationError([p.line() for p in exc.problems]) from exc
        return cleaned


@admin.register(CalendarYear)
class CalendarYearAdmin(NationalReadOnlyAdmin):
    list_display = ["year", "source", "loaded_at", "loaded_by"]
    readonly_fields = ["year", "source", "file_sha256", "loaded_at", "loaded_by"]
    search_fields = ["source"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CalendarYearUploadForm
            kwargs["fields"] = ["file"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["file"] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # a loaded year is changed by loading its file again

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data["file"]
        record = services.calendar_year_load_document(content=form.content, name=upload.name,
                                                      loaded_by=request.user)
        obj.pk, obj.year, obj.source = record.pk, record.year, record.source
        messages.info(request, _("已导入 %(year)s 年节假日安排") % {"year": record.year})

    def save_related(self, request, form, formsets, change):
        pass

    def delete_model(self, request, obj):
        services.calendar_year_delete(year=obj.year, actor=request.user)

    def delete_queryset(self, request, queryset):
        for record in list(queryset):
            services.calendar_year_delete(year=record.year, actor=request.user)


class CalendarOverrideForm(forms.ModelForm):
    class Meta:
        model = CalendarOverride
        fields = ["date", "kind", "region", "name", "source"]

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        for problem in services.check_override(self.instance):
            field = {"day": "date"}.get(problem.field, problem.field)
            self.add_error(field if field in self.fields else None, f"{problem.zh} / {problem.en}")


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(RegionScopedAdmin):
    access_kind = "calendar-override"
    form = CalendarOverrideForm
    list_display = ["date", "kind", "region", "name", "source", "updated_at"]
    list_filter = ["kind", ("region", admin.EmptyFieldListFilter)]
    search_fields = ["name", "source", "region__code", "region__name"]
    date_hierarchy = "date"
    list_select_related = ["region"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "region" and not request.user.is_superuser:
            field = self.limit_regions(request, field)
            field.required = True  # a national override is the superuser's
        return field

    def save_model(self, request, obj, form, change):
        values = {"day": obj.date, "kind": obj.kind, "name": obj.name, "region_code": obj.region_id,
                  "source": obj.source, "actor": request.user}
        if change:
            original = CalendarOverride.objects.get(pk=obj.pk)
            services.calendar_override_update(override=original, **values)
        else:
            created = services.calendar_override_create(**values)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.calendar_override_delete(override=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for override in list(queryset):
            services.calendar_override_delete(override=override, actor=request.user)
