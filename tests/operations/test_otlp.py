"""OpenTelemetry in: the real SDK's OTLP/HTTP exports (protobuf and JSON) against a live
server, the GenAI conventions mapped onto the portal's metrics, partialSuccess for what cannot
be mapped, retries stored once, and the busy answer."""

import json
import time
import urllib.request

import pytest
import yaml
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from almportal.accounts.models import TokenScope
from almportal.operations.models import IngestBatch, MetricSample

from ..conftest import client_for
from ..factories import make_release
from .helpers import ingest_client, token_client
from .otlp_helpers import BEHIND_TLS_PROXY, export_protobuf, hand_made, request_from_sdk

PATH = "/v1/metrics"
API_PATH = "/api/v1/otlp/v1/metrics"


def _key(client) -> str:
    return client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")


def _stored(agent) -> dict[str, float]:
    totals: dict[str, float] = {}
    for sample in MetricSample.objects.filter(agent=agent):
        totals[sample.metric] = totals.get(sample.metric, 0) + sample.value
    return totals


def _assert_genai_traffic(agent, release) -> None:
    assert set(MetricSample.objects.filter(agent=agent).values_list("release", flat=True)) == {
        release.pk}
    totals = _stored(agent)
    assert totals["requests"] == 10 and totals["errors"] == 1
    assert totals["tokens_in"] == 1200 and totals["tokens_out"] == 300
    assert totals["tool_call_failures"] == 1 and totals["cost"] == 0.25
    # One histogram point per attribute set (9 × 0.4 s; 1 × 3 s failing): each p95 is the
    # upper bound of the SDK's default bucket up to 5 s.
    latencies = MetricSample.objects.filter(agent=agent, metric="latency_ms")
    assert sorted(latencies.values_list("value", flat=True)) == [5000, 5000]


@pytest.mark.django_db(transaction=True)
def test_it_takes_the_sdks_protobuf_export_onto_the_agents_dashboard(team, owner, live_server,
                                                                     client):
    agent, release = team.live()
    key = _key(ingest_client(owner))
    accepted = export_protobuf(f"{live_server.url}{PATH}", key, {
        "service.name": agent.slug, "alm.release.sha256": release.manifest_hash})
    assert accepted
    _assert_genai_traffic(agent, release)

    client.force_login(owner)
    page = client.get(f"/operations/agents/{agent.slug}/").content.decode()
    assert 'data-chart="requests"' in page and 'data-value="10.0"' in page
    assert f"Release {release.display_version}" in page


@pytest.mark.django_db(transaction=True)
def test_it_takes_the_sdks_json_export_under_the_api_prefix(team, owner, live_server):
    agent, release = team.live()
    key = _key(ingest_client(owner))
    body = json_format.MessageToJson(request_from_sdk({
        "gen_ai.agent.name": agent.slug, "gen_ai.agent.version": str(release.number),
        "service.name": "unknown_service"})).encode()
    sent = urllib.request.Request(f"{live_server.url}{API_PATH}", data=body, method="POST",
                                  headers={"Content-Type": "application/json",
                                           "Authorization": f"Bearer {key}",
                                           **BEHIND_TLS_PROXY})
    with urllib.request.urlopen(sent, timeout=30) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "application/json"
        assert "partialSuccess" not in json.loads(answer.read())
    _assert_genai_traffic(agent, release)


def _post(client, request, path=PATH, **headers):
    return client.post(path, data=request.SerializeToString(),
                       content_type="application/x-protobuf", **headers)


def _answer(response) -> ExportMetricsServiceResponse:
    answer = ExportMetricsServiceResponse()
    answer.ParseFromString(response.content)
    return answer


def test_it_answers_partial_success_for_points_it_cannot_map_and_stores_the_rest(team, owner):
    agent, release = team.live()
    request = hand_made({"service.name": agent.slug, "gen_ai.agent.version": "1"}, [
        ("alm.requests", "delta", 40, {}),
        ("alm.satisfaction", "gauge", 0.9, {}),
        ("alm.escalations", "delta", 2, {}),
        ("gen_ai.mystery.metric", "gauge", 1, {}),
        ("alm.requests", "cumulative", 900, {}),
        ("alm.satisfaction", "gauge", 7, {}),
    ])
    response = _post(ingest_client(owner), request)
    assert response.status_code == 200
    partial = _answer(response).partial_success
    assert partial.rejected_data_points == 3
    assert "gen_ai.mystery.metric: no portal metric" in partial.error_message
    assert "cumulative temporality" in partial.error_message
    assert "satisfaction: Must be between 0 and 1" in partial.error_message
    assert _stored(agent) == {"requests": 40, "satisfaction": 0.9, "escalations": 2}
    assert MetricSample.objects.get(metric="requests").release == release


def test_it_refuses_every_point_of_an_agent_it_cannot_place(team, owner, other_owner):
    agent, _ = team.live()
    points = [("alm.requests", "delta", 5, {})]
    no_release = hand_made({"service.name": agent.slug, "alm.release.sha256": "0" * 64}, points)
    partial = _answer(_post(ingest_client(owner), no_release)).partial_success
    assert partial.rejected_data_points == 1 and "no release matches" in partial.error_message
    hidden = hand_made({"service.name": agent.slug, "gen_ai.agent.version": "1"}, points)
    partial = _answer(_post(ingest_client(other_owner), hidden)).partial_success
    assert "not visible to this token" in partial.error_message
    nameless = hand_made({"gen_ai.agent.version": "1"}, points)
    assert "no service.name" in _answer(_post(ingest_client(owner), nameless)
                                        ).partial_success.error_message
    assert not MetricSample.objects.exists() and not IngestBatch.objects.exists()


