"""The inventory API: agents and their intake, versioned components (releases: releases.api).

Serializers only parse and render; every change is one call to inventory.services, and every
read goes through inventory.selectors, so the API and the pages agree on who sees and does what.
"""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..accounts.models import User
from ..accounts.permissions import signed_in
from ..core.api import (
    ReasonSerializer,
    RequiredReasonSerializer,
    StrictModelSerializer,
    StrictSerializer,
    username_field,
    validated,
    validated_query,
)
from . import services
from .filters import AgentFilter
from .models import (
    COMPONENT_MODELS,
    Agent,
    Credential,
    DataSource,
    ModelComponent,
    Prompt,
    Tool,
)
from .rules import SERVICE_RIGHTS
from .selectors import (
    HISTORY_SHOWN,
    agent_delegates,
    agent_history,
    agent_service_accounts,
    agents_visible_to,
    components_visible_to,
)

MAX_LIST_ITEMS = 100


class VisibleAgentField(serializers.SlugRelatedField):
    """An agent named by its slug, among the agents the requesting user may see: an agent
    hidden from them reads as one that does not exist."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", "The agent's slug.")
        super().__init__(slug_field="slug", queryset=Agent.objects.none(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return agents_visible_to(request.user) if request else Agent.objects.none()


# --- Agents ---------------------------------------------------------------------------------

class KpiSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    target = serializers.CharField(max_length=120)


class AgentSerializer(StrictModelSerializer):
    business_owner = username_field(read_only=True)
    technical_owner = username_field(
        queryset=User.objects.filter(is_active=True, is_service_account=False),
        required=False, allow_null=True)
    created_by = username_field(read_only=True)
    success_metrics = KpiSerializer(many=True, required=False,
                                    help_text="KPIs, each with a name and a target.")
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                 max_length=MAX_LIST_ITEMS)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                   max_length=1000, help_text="Why; kept in the history.")

    class Meta:
        model = Agent
        fields = ["slug", "name", "purpose", "why_agent", "business_owner", "sponsor",
                  "technical_owner", "business_unit", "intended_users", "audience",
                  "success_metrics", "autonomy_level", "data_classification", "action_reach",
                  "regulated_domain", "risk_tier", "stage", "tags", "next_review_at",
                  "created_by", "created_at", "updated_at", "reason"]
        read_only_fields = ["slug", "risk_tier", "stage", "next_review_at", "created_at",
                            "updated_at"]


class UserSummarySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["username", "name"]
        read_only_fields = fields


class DelegateSerializer(StrictSerializer):
    user = username_field(queryset=User.objects.filter(is_active=True))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ServiceRightsSerializer(StrictSerializer):
    account = username_field(queryset=User.objects.filter(is_active=True,
                                                          is_service_account=True),
                             help_text="The service account's username.")
    rights = serializers.ListField(child=serializers.ChoiceField(choices=list(SERVICE_RIGHTS)),
                                   allow_empty=True, max_length=len(SERVICE_RIGHTS),
                                   help_text="Exactly the rights it holds afterwards; an empty "
                                             "list takes them all away.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ServiceAccountRightsSerializer(serializers.Serializer):
    account = serializers.CharField()
    rights = serializers.ListField(child=serializers.ChoiceField(choices=list(SERVICE_RIGHTS)))


class HistoryQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=HISTORY_SHOWN, required=False,
        help_text=f"How many of the latest changes to list (at most, and by default, "
                  f"{HISTORY_SHOWN}, as the agent's page shows).")


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's label.")
    old = serializers.CharField(help_text="As the page shows it (\"—\" for none).")
    new = serializers.CharField(help_text="As the page shows it (\"—\" for none).")


class HistoryEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True,
                                 help_text="Who made the change (null when unknown).")
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    subject = serializers.CharField(
        help_text="What changed: the agent record, a component version, a release or an "
                  "access grant.")
    reason = serializers.CharField(allow_blank=True, help_text="Why, as given.")
    changes = FieldChangeSerializer(many=True, help_text="Field by field (none on creation).")


def _with_reason(data: dict) -> tuple[dict, dict]:
    """Split the record's fields from the optional reason (a service keeps its default
    reason when none is given)."""
    reason = data.pop("reason", "")
    return data, ({"reason": reason} if reason else {})


@extend_schema(tags=["agents"])
@extend_schema_view(
    list=extend_schema(summary="Agents you may see"),
    retrieve=extend_schema(summary="One agent"),
)
class AgentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AgentSerializer
    filterset_class = AgentFilter
    lookup_field = "slug"
    queryset = Agent.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Agent.objects.none()
        return agents_visible_to(signed_in(self.request.user)).select_related("created_by")

    def _render(self, agent: Agent, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(AgentSerializer(agent, context=self.get_serializer_context()).data,
                        status=status_code)

    @extend_schema(summary="File an intake (a draft you own)")
    def create(self, request):
        data, reason = _with_reason(validated(AgentSerializer, request))
        agent = services.agent_create(actor=request.user, data=data, **reason)
        return self._render(agent, status.HTTP_201_CREATED)

    @extend_schema(summary="Edit the agent record")
    def update(self, request, slug=None, partial=False):
        agent = self.get_object()
        data, reason = _with_reason(validated(AgentSerializer, request, partial=partial))
        agent = services.agent_update(actor=request.user, agent=agent, data=data, **reason)
        return self._render(agent)

    @extend_schema(summary="Edit some fields of the agent record")
    def partial_update(self, request, slug=None):
        return self.update(request, slug=slug, partial=True)

    def _move(self, request, service, reason_serializer=ReasonSerializer) -> Response:
        agent = self.get_object()
        reason = validated(reason_serializer, request)["reason"]
        return self._render(service(actor=request.user, agent=agent, reason=reason))

    @extend_schema(summary="Submit the intake for triage", request=ReasonSerializer,
                   responses=AgentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, slug=None):
        return self._move(request, services.agent_submit_intake)

    @extend_schema(summary="Take a proposed or declined intake back to draft",
                   request=ReasonSerializer, responses=AgentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, slug=None):
        return self._move(request, services.agent_withdraw_intake)

    @extend_schema(summary="Accept an intake for development (compliance)",
                   request=ReasonSerializer, responses=AgentSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, slug=None):
        return self._move(request, services.agent_accept)

    @extend_schema(summary="Decline an intake, saying why (compliance)",
                   request=RequiredReasonSerializer, responses=AgentSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, slug=None):
        return self._move(request, services.agent_decline, RequiredReasonSerializer)

    def _delegates(self, agent: Agent) -> Response:
        return Response(UserSummarySerializer(agent_delegates(agent), many=True).data)

    @extend_schema(methods=["GET"], summary="The agent's delegates",
                   responses=UserSummarySerializer(many=True))
    @extend_schema(methods=["POST"], summary="Make someone a delegate of the agent",
                   request=DelegateSerializer, responses=UserSummarySerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def delegates(self, request, slug=None):
        agent = self.get_object()
        if request.method == "POST":
            data = validated(DelegateSerializer, request)
            services.agent_add_delegate(actor=request.user, agent=agent, user=data["user"],
                                        reason=data["reason"])
        return self._delegates(agent)

    @extend_schema(methods=["GET"], summary="Service accounts with narrow rights on the agent",
                   responses=ServiceAccountRightsSerializer(many=True))
    @extend_schema(methods=["PUT"], summary="Set a service account's narrow rights (admins)",
                   request=ServiceRightsSerializer,
                   responses=ServiceAccountRightsSerializer(many=True))
    @action(detail=True, methods=["get", "put"], url_path="service-accounts")
    def service_accounts(self, request, slug=None):
        agent = self.get_object()
        if request.method == "PUT":
            data = validated(ServiceRightsSerializer, request)
            services.service_account_set_rights(actor=request.user, agent=agent,
                                                account=data["account"], rights=data["rights"],
                                                reason=data["reason"])
        return Response([{"account": account.username, "rights": rights}
                         for account, rights in agent_service_accounts(agent)])

    @extend_schema(summary="The latest changes to the agent, who made them and why",
                   parameters=[HistoryQuerySerializer],
                   responses=HistoryEntrySerializer(many=True))
    @action(detail=True, pagination_class=None, filter_backends=[])
    def history(self, request, slug=None):
        """Changes to the agent's record, components, releases and access grants, newest
        first, field by field: what the agent's page shows to anyone who sees the agent."""
        agent = self.get_object()
        limit = validated_query(HistoryQuerySerializer, request).get("limit")
        return Response(HistoryEntrySerializer(agent_history(agent, limit), many=True).data)

    @extend_schema(summary="Remove a delegate of the agent", request=None, responses={204: None},
                   parameters=[OpenApiParameter("username", OpenApiTypes.STR,
                                                OpenApiParameter.PATH)])
    @action(detail=True, methods=["delete"], url_path=r"delegates/(?P<username>[^/]+)")
    def remove_delegate(self, request, slug=None, username=None):
        agent = self.get_object()
        user = get_object_or_404(User, username=username)
        services.agent_remove_delegate(actor=request.user, agent=agent, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Components: one route per kind; versioned rows are never edited --------------------------

_COMPONENT_COMMON = ["id", "agent", "name", "version", "notes", "created_by", "created_at"]
_COMPONENT_READ_ONLY = ["id", "version", "created_at"]


class ComponentSerializer(StrictModelSerializer):
    agent = VisibleAgentField()
    created_by = username_field(read_only=True)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                   max_length=1000, help_text="Why; kept in the history.")

    class Meta:
        validators: list = []  # the version is the service's to number


