from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.inventory import services as inventory
from almportal.inventory.choices import (
    ActionReach,
    AutonomyLevel,
    DataClassification,
    Stage,
    ToolKind,
)
from almportal.risk import selectors
from almportal.risk.models import Assessment

from ..factories import make_agent
from .helpers import assessed

pytestmark = pytest.mark.django_db


def _agent(owner):
    return make_agent(owner, Stage.IN_DEVELOPMENT)


def _add(agent, kind, **data):
    return inventory.component_add_version(actor=agent.business_owner, agent=agent, kind=kind,
                                           data=data)


def _tool(agent, name="crm", writes=True):
    return _add(agent, "tools", name=name, tool_kind=ToolKind.REST_API,
                endpoint="https://crm.example.test", operations=["update"], writes=writes)


def _source(agent, classification, name="handbook"):
    return _add(agent, "data_sources", name=name, system="Wiki",
                classification=classification, retrieval_scope="All pages")


def _credential(agent, scopes, name="svc"):
    return _add(agent, "credentials", name=name, identity="svc-agent@example.test",
                scopes=scopes, granted_by="IT")


def test_a_fresh_assessment_is_current(owner, compliance):
    assessment = assessed(owner, compliance, agent=_agent(owner))
    status = selectors.assessment_status(assessment.agent)
    assert status.is_current and status.reasons == []
    assert status.assessment == assessment


def test_no_completed_assessment_is_missing(owner):
    status = selectors.assessment_status(make_agent(owner))
    assert status.is_missing


@pytest.mark.parametrize("field, value", [
    ("autonomy_level", AutonomyLevel.WITHIN_LIMITS),
    ("action_reach", ActionReach.WRITES_INTERNAL),
    ("data_classification", DataClassification.CONFIDENTIAL),
    ("audience", "customers"),
    ("regulated_domain", "hr"),
])
def test_a_material_change_to_the_agent_makes_it_stale(owner, compliance, field, value):
    agent = assessed(owner, compliance, agent=_agent(owner)).agent
    agent = inventory.agent_update(actor=owner, agent=agent, data={field: value})
    status = selectors.assessment_status(agent)
    assert status.is_stale
    assert len(status.reasons) == 1


def test_a_description_edit_leaves_it_current(owner, compliance):
    agent = assessed(owner, compliance, agent=_agent(owner)).agent
    inventory.agent_update(actor=owner, agent=agent,
                           data={"purpose": "Answers questions, now with citations.",
                                 "name": "FAQ assistant", "tags": ["faq"]})
    assert selectors.assessment_status(agent).is_current


def test_adding_a_write_tool_makes_it_stale(owner, compliance):
    agent = _agent(owner)
    _tool(agent, "search", writes=False)
    assessed(owner, compliance, agent=agent)
    _tool(agent, "search-v2-readonly", writes=False)
    assert selectors.assessment_status(agent).is_current
    _tool(agent, "crm", writes=True)
    status = selectors.assessment_status(agent)
    assert status.is_stale
    assert "crm" in status.reasons[0]


def test_a_data_source_of_higher_classification_makes_it_stale(owner, compliance):
    agent = _agent(owner)
    _source(agent, DataClassification.INTERNAL)
    assessed(owner, compliance, agent=agent)
    _source(agent, DataClassification.PUBLIC, name="website")
    assert selectors.assessment_status(agent).is_current
    _source(agent, DataClassification.RESTRICTED, name="payroll")
    assert selectors.assessment_status(agent).is_stale


def test_a_credential_with_broader_scope_makes_it_stale(owner, compliance):
    agent = _agent(owner)
    _credential(agent, ["wiki.read"])
    assessed(owner, compliance, agent=agent)
    _credential(agent, ["wiki.read"], name="svc2")
    assert selectors.assessment_status(agent).is_current
    _credential(agent, ["wiki.read", "hr.write"])
    status = selectors.assessment_status(agent)
    assert status.is_stale
    assert "hr.write" in status.reasons[0]


def test_a_revoked_credential_does_not_count(owner, compliance):
    agent = _agent(owner)
    assessed(owner, compliance, agent=agent)
    credential = _credential(agent, ["payments.write"])
    assert selectors.assessment_status(agent).is_stale
    inventory.credential_revoke(actor=owner, credential=credential, reason="Not needed")
    assert selectors.assessment_status(agent).is_current