def test_it_stores_a_retried_export_once(team, owner):
    agent, _ = team.live()
    request = hand_made({"service.name": agent.slug, "gen_ai.agent.version": "1"},
                        [("alm.requests", "delta", 5, {})])
    client = ingest_client(owner)
    assert _post(client, request).status_code == 200
    assert _post(client, request, API_PATH).status_code == 200
    assert _stored(agent) == {"requests": 5}


def test_it_maps_a_name_the_owner_gave(team, owner, other_owner):
    from almportal.core.errors import DomainError, NotPermitted
    from almportal.operations import services

    agent, _ = team.live()
    with pytest.raises(NotPermitted):
        services.telemetry_name_add(actor=other_owner, agent=agent, name="faq-bot")
    mapping = services.telemetry_name_add(actor=owner, agent=agent, name="faq-bot")
    assert mapping.history.get().history_user == owner
    with pytest.raises(DomainError):
        services.telemetry_name_add(actor=owner, agent=agent, name="faq-bot")
    request = hand_made({"service.name": "faq-bot", "gen_ai.agent.version": "1"},
                        [("alm.requests", "delta", 7, {})])
    assert _post(ingest_client(owner), request).status_code == 200
    assert _stored(agent) == {"requests": 7}


def test_it_answers_busy_with_retry_after(team, owner, settings):
    settings.OTLP_MAX_IN_FLIGHT = 0
    response = _post(ingest_client(owner), hand_made({"service.name": "x"}, []))
    assert response.status_code == 429 and response["Retry-After"] == "5"


def test_it_needs_an_ingest_token_and_a_readable_body(owner, client):
    request = hand_made({"service.name": "x"}, [])
    assert _post(client, request).status_code == 401
    assert _post(token_client(owner, TokenScope.READ), request).status_code == 403
    ingest = ingest_client(owner)
    garbage = ingest.post(PATH, data=b"\xff\x00garbage", content_type="application/x-protobuf")
    assert garbage.status_code == 400
    assert ingest.post(PATH, data=b"{}", content_type="text/plain").status_code == 400
    assert ingest.post(PATH, data=b"{not json", content_type="application/json"
                       ).status_code == 400
    assert not MetricSample.objects.exists()


def _span_metrics(resource: dict, span_name: str, failed: bool):
    from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric

    request = hand_made(resource, [])
    metric = Metric(name="traces.span.metrics.duration", unit="s")
    metric.histogram.aggregation_temporality = (
        AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
    point = metric.histogram.data_points.add(time_unix_nano=time.time_ns(), count=4, sum=2.0,
                                             explicit_bounds=[0.5, 1.0], bucket_counts=[3, 1, 0])
    point.attributes.add(key="span.name").value.string_value = span_name
    if failed:
        point.attributes.add(key="error.type").value.string_value = "timeout"
    request.resource_metrics[0].scope_metrics[0].metrics.append(metric)
    return request


def test_it_maps_the_collectors_span_metrics(team, owner):
    agent, _ = team.live()
    resource = {"service.name": agent.slug, "gen_ai.agent.version": "1"}
    client = ingest_client(owner)
    assert _post(client, _span_metrics(resource, "invoke_agent faq", False)).status_code == 200
    assert _post(client, _span_metrics(resource, "execute_tool crm", True)).status_code == 200
    refused = _answer(_post(client, _span_metrics(resource, "chat", False))).partial_success
    assert refused.rejected_data_points == 1
    # invoke_agent: 4 requests, p95 in the bucket up to 1 s; execute_tool: 4 failures.
    assert _stored(agent) == {"requests": 4, "latency_ms": 1000, "tool_call_failures": 4}


def test_it_offers_the_collector_configuration_of_an_approved_release(team, owner, other_owner,
                                                                      client, settings):
    agent, release = team.live()
    url = f"/operations/agents/{agent.slug}/releases/{release.number}/telemetry-contract/"
    api_url = f"/api/v1/agents/{agent.slug}/releases/{release.number}/telemetry-contract/"
    client_for(client, owner)
    assert url in client.get(f"/agents/{agent.slug}/releases/{release.number}/").content.decode()
    assert release.manifest_hash in client.get(url).content.decode()
    download = client.get(url + "?download=1")
    assert download["Content-Type"] == "application/yaml"
    config = yaml.safe_load(client.get(api_url).json()["collector_yaml"])
    stamped = {a["key"]: a["value"] for a in config["processors"]["resource/alm"]["attributes"]}
    assert stamped["alm.release.sha256"] == release.manifest_hash
    assert stamped["service.name"] == agent.slug
    assert config["exporters"]["otlphttp/alm"]["endpoint"] == settings.SITE_URL
    assert "spanmetrics" in config["service"]["pipelines"]["metrics"]["receivers"]
    assert "cumulativetodelta" in config["service"]["pipelines"]["metrics"]["processors"]

    draft = make_release(agent)
    assert client.get(url.replace(f"/{release.number}/", f"/{draft.number}/")).status_code == 409
    client_for(client, other_owner)
    assert client.get(url).status_code == 404 and client.get(api_url).status_code == 404
