"""Django admin for readiness records: read-only views with history. Changes go through the
portal's pages and API, which call releases.services; nothing here is deleted."""

from django.contrib import admin

from ..core.admin import AuditedAdmin
from .models import ChecklistItem, EvaluationRun, EvaluationSuite, Evidence, SignOff


class ReadOnlyAdmin(AuditedAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ReadOnlyAdmin):
    list_display = ("title", "release", "pillar", "status", "owner", "reviewer")
    list_filter = ("status", "pillar")
    search_fields = ("title", "key", "release__agent__name")
    list_select_related = ("release__agent", "owner", "reviewer")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "item", "effective_date", "uploaded_by", "uploaded_at",
                    "replaced_at")
    list_filter = ("kind",)
    search_fields = ("original_name", "url", "sha256")
    list_select_related = ("item__release__agent", "uploaded_by")


@admin.register(EvaluationSuite)
class EvaluationSuiteAdmin(ReadOnlyAdmin):
    list_display = ("name", "agent", "dataset_ref", "dataset_version")
    search_fields = ("name", "agent__name", "dataset_ref")
    list_select_related = ("agent",)


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "passed", "source", "created_by", "created_at")
    list_filter = ("passed", "source")
    search_fields = ("release__agent__name", "suite__name")
    list_select_related = ("release__agent", "suite", "created_by")


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "release", "manifest_hash", "created_at", "voided_at")
    list_filter = ("role", "decision")
    search_fields = ("release__agent__name", "user__username", "manifest_hash")
    list_select_related = ("release__agent", "user")
