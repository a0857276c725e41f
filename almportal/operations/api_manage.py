"""The operations API for people and pipelines: deployments (start, canary steps, rollback,
end), the kill switch, monitoring settings, alerts and incidents. Same services and permissions
as the pages; the gateway endpoints (runtime status, ingestion) are in operations.api."""

import django_filters
from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.models import User
from ..accounts.permissions import signed_in
from ..core.api import (
    RequiredReasonSerializer,
    StrictSerializer,
    slug_field,
    username_field,
    validated,
)
from ..core.errors import Conflict
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from ..releases.selectors import releases_visible_to
from . import rules, selectors, services
from .charts import CHARTS, dashboard_charts
from .choices import IncidentStatus, SeriousKind, Severity, Strategy
from .contract import collector_yaml, has_contract
from .forms import OVERRIDES, MonitoringForm
from .models import (
    Alert,
    Deployment,
    DiscoveryFinding,
    Environment,
    Incident,
    IncidentEvent,
    MonitoringSettings,
    Route,
    RuntimePoll,
    Suspension,
)


class RouteSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    version = serializers.CharField(source="release.display_version", read_only=True)
    manifest_hash = serializers.CharField(source="release.manifest_hash", read_only=True)

    class Meta:
        model = Route
        fields = ["release", "version", "manifest_hash", "weight", "audience", "is_canary"]
        read_only_fields = fields


class DeploymentSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    environment = slug_field(read_only=True)
    started_by = username_field(read_only=True)
    ended_by = username_field(read_only=True)
    routes = RouteSerializer(many=True, read_only=True)

    class Meta:
        model = Deployment
        fields = ["id", "agent", "environment", "strategy", "state", "canary_state",
                  "canary_weight", "reason", "started_by", "started_at", "ended_by", "ended_at",
                  "routes"]
        read_only_fields = fields


class RouteInputSerializer(StrictSerializer):
    release = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    audience = serializers.CharField(max_length=80, required=False, allow_blank=True,
                                     default="")


class DeployInputSerializer(StrictSerializer):
    agent = serializers.SlugField()
    environment = serializers.SlugField()
    strategy = serializers.ChoiceField(choices=Strategy.choices)
    routes = RouteInputSerializer(many=True, help_text="One release (all at once, canary: the "
                                  "new release) or one per audience (rainbow).")
    canary_weight = serializers.IntegerField(min_value=1, max_value=99, required=False)
    reason = serializers.CharField(max_length=1000)


class PromoteInputSerializer(StrictSerializer):
    weight = serializers.IntegerField(min_value=1, max_value=100)
    reason = serializers.CharField(max_length=1000)


class DeploymentFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")
    environment = django_filters.CharFilter(field_name="environment__slug")

    class Meta:
        model = Deployment
        fields = ["agent", "environment", "state", "strategy"]


