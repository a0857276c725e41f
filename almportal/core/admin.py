"""What every app's admin shares, and the read-only page of heartbeats.

The admin is one more entry point to the services (ARCHITECTURE §1): a ServiceAdmin calls a
service in `save_model`, and when the service refuses the change (DomainError) the form comes
back with the service's message on it, with nothing saved. Nothing audited is hard-deleted, so
audited models have a history page and no delete.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from .errors import DomainError, add_to_form
from .models import Heartbeat

# Mixins for a form class the admin builds at run time; the type checker sees their real base.
if TYPE_CHECKING:
    FormMixinBase = forms.ModelForm
else:
    FormMixinBase = object


class ShowsServiceError(FormMixinBase):
    """The form again, with the service's objection to the same input attached."""

    service_error: DomainError

    def clean(self):
        cleaned_data = super().clean()
        add_to_form(self, self.service_error)
        return cleaned_data


class PortalAdmin(admin.ModelAdmin):
    """What every admin of the portal's models shares."""

    # A link typed without its scheme is read as https, as the portal's own forms read it.
    formfield_overrides: ClassVar[Mapping[type[models.Field], Mapping[str, Any]]] = {
        models.URLField: {"assume_scheme": "https"}}


class ReadOnlyAdmin(PortalAdmin):
    """Rows only the services write: shown here, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedAdmin(SimpleHistoryAdmin):
    """A model under history: a history page per object, and no delete. A past version is
    shown read-only and never restored: history is evidence, not an undo button."""

    save_as = False
    formfield_overrides = PortalAdmin.formfield_overrides

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("A past version is shown, never restored.")
        request._past_version = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        # On a past version every field is shown, none in the form (simple-history asks for the
        # form as if to add, which refuses the fields a change page only shows). Listing the
        # fields may build the form, which asks this again: then the usual answer.
        if getattr(request, "_past_version", False) and not getattr(request, "_listing", False):
            request._listing = True
            try:
                return flatten_fieldsets(self.get_fieldsets(request, obj))
            finally:
                request._listing = False
        return super().get_readonly_fields(request, obj)


class ServiceAdmin(AuditedAdmin):
    """An audited model whose writes go through its app's services.

    Subclasses implement `save_model` with a service call and copy the saved row onto `obj`
    with `adopt`. A form may declare an optional `reason` field: it is passed to the service as
    the history change reason.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            if request.method != "POST":
                raise
            # The failed attempt was rolled back with the admin's transaction; validate the
            # same input again with the service's objection attached, so the form shows it.
            request._service_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        return type("RefusedForm", (ShowsServiceError, form_class), {"service_error": error})

    def save_related(self, request, form, formsets, change) -> None:
        """The service saved the relations it manages; the form saves none behind its back."""


def adopt(target: models.Model, saved: models.Model) -> None:
    """Make the admin's unsaved instance the row a service saved (for the redirect and log)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


def reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason for the change", required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Kept in the history with this change.",
    )


def report(request, done: int, verb: str, failures: list[str]) -> None:
    """The outcome of an admin action applied row by row through a service."""
    if done:
        messages.success(request, f"{done} {verb}.")
    for failure in failures:
        messages.error(request, failure)


@admin.register(Heartbeat)
class HeartbeatAdmin(PortalAdmin):
    """When each periodic task last ran: written by the worker only."""

    list_display = ("name", "last_seen_at", "runs")
    list_filter = ("last_seen_at",)
    search_fields = ("name",)
    ordering = ("name",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
