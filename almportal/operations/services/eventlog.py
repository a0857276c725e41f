"""The event log kept at least six months: a usage period per agent and day, summed from the
metric samples and runtime polls by a nightly task, and the stop and override events written
by the services that stop or override an agent. Rows are only ever created; the retention job
deletes none younger than operations.rules.EVENT_LOG_MIN_DAYS."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from ...accounts.models import User
from ...accounts.services import system_user
from ...audit.models import RetentionHold
from ...core.lifecycle import record
from ...inventory.models import Agent
from ..choices import EventLogKind
from ..models import EventLog, MetricSample, RuntimePoll
from ..rules import event_log_cutoff

USAGE_METRICS = {"calls": "requests", "errors": "errors",
                 "tool_call_failures": "tool_call_failures"}


def event_log_record(*, agent: Agent, kind: str, summary: str, actor: User | None,
                     at: datetime | None = None) -> EventLog:
    """Append a stop or override event (inside the caller's transaction)."""
    entry = EventLog(agent_id=agent.pk, kind=kind, at=at or timezone.now(),
                     summary=(summary or "")[:1000], actor=actor)
    record(entry, actor=actor, reason=f"Event log: {entry.get_kind_display().lower()}")
    return entry


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _sample_usage(start: datetime, end: datetime) -> dict[int, dict]:
    sums = {name: Sum("value", filter=Q(metric=metric)) for name, metric in USAGE_METRICS.items()}
    rows = (MetricSample.objects.filter(timestamp__gte=start, timestamp__lt=end)
            .values("agent_id").annotate(first=Min("timestamp"), last=Max("timestamp"), **sums))
    return {row["agent_id"]: {k: v for k, v in row.items() if k != "agent_id"} for row in rows}


def _poll_usage(start: datetime, end: datetime) -> dict[int, dict]:
    rows = (RuntimePoll.objects.filter(first_polled_at__lt=end, last_polled_at__gte=start)
            .values("agent_id").annotate(first=Min("first_polled_at"),
                                         last=Max("last_polled_at"), polls=Count("pk")))
    return {row["agent_id"]: {"first": max(row["first"], start), "last": min(row["last"], end),
                              "polls": row["polls"]} for row in rows}


def _usage_row(agent_id: int, day: date, samples: dict | None, polls: dict | None) -> EventLog:
    seen = [s for s in (samples, polls) if s]
    counts = {name: int((samples or {}).get(name) or 0) for name in USAGE_METRICS}
    row = EventLog(agent_id=agent_id, kind=EventLogKind.USAGE, day=day,
                   at=min(s["first"] for s in seen), until=max(s["last"] for s in seen),
                   polls=(polls or {}).get("polls", 0), **counts)
    row.summary = (f"Used on {day:%Y-%m-%d}: {row.calls} calls, {row.errors} errors, "
                   f"{row.tool_call_failures} tool-call failures, {row.polls} polling gateways")
    return row


@transaction.atomic
def usage_summarise(*, day: date) -> int:
    """One usage period per agent seen on `day` (samples or polls); a day already summed is
    left as it is (append-only), so running it again, or for an earlier day, is harmless."""
    start, end = _day_bounds(day)
    samples, polls = _sample_usage(start, end), _poll_usage(start, end)
    done = set(EventLog.objects.filter(kind=EventLogKind.USAGE, day=day)
               .values_list("agent_id", flat=True))
    actor = system_user()
    written = 0
    for agent_id in sorted((set(samples) | set(polls)) - done):
        row = _usage_row(agent_id, day, samples.get(agent_id), polls.get(agent_id))
        record(row, actor=actor, reason="Daily usage period from metrics and runtime polls")
        written += 1
    return written


def event_logs_expire(*, now: datetime | None = None) -> int:
    """Delete event-log rows past their retention, never one younger than the six-month
    minimum whatever the setting, nor one of an agent under a retention or legal hold."""
    cutoff = event_log_cutoff(now or timezone.now(), settings.EVENT_LOG_RETENTION_DAYS)
    held = RetentionHold.objects.filter(released_at__isnull=True).values("agent_id")
    deleted, _ = (EventLog.objects.filter(at__lt=cutoff).exclude(agent_id__in=held)
                  .delete())
    return deleted