class ModelComponentSerializer(ComponentSerializer):
    class Meta(ComponentSerializer.Meta):
        model = ModelComponent
        fields = [*_COMPONENT_COMMON, "provider", "model_name", "pinned_version", "hosting",
                  "data_retention", "reason"]
        read_only_fields = _COMPONENT_READ_ONLY


class PromptSerializer(ComponentSerializer):
    class Meta(ComponentSerializer.Meta):
        model = Prompt
        fields = [*_COMPONENT_COMMON, "text", "content_hash", "reason"]
        read_only_fields = [*_COMPONENT_READ_ONLY, "content_hash"]


class ToolSerializer(ComponentSerializer):
    operations = serializers.ListField(child=serializers.CharField(max_length=200),
                                       max_length=MAX_LIST_ITEMS,
                                       help_text="The operations it may call.")

    class Meta(ComponentSerializer.Meta):
        model = Tool
        fields = [*_COMPONENT_COMMON, "tool_kind", "endpoint", "operations", "writes",
                  "needs_human_approval", "reason"]
        read_only_fields = _COMPONENT_READ_ONLY


class DataSourceSerializer(ComponentSerializer):
    class Meta(ComponentSerializer.Meta):
        model = DataSource
        fields = [*_COMPONENT_COMMON, "system", "classification", "retrieval_scope", "reason"]
        read_only_fields = _COMPONENT_READ_ONLY


