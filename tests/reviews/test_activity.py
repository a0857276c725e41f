"""Dormancy reads one column, Agent.last_active_at, which the services that see activity keep:
going live, a deployment, metrics arriving, a gateway polling. It moves forward only, and
My work and the reminders ask the same selector."""

from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.accounts.services import token_create
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent
from almportal.operations.models import Environment
from almportal.operations.services.ingest import samples_ingest
from almportal.operations.services.runtime import runtime_poll_record
from almportal.reviews import work
from almportal.reviews.selectors import dormant, dormant_agents
from tests.factories import make_agent

from ..operations.helpers import Team
from .conftest import later

pytestmark = pytest.mark.django_db


def seen(agent) -> object:
    return Agent.objects.values_list("last_active_at", flat=True).get(pk=agent.pk)


def dormant_at(days: int) -> set[int]:
    return set(dormant(now=later(days)).values_list("pk", flat=True))


def test_going_live_is_activity(owner, compliance):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    assert seen(agent) is None
    inventory.agent_set_stage(actor=compliance, agent=agent, stage=Stage.LIVE, reason="Launch")
    assert timezone.now() - seen(agent) < timedelta(minutes=1)
    assert agent.pk not in dormant_at(1) and agent.pk in dormant_at(400)


def test_a_deployment_is_activity(owner, compliance):
    team = Team(owner, compliance)
    agent, _ = team.live()
    Agent.objects.filter(pk=agent.pk).update(last_active_at=later(-400))
    assert agent.pk in dormant_at(0)
    team.live(agent)  # a second release deployed
    assert timezone.now() - seen(agent) < timedelta(minutes=1)
    assert agent.pk not in dormant_at(0)


def test_metrics_arriving_are_activity_and_never_move_it_back(owner, compliance):
    agent, release = Team(owner, compliance).live()
    Agent.objects.filter(pk=agent.pk).update(last_active_at=later(-400))

    def send(batch_id: str, at):
        result = samples_ingest(actor=owner, token=None, batch_id=batch_id, samples=[
            {"agent": agent.slug, "release": release.number, "environment": "production",
             "timestamp": at.isoformat(), "metric": "requests", "value": 1}])
        assert result.stored == 1

    newest = later(0) - timedelta(minutes=5)
    send("new", newest)
    assert seen(agent) == newest
    send("old", newest - timedelta(days=3))
    assert seen(agent) == newest


def test_a_gateway_polling_is_activity(owner, admin_user):
    agent = make_agent(owner, Stage.LIVE, name="Polled")
    quiet = make_agent(owner, Stage.LIVE, name="Quiet")
    token, _ = token_create(actor=admin_user, name="gateway", scopes=["runtime"],
                            expires_at=later(300))
    environment = Environment.objects.get(slug="production")
    assert {agent.pk, quiet.pk} <= dormant_at(400)
    for etag, at in (("a", later(390)), ("b", later(395))):  # the first poll, then a later one
        runtime_poll_record(token=token, agent_id=agent.pk, environment_id=environment.pk,
                            state="active", etag=etag, at=at)
        assert seen(agent) == at
    assert quiet.pk in dormant_at(400) and agent.pk not in dormant_at(400)


def test_my_work_and_the_reminders_name_the_same_agents(owner, compliance):
    active = make_agent(owner, Stage.LIVE, name="Active")
    never = make_agent(owner, Stage.LIVE, name="Never seen")
    Agent.objects.filter(pk=never.pk).update(last_active_at=None)
    Agent.objects.filter(pk=active.pk).update(last_active_at=later(-1))
    by_rule = [d.agent for d in dormant_agents()]
    assert by_rule == [never]
    [section] = [s for s in work.sections_for(compliance) if s.key == "dormant"]
    assert [item.label for item in section.items] == ["Never seen"]
    assert section.items[0].detail == "no activity recorded"
