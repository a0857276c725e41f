from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from almportal.operations.models import IngestBatch, MetricSample

from .helpers import ingest_client, runtime_client

URL = "/api/v1/ingest/samples/"


def samples(agent, release, n, *, metric="requests", value=1.0, at=None):
    at = at or timezone.now() - timedelta(minutes=1)
    return [{"agent": agent.slug, "release": release.number, "environment": "production",
             "timestamp": (at - timedelta(seconds=i)).isoformat(), "metric": metric,
             "value": value} for i in range(n)]


def post(client, batch_id, items):
    return client.post(URL, {"batch_id": batch_id, "samples": items}, format="json")


def _queries(client, batch_id, items) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert post(client, batch_id, items).status_code == 200
    return [q["sql"] for q in captured]


def test_it_stores_10000_samples_in_batches_of_1000_and_none_twice(team, owner):
    agent, release = team.live()
    client = ingest_client(owner)
    for n in range(10):
        response = post(client, f"b-{n}", samples(agent, release, 1000))
        assert response.status_code == 200
        assert response.json()["stored"] == 1000
    assert MetricSample.objects.count() == 10_000

    again = post(client, "b-3", samples(agent, release, 1000))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["stored"] == 0
    assert MetricSample.objects.count() == 10_000
    assert IngestBatch.objects.count() == 10


def _sample_inserts(queries: list[str]) -> list[str]:
    return [q for q in queries if q.startswith('INSERT INTO "operations_metricsample"')]


def test_it_does_not_query_per_sample(team, owner):
    agent, release = team.live()
    client = ingest_client(owner)
    post(client, "warm-up", samples(agent, release, 1))
    small = _queries(client, "small", samples(agent, release, 10))
    large = _queries(client, "large", samples(agent, release, 1000))
    inserts = _sample_inserts(large)
    assert len(large) - len(inserts) == len(small) - len(_sample_inserts(small))
    if connection.vendor == "postgresql":
        assert not inserts  # one COPY
    else:  # a multi-row insert, split only by SQLite's limit on parameters
        assert len(inserts) <= 1000 * 7 // connection.features.max_query_params + 1
    assert MetricSample.objects.filter(batch__batch_id="large").count() == 1000


def test_it_writes_each_value_as_sent(team, owner):
    agent, release = team.live()
    at = timezone.now().replace(microsecond=123456) - timedelta(minutes=3)
    item = {**samples(agent, release, 1, metric="latency_ms", value=812.5, at=at)[0]}
    assert post(ingest_client(owner), "exact", [item]).status_code == 200
    stored = MetricSample.objects.get()
    assert (stored.agent, stored.release, stored.environment.slug) == (agent, release,
                                                                         "production")
    assert (stored.timestamp, stored.metric, stored.value) == (at, "latency_ms", 812.5)
    assert stored.batch.batch_id == "exact" and stored.batch.stored_count == 1


def test_it_refuses_malformed_items_one_by_one_and_stores_the_rest(team, owner, other_owner):
    agent, release = team.live()
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    good = samples(agent, release, 2)
    bad = [
        {**good[0], "metric": "vibes"},
        {**good[0], "value": "high"},
        {**good[0], "value": -1},
        {**good[0], "metric": "satisfaction", "value": 4},
        {**good[0], "timestamp": future},
        {**good[0], "timestamp": "2026-01-01T10:00:00"},
        {**good[0], "release": 999},
        {**good[0], "environment": "moon"},
        {**good[0], "agent": "nobody"},
        {**good[0], "colour": "red"},
        "not an object",
        {"agent": agent.slug},
        {**good[0], "metric": ["requests"], "agent": {"slug": agent.slug}},
        {**good[0], "metric": {"name": "requests"}, "release": [1], "environment": ["production"]},
    ]
    response = post(ingest_client(owner), "mixed", [good[0], *bad, good[1]])
    assert response.status_code == 207
    body = response.json()
    assert body["stored"] == 2 and body["refused"] == len(bad)
    items = body["items"]
    assert items[0] == {"index": 0, "status": "stored"}
    assert items[1]["errors"] == {"metric": [items[1]["errors"]["metric"][0]]}
    assert set(items[2]["errors"]) == {"value"} and set(items[3]["errors"]) == {"value"}
    assert set(items[5]["errors"]) == {"timestamp"} and set(items[6]["errors"]) == {"timestamp"}
    assert set(items[7]["errors"]) == {"release"} and set(items[8]["errors"]) == {"environment"}
    assert set(items[9]["errors"]) == {"agent"} and set(items[10]["errors"]) == {"colour"}
    assert "non_field_errors" in items[11]["errors"]
    assert {"release", "environment", "timestamp", "metric", "value"} <= set(items[12]["errors"])
    assert set(items[13]["errors"]) == {"metric", "agent"}
    assert set(items[14]["errors"]) == {"metric", "release", "environment"}
    assert MetricSample.objects.count() == 2


def test_it_records_no_batch_when_every_item_is_refused(team, owner):
    agent, release = team.live()
    client = ingest_client(owner)
    response = post(client, "fix-me", [{**samples(agent, release, 1)[0], "metric": "x"}])
    assert response.status_code == 400 and response.json()["stored"] == 0
    assert not IngestBatch.objects.exists()
    assert post(client, "fix-me", samples(agent, release, 1)).status_code == 200


def test_it_refuses_agents_the_token_user_cannot_see(team, other_owner):
    agent, release = team.live()
    response = post(ingest_client(other_owner), "b", samples(agent, release, 1))
    assert response.status_code == 400
    assert "agent" in response.json()["items"][0]["errors"]


def test_it_refuses_oversized_and_shapeless_batches(team, owner):
    agent, release = team.live()
    client = ingest_client(owner)
    assert post(client, "big", samples(agent, release, 1001)).status_code == 400
    assert post(client, "", samples(agent, release, 1)).status_code == 400
    assert client.post(URL, {"batch_id": "x", "samples": {}}, format="json").status_code == 400
    assert client.post(URL, [1, 2], format="json").status_code == 400
    assert not MetricSample.objects.exists()


def test_it_needs_the_ingest_scope(team, owner):
    agent, release = team.live()
    assert post(runtime_client(owner), "b", samples(agent, release, 1)).status_code == 403


def test_it_refuses_the_samples_of_a_retired_agent_item_by_item(team, owner):
    from almportal.inventory.choices import Stage
    from almportal.inventory.models import Agent

    agent, release = team.live()
    gone, gone_release = team.live(team.agent(name="Retired helper"))
    Agent.objects.filter(pk=gone.pk).update(stage=Stage.RETIRED)
    response = post(ingest_client(owner), "mixed",
                    samples(agent, release, 2) + samples(gone, gone_release, 1))
    assert response.status_code == 207  # some stored, some refused
    answer = response.json()
    assert (answer["stored"], answer["refused"]) == (2, 1)
    assert answer["items"][2]["errors"] == {"agent": ["The agent is retired: it takes no new "
                                                      "samples."]}
    assert not MetricSample.objects.filter(agent=gone).exists()
