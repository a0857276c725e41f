from django import template
from django.utils.html import format_html, format_html_join

from ...inventory.forms import KIND_LABELS
from ...risk.choices import Pillar
from .. import rules
from ..choices import METRICS

register = template.Library()

WIDTH, HEIGHT, PAD = 320, 120, 24


@register.filter
def role_label(value: str) -> str:
    return rules.role_label(value)


@register.filter
def metric_label(value: str) -> str:
    return METRICS[value].label if value in METRICS else value


@register.filter
def pillar_label(value: str) -> str:
    return Pillar(value).label if value in Pillar.values else value.replace("_", " ")


@register.filter
def kind_label(value: str) -> str:
    """A manifest's component kind ("data_sources") as people say it ("Data sources")."""
    return KIND_LABELS.get(value, value.replace("_", " "))


@register.simple_tag
def trend_chart(series) -> str:
    """A small line chart of one metric across releases, drawn as inline SVG."""
    points = series.points
    if not points:
        return ""
    values = [v for _, v in points]
    low, high = min(values + [0.0]), max(values) or 1.0
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)
    xy = [(PAD + i * step, HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD))
          for i, (_, v) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="3"><title>{}: {}</title>'
                                '</circle><text x="{}" y="{}" font-size="9" '
                                'text-anchor="middle">{}</text>',
                            ((f"{x:.1f}", f"{y:.1f}", label, f"{v:g}", f"{x:.1f}", HEIGHT - 6,
                              label) for (x, y), (label, v) in zip(xy, points, strict=True)))
    return format_html(
        '<svg class="trend" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'aria-label="{title} across releases"><title>{title}</title>'
        '<polyline fill="none" stroke="currentColor" stroke-width="2" points="{line}"/>{dots}'
        '<text x="4" y="12" font-size="9">{high}</text>'
        '<text x="4" y="{base}" font-size="9">{low}</text></svg>',
        w=WIDTH, h=HEIGHT, title=series.label, line=line, dots=dots, high=f"{high:g}",
        low=f"{low:g}",
        base=HEIGHT - PAD)
