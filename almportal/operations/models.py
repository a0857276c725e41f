"""Operations: where releases run, whether an agent may run, what it reports, and what goes
wrong. Every governed row keeps its history; the high-volume telemetry (samples, polls,
ingested batches) is append-only or upserted without history."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from ..accounts.models import ApiToken
from ..inventory.models import Agent
from ..releases.models import Release
from .choices import (
    CanaryState,
    DeploymentState,
    EventKind,
    EventLogKind,
    FindingStatus,
    IncidentStatus,
    OversightRole,
    RuntimeState,
    SeriousKind,
    Severity,
    Strategy,
    ThresholdMetric,
)

User = settings.AUTH_USER_MODEL


class Environment(models.Model):
    """Development, staging, production (seeded). Only production deploys pass the gate."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    is_production = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["is_production"],
                                    condition=models.Q(is_production=True),
                                    name="environment_one_production"),
        ]

    def __str__(self) -> str:
        return self.name


class Deployment(models.Model):
    """Releases put into one environment with one strategy. At most one is active per agent and
    environment; a new deployment ends the one it replaces and remembers it (`previous`), which
    is what a rollback returns to."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="deployments")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT,
                                    related_name="deployments")
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    state = models.CharField(max_length=10, choices=DeploymentState.choices,
                             default=DeploymentState.ACTIVE, db_index=True)
    canary_state = models.CharField(max_length=20, choices=CanaryState.choices, blank=True,
                                    default=CanaryState.NONE)
    canary_weight = models.PositiveSmallIntegerField(null=True, blank=True,
                                                     help_text="The canary's share of traffic (%).")
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    reason = models.CharField(max_length=1000)
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "environment"],
                                    condition=models.Q(state="active"),
                                    name="deployment_one_active_per_environment"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} in {self.environment} ({self.get_strategy_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("operations:deployment-detail", kwargs={"pk": self.pk})

    @property
    def is_active(self) -> bool:
        return self.state == DeploymentState.ACTIVE

    @property
    def canary_in_progress(self) -> bool:
        return self.is_active and self.canary_state == CanaryState.IN_PROGRESS


class Route(models.Model):
    """One release serving a share of the traffic (all at once, canary) or a named audience
    (rainbow). Weights change as a canary moves; the history keeps every step."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="routes")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="routes")
    weight = models.PositiveSmallIntegerField(null=True, blank=True,
                                              help_text="Share of traffic in percent.")
    audience = models.CharField(max_length=80, blank=True,
                                help_text="A department or user group (rainbow).")
    is_canary = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_canary", "audience", "pk"]

    def __str__(self) -> str:
        target = self.audience or f"{self.weight}%"
        return f"{self.release.display_version} → {target}"

    @property
    def serves(self) -> bool:
        return bool(self.audience) or bool(self.weight)


