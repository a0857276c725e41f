"""Every change to operations rows. Pages, API, admin and tasks call these functions; nothing
else writes them."""

from .deployments import (
    RouteSpec,
    canary_promote,
    canary_rollback,
    deployment_end,
    deployment_rollback,
    deployment_start,
    serving_releases,
)
from .discovery import discovery_record, finding_claim, finding_dismiss
from .eventlog import event_log_record, event_logs_expire, usage_summarise
from .incidents import (
    incident_add_note,
    incident_mark_reported,
    incident_mark_serious,
    incident_open,
    incident_set_status,
    incident_states,
    incident_update_review,
    report_deadline,
)
from .ingest import MAX_BATCH, IngestResult, samples_ingest
from .killswitch import agent_resume, agent_suspend, open_suspension, suspension_record_halt
from .otlp import OtlpResult, otlp_ingest, telemetry_name_add
from .oversight import overseer_assign, overseer_end, overseer_update_training
from .rollups import rollups_build, rollups_refresh, samples_expire
from .runtime import (
    runtime_forget,
    runtime_forget_environment,
    runtime_poll_due,
    runtime_poll_record,
    runtime_refresh,
)
from .thresholds import (
    agents_to_watch,
    effective_thresholds,
    monitoring_settings_update,
    thresholds_evaluate,
)

__all__ = [
    "MAX_BATCH", "IngestResult", "OtlpResult", "RouteSpec", "agent_resume",
    "agent_suspend", "agents_to_watch", "canary_promote", "canary_rollback", "deployment_end",
    "deployment_rollback", "deployment_start", "discovery_record", "effective_thresholds",
    "finding_claim", "finding_dismiss", "incident_add_note", "incident_mark_reported",
    "incident_mark_serious", "incident_open", "incident_set_status", "incident_states",
    "incident_update_review", "monitoring_settings_update", "open_suspension", "otlp_ingest",
    "report_deadline", "rollups_build", "rollups_refresh", "runtime_forget",
    "runtime_forget_environment", "runtime_poll_due", "runtime_poll_record", "runtime_refresh",
    "samples_expire", "samples_ingest", "serving_releases", "suspension_record_halt",
    "telemetry_name_add", "thresholds_evaluate",
    "event_log_record", "event_logs_expire", "usage_summarise",
    "overseer_assign", "overseer_end", "overseer_update_training",
]
