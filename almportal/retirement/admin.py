"""Admin: the template is edited by publishing a new version through the service; plans, tasks,
sign-offs and archives are read-only here (their changes go through the pages and API)."""

import json

from django import forms
from django.contrib import admin

from ..core.admin import PortalAdmin, ReadOnlyAdmin
from ..core.errors import DomainError
from . import services
from .models import (
    Archive,
    DecommissionPlan,
    DecommissionTask,
    DecommissionTemplate,
    RetirementSignOff,
)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = DecommissionTemplate
        fields = ["items", "notes"]

    def clean_items(self):
        try:
            return services.clean_template_items(self.cleaned_data["items"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error


@admin.register(DecommissionTemplate)
class DecommissionTemplateAdmin(PortalAdmin):
    """Saving publishes a new version (started plans keep theirs); versions are never edited."""

    form = TemplateForm
    list_display = ("__str__", "notes", "created_by", "created_at")
    readonly_fields = ("version", "created_by", "created_at")

    def get_changeform_initial_data(self, request):
        from .selectors import current_template

        current = current_template()
        return {"items": json.dumps(current.items, indent=2)} if current else {}

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        published = services.template_publish(actor=request.user, items=form.cleaned_data["items"],
                                              notes=form.cleaned_data["notes"])
        obj.pk, obj.version = published.pk, published.version


@admin.register(DecommissionPlan)
class DecommissionPlanAdmin(ReadOnlyAdmin):
    list_display = ("agent", "state", "planned_date", "retention_until", "started_by",
                    "started_at", "retired_at")
    list_filter = ("state",)
    list_select_related = ("agent", "started_by")
    search_fields = ("agent__name", "agent__slug")


@admin.register(DecommissionTask)
class DecommissionTaskAdmin(ReadOnlyAdmin):
    list_display = ("title", "plan", "assignee", "due_date", "status", "completed_at")
    list_filter = ("status", "action")
    list_select_related = ("plan__agent", "assignee")


@admin.register(RetirementSignOff)
class RetirementSignOffAdmin(ReadOnlyAdmin):
    list_display = ("plan", "role", "user", "created_at")
    list_select_related = ("plan__agent", "user")


@admin.register(Archive)
class ArchiveAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "agent", "sha256", "size", "retain_until", "legal_hold")
    list_select_related = ("agent",)
