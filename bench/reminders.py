"""Reminders at scale: a run over 10,000 open access reviews, then a run with nothing new
(every reminder already sent this period), timed against a trivial request interleaved in the
same run. The idle run is what beat repeats all day; it must finish well within 10 s."""

import statistics
import time

OPEN_REVIEWS = 10_000
IDLE_RUNS = 3
IDLE_LIMIT_SECONDS = 10.0


def seed_open_reviews(owner, count: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from almportal.inventory.models import Agent
    from almportal.reviews.models import AccessReview, ReviewState

    now = timezone.now()
    agents = Agent.objects.filter(business_owner=owner).order_by("pk")[:count]
    AccessReview.objects.bulk_create([
        AccessReview(agent=agent, due_on=now.date(), due_at=now + timedelta(days=20),
                     tier=agent.risk_tier or "low", state=ReviewState.OPEN, opened_at=now)
        for agent in agents], batch_size=500)


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run(owner, baseline_request) -> list[str]:
    """`owner` owns at least OPEN_REVIEWS agents; `baseline_request()` makes one trivial
    request."""
    from django.db import connection

    from almportal.accounts.models import Notification
    from almportal.reviews.reminders import reminders_send

    seed_open_reviews(owner, OPEN_REVIEWS)
    first = timed(reminders_send)
    written = Notification.objects.count()
    idle, baseline = [], []
    for _ in range(IDLE_RUNS):  # interleaved, so both see the same machine load
        baseline.append(timed(baseline_request))
        idle.append(timed(lambda: reminders_send()))
    unchanged = Notification.objects.count() == written
    idle_s, base_s = statistics.median(idle), statistics.median(baseline)
    verdict = "within" if idle_s < IDLE_LIMIT_SECONDS else "OVER"
    return [
        "",
        f"Reminders over {OPEN_REVIEWS:,} open access reviews ({connection.vendor}):",
        f"  first run   {first:8.2f} s, {written:,} notifications written in bulk",
        f"  idle run    {idle_s:8.2f} s (median of {IDLE_RUNS}; {verdict} the "
        f"{IDLE_LIMIT_SECONDS:.0f} s limit), {'nothing' if unchanged else 'SOMETHING'} "
        "written again",
        f"  /baseline   {idle_s / base_s:8.0f}x the baseline request ({base_s * 1000:.1f} ms)",
    ]
