"""The decommissioning API: plans (read, start, sign, retire), tasks (complete with evidence,
run the automatic ones, assign) and archives (read, download, extend retention).

Serializers only parse and render; every change is one call to retirement.services and every
read goes through retirement.selectors, so the API and the pages agree."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..accounts.models import User
from ..accounts.permissions import signed_in
from ..core.api import StrictSerializer, slug_field, username_field, validated
from ..inventory.api import VisibleAgentField
from . import rules, selectors, services
from .choices import PlanState, SignOffRole, TaskAction, TaskStatus
from .models import Archive, DecommissionPlan, DecommissionTask, RetirementSignOff


def _choice(choices, **kwargs) -> serializers.CharField:
    """A choice rendered as a string naming its values in the help text. Not an enum in the
    schema: these field names (state, status, role, action) carry other value sets in other
    apps, and the schema's enums are named by field. The services check the values."""
    values = ", ".join(choices.values)
    kwargs.setdefault("help_text", f"One of: {values}.")
    return serializers.CharField(max_length=30, **kwargs)


def _people():
    return User.objects.filter(is_active=True, is_service_account=False)


@extend_schema_field(OpenApiTypes.OBJECT)
class ProofField(serializers.JSONField):
    pass


class DecommissionTaskSerializer(serializers.ModelSerializer):
    status = _choice(TaskStatus, read_only=True)
    action = _choice(TaskAction, read_only=True)
    assignee = username_field(read_only=True)
    completed_by = username_field(read_only=True)
    proof = ProofField(read_only=True, help_text="What the portal did, for automatic tasks.")

    class Meta:
        model = DecommissionTask
        fields = ["id", "plan", "key", "title", "action", "assignee", "due_date", "status",
                  "comment", "evidence_url", "evidence_sha256", "proof", "completed_by",
                  "completed_at"]
        read_only_fields = fields


class RetirementSignOffSerializer(serializers.ModelSerializer):
    role = _choice(SignOffRole, read_only=True)
    user = username_field(read_only=True)

    class Meta:
        model = RetirementSignOff
        fields = ["role", "user", "comment", "created_at"]
        read_only_fields = fields


class DecommissionPlanSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    state = _choice(PlanState, read_only=True)
    template_version = serializers.IntegerField(source="template.version", read_only=True)
    contact_users = username_field(many=True, read_only=True)
    started_by = username_field(read_only=True)
    retired_by = username_field(read_only=True)

    class Meta:
        model = DecommissionPlan
        fields = ["id", "agent", "state", "reason", "planned_date", "retention_until",
                  "dependents", "contact_users", "contact_emails", "template_version",
                  "started_by", "started_at", "retired_by", "retired_at"]
        read_only_fields = fields


class DecommissionPlanDetailSerializer(DecommissionPlanSerializer):
    tasks = DecommissionTaskSerializer(many=True, read_only=True)
    signoffs = RetirementSignOffSerializer(many=True, read_only=True)
    missing = serializers.SerializerMethodField(
        help_text="What retirement still waits for, by name (empty once it may proceed).")

    final_archive = serializers.SerializerMethodField(
        help_text='The final archive, built after retirement: {"state": "building"} until it '
                  'is ready, then {"state": "ready", "id", "file_name", "sha256"}; null before '
                  "retirement or for those who may not see archives.")

    class Meta(DecommissionPlanSerializer.Meta):
        fields = [*DecommissionPlanSerializer.Meta.fields, "tasks", "signoffs", "missing",
                  "final_archive"]
        read_only_fields = fields

    def get_missing(self, plan) -> list[str]:
        return selectors.missing_for_retirement(plan) if plan.state == PlanState.OPEN else []

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_final_archive(self, plan) -> dict | None:
        user = self.context["request"].user
        archives = selectors.plan_archives(user, plan) if plan.state == PlanState.RETIRED else []
        if rules.final_archive_pending(user, plan, archives):
            return {"state": "building"}
        final = archives[0] if archives and archives[0].final else None
        if final is None:
            return None
        return {"state": "ready", "id": final.pk, "file_name": final.file_name,
                "sha256": final.sha256}


class DecommissionPlanStartSerializer(StrictSerializer):
    agent = VisibleAgentField()
    reason = serializers.CharField(max_length=2000)
    planned_date = serializers.DateField()
    retention_until = serializers.DateField(required=False, allow_null=True, default=None)
    contact_users = username_field(many=True, queryset=_people(), required=False, default=list)
    contact_emails = serializers.CharField(max_length=4000, required=False, allow_blank=True,
                                           default="")
    dependents = serializers.CharField(max_length=4000, required=False, allow_blank=True,
                                       default="")


class RetirementSignOffCreateSerializer(StrictSerializer):
    role = _choice(SignOffRole)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    default="")


class PlanRetireSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DecommissionTaskCompleteSerializer(StrictSerializer):
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True,
                                    default="")
    evidence_url = serializers.URLField(max_length=500, required=False, allow_blank=True,
                                        default="")
    evidence_sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                            default="")


class DecommissionTaskAssignSerializer(StrictSerializer):
    assignee = username_field(queryset=_people())
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class DecommissionArchiveSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    created_by = username_field(read_only=True)

    class Meta:
        model = Archive
        fields = ["id", "agent", "plan", "file_name", "sha256", "size", "retain_until",
                  "legal_hold", "final", "created_by", "created_at"]
        read_only_fields = fields


class ArchiveHoldSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)
    retain_until = serializers.DateField(required=False, allow_null=True, default=None)
    legal_hold = serializers.BooleanField(required=False, default=False)


# --- Viewsets ----------------------------------------------------------------------------------

@extend_schema(tags=["decommissioning"])
@extend_schema_view(
    list=extend_schema(summary="Decommissioning plans of the agents you may see"),
    retrieve=extend_schema(summary="One plan with its tasks, sign-offs and what is missing",
                           responses=DecommissionPlanDetailSerializer),
)
class DecommissionPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    serializer_class = DecommissionPlanSerializer
    queryset = DecommissionPlan.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DecommissionPlan.objects.none()
        plans = (selectors.plans_visible_to(signed_in(self.request.user))
                 .prefetch_related("contact_users"))
        if self.action != "list":
            plans = plans.prefetch_related("tasks__assignee", "tasks__completed_by",
                                           "signoffs__user")
        return plans

    def get_serializer_class(self):
        if self.action == "list":
            return DecommissionPlanSerializer
        return DecommissionPlanDetailSerializer

    def _render(self, plan: DecommissionPlan, code: int = status.HTTP_200_OK) -> Response:
        plan = self.get_queryset().get(pk=plan.pk)
        context = self.get_serializer_context()
        return Response(DecommissionPlanDetailSerializer(plan, context=context).data, status=code)

    @extend_schema(summary="Start sunsetting an agent (owner, delegate, compliance, admin)",
                   request=DecommissionPlanStartSerializer,
                   responses={201: DecommissionPlanDetailSerializer})
    def create(self, request):
        data = validated(DecommissionPlanStartSerializer, request)
        plan = services.plan_start(actor=request.user, **data)
        return self._render(plan, status.HTTP_201_CREATED)

    @extend_schema(summary="Sign the retirement as owner or compliance",
                   request=RetirementSignOffCreateSerializer,
                   responses={201: DecommissionPlanDetailSerializer})
    @action(detail=True, methods=["post"])
    def signoffs(self, request, pk=None):
        plan = self.get_object()
        services.signoff_record(actor=request.user, plan=plan,
                                **validated(RetirementSignOffCreateSerializer, request))
        return self._render(plan, status.HTTP_201_CREATED)

    @extend_schema(summary="Retire the agent (refused, naming what is missing, until complete)",
                   request=PlanRetireSerializer, responses=DecommissionPlanDetailSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        plan = self.get_object()
        services.plan_retire(actor=request.user, plan=plan,
                             **validated(PlanRetireSerializer, request))
        return self._render(plan)


@extend_schema(tags=["decommissioning"])
@extend_schema_view(
    list=extend_schema(summary="Decommission tasks of the agents you may see"),
    retrieve=extend_schema(summary="One decommission task"),
)
class DecommissionTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    serializer_class = DecommissionTaskSerializer
    queryset = DecommissionTask.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DecommissionTask.objects.none()
        return selectors.tasks_visible_to(signed_in(self.request.user))

    def _render(self, task: DecommissionTask) -> Response:
        task.refresh_from_db()
        context = self.get_serializer_context()
        return Response(DecommissionTaskSerializer(task, context=context).data)

    @extend_schema(summary="Mark a manual task done, with a comment or evidence",
                   request=DecommissionTaskCompleteSerializer, responses=DecommissionTaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        services.task_complete(actor=request.user, task=task,
                               **validated(DecommissionTaskCompleteSerializer, request))
        return self._render(task)

    @extend_schema(summary="Let the portal do an automatic task and record its proof",
                   request=None, responses=DecommissionTaskSerializer)
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        task = self.get_object()
        services.task_run(actor=request.user, task=task)
        return self._render(task)

    @extend_schema(summary="Assign a task (and move its due date)",
                   request=DecommissionTaskAssignSerializer, responses=DecommissionTaskSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        task = self.get_object()
        services.task_assign(actor=request.user, task=task,
                             **validated(DecommissionTaskAssignSerializer, request))
        return self._render(task)


@extend_schema(tags=["decommissioning"])
@extend_schema_view(
    list=extend_schema(summary="Archives of retired agents (auditors, compliance, admins, "
                               "owners)"),
    retrieve=extend_schema(summary="One archive, with its SHA-256"),
)
class ArchiveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DecommissionArchiveSerializer
    queryset = Archive.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Archive.objects.none()
        return selectors.archives_visible_to(signed_in(self.request.user))

    @extend_schema(summary="Download the archive (a zip with MANIFEST.sha256)",
                   responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        archive = self.get_object()
        return FileResponse(services.archive_download(actor=request.user, archive=archive),
                            as_attachment=True,
                            filename=archive.file_name, content_type="application/zip",
                            headers={"X-Archive-SHA256": archive.sha256})

    @extend_schema(summary="Extend the archive's retention or place a legal hold (compliance)",
                   request=ArchiveHoldSerializer, responses=DecommissionArchiveSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        archive = services.archive_hold(actor=request.user, archive=self.get_object(),
                                        **validated(ArchiveHoldSerializer, request))
        context = self.get_serializer_context()
        return Response(DecommissionArchiveSerializer(archive, context=context).data)
