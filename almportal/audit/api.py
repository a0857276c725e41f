"""Read-only API over the ledger: list and filter entries, verify the chain, and stream an
export (recorded like any other). Same permissions as the pages."""

from django.http import StreamingHttpResponse
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from . import services, signing
from .assurance import verify_all
from .exports import bounded, csv_stream, jsonl_stream
from .forms import HistoryFilterForm
from .ledger import entry_content
from .models import ExportKind, LedgerEntry, SignedCheckpoint
from .selectors import can_export, can_view_audit, ledger_entries


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

    @action(detail=False)
    def verify(self, request):
        return Response(verify_all().as_dict())

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


class SignedCheckpointSerializer(serializers.ModelSerializer):
    document = serializers.SerializerMethodField(
        help_text="The checkpoint as files carry it: what the offline verifier checks.")

    class Meta:
        model = SignedCheckpoint
        fields = ("id", "seq", "entry_hash", "signed_at", "key_id", "signature", "document")

    def get_document(self, checkpoint: SignedCheckpoint) -> dict:
        return signing.as_document(checkpoint)


class SignedCheckpointViewSet(viewsets.ReadOnlyModelViewSet):
    """The ledger head's signed checkpoints, newest first; `signing-key` (public, no login)
    gives the public key that verifies them."""

    serializer_class = SignedCheckpointSerializer
    permission_classes = (permissions.IsAuthenticated, CanReadLedger)
    queryset = SignedCheckpoint.objects.order_by("-seq", "-signed_at", "-pk")

    @action(detail=False, url_path="signing-key", permission_classes=(permissions.AllowAny,))
    def signing_key(self, request):
        if not signing.is_configured():
            raise NotFound("No audit signing key is configured.")
        return Response({"algorithm": signing.ALGORITHM, "key_id": signing.key_id(),
                         "public_key_pem": signing.public_key_pem()})
