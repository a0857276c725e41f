"""Telemetry read back for the dashboard and the budgets: from rollups (`MetricRollup`) for
anything older than the raw window, and from raw samples only for the recent window, so the
cost of a read follows the period shown, not the samples stored.

Raw samples take over at `raw_from`: after the last minute the rollup task has summed, and at
most RAW_MINUTES before now (rollups are refreshed every minute, so the raw window is a few
minutes). A point arriving late for a minute already summed shows once the task sums it
again. Before it, whole hours come from hour rollups and the minutes of the hour it falls in
from minute rollups. With no rollups yet (no worker has run), everything is read raw.

Sums are exact whichever side they come from; satisfaction is a mean (total over count). A
day's p95 latency is the nearest-rank 95th percentile of its minutes' slowest values for the
rolled-up minutes, and of the raw values for the recent window: an upper bound of the exact
p95, exact where every minute holds one latency value (as with one OTLP export a minute)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .figures import nearest_rank
from .models import Environment, MetricRollup, MetricSample

RAW_MINUTES = 5
MINUTE = timedelta(minutes=1)
LATENCY = "latency_ms"
MEANS = {"satisfaction"}

Key = tuple[int, int, date]  # agent, release, day


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def raw_from(now: datetime) -> datetime | None:
    """Where raw samples take over from rollups (None: no rollups yet, read everything raw).
    The latest minute rollup is found through the index on (period, start)."""
    latest = (MetricRollup.objects.filter(period=MetricRollup.MINUTE, start__lte=now)
              .aggregate(at=Max("start"))["at"])
    if latest is None:
        return None
    return min(latest + MINUTE, _minute(now) - timedelta(minutes=RAW_MINUTES))


@dataclass(frozen=True)
class Span:
    """[start, now] split into hour rollups, minute rollups and raw samples."""

    start: datetime
    now: datetime
    cut: datetime | None

    @classmethod
    def of(cls, start: datetime, now: datetime) -> "Span":
        return cls(start, now, raw_from(now))

    def rollups(self, agent_ids: Sequence[int], environment: Environment,
                metrics: Sequence[str]) -> QuerySet[MetricRollup]:
        if self.cut is None or self.cut <= self.start:
            return MetricRollup.objects.none()
        hour = max(_hour(self.cut), self.start)
        periods = (Q(period=MetricRollup.HOUR, start__gte=self.start, start__lt=hour)
                   | Q(period=MetricRollup.MINUTE, start__gte=hour, start__lt=self.cut))
        return MetricRollup.objects.filter(periods, agent_id__in=agent_ids,
                                           environment=environment, metric__in=metrics)

    def minutes(self, agent_ids: Sequence[int], environment: Environment,
                metric: str) -> QuerySet[MetricRollup]:
        if self.cut is None or self.cut <= self.start:
            return MetricRollup.objects.none()
        return MetricRollup.objects.filter(
            agent_id__in=agent_ids, environment=environment, metric=metric,
            period=MetricRollup.MINUTE, start__gte=self.start, start__lt=self.cut)

    def raw(self, agent_ids: Sequence[int], environment: Environment,
            metrics: Sequence[str]) -> QuerySet[MetricSample]:
        since = self.start if self.cut is None else max(self.cut, self.start)
        return MetricSample.objects.filter(agent_id__in=agent_ids, environment=environment,
                                           metric__in=metrics, timestamp__gte=since,
                                           timestamp__lte=self.now)


def _by_day(queryset: QuerySet, field: str) -> QuerySet:
    return queryset.annotate(day=TruncDate(field, tzinfo=timezone.get_current_timezone()))


def daily_figures(span: Span, agent_ids: Sequence[int], environment: Environment,
                  metrics: Sequence[str]) -> dict[Key, dict[str, float]]:
    """{(agent, release, day): {metric: figure}}: the day's sum, or mean for satisfaction."""
    sums: dict[Key, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    keys = ("agent_id", "release_id", "day", "metric")
    rolled = (_by_day(span.rollups(agent_ids, environment, metrics), "start").values(*keys)
              .annotate(total=Sum("total"), n=Sum("count")))
    raw = (_by_day(span.raw(agent_ids, environment, metrics), "timestamp").values(*keys)
           .annotate(total=Sum("value"), n=Count("pk")))
    for row in [*rolled, *raw]:
        pair = sums[(row["agent_id"], row["release_id"], row["day"])][row["metric"]]
        pair[0] += row["total"]
        pair[1] += row["n"]
    return {key: {metric: (total / n if metric in MEANS and n else total)
                  for metric, (total, n) in figures.items()}
            for key, figures in sums.items()}


def daily_p95_latency(span: Span, agent_ids: Sequence[int], environment: Environment
                      ) -> dict[Key, float]:
    """{(agent, release, day): p95 latency}, as the module's docstring says."""
    values: dict[Key, list[float]] = defaultdict(list)
    keys = ("agent_id", "release_id", "day")
    rolled = _by_day(span.minutes(agent_ids, environment, LATENCY), "start")
    raw = _by_day(span.raw(agent_ids, environment, [LATENCY]), "timestamp")
    for *key, value in [*rolled.values_list(*keys, "maximum"),
                        *raw.values_list(*keys, "value")]:
        values[tuple(key)].append(value)
    return {key: nearest_rank(found, 0.95) for key, found in values.items()}
