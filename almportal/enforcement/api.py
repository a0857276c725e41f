"""The enforcement API: the Cedar policy gateways poll and the revision they report (both with
runtime-scoped gateway tokens, like the runtime status), what each gateway enforces (for
people), and the agent's OSCAL Assessment Results."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.authentication import ApiTokenAuthentication
from ..accounts.models import TokenScope
from ..accounts.throttling import GatewayRateThrottle
from ..core.api import StrictSerializer, validated
from ..operations.api import etags_in
from ..operations.selectors import runtime_served
from . import oscal, selectors, services
from .views import export_agent_for

ENVIRONMENT = OpenApiParameter("environment", str, description="Default: production.")


class PolicyView(APIView):
    """The Cedar policies a gateway enforces for the agent (revision = the serving release's
    manifest hash; a forbid-all revision while the agent is suspended or retired). Send the
    last ETag as If-None-Match: an unchanged policy answers 304 with no body."""

    authentication_classes = [ApiTokenAuthentication]
    required_scope = TokenScope.RUNTIME
    throttle_classes = [GatewayRateThrottle]

    @extend_schema(parameters=[ENVIRONMENT], responses={200: inline_serializer("CedarPolicy", {
        "agent": serializers.CharField(), "environment": serializers.CharField(),
        "mode": serializers.CharField(help_text="releases, forbid_all or nothing"),
        "revision": serializers.CharField(), "releases": serializers.ListField(),
        "schema": serializers.CharField(help_text="Cedar schema (human-readable syntax)"),
        "policies": serializers.CharField(help_text="Cedar policies")}), 304: None})
    def get(self, request, slug):
        served = selectors.policy_served(request.user, slug,
                                         request.query_params.get("environment", ""))
        policy = served.policy
        headers = {"ETag": policy.etag, "Cache-Control": "no-cache"}
        if policy.etag in etags_in(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(policy.document(), headers=headers)


class RevisionReportSerializer(StrictSerializer):
    revision = serializers.CharField(max_length=1000)
    gateway = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                    default="", help_text="Default: the token's name.")
    environment = serializers.SlugField(max_length=50, required=False, allow_blank=True,
                                        default="", help_text="Default: production.")


class RevisionReportView(APIView):
    """A gateway says which policy revision it enforces for the agent. During a suspension,
    the time-to-halt ends when every reporting gateway enforces the forbid-all revision."""

    authentication_classes = [ApiTokenAuthentication]
    required_scope = TokenScope.RUNTIME

    @extend_schema(request=RevisionReportSerializer, responses={
        200: inline_serializer("RevisionReported", {
            "revision": serializers.CharField(), "current_revision": serializers.CharField(),
            "enforces_current": serializers.BooleanField()})})
    def post(self, request, slug):
        data = validated(RevisionReportSerializer, request)
        runtime = runtime_served(request.user, slug, data["environment"])
        services.revision_report(token=request.auth, agent_id=runtime.agent_id,
                                 environment_id=runtime.environment_id, gateway=data["gateway"],
                                 revision=data["revision"], at=timezone.now())
        current = selectors.policy_served(request.user, slug, data["environment"]).policy
        return Response({"revision": data["revision"], "current_revision": current.revision,
                         "enforces_current": data["revision"] == current.revision})


class GatewaySerializer(serializers.Serializer):
    gateway = serializers.CharField(source="report.name")
    token = serializers.CharField(source="report.token.key_prefix")
    environment = serializers.CharField(source="report.environment.slug")
    revision = serializers.CharField(source="report.revision")
    revision_since = serializers.DateTimeField(source="report.revision_since")
    last_reported_at = serializers.DateTimeField(source="report.last_reported_at")
    current_revision = serializers.CharField(source="current")
    standing = serializers.ChoiceField(choices=["current", "stale", "different"])
    silent = serializers.BooleanField()


class AgentGatewaysView(APIView):
    """Each gateway that reported for the agent: the revision it enforces, the one it should,
    and whether its own is current, stale (served before) or different (never served); silent
    when it has not reported for an hour."""

    @extend_schema(responses={200: GatewaySerializer(many=True)})
    def get(self, request, slug):
        agent = selectors.agent_for(request.user, slug)
        return Response(GatewaySerializer(selectors.gateway_rows(agent), many=True).data)


class AssessmentResultsView(APIView):
    """The agent's OSCAL Assessment Results (JSON): checklist items as observations, framework
    clauses as findings, evidence hashes and the audit ledger's head in the back-matter. An
    export: it needs the right to export audit history and is recorded before it is sent."""

    @extend_schema(responses={200: inline_serializer("OscalAssessmentResults", {
        "assessment-results": serializers.DictField()})})
    def get(self, request, slug):
        agent = export_agent_for(request.user, slug)
        return Response(oscal.assessment_results_export(actor=request.user, agent=agent))
