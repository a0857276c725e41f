"""The agent dashboard as its telemetry grows: 10 thousand, then 10 million samples for one
agent on PostgreSQL, spread over the raw retention (30 days) and summed into rollups as the
rollup task sums them.

Run with `python -m bench.telemetry` and BENCH_DATABASE_URL pointing at a PostgreSQL server the
bench may create a throwaway database on. The samples are written by COPY (the rows are valid
by construction, so foreign keys are not checked while seeding); the page is served by
gunicorn and timed against the login page, interleaved, at both sizes. Prints the dashboard's
time at each size, its growth (goal: at most 2×), and the worker's threshold judgement of the
agent (window figures and the month's budget) at both sizes.
"""

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import islice

SIZES = (10_000, 10_000_000)
SPAN = timedelta(days=30)
CHUNK = 500_000
REQUESTS = 15
JUDGEMENTS = 5
GOAL = 2.0
METRICS = ("requests", "errors", "latency_ms", "cost", "satisfaction", "tokens_in")
VALUES = {"requests": lambda n: 1.0, "errors": lambda n: float(n % 50 == 0),
          "latency_ms": lambda n: 200.0 + (n * 37) % 800, "cost": lambda n: 0.002,
          "satisfaction": lambda n: 0.8, "tokens_in": lambda n: 500.0}


def _rows(prefix: str, numbers, end: float):
    """COPY text for the given samples of a stream of SIZES[-1] spread evenly over SPAN."""
    step = SPAN.total_seconds() / SIZES[-1]
    for n in numbers:
        at = datetime.fromtimestamp(end - (n + 0.5) * step, UTC)
        metric = METRICS[(n + n // 1000) % len(METRICS)]  # every metric at every size
        yield f"{prefix}{at.isoformat()}\t{metric}\t{VALUES[metric](n)}\n"


def stream(size: int, before: int):
    """The samples that take the stream from `before` to `size` samples, each size an even
    spread over SPAN: every k-th sample of the full stream."""
    total = SIZES[-1]
    was, now = total // before if before else 0, total // size
    return (n for n in range(0, total, now) if not (was and n % was == 0))


def copy_samples(agent, release, numbers, end: float, label: str) -> tuple[int, float]:
    """Write the samples by COPY; returns how many and the seconds it took."""
    from django.db import connection, transaction

    from almportal.operations.models import Environment, IngestBatch, MetricSample

    production = Environment.objects.get(is_production=True)
    batch = IngestBatch.objects.create(user=agent.business_owner, batch_id=f"seed-{label}",
                                       item_count=0, stored_count=0, refused_count=0)
    prefix = f"{agent.pk}\t{release.pk}\t{production.pk}\t{batch.pk}\t"
    columns = "agent_id, release_id, environment_id, batch_id, timestamp, metric, value"
    statement = f'COPY "{MetricSample._meta.db_table}" ({columns}) FROM STDIN'
    started, written = time.perf_counter(), 0
    while chunk := list(islice(numbers, CHUNK)):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            with cursor.cursor.copy(statement) as copy:
                copy.write("".join(_rows(prefix, chunk, end)))
        written += len(chunk)
    return written, time.perf_counter() - started


def roll_up(now: datetime) -> float:
    """Sum every window as the rollup task does, then refresh the planner's statistics."""
    from django.db import connection

    from almportal.operations import services

    started = time.perf_counter()
    services.rollups_build(start=now - SPAN, end=now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE operations_metricsample")
        cursor.execute("VACUUM ANALYZE operations_metricrollup")
    return time.perf_counter() - started


def time_page(agent, owner) -> tuple[float, float]:
    """(dashboard seconds, dashboard/login ratio), medians of interleaved rounds."""
    from bench import common

    path = f"/operations/agents/{agent.slug}/"
    headers = common.session_headers(owner)
    with common.served() as (host, port):
        status, body = common.fetch(host, port, path, headers)
        if status != 200 or body.count(b"data-day=") < 5 * 14:  # five charts, 14 days
            raise SystemExit(f"The dashboard answered {status} without 14 days of figures.")
        ratio = common.interleaved(
            "dashboard",
            lambda: common.latency(host, port, common.BASELINE[1], {}, REQUESTS),
            lambda: common.latency(host, port, path, headers, REQUESTS))
    return ratio.value, ratio.median


def time_judgement(agent) -> float:
    from almportal.operations import services

    timings = []
    for _ in range(JUDGEMENTS):
        started = time.perf_counter()
        services.thresholds_evaluate(agent_ids=[agent.pk])
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run() -> list[str]:
    import django
    from django.core.management import call_command
    from django.utils import timezone

    from bench.ingest import seed

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    agent, release, _ = seed()
    now = timezone.now()
    seeded, measured = 0, {}
    for size in SIZES:
        written, copied = copy_samples(agent, release, stream(size, seeded), now.timestamp(),
                                       str(size))
        rolled = roll_up(now)
        seeded += written
        print(f"… {seeded:,} samples: COPY {copied:.0f} s, rollups {rolled:.0f} s",
              file=sys.stderr, flush=True)
        measured[seeded] = (*time_page(agent, agent.business_owner), time_judgement(agent))
        print(f"  measured: {measured[seeded]}", file=sys.stderr, flush=True)
    return report(measured)


def report(measured: dict[int, tuple[float, float, float]]) -> list[str]:
    from bench.common import verdict

    small, large = (measured[size] for size in sorted(measured))
    growth = large[1] / small[1]
    lines = [(f"Agent dashboard over {SPAN.days} days of one agent's telemetry (median of "
              "interleaved rounds, against the login page):")]
    for size, (seconds, ratio, judged) in measured.items():
        lines.append(f"  {size:>10,} samples: dashboard {seconds * 1000:.1f} ms "
                     f"({ratio:.2f}x login); threshold judgement {judged * 1000:.1f} ms")
    lines.append(f"  growth from {SIZES[0]:,} to {SIZES[-1]:,} samples: {growth:.2f}x "
                 f"(goal ≤ {GOAL:g}x) {verdict(growth <= GOAL)}")
    return lines


def main() -> None:
    from bench.ingest import run_on_throwaway_database

    run_on_throwaway_database(run, "Telemetry bench")


if __name__ == "__main__":
    main()
