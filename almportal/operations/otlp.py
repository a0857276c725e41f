"""OpenTelemetry metrics in the portal's terms: decoding an OTLP/HTTP export request
(protobuf or JSON) and mapping the GenAI semantic conventions onto the portal's sample metrics.
Pure: no queries, no writes. Which agent and release a resource is, is decided by the service.

The mapping (also in the README):
- `gen_ai.client.operation.duration`, `gen_ai.invoke_agent.duration`,
  `gen_ai.server.request.duration` (histograms): `requests` = count, `errors` = count when the
  point carries `error.type`, `latency_ms` = the p95 read from the buckets (upper bound).
- `gen_ai.execute_tool.duration` (histogram): `tool_call_failures` = count when the point
  carries `error.type`; successful tool calls are seen (tools listed) but store nothing.
- `gen_ai.client.token.usage` (histogram): `tokens_in` / `tokens_out` = sum, by
  `gen_ai.token.type` (input, output).
- the Collector's span metrics (`traces.span.metrics.duration`) of `invoke_agent …` and
  `execute_tool …` spans, as the two duration histograms above.
- `alm.<metric>` (delta sums or gauges) for any portal metric, e.g. `alm.cost`,
  `alm.escalations`, `alm.satisfaction`.
Sums and histograms must be delta: cumulative points are refused (a Collector's
`cumulativetodelta` processor converts them)."""

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

from .choices import SAMPLE_METRICS

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
AGENT_ATTRIBUTES = ("service.name", "gen_ai.agent.name", "gen_ai.agent.id")
RELEASE_HASH = "alm.release.sha256"
RELEASE_VERSION = "gen_ai.agent.version"
ENVIRONMENT_ATTRIBUTES = ("deployment.environment.name", "deployment.environment")
DURATIONS = {"gen_ai.client.operation.duration", "gen_ai.invoke_agent.duration",
             "gen_ai.server.request.duration"}
TOOL_DURATION = "gen_ai.execute_tool.duration"
# The Collector's span-metrics connector (as the telemetry contract configures it): one
# duration histogram for all spans, told apart by the span's name.
SPAN_METRICS_NAMESPACE = "traces.span.metrics"
SPAN_DURATION = f"{SPAN_METRICS_NAMESPACE}.duration"
SPAN_NAMES = {"invoke_agent": "gen_ai.invoke_agent.duration", "execute_tool": TOOL_DURATION}
TOKEN_USAGE = "gen_ai.client.token.usage"
TOKEN_TYPES = {"input": "tokens_in", "output": "tokens_out"}
OWN_PREFIX = "alm."


class BadRequest(ValueError):
    """The body is not an OTLP export request in the stated encoding."""


MAX_UNPACKED = 64 * 1024 * 1024


def unpack(body: bytes, encoding: str) -> bytes:
    """The body without its Content-Encoding (exporters and Collectors often gzip)."""
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise BadRequest(f"Unsupported Content-Encoding {encoding!r}: send gzip or none.")
    inflater = zlib.decompressobj(wbits=47 if encoding == "gzip" else 15)
    try:
        unpacked = inflater.decompress(body, MAX_UNPACKED)
    except zlib.error as error:
        raise BadRequest(f"The body is not valid {encoding}: {error}") from None
    if inflater.unconsumed_tail:
        raise BadRequest("The unpacked body is too large.")
    return unpacked


def decode(body: bytes, content_type: str) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    try:
        if content_type == PROTOBUF:
            request.ParseFromString(body)
        elif content_type == JSON:
            json_format.Parse(body.decode(), request, ignore_unknown_fields=True)
        else:
            raise BadRequest(f"Send {PROTOBUF} or {JSON}.")
    except (DecodeError, json_format.ParseError, UnicodeDecodeError) as error:
        raise BadRequest(f"Not an OTLP metrics export request: {error}") from None
    return request


def encode(response: ExportMetricsServiceResponse, content_type: str) -> bytes:
    if content_type == PROTOBUF:
        return response.SerializeToString()
    return json_format.MessageToJson(response, indent=None).encode()


def answer(rejected: int, reasons: list[str]) -> ExportMetricsServiceResponse:
    """The export response; partialSuccess only when points were refused."""
    response = ExportMetricsServiceResponse()
    if rejected:
        response.partial_success.rejected_data_points = rejected
        response.partial_success.error_message = "; ".join(reasons)[:2000]
    return response


def attributes(pairs) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        kind = pair.value.WhichOneof("value")
        if kind in ("string_value", "int_value", "double_value", "bool_value"):
            out[pair.key] = getattr(pair.value, kind)
    return out


@dataclass
class Value:
    """One portal sample drawn from a data point."""

    metric: str
    value: float


