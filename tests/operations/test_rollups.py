"""Rollups per minute and hour, and the retention of raw samples (the clock moved forward)."""

from datetime import timedelta

from django.utils import timezone

from almportal.inventory.choices import Stage
from almportal.operations import services
from almportal.operations.models import MetricRollup, MetricSample

from ..factories import make_agent, make_release


def _ingest(owner, agent, release, batch_id, at, values, metric="requests"):
    items = [{"agent": agent.slug, "release": release.number, "environment": "production",
              "timestamp": (at + timedelta(seconds=n)).isoformat(), "metric": metric,
              "value": value} for n, value in enumerate(values)]
    result = services.samples_ingest(actor=owner, token=None, batch_id=batch_id, samples=items)
    assert result.stored == len(values)


def _window(period, agent):
    return {(r.metric, r.start): (r.count, r.total, r.minimum, r.maximum)
            for r in MetricRollup.objects.filter(agent=agent, period=period)}


def test_it_keeps_the_rollups_when_raw_samples_expire(owner, settings):
    settings.RAW_SAMPLE_RETENTION_DAYS, settings.ROLLUP_RETENTION_DAYS = 30, 400
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    now = timezone.now()
    hour = (now - timedelta(hours=2)).replace(minute=10, second=0, microsecond=0)
    _ingest(owner, agent, release, "a", hour, [5, 7, 9])
    _ingest(owner, agent, release, "b", hour + timedelta(minutes=1), [1], metric="errors")
    assert services.rollups_refresh(since=now - timedelta(minutes=1)) > 0
    by_hour = _window("hour", agent)
    start = hour.replace(minute=0)
    assert by_hour == {("requests", start): (3, 21, 5, 9), ("errors", start): (1, 1, 1, 1)}
    assert _window("minute", agent)[("requests", hour)] == (3, 21, 5, 9)

    later = now + timedelta(days=31)
    raw, rolled = services.samples_expire(now=later)
    assert raw == 4 and rolled == 0
    assert not MetricSample.objects.exists()
    assert _window("hour", agent) == by_hour  # the evidence outlives the raw samples

    assert services.samples_expire(now=now + timedelta(days=401)) == (0, 4)
    assert not MetricRollup.objects.exists()


def test_it_counts_a_late_point_in_its_window(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    now = timezone.now()
    hour = (now - timedelta(hours=3)).replace(minute=20, second=0, microsecond=0)
    _ingest(owner, agent, release, "on-time", hour, [10])
    services.rollups_refresh(since=now - timedelta(minutes=1))
    _ingest(owner, agent, release, "late", hour + timedelta(minutes=5), [30])
    services.rollups_refresh(since=now)
    assert _window("hour", agent) == {("requests", hour.replace(minute=0)): (2, 40, 10, 30)}
    assert services.rollups_refresh(since=timezone.now()) == 0
