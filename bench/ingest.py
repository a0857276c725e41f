"""Time metric ingestion on PostgreSQL against PostgreSQL's own `COPY ... FROM STDIN`.

Run with `python -m bench.ingest` and BENCH_DATABASE_URL pointing at a PostgreSQL server the
bench may create a throwaway database on. Prints:
- batches of 1,000 samples posted to the API (token, JSON, validation, write, answer), and
  OTLP/HTTP exports of 1,000 points (protobuf), each as a share of the samples per second
  that a COPY of the same rows into the same table reaches, timed interleaved;
- the time of the first and last of 60 batches for one agent as its hour of samples fills
  (the request, and the worker's threshold judgement that follows it).
The OTLP rate has a goal (at least a quarter of COPY's), and so has the filling hour (issue 21:
the last batches within 1.5x of the first, request and judgement each); the other figures are
to be read.
"""

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

BATCH = 1_000
REPEATS = 15
FILL = 60
OTLP_GOAL = 0.25  # of COPY's rate, for OTLP/HTTP exports through the view and the service
FLAT_GOAL = 1.5  # the last batches of the hour against the first, at most
METRICS = ("requests", "errors", "latency_ms", "tokens_in", "tokens_out", "cost")


def configure(workdir: Path, database_url: str) -> None:
    """The main bench's production-like settings, on the PostgreSQL database."""
    from bench import common

    os.environ["BENCH_DATABASE_URL"] = database_url
    common.configure()


def throwaway_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database on the server; returns its URL and what drops it."""
    import psycopg

    name = f"almportal_bench_{uuid.uuid4().hex[:8]}"
    base, _, _ = server_url.rpartition("/")
    admin = psycopg.connect(f"{base}/postgres", autocommit=True)  # the named one may not exist
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return f"{base}/{name}", drop


def seed():
    """An owner, a live agent with a release, and an ingest token, made by the services."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from almportal.accounts.models import TokenScope, User
    from almportal.accounts.roles import GROUP_NAMES, Role
    from almportal.accounts.services import token_create
    from almportal.inventory import services as inventory
    from almportal.releases import services as releases

    owner = User.objects.create(username="bench-owner", first_name="Owner")
    owner.groups.add(Group.objects.get(name=GROUP_NAMES[Role.BUSINESS_OWNER]))
    triager = User.objects.create(username="bench-compliance", first_name="Compliance")
    triager.groups.add(Group.objects.get(name=GROUP_NAMES[Role.COMPLIANCE]))
    agent = inventory.agent_create(actor=owner, data={
        "name": "Bench ingest agent", "purpose": "Answers questions for the benchmark.",
        "why_agent": "Benchmark.", "business_unit": "IT", "intended_users": "Staff",
        "audience": "internal", "success_metrics": [{"name": "Speed", "target": "fast"}],
        "autonomy_level": "suggest_only", "data_classification": "internal",
        "action_reach": "read_only", "regulated_domain": "none"})
    agent = inventory.agent_submit_intake(actor=owner, agent=agent)
    agent = inventory.agent_accept(actor=triager, agent=agent)
    model = inventory.component_add_version(actor=owner, agent=agent, kind="models", data={
        "name": "main", "provider": "Example", "model_name": "example", "pinned_version": "1",
        "hosting": "vendor_api", "data_retention": "none"})
    release = releases.release_create(actor=owner, agent=agent,
                                      components={"models": [model.pk]})
    _, key = token_create(actor=owner, name="bench", scopes=[TokenScope.INGEST],
                          expires_at=timezone.now() + timedelta(days=1))
    return agent, release, key


def items(agent, release, start) -> list[dict]:
    return [{"agent": agent.slug, "release": release.number, "environment": "production",
             "timestamp": (start - timedelta(milliseconds=n)).isoformat(),
             "metric": METRICS[n % len(METRICS)], "value": float(n % 97)}
            for n in range(BATCH)]


def copy_text(agent, release, batch_pk: int, production_pk: int, start) -> str:
    """The same samples as COPY's text format."""
    return "".join(f"{agent.pk}\t{release.pk}\t{production_pk}\t{batch_pk}\t"
                   f"{(start - timedelta(milliseconds=n)).isoformat()}\t"
                   f"{METRICS[n % len(METRICS)]}\t{float(n % 97)}\n" for n in range(BATCH))


def post_batch(client, key: str, body: list[dict]) -> float:
    started = time.perf_counter()
    response = client.post("/api/v1/ingest/samples/", {"batch_id": uuid.uuid4().hex,
                                                        "samples": body},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"Ingestion answered {response.status_code}: {response.content[:300]}")
    return elapsed


