"""Server-side charts drawn as inline SVG (templates/includes/bar_chart.html and
templates/operations/_chart.html).

Geometry is computed here, twice per chart: a wide plot and a narrow one, so tick labels stay
readable whether the chart's box is a laptop's card or a phone's (the stylesheet shows the one
that fits its container). Every chart also carries the numbers it draws, so the template gives a
text summary (the SVG's accessible name), values on hover (<title>) and a data table."""

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

COLOURS = ["#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599"]
LIMIT_COLOUR = "#c92a2a"
# The two plot widths (SVG user units) and the font size both are drawn with.
WIDE, NARROW = 1000, 420
FONT = 13
PERCENT, CURRENCY = "%", "currency"


def fmt_number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"


def unit_text(unit: str) -> str:
    """The unit as shown next to a number: the configured currency for costs."""
    return settings.COST_CURRENCY if unit == CURRENCY else unit


def with_unit(text: str, unit: str) -> str:
    shown = unit_text(unit)
    return f"{text}{shown}" if shown == PERCENT else f"{text} {shown}"


def nice_axis(top: float, *, integer: bool = False, ticks: int = 4) -> tuple[float, float]:
    """A round top and step for an axis from zero that holds `top`: steps of 1, 2, 2.5 or 5
    times a power of ten (whole steps for counts), so 0.03 gets an axis to 0.04, not to 1."""
    if top <= 0:
        return (float(ticks), 1.0) if integer else (1.0, 0.25)
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(f * power for f in factors if f * power >= raw * (1 - 1e-9))
    if integer:
        step = max(1.0, float(round(step)))
    return step * math.ceil(top / step - 1e-9), step


def nice_ceiling(value: float) -> float:
    """A round top for an axis."""
    return nice_axis(value)[0]


def tick_values(top: float, step: float) -> list[float]:
    return [step * i for i in range(int(round(top / step)) + 1)]


def tick_label(value: float, step: float) -> str:
    """A tick's number with as many decimals as the step has."""
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return f"{value:,.{decimals}f}"


def all_whole(values) -> bool:
    return all(float(v).is_integer() for v in values)


@dataclass
class Bar:
    label: str
    value: float
    limit: float | None = None  # e.g. a budget, drawn as a mark across the bar
    url: str = ""

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.value > self.limit

    @property
    def colour(self) -> str:
        return LIMIT_COLOUR if self.over_limit else COLOURS[0]

    @property
    def value_text(self) -> str:
        return fmt_number(self.value)

    @property
    def limit_text(self) -> str:
        return fmt_number(self.limit)


@dataclass
class PlacedBar:
    bar: Bar
    y: float
    width: float
    limit_x: float | None
    label: str


@dataclass
class BarPlot:
    """One drawing of a bar chart at one width."""

    variant: str
    width: int
    height: int
    label_width: int
    plot_right: int
    axis_y: float
    bars: list[PlacedBar]
    ticks: list[tuple[float, str]]
    font: int = FONT

    @property
    def value_x(self) -> int:
        return self.label_width + 4


@dataclass
class BarChart:
    """Horizontal bars, one per category: readable at phone width, whatever the labels."""

    key: str
    title: str
    unit: str
    bars: list[Bar]
    limit_label: str = ""
    bar_height: int = 22
    gap: int = 8
    top: int = 8
    x_max: float = 0
    step: float = 1
    plots: list[BarPlot] = field(default_factory=list)

    @property
    def unit_label(self) -> str:
        return unit_text(self.unit)

    @property
    def total(self) -> float:
        return sum(b.value for b in self.bars)

    @property
    def has_limits(self) -> bool:
        return any(b.limit is not None for b in self.bars)

    @property
    def summary(self) -> str:
        if not self.bars:
            return f"{self.title}: nothing to show."
        parts = [f"{b.label}: {b.value_text}"
                 + (f" of {b.limit_text}" if b.limit is not None else "") for b in self.bars]
        return f"{self.title} ({self.unit_label}) — " + "; ".join(parts)

    def layout(self) -> "BarChart":
        values = [b.value for b in self.bars] + [b.limit for b in self.bars if b.limit is not None]
        integer = self.unit not in (CURRENCY, PERCENT) and all_whole(values)
        self.x_max, self.step = nice_axis(max([0, *values]), integer=integer)
        self.plots = [self._plot("wide", WIDE, 240), self._plot("narrow", NARROW, 130)]
        return self

    def _plot(self, variant: str, width: int, label_width: int) -> BarPlot:
        plot_right = width - 64
        span = plot_right - label_width
        height = self.top + len(self.bars) * (self.bar_height + self.gap) + 28

        def x(value: float) -> float:
            return span * value / self.x_max if self.x_max else 0

        chars = label_width // 8
        placed = [PlacedBar(bar, self.top + i * (self.bar_height + self.gap),
                            max(x(bar.value), 1 if bar.value else 0),
                            label_width + x(bar.limit) if bar.limit is not None else None,
                            bar.label if len(bar.label) <= chars else bar.label[:chars - 1] + "…")
                  for i, bar in enumerate(self.bars)]
        ticks = [(label_width + x(v), tick_label(v, self.step))
                 for v in tick_values(self.x_max, self.step)]
        return BarPlot(variant, width, height, label_width, plot_right, height - 24, placed,
                       ticks)


def bar_chart(key: str, title: str, unit: str, bars: list[Bar], **options) -> BarChart:
    return BarChart(key, title, unit, bars, **options).layout()
