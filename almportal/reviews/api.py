"""The reviews API: access reviews (list, read, certify), revocation tasks (list, read,
complete), the ownerless queue (list, reassign) and My work. Serializers parse and render;
services decide."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
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
    validated_query,
)
from ..inventory.api import AgentSerializer
from ..inventory.models import Agent
from . import rules, selectors, services, work
from .models import AccessReview, Decision, ReviewItem, ReviewState, RevocationTask, TaskState


class ReviewItemSerializer(serializers.ModelSerializer):
    decided_by = username_field(read_only=True)

    class Meta:
        model = ReviewItem
        fields = ["id", "kind", "name", "version", "access", "granted_by", "granted_at",
                  "credential", "tool", "data_source", "decision", "comment", "decided_by",
                  "decided_at"]
        read_only_fields = fields


class AccessReviewSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    completed_by = username_field(read_only=True)
    items = ReviewItemSerializer(many=True, read_only=True)

    class Meta:
        model = AccessReview
        fields = ["id", "agent", "tier", "due_on", "due_at", "state", "opened_at",
                  "escalated_at", "completed_at", "completed_by", "items"]
        read_only_fields = fields


class DecisionSerializer(StrictSerializer):
    item = serializers.IntegerField(help_text="The review item's id.")
    decision = serializers.ChoiceField(choices=[Decision.KEEP, Decision.REVOKE])
    comment = serializers.CharField(max_length=2000, help_text="Why: required.")


class CertifySerializer(StrictSerializer):
    decisions = DecisionSerializer(many=True, allow_empty=True)


class ReviewFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug", label="Agent slug")
    state = django_filters.ChoiceFilter(choices=ReviewState.choices)

    class Meta:
        model = AccessReview
        fields = ["agent", "state"]


@extend_schema(tags=["reviews"])
@extend_schema_view(
    list=extend_schema(summary="Access reviews of the agents you may see"),
    retrieve=extend_schema(summary="One access review with every grant it lists"),
)
class AccessReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    serializer_class = AccessReviewSerializer
    filterset_class = ReviewFilter
    queryset = AccessReview.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessReview.objects.none()
        return selectors.reviews_visible_to(signed_in(self.request.user)).prefetch_related(
            selectors.prefetch_items())

    @extend_schema(summary="Certify keep or revoke, with a comment, for grants of the review "
                           "(the agent's owner, a delegate or an admin); all or nothing. An "
                           "empty list confirms a review that lists no grants.",
                   request=CertifySerializer, responses=AccessReviewSerializer)
    @action(detail=True, methods=["post"])
    def certify(self, request, pk=None):
        data = validated(CertifySerializer, request)
        review = self.get_object()
        if data["decisions"]:
            services.access_review_certify(actor=request.user, review=review,
                                           entries=data["decisions"])
        else:
            services.access_review_complete_empty(actor=request.user, review=review)
        return Response(AccessReviewSerializer(self.get_queryset().get(pk=review.pk)).data)


class RevocationTaskSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    item = ReviewItemSerializer(read_only=True)
    review = serializers.IntegerField(source="item.review_id", read_only=True)
    completed_by = username_field(read_only=True)

    class Meta:
        model = RevocationTask
        fields = ["id", "agent", "review", "item", "state", "opened_at", "completed_at",
                  "completed_by", "note"]
        read_only_fields = fields


class TaskCompleteSerializer(StrictSerializer):
    note = serializers.CharField(max_length=2000, help_text="How the access was cut.")


class TaskFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=TaskState.choices)

    class Meta:
        model = RevocationTask
        fields = ["state"]


@extend_schema(tags=["reviews"])
@extend_schema_view(
    list=extend_schema(summary="Revocation tasks of the agents you may see"),
    retrieve=extend_schema(summary="One revocation task"),
)
class RevocationTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    serializer_class = RevocationTaskSerializer
    filterset_class = TaskFilter
    queryset = RevocationTask.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RevocationTask.objects.none()
        return selectors.revocation_tasks_visible_to(signed_in(self.request.user)).select_related(
            "item__decided_by")

    @extend_schema(summary="Record that the access is cut (security reviewers)",
                   request=TaskCompleteSerializer, responses=RevocationTaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = validated(TaskCompleteSerializer, request)
        task = services.revocation_task_complete(actor=request.user, task=self.get_object(),
                                                 note=data["note"])
        return Response(RevocationTaskSerializer(self.get_queryset().get(pk=task.pk)).data)


class ReadsOwnerlessQueue(permissions.BasePermission):
    message = rules.QUEUE_READERS

    def has_permission(self, request, view) -> bool:
        return rules.may_read_queue(request.user)


class OwnerlessReassignSerializer(RequiredReasonSerializer):
    new_owner = username_field(
        queryset=User.objects.filter(is_active=True, is_service_account=False),
        help_text="Username of the new business owner.")


@extend_schema(tags=["reviews"])
@extend_schema_view(
    list=extend_schema(summary="Ownerless agents: their business owner is deactivated "
                               "(compliance officers, admins and auditors)"),
)
class OwnerlessAgentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AgentSerializer
    permission_classes = [permissions.IsAuthenticated, ReadsOwnerlessQueue]
    lookup_field = "slug"
    queryset = Agent.objects.none()

    def get_queryset(self):
        return selectors.ownerless_agents().select_related("technical_owner", "created_by")

    @extend_schema(summary="Hand an ownerless agent to a new business owner, with a reason "
                           "(compliance officers and admins)",
                   request=OwnerlessReassignSerializer, responses=AgentSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, slug=None):
        agent = self.get_object()
        data = validated(OwnerlessReassignSerializer, request)
        agent = services.ownerless_reassign(actor=request.user, agent=agent,
                                            new_owner=data["new_owner"], reason=data["reason"])
        return Response(AgentSerializer(agent, context=self.get_serializer_context()).data)


class WorkQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=work.WORK_SHOWN, default=work.WORK_SHOWN,
        help_text="How many items of each section to list; `total` counts them all.")


class WorkItemSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    url = serializers.CharField(allow_blank=True,
                                help_text="The page to act on: a path on this site.")
    detail = serializers.CharField(allow_blank=True)
    urgent = serializers.BooleanField()


class WorkSectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    total = serializers.IntegerField(help_text="Every item's count, listed or not.")
    items = WorkItemSerializer(many=True)


class WorkSerializer(serializers.Serializer):
    sections = WorkSectionSerializer(many=True)


class WorkView(APIView):
    """What waits for the caller: the sections of the My work page, in its order."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["reviews"], summary="My work: what waits for you, by kind",
                   parameters=[WorkQuerySerializer], responses=WorkSerializer)
    def get(self, request: Request) -> Response:
        limit = validated_query(WorkQuerySerializer, request)["limit"]
        sections = work.sections_for(signed_in(request.user), limit=limit)
        return Response(WorkSerializer({"sections": sections}).data)
