"""The agent dashboard's charts, from rollups and the recent samples (see readings): one series
per release, one point per day. Geometry is computed here and drawn as inline SVG by the
template (with a data table for screen readers and for anyone who prefers numbers)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from ..core.charts import COLOURS
from ..core.charts import fmt_number as _fmt
from ..core.charts import nice_ceiling as _nice
from ..inventory.models import Agent
from ..releases.models import Release
from .models import Environment
from .readings import Span, daily_figures, daily_p95_latency
from .services.thresholds import budgets

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 16, 16, 32
CHART_METRICS = ("requests", "errors", "cost", "satisfaction")  # and latency, as its p95


@dataclass
class Point:
    day: date
    value: float
    x: float = 0
    y: float = 0


@dataclass
class Series:
    label: str
    colour: str
    points: list[Point] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Chart:
    key: str
    title: str
    unit: str
    days: list[date]
    series: list[Series]
    budget: float | None = None
    budget_y: float = 0
    y_max: float = 0
    ticks: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def point_count(self) -> int:
        return sum(len(s.points) for s in self.series)

    @property
    def summary(self) -> str:
        if not self.point_count:
            return f"{self.title}: no samples in this period."
        parts = [f"{s.label}: {len(s.points)} days, latest {_fmt(s.points[-1].value)}"
                 for s in self.series if s.points]
        budget = f"; budget {_fmt(self.budget)} per day" if self.budget is not None else ""
        return f"{self.title} ({self.unit}) — " + "; ".join(parts) + budget

    @property
    def rows(self) -> list[tuple[date, list[str]]]:
        """The data table: one row per day, one column per release."""
        by_day = [{p.day: p.value for p in s.points} for s in self.series]
        return [(day, [_fmt(values[day]) if day in values else "—" for values in by_day])
                for day in self.days if any(day in values for values in by_day)]

    def layout(self) -> "Chart":
        values = [p.value for s in self.series for p in s.points]
        top = max([*values, self.budget or 0, 0])
        self.y_max = _nice(top)
        inner_w = self.width - PAD_LEFT - PAD_RIGHT
        inner_h = self.height - PAD_TOP - PAD_BOTTOM
        step = inner_w / max(1, len(self.days) - 1)
        x_of = {day: PAD_LEFT + i * step for i, day in enumerate(self.days)}

        def y(value: float) -> float:
            return PAD_TOP + inner_h * (1 - (value / self.y_max if self.y_max else 0))

        for s in self.series:
            for p in s.points:
                p.x, p.y = x_of[p.day], y(p.value)
        if self.budget is not None:
            self.budget_y = y(self.budget)
        self.ticks = [(y(self.y_max * i / 4), _fmt(self.y_max * i / 4)) for i in range(5)]
        every = max(1, len(self.days) // 7)
        self.x_labels = [(x_of[d], d.strftime("%m-%d")) for d in self.days[::every]]
        return self


def _window(now: datetime, days: int) -> list[date]:
    today = timezone.localdate(now)
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def _daily(agent: Agent, environment: Environment, start: datetime, now: datetime):
    """{(release, day): {metric: figure}} and {(release, day): p95 latency}, from rollups for
    all but the recent window (see readings)."""
    span = Span.of(start, now)
    sums = daily_figures(span, [agent.pk], environment, CHART_METRICS)
    p95 = daily_p95_latency(span, [agent.pk], environment)
    return ({(rid, day): row for (_, rid, day), row in sums.items()},
            {(rid, day): value for (_, rid, day), value in p95.items()})


def _figure(key: str, row: dict[str, float], p95: float | None) -> float | None:
    if key == "requests":
        return row.get("requests")
    if key == "error_rate":
        return (row.get("errors") or 0) / row["requests"] if row.get("requests") else None
    if key == "latency_p95_ms":
        return p95
    return row.get(key)


CHARTS = [
    ("requests", "Requests per day", "requests"),
    ("error_rate", "Error rate per day", "share of requests"),
    ("latency_p95_ms", "p95 latency per day", "ms"),
    ("cost", "Cost per day", "currency"),
    ("satisfaction", "User satisfaction per day", "score 0–1"),
]


def dashboard_charts(agent: Agent, environment: Environment, *, days: int = 14,
                     now: datetime | None = None, settings=None, deployment=None) -> list[Chart]:
    now = now or timezone.now()
    window = _window(now, days)
    start = timezone.make_aware(datetime.combine(window[0], datetime.min.time()))
    sums, p95 = _daily(agent, environment, start, now)
    release_ids = sorted({rid for rid, _ in sums} | {rid for rid, _ in p95})
    releases = {r.pk: r for r in Release.objects.filter(pk__in=release_ids)}
    daily_budget = budgets(settings, deployment).get("daily_cost")
    charts = []
    for key, title, unit in CHARTS:
        series = []
        for i, rid in enumerate(release_ids):
            points = [Point(day, value) for day in window
                      if (value := _figure(key, sums.get((rid, day), {}),
                                           p95.get((rid, day)))) is not None]
            if points:
                label = f"Release {releases[rid].display_version}"
                series.append(Series(label, COLOURS[i % len(COLOURS)], points))
        chart = Chart(key, title, unit, window, series,
                      budget=daily_budget if key == "cost" else None)
        charts.append(chart.layout())
    return charts
