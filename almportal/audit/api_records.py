"""The API for what the audit area keeps on record besides the ledger: retention and legal holds
on agents' records, verification runs of the ledger, and exports. Same readers as the audit
pages (the audit roles); holds are placed and released by those who manage retention."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..accounts.permissions import signed_in
from ..core.api import StrictSerializer, slug_field, username_field, validated
from . import selectors, services
from .api import CanReadLedger, VerificationFindingSerializer
from .assurance import verify_all
from .models import ExportRecord, RetentionHold, VerificationRun
from .rules import can_manage_retention

# --- Retention and legal holds --------------------------------------------------------------


class RetentionHoldSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    placed_by = username_field(read_only=True)
    released_by = username_field(read_only=True)

    class Meta:
        model = RetentionHold
        fields = ["id", "agent", "reason", "retain_until", "legal_hold", "active", "placed_by",
                  "placed_at", "released_by", "released_at", "release_reason"]
        read_only_fields = fields


class RetentionHoldInputSerializer(StrictSerializer):
    agent = serializers.SlugField()
    reason = serializers.CharField(max_length=2000)
    retain_until = serializers.DateField(required=False, allow_null=True, default=None)
    legal_hold = serializers.BooleanField(required=False, default=False)


class HoldReleaseInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class CanManageRetention(permissions.BasePermission):
    message = "Your role may not place or release retention holds."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or can_manage_retention(request.user)


class RetentionHoldFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")

    class Meta:
        model = RetentionHold
        fields = ["agent"]


class RetentionHoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Retention and legal holds on agents' records (`?agent=<slug>`: one agent's, as its
    retention page lists them). Compliance places and releases them."""

    serializer_class = RetentionHoldSerializer
    filterset_class = RetentionHoldFilter
    queryset = RetentionHold.objects.none()
    permission_classes = [permissions.IsAuthenticated, CanReadLedger, CanManageRetention]

    def get_queryset(self):
        return selectors.holds_visible_to(signed_in(self.request.user))

    def _answer(self, hold: RetentionHold, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=hold.pk)
        return Response(RetentionHoldSerializer(fresh).data, status=code)

    @extend_schema(request=RetentionHoldInputSerializer, responses={201: RetentionHoldSerializer})
    def create(self, request):
        """Keep the agent's records until a date, or under a legal hold until released."""
        data = dict(validated(RetentionHoldInputSerializer, request))
        agent = get_object_or_404(selectors.audit_agents(request.user), slug=data.pop("agent"))
        hold = services.retention_hold_place(actor=request.user, agent=agent, **data)
        return self._answer(hold, status.HTTP_201_CREATED)

    @extend_schema(request=HoldReleaseInputSerializer, responses=RetentionHoldSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release the hold, saying why; 409 if it was already released."""
        hold = self.get_object()
        data = validated(HoldReleaseInputSerializer, request)
        return self._answer(services.retention_hold_release(actor=request.user, hold=hold,
                                                            **data))


# --- Verification runs -----------------------------------------------------------------------

class VerificationRunSerializer(serializers.ModelSerializer):
    run_by = username_field(read_only=True)

    class Meta:
        model = VerificationRun
        fields = ["id", "ok", "checked", "head_seq", "first_bad_seq", "problem", "run_by",
                  "run_at"]
        read_only_fields = fields


VERIFICATION_EXTRAS = ("unledgered", "findings", "checkpoint")


class RecordedVerificationSerializer(VerificationRunSerializer):
    """The run as recorded, with what the verify page shows beside it."""

    unledgered = serializers.IntegerField(
        read_only=True,
        help_text="History rows not in the ledger yet (the periodic catch-up appends them).")
    findings = VerificationFindingSerializer(many=True, read_only=True)
    checkpoint = serializers.JSONField(
        read_only=True, allow_null=True,
        help_text="The latest signed checkpoint that holds, as files carry it.")

    class Meta(VerificationRunSerializer.Meta):
        fields = [*VerificationRunSerializer.Meta.fields, *VERIFICATION_EXTRAS]
        read_only_fields = fields


class VerificationRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             viewsets.GenericViewSet):
    """Verifications of the ledger on record, newest first; POST runs and records one, as the
    verify page does."""

    serializer_class = VerificationRunSerializer
    filterset_fields = ["ok"]
    queryset = VerificationRun.objects.none()
    permission_classes = [permissions.IsAuthenticated, CanReadLedger]

    def get_queryset(self):
        return selectors.verification_runs()

    @extend_schema(request=None, responses={201: RecordedVerificationSerializer})
    def create(self, request):
        """Verify the whole ledger now and record the run (a passing one leaves a verified
        checkpoint)."""
        result = verify_all()
        run = services.verification_record(actor=request.user, result=result)
        shown = result.as_dict()
        data = {**VerificationRunSerializer(run).data,
                **{key: shown[key] for key in VERIFICATION_EXTRAS}}
        return Response(data, status=status.HTTP_201_CREATED)


# --- Exports on record -----------------------------------------------------------------------

class ExportRecordSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    created_by = username_field(read_only=True)

    class Meta:
        model = ExportRecord
        fields = ["id", "kind", "agent", "filters", "last_seq", "last_hash", "created_by",
                  "created_at"]
        read_only_fields = fields


class ExportRecordFilter(django_filters.FilterSet):
    agent = django_filters.CharFilter(field_name="agent__slug")

    class Meta:
        model = ExportRecord
        fields = ["kind", "agent"]


class ExportRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Every export and download on record (who exported what, and when), newest first."""

    serializer_class = ExportRecordSerializer
    filterset_class = ExportRecordFilter
    queryset = ExportRecord.objects.none()
    permission_classes = [permissions.IsAuthenticated, CanReadLedger]

    def get_queryset(self):
        return selectors.exports_on_record()
