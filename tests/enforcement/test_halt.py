"""A drill's time-to-halt counts until every reporting gateway enforces the forbid-all."""

from datetime import timedelta

import pytest

from almportal.enforcement import rules
from almportal.enforcement.models import GatewayReport
from almportal.operations import services as operations

from ..operations.helpers import runtime_client
from .helpers import gateway, live_with_tools, policy_url, report_url


@pytest.fixture
def live(team):
    return live_with_tools(team)


def report(client, agent, revision, name):
    answer = client.post(report_url(agent), {"revision": revision, "gateway": name},
                         format="json")
    assert answer.status_code == 200, answer.content
    return answer


def drilled_with_two_gateways(live, owner):
    """Two gateways enforce the release, then a drill suspends the agent."""
    agent, release = live
    east, west = gateway(owner), gateway(owner)
    report(east, agent, release.manifest_hash, "east")
    report(west, agent, release.manifest_hash, "west")
    drill = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    return agent, east, west, drill


def test_the_halt_waits_for_every_reporting_gateway(live, owner):
    agent, east, west, drill = drilled_with_two_gateways(live, owner)
    runtime_client(owner).get(f"/api/v1/runtime/agents/{agent.slug}/")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at is None  # a runtime poll alone no longer ends it
    forbid_all = east.get(policy_url(agent)).json()["revision"]
    assert forbid_all == rules.forbid_all_revision(agent.pk, drill.pk)
    report(east, agent, forbid_all, "east")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at is None  # west still enforces the release
    report(west, agent, forbid_all, "west")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at is not None and drill.time_to_halt >= timedelta(0)
    assert drill.history.filter(
        history_change_reason="Every reporting gateway enforces the forbid-all policy").exists()
    halted = drill.first_halted_poll_at
    report(west, agent, forbid_all, "west-2")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at == halted  # recorded once


def test_a_silent_gateway_is_not_awaited(live, owner):
    agent, release = live
    east, old = gateway(owner), gateway(owner)
    report(east, agent, release.manifest_hash, "east")
    report(old, agent, release.manifest_hash, "decommissioned")
    GatewayReport.objects.filter(gateway="decommissioned").update(
        last_reported_at=GatewayReport.objects.get(gateway="east").last_reported_at
        - rules.REPORTING_WINDOW - timedelta(minutes=1))
    drill = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    report(east, agent, rules.forbid_all_revision(agent.pk, drill.pk), "east")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at is not None


def test_an_earlier_suspensions_forbid_all_does_not_count(live, owner):
    agent, release = live
    east = gateway(owner)
    report(east, agent, release.manifest_hash, "east")
    first = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    report(east, agent, rules.forbid_all_revision(agent.pk, first.pk), "east")
    operations.agent_resume(actor=owner, agent=agent, reason="Done")
    second = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    report(east, agent, release.manifest_hash, "east")
    report(east, agent, rules.forbid_all_revision(agent.pk, first.pk), "east")
    second.refresh_from_db()
    assert second.first_halted_poll_at is None
    report(east, agent, rules.forbid_all_revision(agent.pk, second.pk), "east")
    second.refresh_from_db()
    assert second.first_halted_poll_at is not None


def test_without_policy_gateways_the_first_runtime_poll_still_halts(live, owner):
    agent, _ = live
    drill = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    runtime_client(owner).get(f"/api/v1/runtime/agents/{agent.slug}/")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at is not None


def test_the_halt_completes_when_the_last_straggler_falls_silent(live, owner):
    agent, east, _, drill = drilled_with_two_gateways(live, owner)
    forbid_all = rules.forbid_all_revision(agent.pk, drill.pk)
    report(east, agent, forbid_all, "east")
    report(east, agent, forbid_all, "east")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at is None
    long_ago = drill.suspended_at - rules.REPORTING_WINDOW - timedelta(minutes=1)
    GatewayReport.objects.filter(gateway="west").update(last_reported_at=long_ago)
    GatewayReport.objects.filter(gateway="east").update(
        last_reported_at=drill.suspended_at - timedelta(seconds=30))
    report(east, agent, forbid_all, "east")
    drill.refresh_from_db()
    assert drill.first_halted_poll_at is not None