def otlp_body(agent, release, start) -> bytes:
    """An OTLP export of BATCH delta points, as a gateway's SDK would send it."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    for key, value in (("service.name", agent.slug), ("alm.release.sha256",
                                                      release.manifest_hash)):
        resource.resource.attributes.add(key=key).value.string_value = value
    metric = resource.scope_metrics.add().metrics.add(name="alm.requests")
    metric.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    nanos = int(start.timestamp() * 1e9)
    for n in range(BATCH):
        metric.sum.data_points.add(time_unix_nano=nanos - n * 1_000_000, as_double=n % 97)
    return request.SerializeToString()


def post_otlp(client, key: str, body: bytes) -> float:
    started = time.perf_counter()
    response = client.post("/v1/metrics", body, content_type="application/x-protobuf",
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or response.content:
        raise SystemExit(f"OTLP answered {response.status_code}: {response.content[:300]}")
    return elapsed


def copy_batch(text: str) -> float:
    from django.db import connection, transaction

    from almportal.operations.models import MetricSample

    columns = "agent_id, release_id, environment_id, batch_id, timestamp, metric, value"
    started = time.perf_counter()
    statement = f'COPY "{MetricSample._meta.db_table}" ({columns}) FROM STDIN'
    with (transaction.atomic(), connection.cursor() as cursor,
          cursor.cursor.copy(statement) as copy):
        copy.write(text)
    return time.perf_counter() - started


def against_copy(client, agent, release, key: str) -> tuple[float, float, float]:
    from django.utils import timezone

    from almportal.operations.models import Environment, IngestBatch

    production = Environment.objects.get(is_production=True)
    holder = IngestBatch.objects.create(user=agent.business_owner, batch_id="copy",
                                        item_count=0, stored_count=0, refused_count=0)
    api, otlp, raw = [], [], []
    for n in range(REPEATS):
        start = timezone.now() - timedelta(minutes=30, seconds=n)
        text = copy_text(agent, release, holder.pk, production.pk, start)
        api.append(post_batch(client, key, items(agent, release, start)))
        otlp.append(post_otlp(client, key, otlp_body(agent, release, start)))
        raw.append(copy_batch(text))
    return statistics.median(api), statistics.median(otlp), statistics.median(raw)


def filling_hour(client, agent, release, key: str) -> list[tuple[float, float]]:
    """(request, judgement) seconds for each of FILL batches into the same hour."""
    from django.utils import timezone

    from almportal.operations import services

    timings = []
    for n in range(FILL):
        start = timezone.now() - timedelta(seconds=FILL - n)
        request = post_batch(client, key, items(agent, release, start))
        started = time.perf_counter()
        services.thresholds_evaluate(agent_ids=[agent.pk])
        timings.append((request, time.perf_counter() - started))
    return timings


def run() -> list[str]:
    import django
    from django.core.management import call_command
    from django.test import Client

    from bench.common import verdict

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    agent, release, key = seed()
    client = Client()
    for _ in range(3):  # warm-up
        post_batch(client, key, items(agent, release, _now_minus(40)))
    api, otlp, raw = against_copy(client, agent, release, key)
    filled = filling_hour(client, agent, release, key)
    head, tail = filled[:5], filled[-5:]

    def median(rows, i):
        return statistics.median(r[i] for r in rows)

    first, last = median(head, 0), median(tail, 0)
    judged_first, judged_last = median(head, 1), median(tail, 1)
    flat = max(last / first, judged_last / judged_first) <= FLAT_GOAL
    return [
        (f"Ingestion on PostgreSQL, batches of {BATCH:,} samples, median of {REPEATS} "
         "interleaved runs:"),
        (f"  API batch {api * 1000:.1f} ms ({BATCH / api:,.0f} samples/s); COPY FROM "
         f"{raw * 1000:.1f} ms ({BATCH / raw:,.0f} samples/s); API/COPY rate {raw / api:.0%}"),
        (f"  OTLP export of {BATCH:,} points {otlp * 1000:.1f} ms ({BATCH / otlp:,.0f} "
         f"points/s); OTLP/COPY rate {raw / otlp:.0%} (goal ≥ {OTLP_GOAL:.0%}) "
         f"{verdict(raw / otlp >= OTLP_GOAL)}"),
        f"{FILL} batches into one agent's hour (median of the first five / last five):",
        (f"  request {first * 1000:.1f} ms / {last * 1000:.1f} ms ({last / first:.2f}x); "
         f"worker judgement {judged_first * 1000:.1f} ms / {judged_last * 1000:.1f} ms "
         f"({judged_last / judged_first:.2f}x); goal each ≤ {FLAT_GOAL}x {verdict(flat)}"),
    ]


def _now_minus(minutes: int):
    from django.utils import timezone

    return timezone.now() - timedelta(minutes=minutes)


def run_on_throwaway_database(run, label: str) -> None:
    """`run()` on a database of its own on the BENCH_DATABASE_URL server; prints its lines."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    server = os.environ.get("BENCH_DATABASE_URL", "")
    if not server.startswith("postgres"):
        print(f"{label} skipped: set BENCH_DATABASE_URL to a PostgreSQL server.")
        return
    url, drop = throwaway_database(server)
    try:
        with tempfile.TemporaryDirectory(prefix="almportal-bench-") as workdir:
            configure(Path(workdir), url)
            print("\n".join(run()))
    finally:
        from django.db import connections

        connections.close_all()
        drop()


def main() -> None:
    run_on_throwaway_database(run, "Ingestion bench")


if __name__ == "__main__":
    main()
