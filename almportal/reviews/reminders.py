"""Reminders: a registry of finders, and the periodic scan that notifies what they find.

A finder takes the scan's `now` and yields a `Reminder` for each object that needs attention:
who to tell, the subject and body, a link to the object, and the object's key. The scan sends
it through `accounts.notifications.notify_many` with the dedupe key "<kind>:<object key>:<period>",
so each reminder goes out once per object per period, however often the scan runs (and when two
scans run at once: the key is unique per user).

The period is the kind's cadence ("once", "daily", "weekly" or "monthly", from `now`), unless
the reminder names its own (a credential's expiry date, so a renewed grant is reminded again).

The reviews app sits above every area it scans (ARCHITECTURE §1), so every kind is registered
here, in reviews.finders, reading each area's selectors: reviews, credentials, reassessments,
dormant and ownerless agents, sign-offs waiting, serious-incident deadlines and late
decommission tasks. A finder should run in a fixed number of queries.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..accounts.models import User
from ..accounts.notifications import Message, notify_many

log = logging.getLogger(__name__)

CADENCES = ("once", "daily", "weekly", "monthly")


@dataclass
class Reminder:
    users: Iterable[User | None]  # None (a task without anyone to do it, say) is skipped
    subject: str
    body: str
    url: str
    key: str  # names the object, e.g. "review:42"
    period: str = ""  # overrides the kind's cadence


Finder = Callable[[datetime], Iterable[Reminder]]


@dataclass(frozen=True)
class Kind:
    name: str
    finder: Finder
    cadence: str = "weekly"


_kinds: dict[str, Kind] = {}


def register(kind: str, finder: Finder, *, cadence: str = "weekly") -> None:
    if cadence not in CADENCES:
        raise ValueError(f"cadence must be one of {', '.join(CADENCES)}")
    _kinds[kind] = Kind(kind, finder, cadence)


def unregister(kind: str) -> None:
    _kinds.pop(kind, None)


def kinds() -> list[Kind]:
    return list(_kinds.values())


def period(cadence: str, now: datetime) -> str:
    day = timezone.localdate(now)
    if cadence == "once":
        return "once"
    if cadence == "daily":
        return day.isoformat()
    if cadence == "monthly":
        return f"{day:%Y-%m}"
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def dedupe_key(kind: Kind, reminder: Reminder, now: datetime) -> str:
    return _key(kind, reminder, period(kind.cadence, now))


def _key(kind: Kind, reminder: Reminder, usual_period: str) -> str:
    return f"{kind.name}:{reminder.key}:{reminder.period or usual_period}"[:200]


@dataclass
class ScanResult:
    sent: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sent.values())


def reminders_send(*, now: datetime | None = None, only: Iterable[str] | None = None
                   ) -> ScanResult:
    """Run every registered finder and notify what it finds. One kind failing does not stop
    the others; its reminders go out on the next run."""
    now = now or timezone.now()
    result = ScanResult()
    wanted = set(only) if only is not None else None
    for kind in kinds():
        if wanted is not None and kind.name not in wanted:
            continue
        try:
            with transaction.atomic():
                result.sent[kind.name] = _send_kind(kind, now)
        except Exception:
            log.exception("Reminder kind %s failed.", kind.name)
            result.failed.append(kind.name)
    return result


def _send_kind(kind: Kind, now: datetime) -> int:
    """All of a kind's reminders in a few bulk inserts: those already sent this period are
    skipped by the database, so a run that finds nothing new costs no more than a read."""
    usual_period = period(kind.cadence, now)
    return len(notify_many(
        Message(users=reminder.users, kind=kind.name, subject=reminder.subject,
                body=reminder.body, url=reminder.url,
                dedupe_key=_key(kind, reminder, usual_period))
        for reminder in kind.finder(now)))
