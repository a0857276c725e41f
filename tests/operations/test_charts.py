"""The dashboard's charts answer their question: axes scaled to the data (whole ticks for
counts), units, thresholds and the daily budget drawn as lines, values on hover and in a data
table, a drawing for wide and one for narrow boxes, and canary next to stable."""

import re
from datetime import timedelta
from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import timezone

from almportal.core.charts import Bar, bar_chart, nice_axis, tick_label, tick_values
from almportal.inventory.choices import Stage
from almportal.operations.charts import canary_against_stable, dashboard_charts
from almportal.operations.models import Environment

from ..factories import make_agent, make_release
from .test_rollups import _ingest


def test_an_axis_is_scaled_to_small_values_not_to_one():
    assert nice_axis(0.034) == (0.04, 0.01)
    assert nice_axis(3.2) == (4, 1)
    assert nice_axis(730) == (800, 200)


def test_counts_get_whole_ticks():
    top, step = nice_axis(3, integer=True)
    labels = [tick_label(v, step) for v in tick_values(top, step)]
    assert labels == ["0", "1", "2", "3"]
    assert all("." not in label for label in labels)


def test_a_bar_chart_of_counts_has_no_fractional_ticks():
    chart = bar_chart("tier", "Agents by risk tier", "agents", [Bar("High", 3), Bar("Low", 1)])
    html = render_to_string("includes/bar_chart.html", {"chart": chart})
    assert [p.variant for p in chart.plots] == ["wide", "narrow"]
    ticks = re.findall(r'text-anchor="middle" fill="#4a5159">([^<]+)<', html)
    assert ticks and not any("." in t for t in ticks)
    assert "<title>High: 3 agents</title>" in html


def test_a_cost_bar_chart_draws_the_budget_and_names_the_currency(settings):
    settings.COST_CURRENCY = "EUR"
    chart = bar_chart("cost", "Cost against the monthly budget", "currency",
                      [Bar("Helper", 420.5, 400.0), Bar("Bot", 12.25, 100.0)],
                      limit_label="monthly budget")
    html = render_to_string("includes/bar_chart.html", {"chart": chart})
    assert html.count('class="limit"') == 4  # two bars, two drawings
    assert "In EUR." in html
    assert "Helper: 420.50 EUR of 400 (monthly budget)" in html


def _dashboard(owner, *, thresholds=None, budget=None, deployment=None):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    stable, canary = make_release(agent), make_release(agent)
    at = timezone.now() - timedelta(hours=1)
    _ingest(owner, agent, stable, "s", at, [900, 100])
    _ingest(owner, agent, stable, "se", at, [30], metric="errors")
    _ingest(owner, agent, stable, "sl", at, [180, 240], metric="latency_ms")
    _ingest(owner, agent, stable, "sc", at, [30.5], metric="cost")
    _ingest(owner, agent, canary, "c", at, [50])
    _ingest(owner, agent, canary, "ce", at, [4], metric="errors")
    if deployment is not None:
        deployment = SimpleNamespace(routes=SimpleNamespace(all=lambda: [
            SimpleNamespace(release_id=stable.pk, release=stable, serves=True, is_canary=False,
                            weight=90),
            SimpleNamespace(release_id=canary.pk, release=canary, serves=True, is_canary=True,
                            weight=10)]))
    settings = SimpleNamespace(daily_budget=budget, monthly_budget=None)
    charts = dashboard_charts(agent, Environment.objects.get(is_production=True),
                              settings=settings, thresholds=thresholds or {},
                              deployment=deployment)
    return {chart.key: chart for chart in charts}


def _html(chart) -> str:
    return render_to_string("operations/_chart.html", {"chart": chart})


def test_the_error_rate_is_in_percent_on_an_axis_fitted_to_the_data(owner):
    chart = _dashboard(owner, thresholds={"error_rate": {"max": 0.05}})["error_rate"]
    assert (chart.y_max, chart.step) == (8, 2)  # 3% and 8%, threshold 5%: not 0–100
    html = _html(chart)
    assert 'data-limit="5.0"' in html  # the threshold, in the shown unit
    assert re.search(r"<title>Release #1, [\d-]+: 3%</title>", html)
    assert "Threshold (at most): 5%" in html
    ticks = re.findall(r'dominant-baseline="middle" fill="#4a5159">([^<]+)<', html)
    assert ticks[:5] == ["0", "2", "4", "6", "8"]


def test_requests_get_whole_ticks_and_latency_its_unit(owner):
    charts = _dashboard(owner, thresholds={"latency_p95_ms": {"max": 500}})
    assert charts["requests"].step == int(charts["requests"].step)
    html = _html(charts["latency_p95_ms"])
    assert "In ms." in html and 'data-limit="500' in html
    assert re.search(r"<title>Release #1, [\d-]+: 240 ms</title>", html)


def test_the_cost_chart_shows_the_daily_budget(owner, settings):
    settings.COST_CURRENCY = "EUR"
    chart = _dashboard(owner, budget=40)["cost"]
    html = _html(chart)
    assert html.count('class="limit"') == 2  # in both drawings
    assert "daily budget: 40 EUR" in html
    assert chart.y_max >= 40
    assert "30.50" in html  # the data table


def test_both_drawings_are_full_width_and_labelled(owner):
    html = _html(_dashboard(owner)["requests"])
    assert 'class="plot plot-wide"' in html and 'class="plot plot-narrow"' in html
    assert 'width="640"' not in html  # the stylesheet sizes it to its box
    assert len(set(re.findall(r'aria-labelledby="([^"]+)"', html))) == 2


def test_canary_and_stable_are_named_and_compared(owner):
    charts = _dashboard(owner, deployment=True, thresholds={"error_rate": {"max": 0.05}})
    labels = [s.label for s in charts["requests"].series]
    assert labels == ["Release #1 (stable)", "Release #2 (canary)"]
    rows = {row.title: row for row in canary_against_stable(list(charts.values()))}
    assert (rows["Error rate per day"].stable, rows["Error rate per day"].canary) == ("3%", "8%")
    assert rows["Error rate per day"].limit == "threshold (at most) 5%"