def test_an_assessment_past_its_period_is_stale(owner, compliance):
    assessment = assessed(owner, compliance, agent=_agent(owner))  # low: 365 days
    Assessment.objects.filter(pk=assessment.pk).update(
        completed_at=timezone.now() - timedelta(days=364))
    assert selectors.assessment_status(assessment.agent).is_current
    Assessment.objects.filter(pk=assessment.pk).update(
        completed_at=timezone.now() - timedelta(days=366))
    status = selectors.assessment_status(assessment.agent)
    assert status.is_stale
    assert "365 days" in status.reasons[0]


def test_a_new_assessment_makes_it_current_again(owner, compliance):
    agent = assessed(owner, compliance, agent=_agent(owner)).agent
    agent = inventory.agent_update(actor=owner, agent=agent, data={"audience": "customers"})
    assert selectors.assessment_status(agent).is_stale
    newer = assessed(owner, compliance, agent=agent)
    status = selectors.assessment_status(agent)
    assert status.is_current and status.assessment == newer


def test_the_owner_sees_stale_assessments_in_pending_work(owner, compliance):
    from almportal.risk.selectors import assessments_needing_attention

    agent = assessed(owner, compliance, agent=_agent(owner)).agent
    assert assessments_needing_attention(owner) == []
    agent = inventory.agent_update(actor=owner, agent=agent, data={"audience": "public"})
    [status] = assessments_needing_attention(owner)
    assert status.agent == agent and status.is_stale


def test_pending_work_runs_the_same_queries_for_few_and_many_agents(owner, compliance):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from almportal.risk.selectors import assessments_needing_attention

    def stale_agent(name):
        agent = make_agent(owner, Stage.IN_DEVELOPMENT, name=name)
        agent = assessed(owner, compliance, agent=agent).agent
        inventory.component_add_version(actor=owner, agent=agent, kind="tools", data={
            "name": "writer", "tool_kind": "rest_api", "endpoint": "https://x",
            "operations": ["create"], "writes": True})
        return agent

    def counted():
        with CaptureQueriesContext(connection) as captured:
            found = assessments_needing_attention(owner)
        return len(found), len(captured)

    stale_agent("First")
    few, few_queries = counted()
    for n in range(4):
        stale_agent(f"More {n}")
    many, many_queries = counted()
    assert (few, many) == (1, 5)
    assert many_queries == few_queries


def test_the_latest_flag_follows_the_newest_completed_assessment(owner, compliance):
    first = assessed(owner, compliance, stage=Stage.IN_DEVELOPMENT)
    agent = first.agent
    assert Assessment.objects.get(latest=True, agent=agent) == first
    second = assessed(owner, compliance, agent=agent)
    assert list(Assessment.objects.filter(agent=agent, latest=True)) == [second]
    assert selectors.latest_completed(agent) == second


def test_the_database_columns_agree_with_the_rule(owner, compliance):
    """with_latest_assessment (the pages' filter) and assessment_status (the rule) call the
    same agents stale, due or missing."""
    from almportal.inventory.models import Agent

    current = assessed(owner, compliance, stage=Stage.IN_DEVELOPMENT).agent
    changed = assessed(owner, compliance, stage=Stage.IN_DEVELOPMENT).agent
    inventory.agent_update(actor=owner, agent=changed,
                           data={"autonomy_level": AutonomyLevel.FULLY_AUTONOMOUS},
                           reason="More autonomy")
    old = assessed(owner, compliance, stage=Stage.IN_DEVELOPMENT)
    Assessment.objects.filter(pk=old.pk).update(
        completed_at=timezone.now() - timedelta(days=3000))
    make_agent(owner, Stage.IN_DEVELOPMENT, name="Never assessed")
    now = timezone.now()
    for agent in selectors.with_latest_assessment(Agent.objects.all()):
        status = selectors.assessment_status(agent, now=now)
        assert (agent.assessed_at is None) == status.is_missing, agent
        flagged = bool(agent.attributes_changed) or bool(agent.due_at and agent.due_at <= now)
        assert flagged == status.is_stale, agent
    assert {a.pk for a in Agent.objects.all()} >= {current.pk, changed.pk, old.agent.pk}
