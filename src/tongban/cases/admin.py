"""Admin for case handling: workflows are edited here (new versions); cases are read-only views
(every change goes through the services so that it lands in the trail)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from .models import Case, DeadlineEntry, Notice, SubCase, SupervisionNotice, Workflow, WorkflowAssignment


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubCaseInline(admin.TabularInline):
    model = SubCase
    fields = ("key", "stage", "department", "status", "step", "hold", "started_on", "statutory_due", "promised_due")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status", "channel", "region", "intake_region", "applicant_name", "accepted_on")
    list_filter = ("status", "channel", "kind")
    search_fields = ("number", "applicant_name")
    show_full_result_count = False  # no exact COUNT on a big table
    inlines = [SubCaseInline]


class DeadlineEntryInline(admin.TabularInline):
    model = DeadlineEntry
    fields = ("kind", "hold", "on", "days", "reason", "statutory_due", "promised_due", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SubCase)
class SubCaseAdmin(ReadOnlyAdmin):
    list_display = ("case", "key", "department", "status", "step", "promised_due", "statutory_due")
    list_filter = ("status", "hold")
    search_fields = ("case__number",)
    show_full_result_count = False
    inlines = [DeadlineEntryInline]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "issued_on", "issuer_name")
    list_filter = ("kind",)
    search_fields = ("number",)
    show_full_result_count = False


@admin.register(SupervisionNotice)
class SupervisionNoticeAdmin(ReadOnlyAdmin):
    list_display = ("department", "subcase", "issued_by", "issued_at", "respond_by", "acknowledged_at")


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = ("code", "version", "name", "definition")

    def clean_definition(self):
        from .workflows import check_definition

        definition = self.cleaned_data["definition"]
        problems = check_definition(definition)
        if problems:
            raise forms.ValidationError([f"{p.field}: {p.zh} / {p.en}" for p in problems])
        return definition


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowForm
    list_display = ("code", "version", "name", "created_at")

    def get_readonly_fields(self, request, obj=None):
        # A workflow version in use is never edited: running sub-cases keep theirs. Add a new version.
        return ("code", "version", "name", "definition", "created_at") if obj else ("created_at",)


@admin.register(WorkflowAssignment)
class WorkflowAssignmentAdmin(admin.ModelAdmin):
    list_display = ("basic_code", "region", "workflow_code")
