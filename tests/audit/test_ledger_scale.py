"""The ledger at scale: appends drafted in bulk with a fixed number of queries, and catch-up runs
that find what is missing with an anti-join and never overlap."""

import json
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from almportal.audit.models import LedgerEntry
from almportal.audit.services import (
    CATCH_UP_LOCK,
    _try_lock,
    ledger_append,
    ledger_catch_up,
    missing_history_keys,
    unledgered_count,
)
from almportal.audit.verify import verify_ledger
from almportal.inventory.models import Agent
from almportal.releases.models import Release

from .conftest import history_copies, is_postgres

pytestmark = pytest.mark.django_db


def _agent_and_release_rows(agent, release, count: int, start: int) -> list[tuple[str, int]]:
    """Half renames of the agent (each diffed against the row before it), half changes of a
    release (whose text follows its agent)."""
    return (history_copies(agent.history.first(), count // 2, start, name="Agent v{n}")
            + history_copies(release.history.first(), count - count // 2, start,
                      notes="Notes {n}"))


@is_postgres  # SQLite splits a large insert into statements of 999 parameters
def test_it_appends_ten_thousand_rows_in_as_many_queries_as_a_hundred(released_agent):
    agent, release = released_agent, Release.objects.get(agent=released_agent)
    small = _agent_and_release_rows(agent, release, 100, 0)
    large = _agent_and_release_rows(agent, release, 10_000, 100)
    with CaptureQueriesContext(connection) as small_queries:
        assert ledger_append(small) == 100
    with CaptureQueriesContext(connection) as large_queries:
        assert ledger_append(large) == 10_000
    assert len(large_queries) == len(small_queries)
    last = LedgerEntry.objects.filter(object_model="inventory.release").last()
    assert last.object_repr == f"{agent.name} release {release.display_version}"  # as it is now
    assert last.agent_id == agent.pk
    renamed = LedgerEntry.objects.filter(object_model="inventory.agent").last()
    changes = json.loads(renamed.changes)
    assert {c["field"]: c["new"] for c in changes}["name"] == f"Agent v{100 + 10_000 // 2 - 1}"
    assert verify_ledger().ok


def test_a_batch_keeps_the_order_of_its_keys(agent):
    ledger_catch_up()
    keys = history_copies(agent.history.first(), 5, 0, name="Agent v{n}")
    ledger_append(list(reversed(keys)))
    seqs = dict(LedgerEntry.objects.filter(history_model=keys[0][0])
                .values_list("history_id", "seq"))
    assert sorted(keys, key=lambda k: seqs[k[1]]) == list(reversed(keys))


def test_it_finds_the_oldest_missing_rows_first_and_bounds_a_run(agent):
    ledger_catch_up()
    keys = history_copies(agent.history.first(), 30, 0, name="Agent v{n}")
    assert missing_history_keys() == keys
    assert missing_history_keys(limit=10) == keys[:10]
    assert unledgered_count() == 30
    assert ledger_catch_up(limit=10) == 10
    assert missing_history_keys() == keys[10:]
    assert ledger_catch_up() == 20
    assert unledgered_count() == 0


@is_postgres
def test_a_run_that_finds_another_under_way_appends_nothing(agent):
    keys = history_copies(agent.history.first(), 3, 0, name="Agent v{n}")
    held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        try:
            with _try_lock(CATCH_UP_LOCK) as acquired:
                assert acquired
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert held.wait(10)
        assert ledger_catch_up() == 0
        assert set(keys) <= set(missing_history_keys())
    finally:
        release.set()
        holder.join()
    assert ledger_catch_up() > 0
    assert missing_history_keys() == []


@is_postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_started_together_append_each_row_once(owner):
    agent = Agent.objects.create(name="Raced", slug="raced", business_owner=owner,
                                 created_by=owner, purpose="p", why_agent="w")
    keys = history_copies(agent.history.first(), 500, 0, name="Agent v{n}")
    missing = len(missing_history_keys())
    before = LedgerEntry.objects.count()
    barrier, outcomes = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            outcomes.append(ledger_catch_up())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == 0 and sum(outcomes) == missing
    assert LedgerEntry.objects.count() == before + missing
    assert LedgerEntry.objects.filter(history_model=keys[0][0],
                                      history_id__in=[k[1] for k in keys]).count() == 500
    assert verify_ledger().ok


def test_release_history_is_filed_under_its_agent(released_agent):
    agent, release = released_agent, Release.objects.get(agent=released_agent)
    entry = LedgerEntry.objects.filter(object_model="inventory.release",
                                       object_pk=str(release.pk)).get()
    assert entry.agent_id == agent.pk
    assert entry.object_repr == str(Release.objects.get(pk=release.pk))


def test_a_record_whose_text_follows_a_one_to_one_field_is_drafted(agent):
    """Following MonitoringSettings.agent caches the agent's way back to it; drafting does not
    follow that back-reference round and round."""
    from almportal.operations import services as operations
    from almportal.operations.models import MonitoringSettings

    for limit in (0.05, 0.04):
        operations.monitoring_settings_update(
            actor=agent.business_owner, agent=agent,
            data={"thresholds": {"error_rate": {"max": limit}}}, reason="Tighter")
    ledger_catch_up()
    settings = MonitoringSettings.objects.get(agent=agent)
    texts = set(LedgerEntry.objects.filter(object_model="operations.monitoringsettings")
                .values_list("object_repr", flat=True))
    assert texts == {str(settings)}
    assert unledgered_count() == 0


def test_the_command_runs_until_nothing_is_missing(agent, capsys):
    from django.core.management import call_command

    ledger_catch_up()
    history_copies(agent.history.first(), 30, name="Agent v{n}")
    call_command("audit_catch_up")
    assert "30 entries appended" in capsys.readouterr().out
    assert unledgered_count() == 0
