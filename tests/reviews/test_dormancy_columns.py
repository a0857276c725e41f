"""My work selects dormant agents in the database (selectors.dormant); the reminders decide
agent by agent in Python (selectors.dormant_agents). At every moment, with and without
activity, the two agree."""

import pytest
from django.utils import timezone

from almportal.accounts.services import token_create
from almportal.inventory.choices import RiskTier
from almportal.inventory.models import Agent
from almportal.operations.models import Environment, RuntimePoll
from almportal.reviews.selectors import dormant, dormant_agents

from .conftest import later, live_agent

pytestmark = pytest.mark.django_db
DAYS = (1, 40, 100, 200, 400, 800)


def assert_agree() -> list[set[int]]:
    found = []
    for days in DAYS:
        by_rule = {d.agent.pk for d in dormant_agents(now=later(days))}
        assert set(dormant(now=later(days)).values_list("pk", flat=True)) == by_rule, days
        found.append(by_rule)
    return found


def test_the_database_and_the_rule_agree(owner, admin_user):
    quiet = live_agent(owner, name="Quiet", grants=False)
    polled = live_agent(owner, name="Polled", grants=False)
    high = live_agent(owner, name="High", grants=False)
    Agent.objects.filter(pk=high.pk).update(risk_tier=RiskTier.HIGH)
    before = assert_agree()
    assert not before[0] and {quiet.pk, polled.pk, high.pk} <= before[-1]
    token, _ = token_create(actor=admin_user, name="gateway", scopes=["runtime"],
                            expires_at=later(300))
    RuntimePoll.objects.create(token=token, agent=polled,
                               environment=Environment.objects.get(slug="production"),
                               first_polled_at=timezone.now(), last_polled_at=later(150),
                               last_state="serving", last_etag="x")
    after = assert_agree()
    assert any(quiet.pk in found and polled.pk not in found for found in after)
