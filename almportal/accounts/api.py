"""API tokens over the API: list your own (admins: all), create one (its key shown once), revoke;
and the caller's notifications: list, mark read."""

import django_filters
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..core.api import ReasonSerializer, StrictSerializer, username_field, validated
from .identity import role_mapping_save, sign_in_unlock
from .models import ApiToken, GroupRoleMapping, Notification, TokenScope, User
from .notifications import notification_mark_read, notifications_mark_all_read
from .permissions import signed_in
from .roles import Role
from .rules import may_manage_identity
from .services import token_create, token_revoke, tokens_visible_to


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "almportal.accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization",
                                                   token_prefix="Bearer")


class NoTokenMinting(permissions.BasePermission):
    """A token cannot create tokens: one leaked key must not be able to mint itself successors
    with wider scopes or a later expiry."""

    message = "Create API tokens from a signed-in session, not with a token."

    def has_permission(self, request, view) -> bool:
        return view.action != "create" or not isinstance(request.auth, ApiToken)


class ApiTokenSerializer(serializers.ModelSerializer):
    user = username_field(read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices),
                                   read_only=True)
    created_by = username_field(read_only=True)
    status = serializers.ChoiceField(choices=["active", "expired", "revoked"], read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "key_prefix", "scopes", "status", "expires_at",
                  "revoked_at", "last_used_at", "created_by", "created_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices),
                                   allow_empty=False, max_length=len(TokenScope.values))
    expires_at = serializers.DateTimeField()
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), required=False,
        help_text="Admins only: the service account the token acts as (default: yourself).")


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True,
                                help_text="The secret. Shown only in this response; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


@extend_schema(tags=["tokens"])
@extend_schema_view(
    list=extend_schema(summary="Your API tokens (admins: every token)"),
    retrieve=extend_schema(summary="One API token"),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()
    permission_classes = [*viewsets.GenericViewSet.permission_classes, NoTokenMinting]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return tokens_visible_to(signed_in(self.request.user))

    @extend_schema(summary="Create a token", request=ApiTokenCreateSerializer,
                   responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        data = validated(ApiTokenCreateSerializer, request)
        token, key = token_create(actor=request.user, name=data["name"], scopes=data["scopes"],
                                  expires_at=data["expires_at"], owner=data.get("user"))
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED,
                        headers={"Cache-Control": "no-store"})

    @extend_schema(summary="Revoke a token", request=ReasonSerializer,
                   responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        reason = validated(ReasonSerializer, request)["reason"]
        token = token_revoke(actor=request.user, token=token, reason=reason)
        return Response(ApiTokenSerializer(token).data)


# --- Notifications -----------------------------------------------------------------------------

class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "url", "created_at", "read_at"]
        read_only_fields = fields


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull",
                                          label="Only unread")

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


@extend_schema(tags=["notifications"])
@extend_schema_view(
    list=extend_schema(summary="Your notifications, newest first"),
    retrieve=extend_schema(summary="One of your notifications"),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    queryset = Notification.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(user=signed_in(self.request.user))

    @extend_schema(summary="Mark one notification read", request=None,
                   responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notification_mark_read(actor=request.user, notification=notification)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(summary="Mark all your notifications read", request=None,
                   responses={200: MarkedSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = notifications_mark_all_read(actor=request.user)
        return Response({"marked": marked}, status=status.HTTP_200_OK)


# --- Identity: group-to-role mapping, sign-in unlock ----------------------------------------

class IdentityAdminOnly(permissions.BasePermission):
    message = "Only admins manage sign-in and identity provider settings."

    def has_permission(self, request, view) -> bool:
        return may_manage_identity(request.user)


class GroupRoleMappingSerializer(serializers.ModelSerializer):
    class Meta:
        model = GroupRoleMapping
        fields = ["id", "idp_group", "role", "active", "created_at"]
        read_only_fields = fields


class GroupRoleMappingInputSerializer(StrictSerializer):
    idp_group = serializers.CharField(max_length=200)
    role = serializers.ChoiceField(choices=Role.choices)
    active = serializers.BooleanField(default=True)
    reason = serializers.CharField(max_length=1000, required=False, default="")


@extend_schema(tags=["identity"])
@extend_schema_view(
    list=extend_schema(summary="Identity provider groups and the roles they grant"),
    retrieve=extend_schema(summary="One group-to-role mapping"),
)
class GroupRoleMappingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    """Admins only. Mappings are never deleted: set active=false to stop granting a role."""

    serializer_class = GroupRoleMappingSerializer
    queryset = GroupRoleMapping.objects.all()
    permission_classes = [*viewsets.GenericViewSet.permission_classes, IdentityAdminOnly]

    @extend_schema(summary="Map a group to a role", request=GroupRoleMappingInputSerializer,
                   responses={201: GroupRoleMappingSerializer})
    def create(self, request):
        data = validated(GroupRoleMappingInputSerializer, request)
        mapping = role_mapping_save(actor=request.user, **data)
        return Response(GroupRoleMappingSerializer(mapping).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a mapping (its group, role or active flag)",
                   request=GroupRoleMappingInputSerializer,
                   responses={200: GroupRoleMappingSerializer})
    def update(self, request, pk=None):
        data = validated(GroupRoleMappingInputSerializer, request)
        mapping = role_mapping_save(actor=request.user, mapping=self.get_object(), **data)
        return Response(GroupRoleMappingSerializer(mapping).data)


class UnlockSerializer(StrictSerializer):
    username = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())


class UnlockedSerializer(serializers.Serializer):
    cleared = serializers.IntegerField(help_text="Failed-attempt records cleared.")


@extend_schema(tags=["identity"], summary="Unlock an account's sign-in (admins)",
               request=UnlockSerializer, responses={200: UnlockedSerializer})
class SignInUnlockView(generics.GenericAPIView):
    permission_classes = [*generics.GenericAPIView.permission_classes, IdentityAdminOnly]
    serializer_class = UnlockSerializer

    def post(self, request):
        user = validated(UnlockSerializer, request)["username"]
        return Response({"cleared": sign_in_unlock(actor=request.user, user=user)})
