"""Server-side charts drawn as inline SVG by templates/includes/bar_chart.html.

Geometry is computed here; every chart also carries the numbers it draws, so the template can
give a text summary (for the SVG's accessible name) and a data table."""

from dataclasses import dataclass, field

COLOURS = ["#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599"]
LIMIT_COLOUR = "#c92a2a"


def fmt_number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"


def nice_ceiling(value: float) -> float:
    """A round top for an axis."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for factor in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return value


@dataclass
class Bar:
    label: str
    value: float
    limit: float | None = None  # e.g. a budget, drawn as a mark across the bar
    url: str = ""
    y: float = 0
    width: float = 0
    limit_x: float | None = None
    colour: str = COLOURS[0]

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.value > self.limit

    @property
    def value_text(self) -> str:
        return fmt_number(self.value)

    @property
    def limit_text(self) -> str:
        return fmt_number(self.limit)


@dataclass
class BarChart:
    """Horizontal bars, one per category: readable at phone width, whatever the labels."""

    key: str
    title: str
    unit: str
    bars: list[Bar]
    limit_label: str = ""
    width: int = 640
    label_width: int = 180
    bar_height: int = 22
    gap: int = 8
    top: int = 8
    x_max: float = 0
    ticks: list[tuple[float, str]] = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.top + len(self.bars) * (self.bar_height + self.gap) + 24

    @property
    def plot_left(self) -> int:
        return self.label_width

    @property
    def plot_right(self) -> int:
        return self.width - 56

    @property
    def axis_y(self) -> float:
        return self.height - 20

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
        return f"{self.title} ({self.unit}) — " + "; ".join(parts)

    def layout(self) -> "BarChart":
        top = max([0, *(b.value for b in self.bars),
                   *(b.limit for b in self.bars if b.limit is not None)])
        self.x_max = nice_ceiling(top)
        span = self.plot_right - self.plot_left

        def x(value: float) -> float:
            return span * value / self.x_max if self.x_max else 0

        for i, bar in enumerate(self.bars):
            bar.y = self.top + i * (self.bar_height + self.gap)
            bar.width = max(x(bar.value), 1 if bar.value else 0)
            bar.limit_x = self.plot_left + x(bar.limit) if bar.limit is not None else None
            bar.colour = LIMIT_COLOUR if bar.over_limit else COLOURS[0]
        self.ticks = [(self.plot_left + x(self.x_max * i / 4), fmt_number(self.x_max * i / 4))
                      for i in range(5)]
        return self


def bar_chart(key: str, title: str, unit: str, bars: list[Bar], **options) -> BarChart:
    return BarChart(key, title, unit, bars, **options).layout()