class Suspension(models.Model):
    """One use of the kill switch (or a drill of it), from the suspension to the resume.
    `first_halted_poll_at` is when a gateway was first served the suspended state (or, where
    policy gateways report what they enforce, when the last of them enforced the forbid-all)."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="suspensions")
    is_drill = models.BooleanField(default=False)
    reason = models.CharField(max_length=1000)
    suspended_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    suspended_at = models.DateTimeField()
    first_halted_poll_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    resumed_at = models.DateTimeField(null=True, blank=True)
    resume_reason = models.CharField(max_length=1000, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-suspended_at", "-pk"]
        permissions = [("suspend_agent", "Can suspend any agent (kill switch)")]
        constraints = [
            models.UniqueConstraint(fields=["agent"], condition=models.Q(resumed_at__isnull=True),
                                    name="suspension_one_open_per_agent"),
        ]

    def __str__(self) -> str:
        kind = "Drill" if self.is_drill else "Suspension"
        return f"{kind} of {self.agent} at {self.suspended_at:%Y-%m-%d %H:%M}"

    @property
    def time_to_halt(self) -> timedelta | None:
        if self.first_halted_poll_at is None:
            return None
        return self.first_halted_poll_at - self.suspended_at


class RuntimePoll(models.Model):
    """The last runtime-status poll per gateway token, agent and environment (upserted)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="runtime_polls")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="runtime_polls")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="+")
    first_polled_at = models.DateTimeField()
    last_polled_at = models.DateTimeField(db_index=True)
    last_state = models.CharField(max_length=20, choices=RuntimeState.choices)
    last_etag = models.CharField(max_length=80)

    class Meta:
        ordering = ["-last_polled_at"]
        constraints = [
            models.UniqueConstraint(fields=["token", "agent", "environment"],
                                    name="runtime_poll_one_per_token_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.token} polled {self.agent} at {self.last_polled_at:%Y-%m-%d %H:%M:%S}"


class IngestBatch(models.Model):
    """One accepted batch of samples. The client's batch id is unique per user, so a batch sent
    again stores nothing twice."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    batch_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    item_count = models.PositiveIntegerField()
    stored_count = models.PositiveIntegerField()
    refused_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "batch_id"], name="ingest_batch_once"),
        ]

    def __str__(self) -> str:
        return f"Batch {self.batch_id} ({self.stored_count} stored)"


class MetricSample(models.Model):
    """One reported value. Append-only telemetry, never edited."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="metric_samples")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="metric_samples")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="samples")
    timestamp = models.DateTimeField()
    metric = models.CharField(max_length=30)
    value = models.FloatField()

    class Meta:
        ordering = ["timestamp", "pk"]
        indexes = [
            models.Index(fields=["agent", "environment", "timestamp"], name="sample_agent_time"),
            models.Index(fields=["release", "metric", "timestamp"], name="sample_release_time"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}={self.value} at {self.timestamp:%Y-%m-%d %H:%M}"


class MonitoringSettings(models.Model):
    """Per agent: thresholds over the tier policy's, budgets over the release's, and the policy
    switches (roll a breaching canary back; suspend an agent that exhausts its budget)."""

    agent = models.OneToOneField(Agent, on_delete=models.PROTECT, related_name="monitoring")
    thresholds = models.JSONField(default=dict, blank=True,
                                  help_text='Overrides: {metric: {"min": x} or {"max": x}}.')
    daily_budget = models.FloatField(null=True, blank=True)
    monthly_budget = models.FloatField(null=True, blank=True)
    auto_rollback = models.BooleanField(
        default=False, help_text="Roll a canary back when its release breaches a threshold.")
    suspend_on_budget = models.BooleanField(
        default=False, help_text="Suspend the agent when it exhausts its daily or monthly budget.")
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "monitoring settings"

    def __str__(self) -> str:
        return f"Monitoring of {self.agent}"


class Alert(models.Model):
    """A threshold breach, open until the figure is back within bounds. One open alert per
    agent, metric and subject (a release, or the agent for budgets)."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="alerts")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="alerts")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=30, choices=ThresholdMetric.choices)
    subject_key = models.CharField(max_length=40, help_text='"release:<id>" or "agent".')
    threshold = models.JSONField(help_text='{"min": x} or {"max": x}.')
    value = models.FloatField(help_text="The figure when the alert opened.")
    last_value = models.FloatField()
    opened_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey("Incident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="alerts")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "metric", "subject_key"],
                                    condition=models.Q(cleared_at__isnull=True),
                                    name="alert_one_open_per_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} alert on {self.agent}"

    def get_absolute_url(self) -> str:
        return reverse("operations:alert-detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    @property
    def bound_text(self) -> str:
        if "max" in self.threshold:
            return f"at most {self.threshold['max']:g}"
        return f"at least {self.threshold.get('min', 0):g}"


class Incident(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="incidents")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10_000, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=10, choices=IncidentStatus.choices,
                              default=IncidentStatus.OPEN, db_index=True)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                              help_text="Who leads the response.")
    affected_release = models.ForeignKey(Release, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="incidents")
    corrective_release = models.ForeignKey(Release, on_delete=models.PROTECT, null=True,
                                           blank=True, related_name="corrects_incidents")
    post_incident_review = models.TextField(max_length=20_000, blank=True)
    serious = models.BooleanField(default=False, help_text="A serious incident under the EU AI "
                                                           "Act, Article 73.")
    serious_kind = models.CharField(max_length=30, choices=SeriousKind.choices, blank=True)
    aware_at = models.DateTimeField(null=True, blank=True,
                                    help_text="When the provider became aware of it.")
    report_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        permissions = [("manage_incident", "Can open, close and report any agent's incidents")]

    def __str__(self) -> str:
        return f"INC-{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("operations:incident-detail", kwargs={"pk": self.pk})


class IncidentEvent(models.Model):
    """The incident's timeline: append-only."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    text = models.TextField(max_length=10_000)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.incident}"


class TelemetryName(models.Model):
    """A name under which an agent's telemetry arrives (an OpenTelemetry `service.name`,
    `gen_ai.agent.name` or `gen_ai.agent.id`) when it is not the agent's slug. Kept by the
    agent's owner."""

    name = models.CharField(max_length=200, unique=True)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="telemetry_names")
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} → {self.agent}"


class DiscoveryFinding(models.Model):
    """Telemetry naming an agent the inventory does not know: one finding per name, however
    many points arrive. Claimed (an intake draft is filed from what was seen) or dismissed."""

    name = models.CharField(max_length=200, unique=True,
                            help_text="The service.name (or gen_ai.agent.name) seen.")
    status = models.CharField(max_length=10, choices=FindingStatus.choices,
                              default=FindingStatus.OPEN, db_index=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    points = models.PositiveBigIntegerField(default=0, help_text="Data points received.")
    models_seen = models.JSONField(default=list, blank=True)
    tools_seen = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True,
                                  help_text="The resource attributes last seen.")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="discovery_findings",
                              help_text="The intake drafted when the finding was claimed.")
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    # Traffic counters change with every export; history keeps the decisions.
    history = HistoricalRecords(excluded_fields=["last_seen_at", "points", "models_seen",
                                                 "tools_seen", "attributes"])

    class Meta:
        ordering = ["-last_seen_at", "-pk"]

    def __str__(self) -> str:
        return f"Unregistered agent “{self.name}”"

    def get_absolute_url(self) -> str:
        return reverse("operations:finding-detail", kwargs={"pk": self.pk})


