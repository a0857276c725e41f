from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from ..core.admin import AuditedAdmin, PortalAdmin, ServiceAdmin, adopt, report
from ..core.errors import DomainError
from .identity import role_mapping_save, sign_in_unlock
from .models import (
    ApiToken,
    DirectoryGroup,
    ExternalIdentity,
    GroupRoleMapping,
    Notification,
    OutgoingEmail,
    TokenScope,
    User,
)
from .roles import ROLE_BY_GROUP_NAME, Role
from .services import token_create, token_revoke, user_deactivate


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    """People and service accounts. Roles are groups; users are deactivated, never deleted."""

    list_display = ("username", "full_name", "email", "role_names", "is_service_account",
                    "is_staff", "is_active", "last_login")
    list_filter = ("groups", "is_service_account", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Roles and access", {
            "fields": ("is_active", "is_service_account", "groups", "is_staff", "is_superuser",
                       "user_permissions"),
            "description": "A role is a group. Service accounts act only through API tokens.",
        }),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Roles", {"fields": ("first_name", "last_name", "email", "is_service_account",
                              "groups")}),
    )

    actions = ("deactivate", "unlock_sign_in")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def save_model(self, request, obj, form, change) -> None:
        """Unticking "active" deactivates through the service (its agents become ownerless);
        everything else on the form is saved as usual."""
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if deactivating:
            try:
                user_deactivate(actor=request.user, user=obj, reason="Deactivated in the admin")
            except DomainError as error:
                messages.error(request, f"{obj} stays active: {error.message}")
            else:
                obj.is_active = False

    @admin.action(description="Deactivate the selected users (their agents become ownerless)")
    def deactivate(self, request, queryset) -> None:
        done, failures = 0, []
        for user in queryset.filter(is_active=True):
            try:
                user_deactivate(actor=request.user, user=user, reason="Deactivated in the admin")
                done += 1
            except DomainError as error:
                failures.append(f"{user}: {error.message}")
        report(request, done, "user(s) deactivated", failures)

    @admin.action(description="Unlock sign-in (clear failed attempts)")
    def unlock_sign_in(self, request, queryset) -> None:
        done = 0
        for user in queryset:
            sign_in_unlock(actor=request.user, user=user)
            done += 1
        report(request, done, "account(s) unlocked", [])

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    @admin.display(description="roles")
    def role_names(self, obj: User) -> str:
        names = sorted(Role(ROLE_BY_GROUP_NAME[g.name]).label for g in obj.groups.all()
                       if g.name in ROLE_BY_GROUP_NAME)
        if obj.is_superuser and Role.ADMIN.label not in names:
            names.append(f"{Role.ADMIN.label} (superuser)")
        return ", ".join(names) or "—"


class TokenStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class ApiTokenCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=TokenScope.choices,
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ("user", "name", "scopes", "expires_at")


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceAdmin):
    """Tokens are created (the key shown once) and revoked through the accounts services;
    nothing else about a token changes, and its hash is never shown."""

    list_display = ("name", "key_prefix", "user", "scope_list", "status", "expires_at",
                    "last_used_at", "created_by", "created_at")
    list_filter = (TokenStatusFilter, "created_at")
    list_select_related = ("user", "created_by")
    search_fields = ("name", "key_prefix", "user__username", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = ("name", "key_prefix", "user", "scope_list", "status", "expires_at",
                       "revoked_at", "last_used_at", "created_by", "created_at")
    actions = ("revoke",)
    add_form = ApiTokenCreationForm

    def get_fieldsets(self, request, obj=None):
        fields = ApiTokenCreationForm.Meta.fields if obj is None else self.readonly_fields
        return [(None, {"fields": fields})]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"expires_at": timezone.now() + timedelta(days=90),
                "scopes": [TokenScope.READ]}

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        token, key = token_create(actor=request.user, owner=data["user"], name=data["name"],
                                  scopes=list(data["scopes"]), expires_at=data["expires_at"])
        adopt(obj, token)
        messages.warning(request, f"Copy this key now; it is not stored and will not be shown "
                                  f"again: {key}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        done, failures = 0, []
        for token in queryset:
            if token.revoked_at is not None:
                continue
            try:
                token_revoke(actor=request.user, token=token, reason="Revoked in the admin")
                done += 1
            except DomainError as error:
                failures.append(f"{token}: {error.message}")
        report(request, done, "token(s) revoked", failures)


@admin.register(Notification)
class NotificationAdmin(PortalAdmin):
    """Messages sent to people: read-only here; they are created by the portal's services."""

    list_display = ["subject", "user", "kind", "created_at", "read_at", "emailed_at",
                    "email_attempts"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter),
                   ("emailed_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "user__username", "dedupe_key"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(NotificationAdmin):
    """E-mail to addresses outside the portal (password resets, notices), queued in the outbox
    and sent by the worker: read-only here."""

    list_display = ["subject", "to", "created_at", "emailed_at", "email_attempts"]
    list_filter = [("emailed_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject"]
    list_select_related = []
    # The body may hold a password-reset link: not for an admin's eyes.
    exclude = ["body"]
    readonly_fields = [f.name for f in OutgoingEmail._meta.fields if f.name != "body"]


@admin.register(GroupRoleMapping)
class GroupRoleMappingAdmin(ServiceAdmin):
    """Which identity-provider group grants which role. Saved through the identity service,
    which brings provisioned members' roles in line at once; untick "active" to retire one."""

    list_display = ("idp_group", "role", "active", "created_at")
    list_filter = ("role", "active")
    search_fields = ("idp_group",)
    fields = ("idp_group", "role", "active")

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        saved = role_mapping_save(actor=request.user, idp_group=data["idp_group"],
                                  role=data["role"], active=data["active"],
                                  mapping=obj if change else None,
                                  reason="Changed in the admin" if change else "Added in the admin")
        adopt(obj, saved)


class ProvisionedReadOnly(AuditedAdmin):
    """Written only by the identity provider (SCIM, single sign-on)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DirectoryGroup)
class DirectoryGroupAdmin(ProvisionedReadOnly):
    list_display = ("display_name", "external_id", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("display_name", "external_id")
    filter_horizontal = ("members",)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ProvisionedReadOnly):
    list_display = ("user", "source", "subject", "created_at")
    list_filter = ("source",)
    list_select_related = ("user",)
    search_fields = ("user__username", "subject")
