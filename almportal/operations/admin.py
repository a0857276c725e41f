"""Read-only admin views: every change goes through the services (pages and API)."""

from django.contrib import admin

from ..core.admin import ReadOnlyAdmin
from .models import (
    Alert,
    Deployment,
    Environment,
    EventLog,
    Incident,
    IngestBatch,
    MonitoringSettings,
    Overseer,
    RuntimePoll,
    Suspension,
)


@admin.register(Environment)
class EnvironmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "is_production")


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "agent", "environment", "strategy", "state", "canary_state",
                    "started_at")
    list_filter = ("environment", "strategy", "state")
    list_select_related = ("agent", "environment")
    search_fields = ("agent__name", "agent__slug")


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    list_display = ("agent", "is_drill", "suspended_at", "first_halted_poll_at", "resumed_at")
    list_select_related = ("agent",)


@admin.register(RuntimePoll)
class RuntimePollAdmin(ReadOnlyAdmin):
    list_display = ("token", "agent", "environment", "last_polled_at", "last_state")
    list_select_related = ("token", "agent", "environment")


@admin.register(IngestBatch)
class IngestBatchAdmin(ReadOnlyAdmin):
    list_display = ("batch_id", "user", "received_at", "stored_count", "refused_count")
    list_select_related = ("user",)


@admin.register(MonitoringSettings)
class MonitoringSettingsAdmin(ReadOnlyAdmin):
    list_display = ("agent", "auto_rollback", "suspend_on_budget", "daily_budget",
                    "monthly_budget")
    list_select_related = ("agent",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("pk", "agent", "metric", "release", "opened_at", "cleared_at")
    list_filter = ("metric",)
    list_select_related = ("agent", "release")


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "title", "agent", "severity", "status", "serious", "report_deadline")
    list_filter = ("status", "severity", "serious")
    list_select_related = ("agent",)


@admin.register(Overseer)
class OverseerAdmin(ReadOnlyAdmin):
    """Overseers are named on the agent's overseers page (or the API), by its owner."""

    list_display = ("agent", "user", "role", "training", "training_expires_on", "active_from",
                    "active_to")
    list_filter = ("role",)
    list_select_related = ("agent", "user")
    search_fields = ("agent__slug", "user__username", "training")


@admin.register(EventLog)
class EventLogAdmin(ReadOnlyAdmin):
    """Append-only: written by the services and the daily usage summary."""

    list_display = ("agent", "kind", "at", "calls", "errors", "tool_call_failures", "actor")
    list_filter = ("kind",)
    list_select_related = ("agent", "actor")
    search_fields = ("agent__slug", "summary")
    date_hierarchy = "at"
