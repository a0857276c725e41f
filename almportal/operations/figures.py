"""Figures computed from samples in the database: sums and means per group, and the p95
latency as PostgreSQL's nearest-rank `percentile_disc` (elsewhere, where `make run` uses
SQLite, the latencies of each group are ranked in Python)."""

import math
from collections import defaultdict
from collections.abc import Sequence

from django.db import connection
from django.db.models import Aggregate, Avg, FloatField, QuerySet, Sum


class PercentileDisc(Aggregate):
    """The smallest value at or above the given share of the ordered values (nearest rank)."""

    function = "percentile_disc"
    template = "%(function)s(%(share)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, share: float, **extra):
        super().__init__(expression, share=float(share), **extra)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile, as percentile_disc computes it (None of no values)."""
    return nearest_rank(values, share) if values else None


def nearest_rank(values: list[float], share: float) -> float:
    """The nearest-rank percentile of values there is at least one of."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[rank]


def _key(row: dict, keys: Sequence[str]) -> tuple:
    return tuple(row[k] for k in keys)


def totals(samples: QuerySet, keys: Sequence[str]) -> dict[tuple, dict[str, float]]:
    """{group: {metric: figure}}: the sum of counts, the mean of satisfaction."""
    out: dict[tuple, dict[str, float]] = defaultdict(dict)
    for row in samples.values(*keys, "metric").annotate(total=Sum("value"), mean=Avg("value")):
        out[_key(row, keys)][row["metric"]] = (row["mean"] if row["metric"] == "satisfaction"
                                               else row["total"])
    return out


def p95_latency(samples: QuerySet, keys: Sequence[str]) -> dict[tuple, float]:
    """{group: p95 of latency_ms}."""
    latency = samples.filter(metric="latency_ms")
    if connection.vendor == "postgresql":
        rows = latency.values(*keys).annotate(p95=PercentileDisc("value", 0.95))
        return {_key(row, keys): row["p95"] for row in rows}
    grouped: dict[tuple, list[float]] = defaultdict(list)
    for row in latency.values(*keys, "value"):
        grouped[_key(row, keys)].append(row["value"])
    return {key: nearest_rank(values, 0.95) for key, values in grouped.items()}
