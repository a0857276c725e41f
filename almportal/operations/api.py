"""The gateway endpoints: runtime status (runtime scope) and monitoring ingestion (ingest
scope). Both take API tokens only; a session cannot use them."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.authentication import ApiTokenAuthentication
from ..accounts.models import TokenScope
from . import selectors, services


class RuntimeStatusView(APIView):
    """Whether the agent may run and which release serves which share or audience. Send the
    last ETag as If-None-Match: an unchanged status answers 304 with no body."""

    authentication_classes = [ApiTokenAuthentication]
    required_scope = TokenScope.RUNTIME

    @extend_schema(
        parameters=[OpenApiParameter("environment", str, description="Default: production.")],
        responses={200: inline_serializer("RuntimeStatus", {
            "agent": serializers.CharField(), "environment": serializers.CharField(),
            "state": serializers.CharField(
                help_text="active, suspended, retired or not_deployed"),
            "may_run": serializers.BooleanField(), "deployment": serializers.IntegerField(),
            "strategy": serializers.CharField(), "routes": serializers.ListField()}),
            304: None})
    def get(self, request, slug):
        served = selectors.runtime_served(request.user, slug,
                                          request.query_params.get("environment", ""))
        runtime = served.status
        if services.runtime_poll_due(token=request.auth, agent_id=served.agent_id,
                                     environment_id=served.environment_id, etag=runtime.etag):
            services.runtime_poll_record(
                token=request.auth, agent_id=served.agent_id,
                environment_id=served.environment_id, state=runtime.state, etag=runtime.etag,
                at=timezone.now())
        headers = {"ETag": runtime.etag, "Cache-Control": "no-cache"}
        if runtime.etag in _etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(runtime.document, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


class IngestSamplesView(APIView):
    """A batch of up to 1,000 samples. The answer gives each item's outcome: 200 when every
    item is stored, 207 when some are refused, 400 when none is (the batch is then not
    recorded); a batch id sent again answers 200 with `duplicate: true` and stores nothing."""

    authentication_classes = [ApiTokenAuthentication]
    required_scope = TokenScope.INGEST

    @extend_schema(
        request=inline_serializer("SampleBatch", {
            "batch_id": serializers.CharField(max_length=100),
            "samples": serializers.ListField(child=inline_serializer("Sample", {
                "agent": serializers.SlugField(), "release": serializers.IntegerField(),
                "environment": serializers.SlugField(), "timestamp": serializers.DateTimeField(),
                "metric": serializers.CharField(), "value": serializers.FloatField()}))}),
        responses={200: None, 207: None, 400: None})
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        result = services.samples_ingest(actor=request.user, token=request.auth,
                                         batch_id=body.get("batch_id"),
                                         samples=body.get("samples"))
        if result.duplicate:
            return Response({"batch_id": result.batch.batch_id, "duplicate": True, "stored": 0,
                             "detail": "This batch was already received; nothing was stored.",
                             "first_received_at": result.batch.received_at})
        if result.agent_ids:
            services.thresholds_evaluate(agent_ids=result.agent_ids)
        code = (status.HTTP_200_OK if not result.refused else
                status.HTTP_207_MULTI_STATUS if result.stored else status.HTTP_400_BAD_REQUEST)
        return Response({"batch_id": body.get("batch_id"), "duplicate": False,
                         "stored": result.stored, "refused": result.refused,
                         "items": result.items}, status=code)