class DiscoveredSample(models.Model):
    """A sample from an agent nobody registered, kept with its finding (append-only)."""

    finding = models.ForeignKey(DiscoveryFinding, on_delete=models.PROTECT,
                                related_name="samples")
    environment = models.CharField(max_length=40, blank=True)
    release_hint = models.CharField(max_length=100, blank=True,
                                    help_text="alm.release.sha256 or gen_ai.agent.version.")
    timestamp = models.DateTimeField()
    metric = models.CharField(max_length=30)
    value = models.FloatField()

    class Meta:
        ordering = ["timestamp", "pk"]
        indexes = [models.Index(fields=["finding", "timestamp"], name="discovered_finding_time")]

    def __str__(self) -> str:
        return f"{self.metric}={self.value} at {self.timestamp:%Y-%m-%d %H:%M}"


class MetricRollup(models.Model):
    """Samples summed per agent, release, environment and metric over a minute or an hour.
    Kept for the evidence retention, long after the raw samples are gone."""

    MINUTE, HOUR = "minute", "hour"
    PERIODS = [(MINUTE, "Minute"), (HOUR, "Hour")]

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="metric_rollups")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=30)
    period = models.CharField(max_length=6, choices=PERIODS)
    start = models.DateTimeField()
    count = models.PositiveIntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "release", "environment", "metric",
                                            "period", "start"], name="rollup_one_per_window"),
        ]
        indexes = [
            # The dashboard and budgets read one metric's windows of an agent over a period;
            # where raw samples take over is the latest minute rollup.
            models.Index(fields=["agent", "environment", "metric", "period", "start"],
                         name="rollup_agent_metric_time"),
            models.Index(fields=["period", "start"], name="rollup_period_time"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} per {self.period} from {self.start:%Y-%m-%d %H:%M}"


class Overseer(models.Model):
    """A named person who oversees one agent (EU AI Act Art. 14, 26(2)): their oversight role,
    the training or qualification that makes them competent, and when they hold the role."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="overseers")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="oversight_roles")
    role = models.CharField(max_length=20, choices=OversightRole.choices)
    training = models.CharField(max_length=200,
                                help_text="The course or qualification that makes them competent.")
    trained_on = models.DateField(help_text="When the training was completed.")
    training_expires_on = models.DateField(null=True, blank=True,
                                           help_text="Empty if it does not expire.")
    evidence_url = models.URLField(max_length=500, blank=True,
                                   help_text="A link to the certificate or training record.")
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agent", "active_to", "-active_from", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "user", "role"],
                                    condition=models.Q(active_to__isnull=True),
                                    name="overseer_one_open_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display().lower()}) of {self.agent}"


class EventLog(models.Model):
    """The agent's event log, kept at least six months (EU AI Act Art. 12, 19, 26(6)): a usage
    period per day (from metric samples and runtime polls) and every stop and override, written
    by the services that do them. Append-only: rows are created, never changed; the retention
    job deletes none younger than the minimum (operations.rules)."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="event_logs")
    kind = models.CharField(max_length=12, choices=EventLogKind.choices)
    at = models.DateTimeField(help_text="When it happened (a usage period: first seen).")
    until = models.DateTimeField(null=True, blank=True,
                                 help_text="A usage period: last seen.")
    day = models.DateField(null=True, blank=True, help_text="The day a usage period sums.")
    calls = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveBigIntegerField(default=0)
    tool_call_failures = models.PositiveBigIntegerField(default=0)
    polls = models.PositiveIntegerField(default=0, help_text="Gateways that polled that day.")
    summary = models.CharField(max_length=1000)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "day"],
                                    condition=models.Q(kind="usage"),
                                    name="event_log_one_usage_per_day"),
        ]
        indexes = [models.Index(fields=["agent", "at"], name="event_log_agent_time"),
                   models.Index(fields=["at"], name="event_log_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.agent} at {self.at:%Y-%m-%d %H:%M}"
