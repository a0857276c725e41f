"""The Cedar policies compiled from an approved release, evaluated by the Cedar engine."""

import cedarpy
import pytest

from almportal.core.lifecycle import record
from almportal.enforcement import cedar, rules
from almportal.enforcement.selectors import policy_of
from almportal.inventory.choices import Stage
from almportal.operations import services as operations
from almportal.operations.models import Environment

from .helpers import TOOLS, live_with_tools


def production():
    return Environment.objects.get(slug="production")


def decide(policies, agent, tool, operation, release, **context):
    request = {"principal": f'Agent::"{agent.slug}"', "action": 'Action::"call"',
               "resource": f'Tool::"{tool}"',
               "context": {"release": release.manifest_hash, "operation": operation, **context}}
    result = cedarpy.is_authorized(request, policies, [], schema=cedar.SCHEMA)
    assert not result.diagnostics.errors, result.diagnostics.errors
    return result.allowed


@pytest.fixture
def live(team):
    return live_with_tools(team)


def test_the_policies_validate_against_the_schema(live):
    agent, _ = live
    policy = policy_of(agent, production())
    assert policy.mode == rules.Mode.RELEASES
    result = cedarpy.validate_policies(policy.policies, cedar.SCHEMA)
    assert result.validation_passed, result.errors


@pytest.mark.parametrize(("tool", "operation"), [
    ("search", "query"), ("search", "fetch"), ("tickets", "create"), ("tickets", "update")])
def test_each_approved_tool_call_is_allowed(live, tool, operation):
    agent, release = live
    assert decide(policy_of(agent, production()).policies, agent, tool, operation, release)


@pytest.mark.parametrize(("tool", "operation"), [
    ("shell", "run"),            # a tool the release does not carry
    ("search", "delete"),        # an operation the tool does not list
    ("tickets", "close"),
])
def test_what_the_release_did_not_approve_is_denied(live, tool, operation):
    agent, release = live
    assert not decide(policy_of(agent, production()).policies, agent, tool, operation, release)


def test_a_write_tool_that_needs_approval_is_denied_without_one(live):
    agent, release = live
    policies = policy_of(agent, production()).policies
    assert TOOLS["payments"]["writes"] and TOOLS["payments"]["needs_human_approval"]
    assert not decide(policies, agent, "payments", "refund", release)
    assert not decide(policies, agent, "payments", "refund", release, approved=False)
    assert decide(policies, agent, "payments", "refund", release, approved=True)
    # An approval does not widen what was approved.
    assert not decide(policies, agent, "payments", "chargeback", release, approved=True)


def test_another_agent_or_release_is_not_permitted(live, team):
    agent, release = live
    policies = policy_of(agent, production()).policies
    request = {"principal": 'Agent::"someone-else"', "action": 'Action::"call"',
               "resource": 'Tool::"search"',
               "context": {"release": release.manifest_hash, "operation": "query"}}
    assert not cedarpy.is_authorized(request, policies, []).allowed
    request = {**request, "principal": f'Agent::"{agent.slug}"',
               "context": {"release": "0" * 64, "operation": "query"}}
    assert not cedarpy.is_authorized(request, policies, []).allowed


def test_the_revision_is_the_manifest_hash(live):
    agent, release = live
    assert policy_of(agent, production()).revision == release.manifest_hash


def test_everything_is_denied_after_a_suspension(live, owner):
    agent, release = live
    suspension = operations.agent_suspend(actor=owner, agent=agent, reason="Leak")
    agent.refresh_from_db()
    policy = policy_of(agent, production())
    assert policy.mode == rules.Mode.FORBID_ALL
    assert policy.revision == rules.forbid_all_revision(agent.pk, suspension.pk)
    assert policy.revision != release.manifest_hash
    for tool, data in TOOLS.items():
        for operation in data["operations"]:
            assert not decide(policy.policies, agent, tool, operation, release, approved=True)


def test_each_suspension_has_its_own_forbid_all_revision(live, owner):
    agent, _ = live
    first = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    operations.agent_resume(actor=owner, agent=agent, reason="Done")
    second = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    assert (rules.forbid_all_revision(agent.pk, first.pk)
            != rules.forbid_all_revision(agent.pk, second.pk))


def test_everything_is_denied_after_retirement(live, compliance):
    agent, release = live
    agent.stage = Stage.RETIRED
    record(agent, actor=compliance, reason="Retired")
    policy = policy_of(agent, production())
    assert policy.mode == rules.Mode.FORBID_ALL
    assert not decide(policy.policies, agent, "search", "query", release)


def test_nothing_is_permitted_where_nothing_serves(live):
    agent, release = live
    policy = policy_of(agent, Environment.objects.get(slug="staging"))
    assert policy.mode == rules.Mode.NOTHING and policy.policies == ""
    assert not decide(policy.policies, agent, "search", "query", release)


def test_names_are_quoted_as_cedar_strings():
    text = cedar.release_policies("a", "h" * 64, {"components": {"tools": [
        {"name": 'odd "name" \\ x', "operations": ["op"], "needs_human_approval": False}]}})
    assert cedarpy.validate_policies(text, cedar.SCHEMA).validation_passed
    request = {"principal": 'Agent::"a"', "action": 'Action::"call"',
               "resource": {"type": "Tool", "id": 'odd "name" \\ x'},
               "context": {"release": "h" * 64, "operation": "op"}}
    assert cedarpy.is_authorized(request, text, []).allowed
