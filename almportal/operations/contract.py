"""The telemetry contract of a release: the OpenTelemetry Collector configuration that makes a
gateway's telemetry land on this release — the resource attributes to stamp, the span-metrics
connector turning `invoke_agent` and `execute_tool` spans into duration histograms, delta
temporality, and the OTLP/HTTP exporter to the portal with a token placeholder."""

import yaml

from ..releases.choices import ReleaseState
from ..releases.models import Release
from . import otlp

# Releases a gateway may run, so whose telemetry is expected.
CONTRACT_STATES = {ReleaseState.APPROVED, ReleaseState.DEPLOYED}
TOKEN_VARIABLE = "ALM_INGEST_TOKEN"
DURATION_BUCKETS = ["50ms", "100ms", "250ms", "500ms", "1s", "2500ms", "5s", "10s", "30s", "60s"]


def has_contract(release: Release) -> bool:
    return release.state in CONTRACT_STATES


def collector_config(release: Release, portal_url: str) -> dict:
    stamp = [
        {"key": "service.name", "value": release.agent.slug, "action": "upsert"},
        {"key": otlp.RELEASE_HASH, "value": release.manifest_hash, "action": "upsert"},
        {"key": otlp.RELEASE_VERSION, "value": str(release.number), "action": "upsert"},
        {"key": "deployment.environment.name", "value": "production", "action": "insert"},
    ]
    return {
        "receivers": {"otlp": {"protocols": {"grpc": {}, "http": {}}}},
        "connectors": {"spanmetrics": {
            "namespace": otlp.SPAN_METRICS_NAMESPACE,
            "histogram": {"unit": "s", "explicit": {"buckets": DURATION_BUCKETS}},
            "dimensions": [{"name": "gen_ai.request.model"}, {"name": "gen_ai.tool.name"},
                           {"name": "error.type"}],
        }},
        "processors": {
            "resource/alm": {"attributes": stamp},
            "cumulativetodelta": {},
            "batch": {},
        },
        "exporters": {"otlphttp/alm": {
            "endpoint": portal_url,
            "encoding": "proto",
            "headers": {"Authorization": f"Bearer ${{env:{TOKEN_VARIABLE}}}"},
        }},
        "service": {"pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["resource/alm", "batch"],
                       "exporters": ["spanmetrics"]},
            "metrics": {"receivers": ["otlp", "spanmetrics"],
                        "processors": ["resource/alm", "cumulativetodelta", "batch"],
                        "exporters": ["otlphttp/alm"]},
        }},
    }


def collector_yaml(release: Release, portal_url: str) -> str:
    header = (f"# OpenTelemetry Collector configuration for {release.agent} release "
              f"#{release.number}\n# (manifest {release.manifest_hash}).\n"
              f"# Set {TOKEN_VARIABLE} to an ingest-scoped token of the portal.\n")
    return header + yaml.safe_dump(collector_config(release, portal_url), sort_keys=False)
