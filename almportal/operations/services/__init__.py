"""Every change to operations rows. Pages, API, admin and tasks call these functions; nothing
else writes them."""

from .deployments import (
    RouteSpec,
    active_deployment,
    canary_promote,
    canary_rollback,
    deployment_end,
    deployment_rollback,
    deployment_start,
    serving_releases,
)
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
from .rights import (
    may_deploy,
    may_manage_incidents,
    may_open_incident,
    may_resume,
    may_suspend,
    may_tune_monitoring,
    may_work_incident,
    resume_needs_compliance,
    rollback_refusal,
)
from .runtime import runtime_poll_record
from .thresholds import (
    agents_to_watch,
    effective_thresholds,
    monitoring_settings_update,
    thresholds_evaluate,
)

__all__ = [
    "MAX_BATCH", "IngestResult", "RouteSpec", "active_deployment", "agent_resume",
    "agent_suspend", "agents_to_watch", "canary_promote", "canary_rollback",
    "deployment_end", "deployment_rollback", "deployment_start", "effective_thresholds", "incident_add_note",
    "incident_mark_reported", "incident_mark_serious", "incident_open", "incident_set_status",
    "incident_states", "incident_update_review", "may_deploy", "may_manage_incidents",
    "may_open_incident", "may_resume", "may_suspend", "may_tune_monitoring", "may_work_incident",
    "monitoring_settings_update", "open_suspension", "report_deadline", "resume_needs_compliance",
    "rollback_refusal", "runtime_poll_record", "samples_ingest", "serving_releases", "suspension_record_halt",
    "thresholds_evaluate",
]
