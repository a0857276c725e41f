"""Read-only API over the ledger: list and filter entries, verify the chain, and stream an
export (recorded like any other). Same permissions as the pages."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from . import services
from .exports import bounded, csv_stream, jsonl_stream
from .forms import HistoryFilterForm
from .ledger import entry_content
from .models import ExportKind, LedgerEntry
from .selectors import can_export, can_view_audit, ledger_entries
from .verify import verify_ledger


class CanReadLedger(permissions.BasePermission):
    message = "Only auditors, compliance officers and admins read the ledger."

    def has_permission(self, request, view) -> bool:
        return can_view_audit(request.user)


class LedgerEntrySerializer(serializers.ModelSerializer):
    content = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["seq", "time", "actor", "actor_name", "object_model", "object_pk",
                  "object_repr", "agent_id", "action", "reason", "prev_hash", "hash", "content"]

    def get_content(self, entry: LedgerEntry) -> dict:
        return entry_content(entry)


class LedgerEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Filters: agent (slug), record_type (app_label.model), user (username), start and end
    (dates, end inclusive), action."""

    serializer_class = LedgerEntrySerializer
    permission_classes = [permissions.IsAuthenticated, CanReadLedger]
    filter_backends: list = []
    lookup_field = "seq"

    def _filters(self):
        form = HistoryFilterForm(self.request.query_params, user=self.request.user)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        return form.filters()

    def get_queryset(self):
        if self.action == "retrieve":
            return LedgerEntry.objects.all()
        return ledger_entries(self._filters())

    @extend_schema(responses=inline_serializer("LedgerVerification", {
        "ok": serializers.BooleanField(), "checked": serializers.IntegerField(),
        "head_seq": serializers.IntegerField(),
        "first_bad_seq": serializers.IntegerField(allow_null=True),
        "problem": serializers.CharField(allow_blank=True),
        "unledgered": serializers.IntegerField()}))
    @action(detail=False)
    def verify(self, request):
        result = verify_ledger()
        return Response({"ok": result.ok, "checked": result.checked, "head_seq": result.head_seq,
                         "first_bad_seq": result.first_bad_seq, "problem": result.problem,
                         "unledgered": result.unledgered})

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR,
                              (200, "application/x-ndjson"): OpenApiTypes.STR})
    @action(detail=False, url_path=r"export/(?P<fmt>csv|jsonl)")
    def export(self, request, fmt: str):
        if not can_export(request.user):
            raise PermissionDenied("Your role may not export audit history.")
        filters = self._filters()
        entries = ledger_entries(filters)
        kind = ExportKind.CSV if fmt == "csv" else ExportKind.JSONL
        record = services.export_record(actor=request.user, kind=kind,
                                        filters=filters.as_dict(), agent=filters.agent,
                                        last=entries.last())
        stream = csv_stream if fmt == "csv" else jsonl_stream
        response = StreamingHttpResponse(
            stream(bounded(entries, record.last_seq), export_id=record.pk),
            content_type="text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="audit-ledger.{fmt}"'
        return response
