"""The API for named human overseers and the event log: the same services, rules and
visibility as the pages. Overseers are named by the agent's owner, a delegate or an admin;
everyone who sees the agent (auditors see every agent) reads both."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..accounts.models import User
from ..accounts.permissions import signed_in
from ..core.api import RequiredReasonSerializer, StrictSerializer, username_field, validated
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import selectors, services
from .choices import EventLogKind, OversightRole
from .models import EventLog, Overseer


class OverseerSerializer(serializers.ModelSerializer):
    agent: serializers.SlugRelatedField[Agent] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True)
    user = username_field(read_only=True)
    assigned_by = username_field(read_only=True)

    class Meta:
        model = Overseer
        fields = ["id", "agent", "user", "role", "training", "trained_on",
                  "training_expires_on", "evidence_url", "active_from", "active_to",
                  "assigned_by", "assigned_at"]
        read_only_fields = fields


class TrainingInputSerializer(StrictSerializer):
    training = serializers.CharField(max_length=200)
    trained_on = serializers.DateField()
    training_expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    evidence_url = serializers.URLField(max_length=500, required=False, allow_blank=True,
                                        default="")
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                   default="")


class OverseerInputSerializer(TrainingInputSerializer):
    agent = serializers.SlugField()
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True,
                                                            is_service_account=False))
    role = serializers.ChoiceField(choices=OversightRole.choices)
    active_from = serializers.DateField(required=False, allow_null=True, default=None)
    active_to = serializers.DateField(required=False, allow_null=True, default=None)


class OverseerFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")

    class Meta:
        model = Overseer
        fields = ["agent", "role"]


class OverseerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Named human overseers of the agents you may see, with their training records."""

    serializer_class = OverseerSerializer
    filterset_class = OverseerFilter
    queryset = Overseer.objects.none()

    def get_queryset(self):
        return selectors.overseers_visible_to(signed_in(self.request.user))

    def _answer(self, overseer: Overseer, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.overseer_for(signed_in(self.request.user), overseer.pk)
        return Response(OverseerSerializer(fresh).data, status=code)

    @extend_schema(request=OverseerInputSerializer, responses={201: OverseerSerializer})
    def create(self, request):
        data = dict(validated(OverseerInputSerializer, request))
        agent = get_object_or_404(agents_visible_to(request.user), slug=data.pop("agent"))
        overseer = services.overseer_assign(actor=request.user, agent=agent, **data)
        return self._answer(overseer, status.HTTP_201_CREATED)

    @extend_schema(request=TrainingInputSerializer, responses=OverseerSerializer)
    @action(detail=True, methods=["post"])
    def training(self, request, pk=None):
        """Record a renewed or corrected training record."""
        data = dict(validated(TrainingInputSerializer, request))
        reason = data.pop("reason")
        overseer = services.overseer_update_training(actor=request.user, data=data,
                                                     overseer=self.get_object(), reason=reason)
        return self._answer(overseer)

    @extend_schema(request=RequiredReasonSerializer, responses=OverseerSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        reason = validated(RequiredReasonSerializer, request)["reason"]
        overseer = services.overseer_end(actor=request.user, overseer=self.get_object(),
                                         reason=reason)
        return self._answer(overseer)


class EventLogSerializer(serializers.ModelSerializer):
    agent: serializers.SlugRelatedField[Agent] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True)
    actor = username_field(read_only=True)

    class Meta:
        model = EventLog
        fields = ["id", "agent", "kind", "at", "until", "day", "calls", "errors",
                  "tool_call_failures", "polls", "summary", "actor", "recorded_at"]
        read_only_fields = fields


class EventLogFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")
    kind = django_filters.ChoiceFilter(choices=EventLogKind.choices)
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = EventLog
        fields = ["agent", "kind"]


class EventLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """The event log of the agents you may see: usage periods, stops and overrides (read-only,
    kept at least six months)."""

    serializer_class = EventLogSerializer
    filterset_class = EventLogFilter
    queryset = EventLog.objects.none()

    def get_queryset(self):
        return selectors.event_logs_visible_to(signed_in(self.request.user))
