from dataclasses import dataclass

from django.db import models


class Strategy(models.TextChoices):
    ALL_AT_ONCE = "all_at_once", "All at once"
    CANARY = "canary", "Canary"
    RAINBOW = "rainbow", "Rainbow (releases per audience)"


class DeploymentState(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class CanaryState(models.TextChoices):
    """Where a canary deployment stands; empty for the other strategies."""

    NONE = "", "—"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    ROLLED_BACK = "rolled_back", "Rolled back"


# Suggested canary steps; any higher share may be chosen.
CANARY_STEPS = (5, 25, 50, 100)


class RuntimeState(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    RETIRED = "retired", "Retired"
    NOT_DEPLOYED = "not_deployed", "Not deployed"


@dataclass(frozen=True)
class SampleMetric:
    label: str
    unit: str
    maximum: float


# What gateways report. Counts are per sample (a gateway's time bucket); latency is one
# observation in milliseconds; cost is in the budget's currency; satisfaction is a score 0–1.
SAMPLE_METRICS: dict[str, SampleMetric] = {
    "requests": SampleMetric("Requests", "count", 1e9),
    "errors": SampleMetric("Errors", "count", 1e9),
    "latency_ms": SampleMetric("Latency", "ms", 3_600_000),
    "tokens_in": SampleMetric("Tokens in", "count", 1e12),
    "tokens_out": SampleMetric("Tokens out", "count", 1e12),
    "cost": SampleMetric("Cost", "currency", 1e7),
    "escalations": SampleMetric("Escalations", "count", 1e9),
    "tool_call_failures": SampleMetric("Tool-call failures", "count", 1e9),
    "satisfaction": SampleMetric("User satisfaction", "score 0–1", 1.0),
}


class ThresholdMetric(models.TextChoices):
    """What thresholds watch: figures computed from the samples over a window."""

    ERROR_RATE = "error_rate", "Error rate"
    LATENCY_P95_MS = "latency_p95_ms", "p95 latency (ms)"
    TOOL_CALL_FAILURE_RATE = "tool_call_failure_rate", "Tool-call failure rate"
    ESCALATION_RATE = "escalation_rate", "Escalation rate"
    SATISFACTION = "satisfaction", "User satisfaction"
    DAILY_COST = "daily_cost", "Cost today"
    MONTHLY_COST = "monthly_cost", "Cost this month"


# Watched per release (a canary is judged on its own traffic); cost is watched per agent.
RELEASE_METRICS = {ThresholdMetric.ERROR_RATE, ThresholdMetric.LATENCY_P95_MS,
                   ThresholdMetric.TOOL_CALL_FAILURE_RATE, ThresholdMetric.ESCALATION_RATE,
                   ThresholdMetric.SATISFACTION}
BUDGET_METRICS = {ThresholdMetric.DAILY_COST, ThresholdMetric.MONTHLY_COST}


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"


INCIDENT_TRANSITIONS = {
    IncidentStatus.OPEN: {IncidentStatus.MITIGATED, IncidentStatus.RESOLVED},
    IncidentStatus.MITIGATED: {IncidentStatus.OPEN, IncidentStatus.RESOLVED},
    IncidentStatus.RESOLVED: {IncidentStatus.OPEN},
}


class SeriousKind(models.TextChoices):
    """EU AI Act Article 73: the kind of serious incident sets the reporting deadline."""

    OTHER = "other", "Serious incident (other)"
    DEATH = "death", "Death of a person"
    WIDESPREAD = "widespread", "Widespread infringement"
    CRITICAL_INFRASTRUCTURE = ("critical_infrastructure",
                               "Serious disruption of critical infrastructure")


# Days from becoming aware of the incident to the report falling due.
REPORTING_DAYS = {
    SeriousKind.OTHER: 15,
    SeriousKind.DEATH: 10,
    SeriousKind.WIDESPREAD: 2,
    SeriousKind.CRITICAL_INFRASTRUCTURE: 2,
}


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    STATUS = "status", "Status changed"
    NOTE = "note", "Note"
    ALERT = "alert", "Alert linked"
    SERIOUS = "serious", "Marked serious"
    REPORTED = "reported", "Reported to the authority"
    REVIEW = "review", "Post-incident review"
    CORRECTIVE = "corrective", "Corrective release linked"
    SUSPENDED = "suspended", "Agent suspended"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    DISMISSED = "dismissed", "Dismissed"


class OversightRole(models.TextChoices):
    """What a named human overseer does (EU AI Act Art. 14, 26(2))."""

    OPERATOR = "operator", "Operator"
    OUTPUT_REVIEWER = "output_reviewer", "Reviewer of outputs"
    CAN_HALT = "can_halt", "May halt the agent"


class EventLogKind(models.TextChoices):
    """The event log kept at least six months: usage periods, stops and overrides."""

    USAGE = "usage", "Usage period"
    SUSPENDED = "suspended", "Suspended (kill switch)"
    DRILL = "drill", "Kill-switch drill"
    RESUMED = "resumed", "Resumed"
    OVERRIDE = "override", "Manual override"
    STOPPED = "stopped", "Deployment stopped"
