"""Metrics made by the real OpenTelemetry SDK, following the GenAI semantic conventions."""

import time

from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality as SdkTemporality,
)
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

DELTA = {Counter: SdkTemporality.DELTA, Histogram: SdkTemporality.DELTA}
DAY = 24 * 3600
# The live server runs with production settings (HTTPS redirect behind a TLS proxy): say the
# proxy terminated TLS, as it would in front of the portal.
BEHIND_TLS_PROXY = {"X-Forwarded-Proto": "https"}


def record_genai_traffic(provider: MeterProvider) -> None:
    """Ten agent invocations (one failing), their tokens, a failing tool call and the cost."""
    meter = provider.get_meter("gen_ai.demo")
    duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
    tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    tool = meter.create_histogram("gen_ai.execute_tool.duration", unit="s")
    cost = meter.create_counter("alm.cost")
    model = {"gen_ai.request.model": "example-large-2026-06"}
    for _ in range(9):
        duration.record(0.4, {**model, "gen_ai.operation.name": "invoke_agent"})
    duration.record(3.0, {**model, "error.type": "timeout"})
    tokens.record(1200, {**model, "gen_ai.token.type": "input"})
    tokens.record(300, {**model, "gen_ai.token.type": "output"})
    tool.record(0.2, {"gen_ai.tool.name": "crm_lookup"})
    tool.record(0.5, {"gen_ai.tool.name": "crm_lookup", "error.type": "http_500"})
    cost.add(0.25)


def export_protobuf(endpoint: str, key: str, attributes: dict) -> bool:
    """Through the SDK's OTLP/HTTP exporter (protobuf); True when the portal accepted it."""
    exporter = OTLPMetricExporter(endpoint=endpoint, headers={"Authorization": f"Bearer {key}",
                                                                **BEHIND_TLS_PROXY},
                                  preferred_temporality=DELTA, timeout=30)
    results = []
    original = exporter.export

    def export(*args, **kwargs):
        results.append(original(*args, **kwargs))
        return results[-1]
    exporter.export = export
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=DAY * 1000)
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create(attributes))
    record_genai_traffic(provider)
    provider.force_flush()
    provider.shutdown()
    return bool(results) and all(r.name == "SUCCESS" for r in results)


def request_from_sdk(attributes: dict) -> ExportMetricsServiceRequest:
    """The export request the SDK's own encoder builds (for the JSON encoding)."""
    reader = InMemoryMetricReader(preferred_temporality=DELTA)
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create(attributes))
    record_genai_traffic(provider)
    request = encode_metrics(reader.get_metrics_data())
    provider.shutdown()
    return request


def _attributes(values: dict) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=str(v))) for k, v in values.items()]


def hand_made(resource: dict, metrics: list[tuple[str, str, float, dict]]
              ) -> ExportMetricsServiceRequest:
    """One resource with (name, kind, value, attributes) points: kind is gauge, delta or
    cumulative (a sum)."""
    now = time.time_ns()
    built = []
    for name, kind, value, attributes in metrics:
        point = NumberDataPoint(time_unix_nano=now, as_double=value,
                                attributes=_attributes(attributes))
        metric = Metric(name=name)
        if kind == "gauge":
            metric.gauge.data_points.append(point)
        else:
            metric.sum.data_points.append(point)
            metric.sum.is_monotonic = True
            metric.sum.aggregation_temporality = (
                AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA if kind == "delta"
                else AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
        built.append(metric)
    return ExportMetricsServiceRequest(resource_metrics=[ResourceMetrics(
        resource={"attributes": _attributes(resource)},
        scope_metrics=[ScopeMetrics(metrics=built)])])
