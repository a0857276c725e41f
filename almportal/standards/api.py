"""The standards API: imports (a document or a URL in, an intake draft out; confirming the tool
flags it seeded), watched live cards (register, poll, stop) and drift findings (read, close).
Serializers only parse and render; every change is one call to standards.services."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..accounts.permissions import signed_in
from ..core.api import (
    RequiredReasonSerializer,
    StrictSerializer,
    slug_field,
    username_field,
    validated,
)
from ..core.errors import DomainError
from ..inventory.api import VisibleAgentField
from ..inventory.choices import Audience, AutonomyLevel, DataClassification, RegulatedDomain
from . import documents, selectors, services
from .models import CardKind, DocumentFormat, DriftFinding, ImportRecord, WatchedCard


@extend_schema_field(OpenApiTypes.OBJECT)
class DocumentField(serializers.JSONField):
    pass


class ImportRecordSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    created_by = username_field(read_only=True)
    document = DocumentField(read_only=True)
    interface = DocumentField(read_only=True, help_text="Endpoints, auth schemes and "
                              "capabilities read from the document, to use as a release's "
                              "configuration.")
    pending_tools = DocumentField(read_only=True, help_text='Tools whose write flags wait for '
                                  'a person: [{"name", "writes", "needs_human_approval", '
                                  '"basis"}].')

    class Meta:
        model = ImportRecord
        fields = ["id", "agent", "document_format", "source_url", "document_hash", "document",
                  "interface", "pending_tools", "created_by", "created_at"]
        read_only_fields = fields


class ImportSerializer(StrictSerializer):
    document_format = serializers.ChoiceField(choices=DocumentFormat.choices, required=False,
                                              help_text="Told from the document when left out.")
    document = DocumentField(required=False, help_text="The document itself (JSON).")
    file = serializers.FileField(required=False, help_text="Or the document as a file "
                                 "(multipart).")
    url = serializers.URLField(required=False, max_length=500, help_text="Or where it is served.")
    business_unit = serializers.CharField(max_length=120)
    intended_users = serializers.CharField(max_length=2000, required=False)
    why_agent = serializers.CharField(max_length=4000, required=False)
    audience = serializers.ChoiceField(choices=Audience.choices, required=False)
    autonomy_level = serializers.ChoiceField(choices=AutonomyLevel.choices, required=False)
    data_classification = serializers.ChoiceField(choices=DataClassification.choices,
                                                  required=False)
    regulated_domain = serializers.ChoiceField(choices=RegulatedDomain.choices, required=False)

    SOURCES = ("document", "file", "url")

    def validate(self, attrs):
        if sum(1 for key in self.SOURCES if key in attrs) != 1:
            raise serializers.ValidationError(
                {"document": ["Give one of document, file or url."]})
        return attrs


class ConfirmToolSerializer(StrictSerializer):
    tool = serializers.CharField(max_length=120)
    writes = serializers.BooleanField()
    needs_human_approval = serializers.BooleanField()
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


def _run_import(user, data: dict) -> ImportRecord:
    intake = {k: v for k, v in data.items()
              if k not in ("document_format", *ImportSerializer.SOURCES)}
    fmt = data.get("document_format", "")
    if "url" in data:
        return services.import_from_url(actor=user, url=data["url"], document_format=fmt,
                                        intake=intake)
    if "file" in data:
        if data["file"].size > settings.STANDARDS_FETCH_MAX_BYTES:
            raise DomainError("The file is too large.", field="file")
        document = documents.load_json(data["file"].read())
    else:
        document = data["document"]
    return services.import_document(actor=user, document=document, intake=intake,
                                    document_format=fmt or documents.guess_format(document))


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Documents imported as intake drafts."""

    serializer_class = ImportRecordSerializer
    ordering = "-created_at"

    queryset = ImportRecord.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportRecord.objects.none()
        return selectors.imports_visible_to(signed_in(self.request.user))

    @extend_schema(request=ImportSerializer, responses={201: ImportRecordSerializer})
    def create(self, request):
        imported = _run_import(signed_in(request.user), validated(ImportSerializer, request))
        return Response(ImportRecordSerializer(imported).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConfirmToolSerializer, responses=ImportRecordSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-tool")
    def confirm_tool(self, request, pk=None):
        imported = services.import_confirm_tool(actor=signed_in(request.user),
                                                imported=self.get_object(),
                                                **validated(ConfirmToolSerializer, request))
        return Response(ImportRecordSerializer(imported).data)


class WatchedCardSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    created_by = username_field(read_only=True)
    cosmetic = DocumentField(read_only=True, help_text="Differences shown, not acted on.")

    class Meta:
        model = WatchedCard
        fields = ["id", "agent", "kind", "url", "active", "etag", "last_polled_at",
                  "last_error", "cosmetic", "created_by", "created_at"]
        read_only_fields = fields


class WatchCreateSerializer(StrictSerializer):
    agent = VisibleAgentField()
    kind = serializers.ChoiceField(choices=CardKind.choices)
    url = serializers.URLField(max_length=500)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class ActiveSerializer(StrictSerializer):
    active = serializers.BooleanField()
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class DriftFindingSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    closed_by = username_field(read_only=True)
    differences = DocumentField(read_only=True)

    class Meta:
        model = DriftFinding
        fields = ["id", "agent", "watch", "release", "state", "differences", "opened_at",
                  "closed_at", "closed_by", "close_reason"]
        read_only_fields = fields


class WatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """URLs where agents' live A2A cards and MCP server cards are served, polled for drift."""

    serializer_class = WatchedCardSerializer
    ordering = "-created_at"

    queryset = WatchedCard.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WatchedCard.objects.none()
        return selectors.watches_visible_to(signed_in(self.request.user))

    @extend_schema(request=WatchCreateSerializer, responses={201: WatchedCardSerializer})
    def create(self, request):
        watch = services.watch_add(actor=signed_in(request.user),
                                   **validated(WatchCreateSerializer, request))
        return Response(WatchedCardSerializer(watch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DriftFindingSerializer(allow_null=True))
    @action(detail=True, methods=["post"])
    def poll(self, request, pk=None):
        finding = services.watch_poll_now(actor=signed_in(request.user), watch=self.get_object())
        return Response(DriftFindingSerializer(finding).data if finding else None)

    @extend_schema(request=ActiveSerializer, responses=WatchedCardSerializer)
    @action(detail=True, methods=["post"])
    def active(self, request, pk=None):
        watch = services.watch_set_active(actor=signed_in(request.user), watch=self.get_object(),
                                          **validated(ActiveSerializer, request))
        return Response(WatchedCardSerializer(watch).data)


class DriftFindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Material differences between a live card and the approved manifest."""

    serializer_class = DriftFindingSerializer
    ordering = "-opened_at"
    filterset_fields = ["state", "agent__slug"]

    queryset = DriftFinding.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DriftFinding.objects.none()
        return selectors.findings_visible_to(signed_in(self.request.user))

    @extend_schema(request=RequiredReasonSerializer, responses=DriftFindingSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        finding = services.finding_close(actor=signed_in(request.user), finding=self.get_object(),
                                         **validated(RequiredReasonSerializer, request))
        return Response(DriftFindingSerializer(finding).data)
