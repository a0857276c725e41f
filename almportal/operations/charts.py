"""The agent dashboard's charts, from rollups and the recent samples (see readings): one series
per release (canary and stable named as such), one point per day, with the thresholds and the
daily budget drawn as lines. Geometry is computed here, for a wide and a narrow drawing (see
core.charts), and drawn as inline SVG by templates/operations/_chart.html with a data table."""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from ..core.charts import (
    COLOURS,
    CURRENCY,
    FONT,
    LIMIT_COLOUR,
    NARROW,
    PERCENT,
    WIDE,
    nice_axis,
    tick_label,
    tick_values,
    unit_text,
    with_unit,
)
from ..core.charts import fmt_number as _fmt
from ..inventory.models import Agent
from ..releases.models import Release
from .models import Environment
from .readings import Span, daily_figures, daily_p95_latency
from .services.thresholds import budgets

PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 24, 28, 30
CHART_METRICS = ("requests", "errors", "cost", "satisfaction")  # and latency, as its p95


@dataclass
class Point:
    day: date
    value: float  # as measured (an error rate as a share)


@dataclass
class Series:
    label: str
    colour: str
    points: list[Point] = field(default_factory=list)
    role: str = ""  # "canary" or "stable" while a canary runs


@dataclass
class Line:
    """A threshold or a budget across the plot, in the chart's shown unit."""

    value: float
    label: str
    text: str  # the value with its unit


@dataclass
class PlacedSeries:
    series: Series
    points: list[tuple[Point, float, float, str]]  # point, x, y, value as shown

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for _, x, y, _ in self.points)


@dataclass
class Plot:
    variant: str
    width: int
    height: int
    left: int
    series: list[PlacedSeries]
    ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    lines: list[tuple[float, Line]]
    font: int = FONT

    @property
    def right(self) -> int:
        return self.width - PAD_RIGHT

    @property
    def label_y(self) -> int:
        return self.height - 10


@dataclass
class Chart:
    key: str
    title: str
    unit: str
    days: list[date]
    series: list[Series]
    lines: list[Line] = field(default_factory=list)
    scale: float = 1  # shown = measured × scale (a share shown as a percentage)
    integer: bool = False
    y_max: float = 0
    step: float = 1
    plots: list[Plot] = field(default_factory=list)

    @property
    def unit_label(self) -> str:
        return unit_text(self.unit)

    @property
    def point_count(self) -> int:
        return sum(len(s.points) for s in self.series)

    @property
    def limit_colour(self) -> str:
        return LIMIT_COLOUR

    def shown(self, value: float) -> str:
        return with_unit(_fmt(value * self.scale), self.unit)

    @property
    def summary(self) -> str:
        if not self.point_count:
            return f"{self.title}: no samples in this period."
        parts = [f"{s.label}: {len(s.points)} days, latest {self.shown(s.points[-1].value)}"
                 for s in self.series if s.points]
        limits = "".join(f"; {line.label} {line.text}" for line in self.lines)
        return f"{self.title} — " + "; ".join(parts) + limits

    @property
    def rows(self) -> list[tuple[date, list[str]]]:
        """The data table: one row per day, one column per release."""
        by_day = [{p.day: p.value for p in s.points} for s in self.series]
        return [(day, [_fmt(values[day] * self.scale) if day in values else "—"
                       for values in by_day])
                for day in self.days if any(day in values for values in by_day)]

    def layout(self) -> "Chart":
        values = [p.value * self.scale for s in self.series for p in s.points]
        top = max([*values, *(line.value for line in self.lines), 0])
        self.y_max, self.step = nice_axis(top, integer=self.integer)
        self.plots = [self._plot("wide", WIDE, 300, 60), self._plot("narrow", NARROW, 260, 48)]
        return self

    def _plot(self, variant: str, width: int, height: int, day_width: int) -> Plot:
        ticks = [(v, tick_label(v, self.step)) for v in tick_values(self.y_max, self.step)]
        left = 12 + 8 * max(len(label) for _, label in ticks)
        inner_w, inner_h = width - left - PAD_RIGHT, height - PAD_TOP - PAD_BOTTOM
        step = inner_w / max(1, len(self.days) - 1)
        x_of = {day: left + i * step for i, day in enumerate(self.days)}

        def y(value: float) -> float:
            return PAD_TOP + inner_h * (1 - (value / self.y_max if self.y_max else 0))

        placed = [PlacedSeries(s, [(p, x_of[p.day], y(p.value * self.scale),
                                    self.shown(p.value)) for p in s.points])
                  for s in self.series]
        every = max(1, math.ceil(day_width / step)) if step else 1
        return Plot(variant, width, height, left, placed,
                    [(y(v), label) for v, label in ticks],
                    [(x_of[d], d.strftime("%m-%d")) for d in self.days[::every]],
                    [(y(line.value), line) for line in self.lines])


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


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    unit: str
    scale: float = 1
    integer: bool = False


