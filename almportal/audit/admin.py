"""The audit records in Django admin: all read-only except retention holds, which are placed
through the same service as the pages (so the admin leaves the same history and ledger trail)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from ..core.admin import PortalAdmin, ReadOnlyAdmin
from ..core.errors import DomainError
from . import services
from .models import (
    CorrectiveAction,
    ExportRecord,
    Finding,
    InternalAudit,
    LedgerEntry,
    RetentionHold,
    VerificationRun,
)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "time", "actor_name", "action", "object_model", "object_repr"]
    list_filter = ["action", "object_model"]
    search_fields = ["object_repr", "actor_name", "reason", "hash"]


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "agent", "created_by", "last_seq"]


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAdmin):
    list_display = ["run_at", "ok", "checked", "first_bad_seq", "run_by"]


@admin.register(RetentionHold)
class RetentionHoldAdmin(PortalAdmin):
    list_display = ["agent", "legal_hold", "retain_until", "placed_by", "released_at"]
    fields = ["agent", "reason", "retain_until", "legal_hold"]

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("audit.manage_retention")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            raise PermissionDenied("Holds are released on the agent's retention page.")
        try:
            hold = services.retention_hold_place(
                actor=request.user, agent=obj.agent, reason=obj.reason,
                retain_until=obj.retain_until, legal_hold=obj.legal_hold)
        except DomainError as error:
            raise PermissionDenied(error.message) from error
        obj.pk = hold.pk


# Audits, findings and corrective actions are written on their pages (or the API), where the
# rules of audit.rules apply; the admin shows them.

@admin.register(InternalAudit)
class InternalAuditAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "period_start", "period_end", "lead", "state"]
    list_filter = ["kind", "state"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["pk", "title", "audit", "agent", "severity", "recorded_by", "closed_at"]
    list_filter = ["severity"]
    list_select_related = ["audit", "agent", "recorded_by"]


@admin.register(CorrectiveAction)
class CorrectiveActionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "finding", "owner", "state", "recorded_by", "verified_by"]
    list_filter = ["state"]
    list_select_related = ["finding", "owner", "recorded_by", "verified_by"]