class CredentialSerializer(ComponentSerializer):
    scopes = serializers.ListField(child=serializers.CharField(max_length=200),
                                   max_length=MAX_LIST_ITEMS)
    revoked_by = username_field(read_only=True)

    class Meta(ComponentSerializer.Meta):
        model = Credential
        fields = [*_COMPONENT_COMMON, "identity", "scopes", "granted_by", "expires_at", "mode",
                  "revoked_at", "revoked_by", "reason"]
        read_only_fields = [*_COMPONENT_READ_ONLY, "revoked_at"]


def _component_filter(model) -> type[django_filters.FilterSet]:
    meta = type("Meta", (), {"model": model, "fields": ["agent", "name"]})
    return type(f"{model.__name__}Filter", (django_filters.FilterSet,), {
        "agent": django_filters.CharFilter(field_name="agent__slug", label="Agent slug"),
        "name": django_filters.CharFilter(),
        "Meta": meta,
    })


class ComponentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """List, read and add versions of one kind of component (subclasses name the kind)."""

    kind = ""
    related: tuple[str, ...] = ("agent", "created_by")

    def get_queryset(self):
        model = COMPONENT_MODELS[self.kind]
        if getattr(self, "swagger_fake_view", False):
            return model._default_manager.none()
        return (components_visible_to(signed_in(self.request.user), self.kind)
                .select_related(*self.related))

    def create(self, request):
        data, reason = _with_reason(validated(self.get_serializer_class(), request))
        agent = data.pop("agent")
        component = services.component_add_version(actor=request.user, agent=agent,
                                                   kind=self.kind, data=data, **reason)
        return Response(self.get_serializer(component).data, status=status.HTTP_201_CREATED)


def _component_schema(noun: str):
    views = extend_schema_view(
        list=extend_schema(summary=f"{noun.capitalize()} (every version)"),
        retrieve=extend_schema(summary=f"One version of a {noun[:-1]}"),
        create=extend_schema(summary=f"Add the next version of a {noun[:-1]} "
                                     "(version 1 when the name is new)"),
    )
    return lambda viewset: extend_schema(tags=["components"])(views(viewset))


@_component_schema("models")
class ModelComponentViewSet(ComponentViewSet):
    kind = ModelComponent.kind
    serializer_class = ModelComponentSerializer
    filterset_class = _component_filter(ModelComponent)
    queryset = ModelComponent.objects.none()


@_component_schema("prompts")
class PromptViewSet(ComponentViewSet):
    kind = Prompt.kind
    serializer_class = PromptSerializer
    filterset_class = _component_filter(Prompt)
    queryset = Prompt.objects.none()


@_component_schema("tools")
class ToolViewSet(ComponentViewSet):
    kind = Tool.kind
    serializer_class = ToolSerializer
    filterset_class = _component_filter(Tool)
    queryset = Tool.objects.none()


@_component_schema("data sources")
class DataSourceViewSet(ComponentViewSet):
    kind = DataSource.kind
    serializer_class = DataSourceSerializer
    filterset_class = _component_filter(DataSource)
    queryset = DataSource.objects.none()


@_component_schema("credentials")
class CredentialViewSet(ComponentViewSet):
    kind = Credential.kind
    related = ("agent", "created_by", "revoked_by")
    serializer_class = CredentialSerializer
    filterset_class = _component_filter(Credential)
    queryset = Credential.objects.none()

    @extend_schema(summary="Revoke a credential or grant, saying why",
                   request=RequiredReasonSerializer, responses=CredentialSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        credential = self.get_object()
        reason = validated(RequiredReasonSerializer, request)["reason"]
        credential = services.credential_revoke(actor=request.user, credential=credential,
                                                reason=reason)
        return Response(self.get_serializer(credential).data)
