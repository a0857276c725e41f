"""The dashboard and the budgets read rollups for anything older than the raw window and raw
samples only for the recent window: figures are the same whether the raw samples are still
there or gone, nothing is counted twice, and the recent window is read before it is rolled."""

from datetime import timedelta

from django.utils import timezone

from almportal.inventory.choices import Stage
from almportal.operations import readings, services
from almportal.operations.charts import dashboard_charts
from almportal.operations.models import Environment, MetricSample
from almportal.operations.services.thresholds import cost_figures

from ..factories import make_agent, make_release
from .test_rollups import _ingest


def _charts(agent, now):
    production = Environment.objects.get(is_production=True)
    return {chart.key: {p.day: p.value for s in chart.series for p in s.points}
            for chart in dashboard_charts(agent, production, now=now)}


def _seed(owner, now):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    old = (now - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    _ingest(owner, agent, release, "old", old, [5, 7, 9])
    _ingest(owner, agent, release, "old-latency", old, [100, 300], metric="latency_ms")
    _ingest(owner, agent, release, "old-cost", old, [2.5], metric="cost")
    return agent, timezone.localdate(old)


def test_the_dashboard_reads_rollups_once_the_raw_samples_are_gone(owner, settings):
    settings.RAW_SAMPLE_RETENTION_DAYS = 2
    now = timezone.now()
    agent, day = _seed(owner, now)
    raw = _charts(agent, now)
    assert raw["requests"][day] == 21 and raw["latency_p95_ms"][day] == 300

    assert services.rollups_refresh(since=now - timedelta(minutes=1)) > 0
    assert _charts(agent, now) == raw  # rolled up: read once, not twice
    assert services.samples_expire(now=now)[0] == 6
    assert not MetricSample.objects.exists()
    assert _charts(agent, now) == raw  # from the rollups alone


def test_the_recent_window_is_read_raw_before_the_worker_rolls_it_up(owner):
    now = timezone.now()
    agent, old_day = _seed(owner, now)
    release = agent.releases.get()
    services.rollups_refresh(since=now - timedelta(minutes=1))
    _ingest(owner, agent, release, "fresh", now - timedelta(minutes=2), [6])
    services.rollups_refresh(since=now, now=timezone.now())  # the fresh minute is rolled
    _ingest(owner, agent, release, "unrolled", now - timedelta(seconds=10), [1])
    requests = _charts(agent, timezone.now())["requests"]
    assert requests[old_day] == 21
    assert sum(v for day, v in requests.items() if day != old_day) == 7  # none counted twice


def test_a_late_point_older_than_the_raw_window_shows_once_it_is_rolled_up(owner):
    now = timezone.now()
    agent, old_day = _seed(owner, now)
    release = agent.releases.get()
    _ingest(owner, agent, release, "recent", now - timedelta(minutes=20), [1])
    services.rollups_refresh(since=now - timedelta(minutes=1))
    assert readings.raw_from(now) > now - timedelta(minutes=20)
    late = now - timedelta(days=3)
    _ingest(owner, agent, release, "late", late.replace(hour=10, minute=30), [100])
    assert _charts(agent, now)["requests"][old_day] == 21  # old raw samples are not scanned
    services.rollups_refresh(since=now, now=timezone.now())
    assert _charts(agent, timezone.now())["requests"][old_day] == 121


def test_budgets_count_the_month_from_rollups(owner, settings):
    settings.RAW_SAMPLE_RETENTION_DAYS = 0
    now = timezone.localtime(timezone.now())
    earlier = max(now - timedelta(days=3), now.replace(day=1, hour=0, minute=30))
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    _ingest(owner, agent, release, "earlier", earlier, [2.5], metric="cost")
    _ingest(owner, agent, release, "now", now - timedelta(seconds=5), [1.25], metric="cost")
    production = Environment.objects.get(is_production=True)
    today = 1.25 + (2.5 if earlier.date() == now.date() else 0)
    before = cost_figures([agent.pk], production, now)
    assert before[agent.pk] == {"daily_cost": today, "monthly_cost": 3.75}

    services.rollups_refresh(since=now - timedelta(minutes=1))
    services.samples_expire(now=now)
    assert MetricSample.objects.filter(metric="cost").count() <= 1  # this hour's, still raw
    assert cost_figures([agent.pk], production, now) == before
