"""The gateway endpoints: runtime status (runtime scope) and monitoring ingestion (ingest
scope). Both take API tokens only; a session cannot use them."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError
from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.authentication import ApiTokenAuthentication
from ..accounts.models import TokenScope
from ..accounts.throttling import GatewayRateThrottle
from . import otlp, selectors, services
from .services.discovery import discovery_poll


class RuntimeStatusView(APIView):
    """Whether the agent may run and which release serves which share or audience. Send the
    last ETag as If-None-Match: an unchanged status answers 304 with no body."""

    authentication_classes = [ApiTokenAuthentication]
    required_scope = TokenScope.RUNTIME
    throttle_classes = [GatewayRateThrottle]

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
        environment = request.query_params.get("environment", "")
        try:
            served = selectors.runtime_served(request.user, slug, environment)
        except Http404:
            discovery_poll(actor=request.user, name=slug, environment=environment)
            raise
        runtime = served.status
        if services.runtime_poll_due(token=request.auth, agent_id=served.agent_id,
                                     environment_id=served.environment_id, etag=runtime.etag):
            services.runtime_poll_record(
                token=request.auth, agent_id=served.agent_id,
                environment_id=served.environment_id, state=runtime.state, etag=runtime.etag,
                at=timezone.now())
        headers = {"ETag": runtime.etag, "Cache-Control": "no-cache"}
        if runtime.etag in etags_in(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(runtime.document, headers=headers)


def etags_in(header: str) -> set[str]:
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
            first = result.batch
            assert first is not None  # a duplicate comes with the batch first received
            return Response({"batch_id": first.batch_id, "duplicate": True, "stored": 0,
                             "detail": "This batch was already received; nothing was stored.",
                             "first_received_at": first.received_at})
        code = (status.HTTP_200_OK if not result.refused else
                status.HTTP_207_MULTI_STATUS if result.stored else status.HTTP_400_BAD_REQUEST)
        return Response({"batch_id": body.get("batch_id"), "duplicate": False,
                         "stored": result.stored, "refused": result.refused,
                         "items": result.items}, status=code)


IN_FLIGHT_KEY = "operations:otlp-in-flight"
BUSY_RETRY_SECONDS = 5
DATABASE_RETRY_SECONDS = 30


@contextmanager
def _ingest_slot() -> Iterator[bool]:
    """Whether this export may run now: at most OTLP_MAX_IN_FLIGHT at once (counted in the
    cache, so across processes when the cache is shared)."""
    cache.add(IN_FLIGHT_KEY, 0, timeout=300)
    try:
        running = cache.incr(IN_FLIGHT_KEY)
    except ValueError:  # expired between add and incr
        cache.add(IN_FLIGHT_KEY, 1, timeout=300)
        running = 1
    try:
        yield running <= settings.OTLP_MAX_IN_FLIGHT
    finally:
        try:
            cache.decr(IN_FLIGHT_KEY)
        except ValueError:
            pass


def _retry_later(code: int, seconds: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=code, content_type="text/plain")
    response["Retry-After"] = str(seconds)
    return response


class OtlpMetricsView(APIView):
    """OpenTelemetry metrics over OTLP/HTTP (protobuf or JSON), at the standard path
    `/v1/metrics` and under the API prefix. Needs an ingest-scoped token. The answer is OTLP's
    ExportMetricsServiceResponse; points that cannot be mapped are counted in `partialSuccess`
    with the reasons. A busy portal answers 429 (or 503) with Retry-After."""

    authentication_classes = [ApiTokenAuthentication]
    required_scope = TokenScope.INGEST

    @extend_schema(request={otlp.PROTOBUF: OpenApiTypes.BINARY, otlp.JSON: OpenApiTypes.OBJECT},
                   responses={200: OpenApiTypes.OBJECT, 400: None, 429: None, 503: None})
    def post(self, request):
        content_type = request.content_type.split(";")[0].strip()
        with _ingest_slot() as may_run:
            if not may_run:
                return _retry_later(429, BUSY_RETRY_SECONDS, "Busy: retry later.")
            try:
                body = otlp.unpack(request.body, request.headers.get("Content-Encoding", ""))
                result = services.otlp_ingest(actor=request.user, token=request.auth,
                                              body=body, content_type=content_type)
            except otlp.BadRequest as error:
                return HttpResponse(str(error), status=400, content_type="text/plain")
            except OperationalError:
                return _retry_later(503, DATABASE_RETRY_SECONDS,
                                    "The database is unavailable: retry later.")
        answer = otlp.answer(result.rejected, result.messages)
        encoding = otlp.PROTOBUF if content_type == otlp.PROTOBUF else otlp.JSON
        return HttpResponse(otlp.encode(answer, encoding), content_type=encoding)