class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Deployments of the agents you may see. Production deployments need the release gate."""

    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilter
    queryset = Deployment.objects.none()

    def get_queryset(self):
        return selectors.deployments_visible_to(signed_in(self.request.user))

    def _answer(self, deployment: Deployment, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.deployment_for(signed_in(self.request.user), deployment.pk)
        return Response(DeploymentSerializer(fresh).data, status=code)

    @extend_schema(request=DeployInputSerializer, responses={201: DeploymentSerializer})
    def create(self, request):
        data = validated(DeployInputSerializer, request)
        agent = get_object_or_404(agents_visible_to(request.user), slug=data["agent"])
        environment = get_object_or_404(Environment, slug=data["environment"])
        releases = releases_visible_to(request.user).filter(agent=agent)
        routes = [services.RouteSpec(get_object_or_404(releases, pk=r["release"]), r["audience"])
                  for r in data["routes"]]
        deployment = services.deployment_start(
            actor=request.user, agent=agent, environment=environment,
            strategy=data["strategy"], routes=routes, reason=data["reason"],
            canary_weight=data.get("canary_weight"))
        return self._answer(deployment, status.HTTP_201_CREATED)

    @extend_schema(request=PromoteInputSerializer, responses=DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        data = validated(PromoteInputSerializer, request)
        deployment = services.canary_promote(actor=request.user, deployment=self.get_object(),
                                             weight=data["weight"], reason=data["reason"])
        return self._answer(deployment)

    @extend_schema(request=RequiredReasonSerializer, responses=DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        """A canary in progress goes back to its stable release; otherwise the deployment
        this one replaced is restored. 409 when this deployment is no longer the active one."""
        reason = validated(RequiredReasonSerializer, request)["reason"]
        deployment = services.deployment_rollback(actor=request.user,
                                                  deployment=self.get_object(), reason=reason)
        return self._answer(deployment)

    @extend_schema(request=RequiredReasonSerializer, responses=DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        reason = validated(RequiredReasonSerializer, request)["reason"]
        deployment = services.deployment_end(actor=request.user, deployment=self.get_object(),
                                             reason=reason)
        return self._answer(deployment)


class SuspensionSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    suspended_by = username_field(read_only=True)
    resumed_by = username_field(read_only=True)

    class Meta:
        model = Suspension
        fields = ["id", "agent", "is_drill", "reason", "suspended_by", "suspended_at",
                  "first_halted_poll_at", "time_to_halt", "resumed_by", "resumed_at",
                  "resume_reason"]
        read_only_fields = fields


class SuspendInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)
    drill = serializers.BooleanField(default=False,
                                     help_text="A kill-switch drill: its time-to-halt is kept.")


class AgentSuspendView(APIView):
    """The kill switch: the next runtime-status request says suspended."""

    @extend_schema(request=SuspendInputSerializer, responses={201: SuspensionSerializer})
    def post(self, request, slug):
        data = validated(SuspendInputSerializer, request)
        agent = get_object_or_404(agents_visible_to(request.user), slug=slug)
        suspension = services.agent_suspend(actor=request.user, agent=agent,
                                            reason=data["reason"], drill=data["drill"])
        return Response(SuspensionSerializer(suspension).data, status=status.HTTP_201_CREATED)


class AgentResumeView(APIView):
    """Resume a suspended agent (a high or critical one only by compliance)."""

    @extend_schema(request=RequiredReasonSerializer, responses={200: None})
    def post(self, request, slug):
        reason = validated(RequiredReasonSerializer, request)["reason"]
        agent = get_object_or_404(agents_visible_to(request.user), slug=slug)
        agent = services.agent_resume(actor=request.user, agent=agent, reason=reason)
        return Response({"agent": agent.slug, "stage": agent.stage})


class RuntimePollSerializer(serializers.ModelSerializer):
    token = serializers.CharField(source="token.name", read_only=True,
                                  help_text="The name of the gateway's token.")
    token_prefix = serializers.CharField(source="token.key_prefix", read_only=True,
                                         help_text="The first characters of the token's key.")
    environment = slug_field(read_only=True)

    class Meta:
        model = RuntimePoll
        fields = ["token", "token_prefix", "environment", "first_polled_at", "last_polled_at",
                  "last_state", "last_etag"]
        read_only_fields = fields
        extra_kwargs = {"last_state": {"help_text": "The state the last poll was served."},
                        "last_etag": {"help_text": "The ETag the last poll was served."}}


class RuntimePollsSerializer(serializers.Serializer):
    agent = serializers.CharField()
    polls = RuntimePollSerializer(many=True, help_text=(
        "One row per gateway token and environment, the latest poll first; at most "
        f"{selectors.RECENT_POLLS}, as the kill-switch page shows them."))


class AgentRuntimePollsView(APIView):
    """Which gateway tokens polled the agent's runtime status, and the state and ETag each was
    served last: the proof that a suspension or a drill reached the gateways."""

    @extend_schema(responses=RuntimePollsSerializer)
    def get(self, request, slug):
        agent = selectors.agent_for(signed_in(request.user), slug)
        polls = selectors.runtime_polls(agent)[:selectors.RECENT_POLLS]
        return Response(RuntimePollsSerializer({"agent": agent.slug, "polls": polls}).data)


class MetricPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    value = serializers.FloatField(help_text="As measured (an error rate as a share of 1).")


class MetricSeriesSerializer(serializers.Serializer):
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The release, as the page names it.")
    role = serializers.ChoiceField(["canary", "stable", ""], help_text=(
        "While a canary runs: which release is the canary and which the stable one; "
        "the page's canary-against-stable table compares their latest points."))
    points = MetricPointSerializer(many=True, help_text="One per day with samples.")


class MetricLineSerializer(serializers.Serializer):
    value = serializers.FloatField(help_text="In the shown unit: as measured × `scale`.")
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="\"daily budget\", \"threshold (at most)\" or \"threshold (at least)\".")


class MetricChartSerializer(serializers.Serializer):
    key = serializers.ChoiceField([spec.key for spec in CHARTS])
    title = serializers.CharField()
    unit = serializers.CharField(source="unit_label")
    scale = serializers.FloatField(help_text="Shown = measured × scale (a share as a percent).")
    series = MetricSeriesSerializer(many=True, help_text="One per release with samples.")
    lines = MetricLineSerializer(many=True, help_text="The threshold or the daily budget.")


class AgentMetricsSerializer(serializers.Serializer):
    agent = serializers.CharField()
    environment = serializers.CharField(help_text="The production environment's slug.")
    days = serializers.ListField(child=serializers.DateField(), help_text=(
        "The dashboard's window: the last 14 days, today last."))
    charts = MetricChartSerializer(many=True, help_text=(
        "Requests, error rate, p95 latency, cost and user satisfaction per day."))


class AgentMetricsView(APIView):
    """The figures the agent's operations dashboard draws, over the same window of production:
    one series per release per metric, with the thresholds and the daily budget."""

    @extend_schema(responses=AgentMetricsSerializer)
    def get(self, request, slug):
        agent = selectors.agent_for(signed_in(request.user), slug)
        production = selectors.production()
        if production is None:
            raise NotFound("No production environment is configured.")
        monitoring = getattr(agent, "monitoring", None)
        charts = dashboard_charts(
            agent, production, settings=monitoring,
            deployment=selectors.active_deployment(agent, production),
            thresholds=services.effective_thresholds(agent, monitoring))
        return Response(AgentMetricsSerializer({
            "agent": agent.slug, "environment": production.slug, "days": charts[0].days,
            "charts": charts}).data)


def _override_fields(**kwargs) -> dict[str, serializers.Field]:
    """One field per threshold the agent may override, as the page's form has them."""
    return {metric.value: serializers.FloatField(
        allow_null=True, help_text=f"{metric.label}: {'at most' if bound == 'max' else 'at least'}"
                                   "; null: the tier policy's threshold.", **kwargs)
        for metric, bound in OVERRIDES}


