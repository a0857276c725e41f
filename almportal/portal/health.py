"""System health for the admin home page: the worker and beat heartbeats and the last run of
every periodic task in the beat schedule, flagged when older than twice its interval."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.schedules import crontab
from django.utils import timezone

from ..accounts.outbox import OutboxStatus, outbox_status
from ..core.models import Heartbeat

HEARTBEAT_TASK = "almportal.core.tasks.beat_heartbeat"
# A task is late when its last run is older than this many intervals.
LATE_AFTER_INTERVALS = 2


def schedule_interval(schedule) -> timedelta | None:
    """How often a beat entry runs: seconds as given, or the mean gap of a crontab."""
    if isinstance(schedule, (int, float)):
        return timedelta(seconds=float(schedule))
    if isinstance(schedule, timedelta):
        return schedule
    if isinstance(schedule, crontab):
        # celery-types leaves out the expanded sets a crontab keeps (minute, hour, day_of_week).
        per_hour = len(schedule.minute)  # type: ignore[attr-defined]
        hours = len(schedule.hour)  # type: ignore[attr-defined]
        runs_per_day = per_hour * hours
        days = len(schedule.day_of_week)  # type: ignore[attr-defined]
        seconds = 86400 / runs_per_day * (7 / days if days < 7 else 1)
        return timedelta(seconds=seconds)
    run_every = getattr(schedule, "run_every", None)
    return run_every if isinstance(run_every, timedelta) else None


@dataclass
class TaskHealth:
    name: str
    task: str
    interval: timedelta | None
    last_run: datetime | None
    runs: int
    late: bool

    @property
    def status(self) -> str:
        if self.late:
            return "Late"
        return "On time" if self.last_run else "Not run yet"

    @property
    def interval_text(self) -> str:
        if self.interval is None:
            return "—"
        seconds = int(self.interval.total_seconds())
        if seconds < 120:
            return f"every {seconds} s"
        if seconds < 7200:
            return f"every {seconds // 60} min"
        if seconds < 2 * 86400:
            return f"every {seconds // 3600} h"
        return f"every {seconds // 86400} days"


@dataclass
class SystemHealth:
    tasks: list[TaskHealth]
    heartbeat: TaskHealth | None
    outbox: OutboxStatus | None = None

    @property
    def late(self) -> list[TaskHealth]:
        return [t for t in self.tasks if t.late]

    @property
    def alive(self) -> bool:
        """The worker and beat ran the heartbeat task, and not too long ago."""
        return bool(self.heartbeat and self.heartbeat.last_run and not self.heartbeat.late)

    @property
    def ok(self) -> bool:
        """All is well: the worker and beat are alive, no periodic task is late and no e-mail
        is failing."""
        return self.alive and not self.late and (self.outbox is None or self.outbox.ok)


def _is_late(last: datetime | None, interval: timedelta | None, alive: Heartbeat | None,
             now: datetime) -> bool:
    """Late when the last run is older than twice the interval. A task that never ran is late
    only once beat has been alive long enough to have started it: "not run yet" before that."""
    if interval is None:
        return False
    since = last or (alive.first_seen_at if alive else None)
    return since is not None and now - since > LATE_AFTER_INTERVALS * interval


def beat_schedule() -> dict:
    from ..celery import app

    return dict(app.conf.beat_schedule or {})


def system_health(*, now: datetime | None = None, schedule: dict | None = None) -> SystemHealth:
    """Every heartbeat row, matched to the beat entries by task name, and the e-mail outbox
    (three queries, whatever the number of tasks or e-mails)."""
    now = now or timezone.now()
    schedule = beat_schedule() if schedule is None else schedule
    seen = {h.name: h for h in Heartbeat.objects.all()}
    alive = seen.get(HEARTBEAT_TASK)
    tasks = []
    for name, entry in sorted(schedule.items()):
        interval = schedule_interval(entry.get("schedule"))
        beat = seen.get(entry["task"])
        last = beat.last_seen_at if beat else None
        tasks.append(TaskHealth(name, entry["task"], interval, last, beat.runs if beat else 0,
                                _is_late(last, interval, alive, now)))
    heartbeat = next((t for t in tasks if t.task == HEARTBEAT_TASK), None)
    return SystemHealth(tasks, heartbeat, outbox_status())
