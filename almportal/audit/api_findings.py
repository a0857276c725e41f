"""The API for internal audits, management reviews, findings and corrective actions. Auditors
and compliance read everything; others read the findings about agents they see and those they
hold an action on. Writes go through audit.findings, which asks audit.rules."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..accounts.models import User
from ..accounts.permissions import signed_in
from ..core.api import StrictSerializer, username_field, validated
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import findings, selectors
from .models import (
    AuditKind,
    AuditState,
    CorrectiveAction,
    Finding,
    FindingSeverity,
    InternalAudit,
)

PEOPLE = User.objects.filter(is_active=True, is_service_account=False)


class InternalAuditSerializer(serializers.ModelSerializer):
    lead = username_field(read_only=True)
    created_by = username_field(read_only=True)

    class Meta:
        model = InternalAudit
        fields = ["id", "kind", "title", "scope", "period_start", "period_end", "lead", "state",
                  "created_by", "created_at"]
        read_only_fields = fields


class CorrectiveActionSerializer(serializers.ModelSerializer):
    owner = username_field(read_only=True)
    recorded_by = username_field(read_only=True)
    verified_by = username_field(read_only=True)
    created_by = username_field(read_only=True)

    class Meta:
        model = CorrectiveAction
        fields = ["id", "finding", "owner", "description", "due_on", "state", "action_taken",
                  "evidence", "recorded_by", "recorded_at", "verified_by", "verified_at",
                  "verification_note", "created_by", "created_at"]
        read_only_fields = fields


class AuditFindingSerializer(serializers.ModelSerializer):
    agent: serializers.SlugRelatedField[Agent] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True)
    recorded_by = username_field(read_only=True)

    class Meta:
        model = Finding
        fields = ["id", "audit", "agent", "severity", "title", "description", "clause",
                  "recorded_by", "recorded_at", "closed_at"]
        read_only_fields = fields


class AuditInputSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=AuditKind.choices, default=AuditKind.AUDIT)
    title = serializers.CharField(max_length=200)
    scope = serializers.CharField(max_length=5000)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    lead = serializers.SlugRelatedField(slug_field="username", queryset=PEOPLE)


class MoveInputSerializer(StrictSerializer):
    state = serializers.ChoiceField(choices=AuditState.choices)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                   default="")


class AuditFindingInputSerializer(StrictSerializer):
    audit = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    agent = serializers.SlugField(required=False, allow_null=True, default=None)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000)
    clause = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ActionInputSerializer(StrictSerializer):
    finding = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    owner = serializers.SlugRelatedField(slug_field="username", queryset=PEOPLE)
    description = serializers.CharField(max_length=5000)
    due_on = serializers.DateField(required=False, allow_null=True, default=None)


class RecordInputSerializer(StrictSerializer):
    action_taken = serializers.CharField(max_length=10_000)
    evidence = serializers.CharField(max_length=1000)


class VerifyInputSerializer(StrictSerializer):
    accepted = serializers.BooleanField()
    note = serializers.CharField(max_length=1000)


class InternalAuditViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Internal audits and management reviews (planned and moved on by compliance)."""

    serializer_class = InternalAuditSerializer
    filterset_fields = ["kind", "state"]
    queryset = InternalAudit.objects.none()

    def get_queryset(self):
        return selectors.internal_audits_visible_to(signed_in(self.request.user))

    def _answer(self, audit, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.internal_audit_for(signed_in(self.request.user), audit.pk)
        return Response(InternalAuditSerializer(fresh).data, status=code)

    @extend_schema(request=AuditInputSerializer, responses={201: InternalAuditSerializer})
    def create(self, request):
        audit = findings.internal_audit_plan(actor=request.user,
                                             **validated(AuditInputSerializer, request))
        return self._answer(audit, status.HTTP_201_CREATED)

    @extend_schema(request=MoveInputSerializer, responses=InternalAuditSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Start (planned → in progress) or close (in progress → closed); 409 otherwise."""
        data = validated(MoveInputSerializer, request)
        audit = findings.internal_audit_move(actor=request.user, audit=self.get_object(), **data)
        return self._answer(audit)


class AuditFindingFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")

    class Meta:
        model = Finding
        fields = ["audit", "agent", "severity"]


class AuditFindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Audit findings; auditors record them (their one kind of write)."""

    serializer_class = AuditFindingSerializer
    filterset_class = AuditFindingFilter
    queryset = Finding.objects.none()

    def get_queryset(self):
        return selectors.findings_visible_to(signed_in(self.request.user))

    @extend_schema(request=AuditFindingInputSerializer, responses={201: AuditFindingSerializer})
    def create(self, request):
        data = dict(validated(AuditFindingInputSerializer, request))
        audit = selectors.internal_audit_for(request.user, data.pop("audit"))
        slug = data.pop("agent")
        agent = get_object_or_404(agents_visible_to(request.user), slug=slug) if slug else None
        finding = findings.finding_record(actor=request.user, audit=audit, agent=agent, **data)
        fresh = selectors.finding_for(request.user, finding.pk)
        return Response(AuditFindingSerializer(fresh).data, status=status.HTTP_201_CREATED)


class CorrectiveActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    """Corrective actions: assigned on a finding, recorded by their owner, verified by an
    auditor other than the person who recorded them."""

    serializer_class = CorrectiveActionSerializer
    filterset_fields = ["finding", "state"]
    queryset = CorrectiveAction.objects.none()

    def get_queryset(self):
        return selectors.corrective_actions_visible_to(signed_in(self.request.user))

    def _answer(self, action_, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.corrective_action_for(signed_in(self.request.user), action_.pk)
        return Response(CorrectiveActionSerializer(fresh).data, status=code)

    @extend_schema(request=ActionInputSerializer, responses={201: CorrectiveActionSerializer})
    def create(self, request):
        data = dict(validated(ActionInputSerializer, request))
        finding = selectors.finding_for(request.user, data.pop("finding"))
        done = findings.corrective_action_assign(actor=request.user, finding=finding, **data)
        return self._answer(done, status.HTTP_201_CREATED)

    @extend_schema(request=RecordInputSerializer, responses=CorrectiveActionSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        done = findings.corrective_action_record(actor=request.user, action=self.get_object(),
                                                 **validated(RecordInputSerializer, request))
        return self._answer(done)

    @extend_schema(request=VerifyInputSerializer, responses=CorrectiveActionSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        done = findings.corrective_action_verify(actor=request.user, action=self.get_object(),
                                                 **validated(VerifyInputSerializer, request))
        return self._answer(done)
