"""What a user may see of rows that hang off an agent: everything, with no join at all, for
those who see every agent; only their agents' rows for everyone else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent, ModelComponent
from almportal.inventory.selectors import visible_through
from almportal.releases.models import Release
from almportal.releases.selectors import releases_visible_to

from ..factories import make_agent, make_model, make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_agents(owner, other_owner):
    mine = make_agent(owner, Stage.IN_DEVELOPMENT, name="Mine")
    theirs = make_agent(other_owner, Stage.IN_DEVELOPMENT, name="Theirs")
    for agent in (mine, theirs):
        make_model(agent)
        make_release(agent)
    return mine, theirs


def test_an_owner_sees_the_rows_of_their_own_agents_only(owner, two_agents):
    mine, _ = two_agents
    assert {m.agent for m in ModelComponent.objects.filter(visible_through(owner))} == {mine}
    assert {r.agent for r in releases_visible_to(owner)} == {mine}


def test_someone_who_sees_every_agent_reads_the_rows_without_a_join(compliance, two_agents):
    with CaptureQueriesContext(connection) as captured:
        found = list(Release.objects.filter(visible_through(compliance)))
    assert {r.agent for r in found} == set(two_agents)
    assert "inventory_agent" not in captured[0]["sql"]


def test_a_path_other_than_agent_and_another_right(owner, other_owner, two_agents):
    mine, theirs = two_agents
    changes = Agent.history.filter(visible_through(owner, "id", perm="change_agent"))
    assert {row.id for row in changes} == {mine.pk}
    assert {row.id for row in Agent.history.filter(visible_through(other_owner, "id"))} == {
        theirs.pk}