@dataclass
class Point:
    """A data point in the portal's terms: its samples, or why it is refused."""

    at: datetime
    values: list[Value] = field(default_factory=list)
    refused: str = ""
    models: set[str] = field(default_factory=set)
    tools: set[str] = field(default_factory=set)


@dataclass
class Resource:
    attributes: dict[str, Any]
    points: list[Point]

    @property
    def names(self) -> list[str]:
        """What may name the agent, most specific last (an explicit mapping wins)."""
        return [str(self.attributes[key]) for key in AGENT_ATTRIBUTES if key in self.attributes]

    @property
    def environment(self) -> str:
        return next((str(self.attributes[key]) for key in ENVIRONMENT_ATTRIBUTES
                     if key in self.attributes), "")


def resources(request: ExportMetricsServiceRequest) -> Iterator[Resource]:
    for resource_metrics in request.resource_metrics:
        points = [point for scope in resource_metrics.scope_metrics
                  for metric in scope.metrics for point in _points(metric)]
        yield Resource(attributes(resource_metrics.resource.attributes), points)


def _time(nanos: int) -> datetime:
    return datetime.fromtimestamp(nanos / 1e9, tz=UTC)


def _seen(point: Point, labels: dict[str, Any]) -> Point:
    for key in ("gen_ai.request.model", "gen_ai.response.model"):
        if labels.get(key):
            point.models.add(str(labels[key]))
    if labels.get("gen_ai.tool.name"):
        point.tools.add(str(labels["gen_ai.tool.name"]))
    return point


def _points(metric) -> Iterator[Point]:
    kind = metric.WhichOneof("data")
    if kind in ("sum", "histogram"):
        data = getattr(metric, kind)
        cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
        if data.aggregation_temporality == cumulative:
            for raw in data.data_points:
                yield Point(_time(raw.time_unix_nano), refused=(
                    f"{metric.name}: cumulative temporality; send delta (a Collector's "
                    "cumulativetodelta processor converts it)"))
            return
    if kind == "histogram":
        for raw in metric.histogram.data_points:
            labels = attributes(raw.attributes)
            yield _seen(_histogram(metric.name, metric.unit, raw, labels), labels)
    elif kind in ("sum", "gauge"):
        for raw in getattr(metric, kind).data_points:
            labels = attributes(raw.attributes)
            yield _seen(_number(metric.name, raw, labels), labels)
    else:
        for raw in getattr(metric, kind).data_points if kind else []:
            yield Point(_time(raw.time_unix_nano),
                        refused=f"{metric.name}: {kind} points are not mapped")


def _number(name: str, raw, labels: dict) -> Point:
    point = Point(_time(raw.time_unix_nano))
    metric = name.removeprefix(OWN_PREFIX) if name.startswith(OWN_PREFIX) else ""
    if metric not in SAMPLE_METRICS:
        point.refused = f"{name}: no portal metric for this name"
        return point
    value = raw.as_double if raw.WhichOneof("value") == "as_double" else raw.as_int
    point.values.append(Value(metric, float(value)))
    return point


def _span_metric(labels: dict) -> str:
    operation = str(labels.get("span.name", "")).split(" ")[0]
    return SPAN_NAMES.get(operation, SPAN_DURATION)


def _histogram(name: str, unit: str, raw, labels: dict) -> Point:
    point = Point(_time(raw.time_unix_nano))
    if name == SPAN_DURATION:
        name = _span_metric(labels)
    failed = "error.type" in labels
    if name in DURATIONS:
        point.values.append(Value("requests", float(raw.count)))
        if failed:
            point.values.append(Value("errors", float(raw.count)))
        p95 = histogram_p95(raw)
        if p95 is not None:
            point.values.append(Value("latency_ms", p95 * (1000.0 if unit == "s" else 1.0)))
    elif name == TOOL_DURATION:
        if failed:
            point.values.append(Value("tool_call_failures", float(raw.count)))
    elif name == TOKEN_USAGE:
        metric = TOKEN_TYPES.get(str(labels.get("gen_ai.token.type", "")))
        if metric is None:
            point.refused = f"{name}: gen_ai.token.type is not input or output"
        else:
            point.values.append(Value(metric, float(raw.sum)))
    else:
        point.refused = f"{name}: no portal metric for this name"
    return point


def histogram_p95(raw) -> float | None:
    """The upper bound of the bucket holding the nearest-rank 95th observation (the largest
    observation, when the bucket is the open last one)."""
    if not raw.count:
        return None
    rank = max(1, math.ceil(0.95 * raw.count))
    bounds, seen = list(raw.explicit_bounds), 0
    for index, count in enumerate(raw.bucket_counts):
        seen += count
        if seen >= rank:
            if index < len(bounds):
                return bounds[index]
            break
    if raw.HasField("max"):
        return raw.max
    return bounds[-1] if bounds else raw.sum / raw.count