CHARTS = [
    Spec("requests", "Requests per day", "requests", integer=True),
    Spec("error_rate", "Error rate per day", PERCENT, scale=100),
    Spec("latency_p95_ms", "p95 latency per day", "ms"),
    Spec("cost", "Cost per day", CURRENCY),
    Spec("satisfaction", "User satisfaction per day", "score 0–1"),
]


def _line(spec: Spec, value: float, label: str) -> Line:
    return Line(value, label, with_unit(_fmt(value), spec.unit))


def _lines(spec: Spec, thresholds: dict, daily_budget: float | None) -> list[Line]:
    if spec.key == "cost":
        return [_line(spec, daily_budget, "daily budget")] if daily_budget is not None else []
    bound = thresholds.get(spec.key)
    if not bound:
        return []
    (kind, value), = bound.items()
    return [_line(spec, value * spec.scale,
                  f"threshold ({'at most' if kind == 'max' else 'at least'})")]


def release_roles(deployment) -> dict[int, str]:
    """While a canary runs: which release is the canary and which the stable one."""
    if deployment is None:
        return {}
    routes = [r for r in deployment.routes.all() if r.serves]
    if not any(r.is_canary for r in routes):
        return {}
    return {r.release_id: "canary" if r.is_canary else "stable" for r in routes}


def _series(spec: Spec, window, sums, p95, releases, roles) -> list[Series]:
    series = []
    for i, (rid, release) in enumerate(releases.items()):
        points = [Point(day, value) for day in window
                  if (value := _figure(spec.key, sums.get((rid, day), {}),
                                       p95.get((rid, day)))) is not None]
        if points:
            role = roles.get(rid, "")
            label = f"Release {release.display_version}" + (f" ({role})" if role else "")
            series.append(Series(label, COLOURS[i % len(COLOURS)], points, role))
    return series


def dashboard_charts(agent: Agent, environment: Environment, *, days: int = 14,
                     now: datetime | None = None, settings=None, deployment=None,
                     thresholds: dict | None = None) -> list[Chart]:
    now = now or timezone.now()
    window = _window(now, days)
    start = timezone.make_aware(datetime.combine(window[0], datetime.min.time()))
    sums, p95 = _daily(agent, environment, start, now)
    release_ids = sorted({rid for rid, _ in sums} | {rid for rid, _ in p95})
    releases = Release.objects.in_bulk(release_ids)
    releases = {rid: releases[rid] for rid in release_ids}
    daily_budget = budgets(settings, deployment).get("daily_cost")
    roles = release_roles(deployment)
    return [Chart(spec.key, spec.title, spec.unit, window,
                  _series(spec, window, sums, p95, releases, roles),
                  _lines(spec, thresholds or {}, daily_budget), spec.scale, spec.integer).layout()
            for spec in CHARTS]


@dataclass
class Comparison:
    title: str
    stable: str
    canary: str
    limit: str


def canary_against_stable(charts: list[Chart]) -> list[Comparison]:
    """Each chart's latest day, the canary's figure next to the stable release's."""
    rows = []
    for chart in charts:
        latest = {s.role: s.points[-1].value for s in chart.series if s.role and s.points}
        if "canary" not in latest:
            continue
        limit = "; ".join(f"{line.label} {line.text}" for line in chart.lines)
        rows.append(Comparison(chart.title, chart.shown(latest["stable"])
                               if "stable" in latest else "—",
                               chart.shown(latest["canary"]), limit or "—"))
    return rows
