"""Done when 1 and 7: the scan opens exactly the reviews that are due, once, in bulk."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from almportal.accounts.services import system_user
from almportal.audit.models import LedgerEntry
from almportal.inventory.choices import RiskTier, Stage
from almportal.inventory.models import Agent
from almportal.reviews import services
from almportal.reviews.models import AccessReview, GrantKind, ReviewItem, ReviewState
from almportal.reviews.selectors import REVIEW_LEAD
from almportal.risk.models import TierPolicy

from ..factories import make_agent
from .conftest import later, live_agent, open_reviews

pytestmark = pytest.mark.django_db


def review_days(tier):
    return TierPolicy.objects.get(tier=tier).access_review_days


def set_tier(agent, tier):
    Agent.objects.filter(pk=agent.pk).update(risk_tier=tier)


def test_it_opens_nothing_before_anything_is_due(live):
    assert open_reviews() == []


def test_it_opens_exactly_the_reviews_due_with_the_clock_moved_forward(owner):
    high = live_agent(owner, name="High")
    low = live_agent(owner, name="Low")
    set_tier(high, RiskTier.HIGH)
    set_tier(low, RiskTier.LOW)
    make_agent(owner, stage=Stage.IN_DEVELOPMENT, name="Not live")
    make_agent(owner, stage=Stage.SUSPENDED, name="Suspended")
    when = later(review_days(RiskTier.HIGH))  # high falls due; low is months away
    opened = open_reviews(now=when)
    assert [r.agent_id for r in opened] == [high.pk]
    review = AccessReview.objects.get()
    assert review.state == ReviewState.OPEN
    assert review.due_on == (timezone.localdate() + timedelta(days=review_days("high")))
    assert review.due_at > when


def test_it_opens_a_review_lead_days_before_the_due_date(owner):
    agent = live_agent(owner)
    agent.next_review_at = timezone.localdate() + REVIEW_LEAD + timedelta(days=1)
    agent.save()
    assert open_reviews() == []
    assert len(open_reviews(now=later(1))) == 1


def test_a_second_run_opens_none(owner):
    live_agent(owner, name="A")
    live_agent(owner, name="B")
    when = later(400)
    assert len(open_reviews(now=when)) == 2
    assert open_reviews(now=when) == []
    assert open_reviews(now=when + timedelta(days=30)) == []  # still open: never two at once
    assert AccessReview.objects.count() == 2


def test_the_next_review_falls_due_a_period_after_the_last_completed(owner):
    agent = live_agent(owner, grants=False)
    set_tier(agent, RiskTier.LOW)
    days = review_days(RiskTier.LOW)
    when = later(days)
    [review] = open_reviews(now=when)
    AccessReview.objects.filter(pk=review.pk).update(state=ReviewState.COMPLETED,
                                                     completed_at=when)
    assert open_reviews(now=when + timedelta(days=days - 20)) == []
    [second] = open_reviews(now=when + timedelta(days=days))
    assert second.due_on == timezone.localdate(when) + timedelta(days=days)


def test_it_lists_every_grant_with_who_granted_it_and_when(live, owner):
    open_reviews(now=later(400))
    items = {i.kind: i for i in ReviewItem.objects.all()}
    assert set(items) == {GrantKind.CREDENTIAL, GrantKind.TOOL, GrantKind.DATA_SOURCE}
    credential = items[GrantKind.CREDENTIAL]
    assert credential.access["scopes"] == ["incident.read", "incident.write"]
    assert credential.granted_by == "ITSM team" and credential.granted_at is not None
    assert items[GrantKind.TOOL].access["operations"] == ["incident.read"]
    assert items[GrantKind.TOOL].granted_by == (owner.get_full_name() or owner.username)
    assert items[GrantKind.DATA_SOURCE].access["retrieval_scope"] == "Space KB"


def test_revoked_credentials_are_not_listed(live, owner):
    from almportal.inventory.services import credential_revoke

    credential_revoke(actor=owner, credential=live.credentials.get(), reason="gone")
    open_reviews(now=later(400))
    assert not ReviewItem.objects.filter(kind=GrantKind.CREDENTIAL).exists()


def test_reviews_are_in_history_and_the_audit_ledger(live, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [review] = open_reviews(now=later(400))
    history = review.history.get()
    assert history.history_user.username == "system"
    assert "due by the tier" in history.history_change_reason
    assert ReviewItem.history.count() == 3
    entries = LedgerEntry.objects.filter(history_model__startswith="reviews.")
    assert entries.count() == 4
    assert set(entries.values_list("agent_id", flat=True)) == {live.pk}


def _bulk_live_agents(owner, n: int, start: int = 0) -> None:
    """Live agents with one credential and one tool each, written in bulk for speed."""
    from almportal.inventory.models import Credential, Tool

    now = timezone.now()
    agents = Agent.objects.bulk_create([
        Agent(name=f"Bulk {i}", slug=f"bulk-{i}", purpose="p", why_agent="w",
              business_owner=owner, business_unit="Ops", intended_users="staff",
              audience="internal", autonomy_level="suggest_only",
              data_classification="internal", action_reach="read_only", stage=Stage.LIVE,
              created_by=owner, next_review_at=now.date())
        for i in range(start, start + n)])
    Credential.objects.bulk_create([
        Credential(agent=a, name="cred", version=1, identity="svc", scopes=["read"],
                   granted_by="IAM", created_by=owner) for a in agents])
    Tool.objects.bulk_create([
        Tool(agent=a, name="tool", version=1, tool_kind="rest_api", endpoint="https://x",
             operations=["read"], created_by=owner) for a in agents])


def _scan_queries(now) -> tuple[int, int, int]:
    with CaptureQueriesContext(connection) as queries:
        opened = open_reviews(now=now)
    inserts = [q for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    return len(opened), len(queries) - len(inserts), len(inserts)


def test_the_query_count_does_not_grow_with_the_number_of_agents(owner):
    from almportal.accounts.services import system_user

    system_user()
    _bulk_live_agents(owner, 20)
    small = _scan_queries(later(1))
    _bulk_live_agents(owner, 200, start=20)
    large = _scan_queries(later(1))
    assert small[0] == 20 and large[0] == 200
    # Reads and locks: the same number for 20 agents and for 200.
    assert small[1] == large[1]
    if connection.vendor == "postgresql":
        assert small[2] == large[2] == 4  # one insert per table: reviews, items, two histories
    else:
        # SQLite binds at most 999 parameters a statement, so Django splits each bulk insert
        # into batches of a few dozen rows: statements grow by batch, never one per agent.
        assert small[2] == 4 and large[2] < 200 / 5


def test_it_opens_reviews_for_2000_live_agents_in_bulk(owner):
    from almportal.accounts.services import system_user

    system_user()
    _bulk_live_agents(owner, 2000)
    opened, reads, inserts = _scan_queries(later(1))
    assert opened == 2000
    assert ReviewItem.objects.count() == 4000
    assert AccessReview.history.count() == 2000 and ReviewItem.history.count() == 4000
    batches = 2000 // services.CAMPAIGN_BATCH
    assert reads < 2 + 15 * batches  # a fixed number per batch of agents
    if connection.vendor == "postgresql":
        assert inserts == 4 * batches


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_open_nothing_twice(owner):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite's in-memory test database is not shared between "
                    "threads, and SQLite serialises writers anyway (SKIP LOCKED is PostgreSQL's).")
    from django.db import connections

    from almportal.accounts.services import system_user

    system_user()
    _bulk_live_agents(owner, 300)
    now, barrier, results, errors = later(1), threading.Barrier(2), [], []

    def scan():
        try:
            barrier.wait()
            results.append(len(open_reviews(now=now)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(results) == 300
    assert AccessReview.objects.count() == 300
    assert ReviewItem.objects.count() == 600


@pytest.mark.django_db(transaction=True)
def test_a_suspension_during_a_2000_agent_campaign_answers_within_a_second(owner, security,
                                                                          monkeypatch):
    """The campaign claims agents a batch at a time, so the kill switch waits at most for one
    short batch, never for the whole campaign."""
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: row locks held by one thread, waited on by another.")
    from django.db import connections

    from almportal.operations import services as operations
    from almportal.reviews import selectors

    system_user()
    _bulk_live_agents(owner, 2001)
    # A first suspension pays the process's one-off costs (connections, imports) up front.
    operations.agent_suspend(actor=security, agent=Agent.objects.get(slug="bulk-2000"),
                             reason="Warming up")
    locking, errors, results = threading.Event(), [], []
    grants_held = selectors.grants_held

    def grants_held_while_locked(agent_ids):  # runs inside a batch, its agents locked
        locking.set()
        return grants_held(agent_ids)

    monkeypatch.setattr(selectors, "grants_held", grants_held_while_locked)

    def campaign():
        try:
            results.append(len(open_reviews(now=later(1))))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=campaign)
    thread.start()
    assert locking.wait(60), "the campaign never started"
    target = Agent.objects.filter(stage=Stage.LIVE, access_reviews__isnull=True).last()
    started = time.monotonic()
    operations.agent_suspend(actor=security, agent=target, reason="Leaking internal notes")
    waited = time.monotonic() - started
    thread.join(120)
    assert errors == [] and not thread.is_alive()
    assert waited < 1.0, f"the suspension waited {waited:.2f} s on the campaign"
    target.refresh_from_db()
    assert target.stage == Stage.SUSPENDED
    assert results[0] in (1999, 2000) and AccessReview.objects.count() == results[0]