class MonitoringInputSerializer(StrictSerializer):
    """The agent's monitoring settings, replaced as a whole: a field left out is cleared."""

    daily_budget = serializers.FloatField(required=False, allow_null=True, default=None,
                                          min_value=0)
    monthly_budget = serializers.FloatField(required=False, allow_null=True, default=None,
                                            min_value=0)
    auto_rollback = serializers.BooleanField(default=False,
                                             help_text="Roll a breaching canary back.")
    suspend_on_budget = serializers.BooleanField(
        default=False, help_text="Suspend the agent when its budget is exhausted.")
    reason = serializers.CharField(max_length=1000)

    def get_fields(self):
        return {**_override_fields(required=False, default=None, min_value=0),
                **super().get_fields()}


class MonitoringSerializer(serializers.Serializer):
    agent = serializers.CharField(read_only=True)
    daily_budget = serializers.FloatField(allow_null=True, read_only=True)
    monthly_budget = serializers.FloatField(allow_null=True, read_only=True)
    auto_rollback = serializers.BooleanField(read_only=True)
    suspend_on_budget = serializers.BooleanField(read_only=True)
    thresholds = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField()), read_only=True,
        help_text='In force: the tier policy\'s thresholds with the overrides on top, '
                  '{metric: {"min"|"max": number}}.')
    may_tune = serializers.BooleanField(read_only=True)

    def get_fields(self):
        return {**_override_fields(read_only=True), **super().get_fields()}


def _monitoring_form(data: dict) -> MonitoringForm:
    """The page's form over the parsed body, so that its checks and its mapping to the
    service's settings hold for the API as well."""
    form = MonitoringForm(data=data)
    if not form.is_valid():
        raise serializers.ValidationError({
            field: [error["message"] for error in errors]
            for field, errors in form.errors.get_json_data().items()})
    return form


class AgentMonitoringView(APIView):
    """Thresholds and budget: the overrides of the tier policy's thresholds, the budgets and
    the policy switches (owner, delegate, compliance or admin may change them)."""

    def _answer(self, user: User, agent: Agent) -> Response:
        settings = getattr(agent, "monitoring", None)
        shown = MonitoringForm.initial_from(settings or MonitoringSettings(agent=agent))
        shown.update(agent=agent.slug, may_tune=rules.may_tune_monitoring(user, agent),
                     thresholds=services.effective_thresholds(agent, settings))
        return Response(MonitoringSerializer(shown).data)

    @extend_schema(responses=MonitoringSerializer)
    def get(self, request, slug):
        user = signed_in(request.user)
        return self._answer(user, selectors.agent_for(user, slug))

    @extend_schema(request=MonitoringInputSerializer, responses=MonitoringSerializer)
    def put(self, request, slug):
        user = signed_in(request.user)
        form = _monitoring_form(validated(MonitoringInputSerializer, request))
        agent = selectors.agent_for(user, slug)
        services.monitoring_settings_update(actor=user, agent=agent, data=form.service_data(),
                                            reason=form.cleaned_data["reason"])
        return self._answer(user, agent)


class AlertSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    environment = slug_field(read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "agent", "release", "environment", "metric", "threshold", "value",
                  "last_value", "opened_at", "cleared_at", "incident"]
        read_only_fields = fields


class AlertFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")
    open = django_filters.BooleanFilter(field_name="cleared_at", lookup_expr="isnull")

    class Meta:
        model = Alert
        fields = ["agent", "metric", "open"]


class IncidentSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    owner = username_field(read_only=True)
    opened_by = username_field(read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "agent", "title", "description", "severity", "status", "owner",
                  "affected_release", "corrective_release", "post_incident_review", "serious",
                  "serious_kind", "report_deadline", "reported_at", "opened_by"]
        read_only_fields = fields


class IncidentEventSerializer(serializers.ModelSerializer):
    actor = username_field(read_only=True)

    class Meta:
        model = IncidentEvent
        fields = ["id", "kind", "text", "actor", "at"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    """One incident as its page shows it: with its timeline and the alerts linked to it."""

    events = IncidentEventSerializer(many=True, read_only=True)
    alerts: "serializers.PrimaryKeyRelatedField[Alert]" = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="The alerts the incident was opened from.")

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "aware_at", "opened_at", "resolved_at",
                  "alerts", "events"]
        read_only_fields = fields


class IncidentFieldsSerializer(StrictSerializer):
    """What opening an incident takes, from an agent or from one of its alerts."""

    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True,
                                        default="")


class IncidentInputSerializer(IncidentFieldsSerializer):
    agent = serializers.SlugField()
    affected_release = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                                required=False)


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    queryset = Alert.objects.none()

    def get_queryset(self):
        return selectors.alerts_visible_to(signed_in(self.request.user))

    @extend_schema(request=IncidentFieldsSerializer, responses={201: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def incident(self, request, pk=None):
        """Open an incident from the alert: it is linked to the alert, and the alert's release
        is the affected one. 409 when the alert already has an incident."""
        data = validated(IncidentFieldsSerializer, request)
        alert = self.get_object()
        incident = services.incident_open(actor=request.user, agent=alert.agent,
                                          title=data["title"], severity=data["severity"],
                                          description=data["description"], alert=alert)
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)


class IncidentStatusInputSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    reason = serializers.CharField(max_length=1000)


class IncidentNoteInputSerializer(StrictSerializer):
    text = serializers.CharField(max_length=10_000)


class IncidentReviewInputSerializer(StrictSerializer):
    post_incident_review = serializers.CharField(
        max_length=20_000, allow_blank=True, help_text="Replaces the review; blank clears it.")
    corrective_release = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
        help_text="A release of the incident's agent that corrects the cause; left out or "
                  "null: the linked one stays.")


class IncidentSeriousInputSerializer(StrictSerializer):
    serious_kind = serializers.ChoiceField(choices=SeriousKind.choices,
                                           help_text="Sets the Article 73 reporting deadline.")
    aware_at = serializers.DateTimeField(required=False, allow_null=True,
                                         help_text="When the provider became aware of it; "
                                                   "left out: as recorded before, else now.")
    reason = serializers.CharField(max_length=1000)


class IncidentFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")

    class Meta:
        model = Incident
        fields = ["agent", "status", "severity", "serious"]


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    queryset = Incident.objects.none()

    def get_queryset(self):
        incidents = selectors.incidents_visible_to(signed_in(self.request.user))
        return selectors.with_timeline(incidents) if self.action == "retrieve" else incidents

    def get_serializer_class(self):
        return IncidentDetailSerializer if self.action == "retrieve" else IncidentSerializer

    @extend_schema(request=IncidentInputSerializer, responses={201: IncidentSerializer})
    def create(self, request):
        data = validated(IncidentInputSerializer, request)
        agent = get_object_or_404(agents_visible_to(request.user), slug=data["agent"])
        release = (get_object_or_404(agent.releases.all(), pk=data["affected_release"])
                   if data.get("affected_release") else None)
        incident = services.incident_open(actor=request.user, agent=agent, title=data["title"],
                                          severity=data["severity"],
                                          description=data["description"],
                                          affected_release=release)
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IncidentStatusInputSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        data = validated(IncidentStatusInputSerializer, request)
        incident = services.incident_set_status(actor=request.user, incident=self.get_object(),
                                                status=data["status"], reason=data["reason"])
        return Response(IncidentSerializer(incident).data)

    @extend_schema(request=IncidentNoteInputSerializer, responses={201: None})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        text = validated(IncidentNoteInputSerializer, request)["text"]
        event = services.incident_add_note(actor=request.user, incident=self.get_object(),
                                           text=text)
        return Response({"id": event.pk, "text": text}, status=status.HTTP_201_CREATED)

    @extend_schema(request=IncidentReviewInputSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """The post-incident review, and the release that corrects the cause (which reaches
        production only through the release gate)."""
        data = validated(IncidentReviewInputSerializer, request)
        incident = self.get_object()
        corrective = (get_object_or_404(releases_visible_to(request.user),
                                        pk=data["corrective_release"])
                      if data.get("corrective_release") else None)
        incident = services.incident_update_review(actor=request.user, incident=incident,
                                                   review=data["post_incident_review"],
                                                   corrective_release=corrective)
        return Response(IncidentSerializer(incident).data)

    @extend_schema(request=IncidentSeriousInputSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def serious(self, request, pk=None):
        """Mark a serious incident (EU AI Act Article 73; compliance): the kind of harm sets
        the reporting deadline."""
        data = validated(IncidentSeriousInputSerializer, request)
        incident = services.incident_mark_serious(
            actor=request.user, incident=self.get_object(), kind=data["serious_kind"],
            aware_at=data.get("aware_at"), reason=data["reason"])
        return Response(IncidentSerializer(incident).data)

    @extend_schema(request=RequiredReasonSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def reported(self, request, pk=None):
        """Record that a serious incident was reported to the authority (compliance), saying
        how and to whom. 409 when it is not serious or already reported."""
        reason = validated(RequiredReasonSerializer, request)["reason"]
        incident = services.incident_mark_reported(actor=request.user,
                                                   incident=self.get_object(), reason=reason)
        return Response(IncidentSerializer(incident).data)


class FindingSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    decided_by = username_field(read_only=True)

    class Meta:
        model = DiscoveryFinding
        fields = ["id", "name", "status", "first_seen_at", "last_seen_at", "points",
                  "models_seen", "tools_seen", "attributes", "agent", "decided_by",
                  "decided_at", "reason"]
        read_only_fields = fields


class ClaimInputSerializer(StrictSerializer):
    owner = username_field(queryset=User.objects.filter(is_active=True),
                           help_text="The business owner the intake draft is filed for.")
    reason = serializers.CharField(max_length=1000)


class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Agents nobody registered, found from their telemetry (compliance's queue)."""

    serializer_class = FindingSerializer
    filterset_fields = ["status"]
    queryset = DiscoveryFinding.objects.none()

    def get_queryset(self):
        return selectors.findings_visible_to(signed_in(self.request.user))

    @extend_schema(request=ClaimInputSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """File an intake draft for the owner from what was seen."""
        data = validated(ClaimInputSerializer, request)
        finding = services.finding_claim(actor=request.user, finding=self.get_object(),
                                         owner=data["owner"], reason=data["reason"])
        return Response(FindingSerializer(finding).data)

    @extend_schema(request=RequiredReasonSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        reason = validated(RequiredReasonSerializer, request)["reason"]
        finding = services.finding_dismiss(actor=request.user, finding=self.get_object(),
                                           reason=reason)
        return Response(FindingSerializer(finding).data)


class TelemetryNameInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, help_text="A service.name or gen_ai.agent.name "
                                                          "this agent's telemetry arrives under.")


class AgentTelemetryNameView(APIView):
    """Map a name the agent's OpenTelemetry data arrives under to the agent (owner)."""

    @extend_schema(request=TelemetryNameInputSerializer, responses={201: None})
    def post(self, request, slug):
        name = validated(TelemetryNameInputSerializer, request)["name"]
        agent = get_object_or_404(agents_visible_to(request.user), slug=slug)
        mapping = services.telemetry_name_add(actor=request.user, agent=agent, name=name)
        return Response({"agent": agent.slug, "name": mapping.name},
                        status=status.HTTP_201_CREATED)


class TelemetryContractView(APIView):
    """The OpenTelemetry Collector configuration that makes a gateway's telemetry land on this
    approved release (YAML; the token is a placeholder)."""

    @extend_schema(responses={200: inline_serializer("TelemetryContract", {
        "agent": serializers.CharField(), "release": serializers.IntegerField(),
        "manifest_hash": serializers.CharField(), "collector_yaml": serializers.CharField()})})
    def get(self, request, slug, number):
        release = selectors.contract_release_for(request.user, slug, number)
        if not has_contract(release):
            raise Conflict("A telemetry contract is offered once the release is approved.")
        return Response({"agent": release.agent.slug, "release": release.number,
                         "manifest_hash": release.manifest_hash,
                         "collector_yaml": collector_yaml(release, settings.SITE_URL)})
