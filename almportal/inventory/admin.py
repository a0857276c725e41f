"""Inventory in the admin: every write is an inventory service call, with the admin as actor.

Versioned components are never edited: a new version is added through the add form. Nothing
here is deleted. Releases have their admin in the releases area.
"""

from typing import ClassVar

from django import forms
from django.contrib import admin
from guardian.admin import (
    AdminGroupObjectPermissionsForm,
    AdminUserObjectPermissionsForm,
    GuardedModelAdminMixin,
)

from ..core.admin import AuditedAdmin, ServiceAdmin, adopt, reason_field, report
from ..core.errors import DomainError
from . import services
from .choices import CLOSED_STAGES
from .models import (
    Agent,
    AgentGroupObjectPermission,
    AgentUserObjectPermission,
    ComponentVersion,
    Credential,
    DataSource,
    ModelComponent,
    Prompt,
    Tool,
)
from .rules import grant_refusal, group_grant_refusal
from .selectors import agents_visible_to, components_visible_to


class AgentUserPermissionsForm(AdminUserObjectPermissionsForm):
    """The admin's "Object permissions" page asks the same rule as the services: no write grant
    for a read-only role, only narrow rights for a service account."""

    def clean(self):
        super().clean()
        data = self.cleaned_data
        chosen = data.get(self.get_obj_perms_field_name()) or []
        refusal = grant_refusal(self.user, chosen)
        if refusal is not None:
            raise forms.ValidationError(refusal.message)
        return data


class AgentGroupPermissionsForm(AdminGroupObjectPermissionsForm):
    """The same rule for a group's object permissions: its write grants reach every member."""

    def clean(self):
        super().clean()
        data = self.cleaned_data
        chosen = data.get(self.get_obj_perms_field_name()) or []
        refusal = group_grant_refusal(self.group, self.group.user_set.all(), chosen)
        if refusal is not None:  # on the field: guardian's group page shows field errors only
            self.add_error(self.get_obj_perms_field_name(), refusal.message)
        return data


def _ordered(model_admin, request, queryset):
    ordering = model_admin.get_ordering(request)
    return queryset.order_by(*ordering) if ordering else queryset


# --- Agents ---------------------------------------------------------------------------------

class AgentAdminForm(forms.ModelForm):
    reason = reason_field()

    class Meta:
        model = Agent
        fields = (*services.AGENT_EDITABLE_FIELDS, "business_owner")


