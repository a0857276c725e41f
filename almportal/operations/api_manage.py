"""The operations API for people and pipelines: deployments (start, canary steps, rollback,
end), the kill switch, alerts and incidents. Same services and permissions as the pages; the
gateway endpoints (runtime status, ingestion) are in operations.api."""

import django_filters
from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
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
from ..inventory.selectors import agents_visible_to
from ..releases.selectors import releases_visible_to
from . import selectors, services
from .choices import IncidentStatus, Severity, Strategy
from .contract import collector_yaml, has_contract
from .models import Alert, Deployment, DiscoveryFinding, Environment, Incident, Route, Suspension


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


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    queryset = Alert.objects.none()

    def get_queryset(self):
        return selectors.alerts_visible_to(signed_in(self.request.user))


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


class IncidentInputSerializer(StrictSerializer):
    agent = serializers.SlugField()
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True,
                                        default="")
    affected_release = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                                required=False)


class IncidentStatusInputSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    reason = serializers.CharField(max_length=1000)


class IncidentNoteInputSerializer(StrictSerializer):
    text = serializers.CharField(max_length=10_000)


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
        return selectors.incidents_visible_to(signed_in(self.request.user))

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
