"""Read-only API over the ledger: list and filter entries, verify the chain, stream an export
(recorded like any other), and show an agent as it stood at a moment. Same permissions as the
pages."""

from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.permissions import signed_in
from ..core.api import StrictInput, slug_field, validated, validated_query
from . import packjobs, services, signing
from .assurance import verify_all
from .exports import bounded, csv_stream, jsonl_stream
from .forms import HistoryFilterForm
from .ledger import entry_content
from .models import ExportKind, LedgerEntry, PackJob, PackState, SignedCheckpoint
from .rules import can_export, can_view_audit
from .selectors import agent_as_of, agent_as_of_findings, audit_agents, ledger_entries


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


class VerificationFindingSerializer(serializers.Serializer):
    """Where history and the ledger disagree: the entry, the record and the field concerned."""

    seq = serializers.IntegerField(allow_null=True)
    model = serializers.CharField()
    object_pk = serializers.CharField()
    field = serializers.CharField(allow_blank=True)
    problem = serializers.CharField()


class LedgerEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Filters: agent (slug), record_type (app_label.model), user (username), start and end
    (dates, end inclusive), action."""

    serializer_class = LedgerEntrySerializer
    permission_classes = [permissions.IsAuthenticated, CanReadLedger]
    filter_backends: list = []
    lookup_field = "seq"

    def _filters(self):
        form = HistoryFilterForm(self.request.query_params, user=signed_in(self.request.user))
        if not form.is_valid():
            # The stubs refuse Django's ErrorDict, whose lists DRF reads as message strings.
            raise serializers.ValidationError(form.errors)  # type: ignore[arg-type]
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
        return Response(verify_all().as_dict())

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


# --- Evidence packs built in the background ---------------------------------------------------

class PackJobSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = PackJob
        fields = ["id", "kind", "agent", "filters", "state", "done", "total", "percent",
                  "last_seq", "last_hash", "size", "sha256", "created_at", "finished_at",
                  "download"]
        read_only_fields = fields

    def get_download(self, job: PackJob) -> str | None:
        if job.state != PackState.READY:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("audit-pack-download", kwargs={"pk": job.pk}))


class PackJobInputSerializer(StrictInput, serializers.Serializer):
    kind = serializers.ChoiceField(choices=[k.value for k in packjobs.PACK_KINDS])
    agent = serializers.SlugField(required=False)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)


class CanExport(permissions.BasePermission):
    message = "Your role may not export audit history."

    def has_permission(self, request, view) -> bool:
        return can_view_audit(request.user) and can_export(request.user)


class PackJobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Start an evidence pack (202: the worker builds it), poll it until `state` is ready, then
    GET its `download` link; each download is recorded in the ledger."""

    serializer_class = PackJobSerializer
    queryset = PackJob.objects.none()  # the schema's model; requests see their own jobs
    permission_classes = [permissions.IsAuthenticated, CanExport]
    filter_backends: list = []

    def get_queryset(self):
        return packjobs.jobs_visible_to(signed_in(self.request.user))

    @extend_schema(request=PackJobInputSerializer, responses={202: PackJobSerializer})
    def create(self, request):
        data = validated(PackJobInputSerializer, request)
        agent = None
        if data.get("agent"):
            agent = get_object_or_404(audit_agents(request.user), slug=data["agent"])
        job = packjobs.pack_job_start(actor=request.user, kind=data["kind"], agent=agent,
                                      start=data.get("start"), end=data.get("end"))
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True)
    def download(self, request, pk=None):
        job = self.get_object()
        handle = packjobs.pack_job_download(actor=request.user, job=job)
        return FileResponse(handle, as_attachment=True, content_type="application/zip",
                            filename=packjobs.filename(job))


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


# --- An agent as it stood at a moment ---------------------------------------------------------

class AsOfQuerySerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="The moment (ISO 8601; UTC when no offset).")


class AsOfFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField(help_text="As the page shows it (\"—\" for none).")

    def to_representation(self, instance):
        name, value = instance
        return super().to_representation({"name": name, "value": value})


class AsOfItemSerializer(serializers.Serializer):
    title = serializers.CharField()
    values = AsOfFieldSerializer(source="fields", many=True)


class AsOfSectionSerializer(serializers.Serializer):
    title = serializers.CharField()
    note = serializers.CharField(allow_blank=True,
                                 help_text="Set when the section has nothing to show then, "
                                           "and why (the agent had not been recorded yet).")
    items = AsOfItemSerializer(many=True)


class AgentAsOfSerializer(serializers.Serializer):
    agent = serializers.SlugField(source="agent.slug", help_text="The agent's slug.")
    at = serializers.DateTimeField()
    sections = AsOfSectionSerializer(many=True, help_text=(
        "The agent record, its components, releases, access grants and every other area's "
        "records, as they stood at `at`."))
    findings = VerificationFindingSerializer(many=True, help_text=(
        "History rows behind this view that no longer say what the ledger recorded: empty "
        "when every one agrees. Do not rely on the values while there are any."))


class AgentAsOfView(APIView):
    """The agent as it stood at a moment, checked against the ledger: the as-of page's
    content. A moment before the agent existed shows no record, with a note saying so."""

    permission_classes = [permissions.IsAuthenticated, CanReadLedger]

    @extend_schema(summary="An agent as it stood at a moment",
                   parameters=[AsOfQuerySerializer], responses=AgentAsOfSerializer)
    def get(self, request: Request, slug: str) -> Response:
        agent = get_object_or_404(audit_agents(signed_in(request.user)), slug=slug)
        at = validated_query(AsOfQuerySerializer, request)["at"]
        snapshot = agent_as_of(agent, at)
        return Response(AgentAsOfSerializer({
            "agent": agent, "at": at, "sections": snapshot.sections,
            "findings": agent_as_of_findings(agent, at)}).data)