@admin.register(Agent)
class AgentAdmin(GuardedModelAdminMixin, ServiceAdmin):
    """The agent record. Stage and risk tier move only through their own services (intake,
    triage, assessment…), so they are shown here, not edited. Object permissions (owner,
    delegates) are on the "Object permissions" page."""

    form = AgentAdminForm
    list_display = ("name", "stage", "risk_tier", "business_owner", "business_unit",
                    "autonomy_level", "data_classification", "action_reach", "updated_at")
    list_filter = ("stage", "risk_tier", "autonomy_level", "data_classification",
                   "action_reach", "regulated_domain", "audience", "business_unit")
    search_fields = ("name", "slug", "purpose", "business_unit", "business_owner__username",
                     "business_owner__first_name", "business_owner__last_name")
    autocomplete_fields = ("business_owner", "technical_owner")
    readonly_fields = ("slug", "stage", "risk_tier", "next_review_at", "created_by",
                       "created_at", "updated_at")
    date_hierarchy = "created_at"

    def get_obj_perms_manage_user_form(self, request):
        return AgentUserPermissionsForm

    def get_obj_perms_manage_group_form(self, request):
        return AgentGroupPermissionsForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "purpose", "why_agent", "business_unit", "sponsor",
                               "business_owner", "technical_owner"]}),
            ("Use", {"fields": ["intended_users", "audience", "success_metrics", "tags"]}),
            ("Risk attributes", {"fields": ["autonomy_level", "data_classification",
                                            "action_reach", "regulated_domain"]}),
        ]
        if obj is not None:
            fieldsets.append(("Lifecycle", {"fields": list(self.readonly_fields)}))
        if obj is None or self.has_change_permission(request, obj):
            fieldsets.append(("Change", {"fields": ["reason"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_queryset(self, request):
        return _ordered(self, request, agents_visible_to(request.user))

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.stage in CLOSED_STAGES:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        reason = data.get("reason", "").strip()
        if not change:
            fields = {f: data[f] for f in services.AGENT_EDITABLE_FIELDS if f in data}
            agent = services.agent_create(actor=request.user, data=fields,
                                          owner=data["business_owner"],
                                          reason=reason or "Intake drafted in the admin")
            adopt(obj, agent)
            return
        edited = {f: data[f] for f in form.changed_data if f in services.AGENT_EDITABLE_FIELDS}
        agent = obj
        if edited:
            agent = services.agent_update(actor=request.user, agent=obj, data=edited,
                                          reason=reason)
        if "business_owner" in form.changed_data:
            agent = services.agent_transfer_ownership(
                actor=request.user, agent=obj, new_owner=data["business_owner"], reason=reason)
        adopt(obj, agent)


class AgentPermissionAdmin(AuditedAdmin):
    """Who holds which right on which agent. Grants change on the agent's "Object
    permissions" page or through the delegate and ownership services, not here."""

    list_filter = ("permission",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AgentUserObjectPermission)
class AgentUserObjectPermissionAdmin(AgentPermissionAdmin):
    list_display = ("content_object", "user", "permission")
    list_select_related = ("content_object", "permission", "user")
    search_fields = ("content_object__name", "user__username", "user__last_name")


@admin.register(AgentGroupObjectPermission)
class AgentGroupObjectPermissionAdmin(AgentPermissionAdmin):
    list_display = ("content_object", "group", "permission")
    list_select_related = ("content_object", "permission", "group")
    search_fields = ("content_object__name", "group__name")


# --- Versioned components -------------------------------------------------------------------

# Set by the service, never entered.
_SERVICE_FIELDS = {"id", "agent", "version", "created_by", "created_at", "revoked_at",
                   "revoked_by"}


def component_fields(model: type[ComponentVersion]) -> list[str]:
    """The fields a new version is made of, as component_add_version accepts them."""
    return [f.name for f in model._meta.concrete_fields
            if f.editable and f.name not in _SERVICE_FIELDS]


class ComponentAdmin(ServiceAdmin):
    """A version is immutable: the change page only shows it. "Add" makes the next version of
    the named component (version 1 for a new name) through component_add_version."""

    list_filter: ClassVar[tuple[str | type[admin.ListFilter], ...]] = ("created_at",)
    list_select_related = ("agent", "created_by")
    search_fields: ClassVar[tuple[str, ...]] = ("name", "agent__name", "agent__slug", "notes")
    autocomplete_fields = ("agent",)
    summary_fields: tuple[str, ...] = ()  # what tells versions apart in the list

    def get_list_display(self, request):
        return ("name", "version", "agent", *self.summary_fields, "created_by", "created_at")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type(f"{self.model.__name__}AddForm", (forms.ModelForm,),
                                  {"reason": reason_field()})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fields = ["agent", *component_fields(self.model)]
        if obj is None:
            return [(None, {"fields": fields}), ("Change", {"fields": ["reason"]})]
        extra = [f.name for f in self.model._meta.concrete_fields
                 if f.name in {"version", "created_by", "created_at", "revoked_at",
                               "revoked_by", "content_hash"}]
        return [(None, {"fields": ["agent", "name", "version"]}),
                ("Content", {"fields": [f for f in fields if f not in ("agent", "name")]}),
                ("Record", {"fields": [f for f in extra if f != "version"]})]

    def get_queryset(self, request):
        return _ordered(self, request, components_visible_to(request.user, self.model.kind))

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        component = services.component_add_version(
            actor=request.user, agent=data["agent"], kind=self.model.kind,
            data={f: data[f] for f in component_fields(self.model) if f in data},
            reason=data.get("reason", "").strip())
        adopt(obj, component)


@admin.register(ModelComponent)
class ModelComponentAdmin(ComponentAdmin):
    summary_fields = ("provider", "model_name", "pinned_version", "hosting")
    list_filter = ("hosting", "provider", "created_at")
    search_fields = (*ComponentAdmin.search_fields, "provider", "model_name")


@admin.register(Prompt)
class PromptAdmin(ComponentAdmin):
    summary_fields = ("short_hash",)
    search_fields = (*ComponentAdmin.search_fields, "text", "content_hash")

    @admin.display(description="content hash")
    def short_hash(self, obj: Prompt) -> str:
        return obj.content_hash[:12]


@admin.register(Tool)
class ToolAdmin(ComponentAdmin):
    summary_fields = ("tool_kind", "endpoint", "writes", "needs_human_approval")
    list_filter = ("tool_kind", "writes", "needs_human_approval", "created_at")
    search_fields = (*ComponentAdmin.search_fields, "endpoint")


@admin.register(DataSource)
class DataSourceAdmin(ComponentAdmin):
    summary_fields = ("system", "classification", "retrieval_scope")
    list_filter = ("classification", "created_at")
    search_fields = (*ComponentAdmin.search_fields, "system")


class CredentialRevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return [("yes", "Revoked"), ("no", "In force")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(revoked_at__isnull=self.value() == "no")
        return queryset


@admin.register(Credential)
class CredentialAdmin(ComponentAdmin):
    summary_fields = ("identity", "mode", "expires_at", "revoked_at")
    list_filter = (CredentialRevokedFilter, "mode", "expires_at", "created_at")
    search_fields = (*ComponentAdmin.search_fields, "identity", "granted_by")
    actions = ("revoke",)

    @admin.action(description="Revoke the selected grants")
    def revoke(self, request, queryset) -> None:
        done, failures = 0, []
        for credential in queryset.filter(revoked_at__isnull=True):
            try:
                services.credential_revoke(actor=request.user, credential=credential,
                                           reason="Revoked in the admin")
                done += 1
            except DomainError as error:
                failures.append(f"{credential}: {error.message}")
        report(request, done, "grant(s) revoked", failures)
