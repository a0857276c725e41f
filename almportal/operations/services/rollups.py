"""Rollups and retention of the raw samples. Samples are summed per minute and per hour (count,
total, minimum, maximum per agent, release, environment and metric); the windows that newly
received batches touched are summed again, so late points are counted. Raw samples older than
RAW_SAMPLE_RETENTION_DAYS are deleted once their windows are rolled up; rollups are kept for
ROLLUP_RETENTION_DAYS (at least six months). Telemetry, not governed records: no history."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from ..models import MetricRollup, MetricSample

KEYS = ("agent_id", "release_id", "environment_id", "metric")
HOUR = timedelta(hours=1)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@transaction.atomic
def rollups_build(*, start: datetime, end: datetime) -> int:
    """Sum the samples of [start, end) rounded out to whole hours, per minute and per hour,
    replacing what was summed before; returns the rollup rows written."""
    start, end = _hour(start), _hour(end) + HOUR
    samples = MetricSample.objects.filter(timestamp__gte=start, timestamp__lt=end)
    tz = timezone.get_current_timezone()
    written = 0
    for period in (MetricRollup.MINUTE, MetricRollup.HOUR):
        rows = (samples.annotate(window=Trunc("timestamp", period, tzinfo=tz))
                .values(*KEYS, "window")
                .annotate(count=Count("pk"), total=Sum("value"), minimum=Min("value"),
                          maximum=Max("value")))
        rollups = [MetricRollup(period=period, start=row.pop("window"), **row) for row in rows]
        MetricRollup.objects.bulk_create(
            rollups, batch_size=1000, update_conflicts=True,
            unique_fields=[*KEYS, "period", "start"],
            update_fields=["count", "total", "minimum", "maximum"])
        written += len(rollups)
    return written


def rollups_refresh(*, since: datetime, now: datetime | None = None) -> int:
    """Sum again the windows touched by the batches received since `since`."""
    now = now or timezone.now()
    touched = MetricSample.objects.filter(batch__received_at__gt=since,
                                          batch__received_at__lte=now).aggregate(
        first=Min("timestamp"), last=Max("timestamp"))
    if touched["first"] is None:
        return 0
    return rollups_build(start=touched["first"], end=touched["last"])


def samples_expire(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete raw samples past their retention (after rolling their windows up) and rollups
    past theirs; returns how many of each were deleted."""
    now = now or timezone.now()
    cutoff = _hour(now - timedelta(days=settings.RAW_SAMPLE_RETENTION_DAYS))
    oldest = MetricSample.objects.filter(timestamp__lt=cutoff).aggregate(at=Min("timestamp"))
    if oldest["at"] is not None:
        rollups_build(start=oldest["at"], end=cutoff - HOUR)
    raw, _ = MetricSample.objects.filter(timestamp__lt=cutoff).delete()
    kept_from = now - timedelta(days=settings.ROLLUP_RETENTION_DAYS)
    rolled, _ = MetricRollup.objects.filter(start__lt=kept_from).delete()
    return raw, rolled
