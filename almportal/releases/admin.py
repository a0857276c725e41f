"""Django admin for releases: a draft release is edited through the drafting services (the
manifest is recomputed), a frozen one only shown; readiness records are read-only views with
history. Every write is a releases service call; nothing here is deleted."""

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from ..core.admin import AuditedAdmin, ServiceAdmin, adopt, reason_field, report
from ..core.errors import DomainError
from ..inventory.models import COMPONENT_MODELS
from . import services
from .models import ChecklistItem, EvaluationRun, EvaluationSuite, Evidence, Release, SignOff
from .selectors import releases_visible_to


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


# --- Releases -------------------------------------------------------------------------------

class ReleaseAdminForm(forms.ModelForm):
    reason = reason_field()

    class Meta:
        model = Release
        fields = ("agent", "label", "notes", "configuration", *Release.COMPONENT_RELATIONS.values())


@admin.register(Release)
class ReleaseAdmin(ServiceAdmin):
    """Drafts are edited through release_create / release_update (the manifest is recomputed
    by the service); from submission on a release is frozen and only shown."""

    form = ReleaseAdminForm
    list_display = ("agent", "display_version", "number", "state", "short_hash", "created_by",
                    "created_at", "submitted_at")
    list_filter = ("state", "created_at", "submitted_at")
    list_select_related = ("agent", "created_by", "submitted_by")
    search_fields = ("agent__name", "agent__slug", "label", "notes", "manifest_hash")
    autocomplete_fields = ("agent",)
    filter_horizontal = tuple(Release.COMPONENT_RELATIONS.values())
    readonly_fields = ("number", "state", "manifest_hash", "manifest_display", "created_by",
                       "created_at", "submitted_by", "submitted_at")
    actions = ("submit",)

    def get_fieldsets(self, request, obj=None):
        content = [(None, {"fields": ["agent", "label", "notes", "configuration"]}),
                   ("Components", {"fields": list(Release.COMPONENT_RELATIONS.values())})]
        if obj is not None:
            content.append(("Manifest and state", {"fields": list(self.readonly_fields)}))
        if obj is None or self.has_change_permission(request, obj):
            content.append(("Change", {"fields": ["reason"]}))
        return content

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("agent", *self.readonly_fields)

    def get_queryset(self, request):
        ordering = self.get_ordering(request)
        releases = releases_visible_to(request.user)
        return releases.order_by(*ordering) if ordering else releases

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        for kind, relation in Release.COMPONENT_RELATIONS.items():
            field = form_class.base_fields.get(relation)
            if field is None:
                continue
            components = COMPONENT_MODELS[kind]._default_manager.select_related("agent")
            if obj is not None:
                components = components.filter(agent=obj.agent_id)
            field.queryset = components
            field.label_from_instance = lambda c: f"{c.agent} · {c}"
        return form_class

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="manifest hash")
    def short_hash(self, obj: Release) -> str:
        return obj.manifest_hash[:12]

    @admin.display(description="manifest")
    def manifest_display(self, obj: Release) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.manifest, indent=2, sort_keys=True))

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        components = {kind: [c.pk for c in data.get(relation, [])]
                      for kind, relation in Release.COMPONENT_RELATIONS.items()}
        if change:
            release = services.release_update(
                actor=request.user, release=obj, label=data["label"], notes=data["notes"],
                configuration=data["configuration"], components=components,
                reason=data.get("reason", "").strip())
        else:
            release = services.release_create(
                actor=request.user, agent=data["agent"], label=data["label"],
                notes=data["notes"], configuration=data["configuration"],
                components=components)
        adopt(obj, release)

    @admin.action(description="Submit the selected draft releases for sign-off")
    def submit(self, request, queryset) -> None:
        done, failures = 0, []
        for release in queryset.select_related("agent"):
            try:
                services.release_submit(actor=request.user, release=release,
                                        reason="Submitted in the admin")
                done += 1
            except DomainError as error:
                failures.append(f"{release}: {error.message}")
        report(request, done, "release(s) submitted", failures)
