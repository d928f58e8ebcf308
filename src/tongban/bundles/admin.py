"""Bundles in the admin: drafts are edited as their definition (the catalogue format), checked on save
with every problem explained, and previewed as a plan for sample answers. Published versions are read-only
and never deleted. Region administrators maintain the versions of their own region (tongban.core.regionadmin);
bundles themselves (code, name, theme) are national."""

import json

from django import forms
from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tongban.catalog.format import Document, check_documents
from tongban.core.errors import InvalidInput
from tongban.core.regionadmin import NationalReadOnlyAdmin, RegionScopedAdmin

from . import planner
from .models import Bundle, BundleVersion
from .selectors import item_specs_for

SOURCE_LABELS = {
    "produced": _("由前一环节办结后产生"), "licence": _("调用电子证照"), "data": _("部门共享数据"),
    "commitment": _("可签署告知承诺书代替"), "applicant": _("申请人提交"),
}


@admin.register(Bundle)
class BundleAdmin(NationalReadOnlyAdmin):
    list_display = ("name", "code", "theme")
    search_fields = ("name", "code")


class BundleVersionForm(forms.ModelForm):
    class Meta:
        model = BundleVersion
        fields = ("bundle", "version", "status", "valid_from", "regions", "definition")

    def clean(self):
        data = super().clean()
        bundle, definition = data.get("bundle"), data.get("definition")
        if bundle is None or not isinstance(definition, dict):
            return data
        version = {"version": data.get("version") or 1, "status": data.get("status") or "draft",
                   "valid_from": data["valid_from"].isoformat() if data.get("valid_from") else None,
                   "regions": [r.code for r in data.get("regions") or []], **definition}
        doc = Document("admin", {"format": "tongban.catalog/v1", "bundles": [
            {"code": bundle.code, "name": bundle.name, "theme": bundle.theme, "versions": [version]}]})
        problems = check_documents([doc])
        if problems:
            raise forms.ValidationError([f"{p.field.replace('bundles[0].versions[0].', '')}: {p.zh} / {p.en}" for p in problems])
        return data


@admin.register(BundleVersion)
class BundleVersionAdmin(RegionScopedAdmin):
    access_kind = "bundle-version"
    form = BundleVersionForm
    list_display = ("bundle", "version", "status", "valid_from", "preview")
    list_filter = ("status", "bundle")
    filter_horizontal = ("regions",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return self.limit_regions(request, field) if db_field.name == "regions" else field

    @admin.display(description=_("预览"))
    def preview(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:bundles_bundleversion_preview", args=[obj.pk]), _("办事方案预览"))

    def get_urls(self):
        return [path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="bundles_bundleversion_preview"),
                *super().get_urls()]

    def preview_view(self, request, pk):
        version = self.get_queryset(request).select_related("bundle").filter(pk=pk).first()
        if version is None:
            raise Http404(pk)
        regions = list(version.regions.order_by("code"))
        region = request.GET.get("region") or (regions[0].code if regions else "")
        answers_text = request.GET.get("answers", "{}")
        plan, problems = None, []
        try:
            answers = json.loads(answers_text)
            plan = planner.make_plan(
                bundle={"code": version.bundle.code, "name": version.bundle.name, "version": version.version},
                definition=version.definition, region_code=region, answers=answers,
                items=item_specs_for(version, region, version.valid_from), strict=False)
        except json.JSONDecodeError as exc:
            problems = [f"answers: JSON 格式错误 / invalid JSON: {exc}"]
        except InvalidInput as exc:
            problems = [p.line() for p in exc.problems]
        materials = [{**m, "source_label": SOURCE_LABELS.get(m["source"], m["source"])} for m in plan["materials"]] if plan else []
        context = {**self.admin_site.each_context(request), "title": _("办事方案预览"), "version": version, "regions": regions,
                   "region": region, "answers": answers_text, "plan": plan, "materials": materials, "problems": problems,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/bundles/preview.html", context)
