"""Bundles in the admin: drafts are edited as their definition (the catalogue format), checked on save
with every problem explained, and previewed as a plan for sample answers. Published versions are read-only."""

import json

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tongban.catalog.format import Document, check_documents
from tongban.core.errors import InvalidInput

from . import planner
from .models import Bundle, BundleVersion
from .selectors import item_specs_for


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
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
class BundleVersionAdmin(admin.ModelAdmin):
    form = BundleVersionForm
    list_display = ("bundle", "version", "status", "valid_from", "preview")
    list_filter = ("status", "bundle")
    filter_horizontal = ("regions",)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.status != BundleVersion.Status.PUBLISHED)

    @admin.display(description=_("预览"))
    def preview(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:bundles_bundleversion_preview", args=[obj.pk]), _("办事方案预览"))

    def get_urls(self):
        return [path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="bundles_bundleversion_preview"),
                *super().get_urls()]

    def preview_view(self, request, pk):
        version = BundleVersion.objects.select_related("bundle").get(pk=pk)
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
        context = {**self.admin_site.each_context(request), "title": _("办事方案预览"), "version": version, "regions": regions,
                   "region": region, "answers": answers_text, "plan": plan, "problems": problems, "opts": self.model._meta}
        return TemplateResponse(request, "admin/bundles/preview.html", context)
