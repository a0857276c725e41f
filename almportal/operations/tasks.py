from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .services import eventlog, rollups, thresholds


@shared_task
def thresholds_scan() -> int:
    """Judge the agents with recent production samples or open alerts (clears alerts whose
    figures are back within bounds, and daily budgets at the turn of the day)."""
    return len(thresholds.thresholds_evaluate(agent_ids=thresholds.agents_to_watch()))


@shared_task
def thresholds_after_batch(agent_ids: list[int]) -> int:
    """Judge the agents of a committed batch (ingestion does not wait for it)."""
    return len(thresholds.thresholds_evaluate(agent_ids=agent_ids))


@shared_task
def rollups_refresh() -> int:
    """Sum again the windows of the batches received lately (runs every minute; the overlap
    makes a missed run harmless)."""
    return rollups.rollups_refresh(since=timezone.now() - timedelta(minutes=10))


@shared_task
def samples_expire() -> int:
    """Raw samples past their retention go; their rollups stay. Event-log rows past theirs go
    too, never one younger than six months."""
    return sum(rollups.samples_expire()) + eventlog.event_logs_expire()


@shared_task
def usage_summarise() -> int:
    """Yesterday's usage period per agent, and the two days before in case a run was missed
    (a day already summed is left as it is)."""
    today = timezone.localdate()
    return sum(eventlog.usage_summarise(day=today - timedelta(days=back)) for back in (3, 2, 1))
