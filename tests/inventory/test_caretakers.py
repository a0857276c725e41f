"""Who takes care of an agent: one answer (inventory.grants.caretakers) for reminders, the
decommissioning audience and the owner's home page, group grants included."""

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from almportal.accounts.roles import Role
from almportal.inventory import grants, services
from almportal.inventory.selectors import agents_in_care_of
from almportal.portal.selectors import owner_home

from ..factories import make_agent, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(agent):
    """A group holding the agent's change grant, with one member."""
    group = Group.objects.create(name="faq-team")
    member = make_user(Role.BUSINESS_OWNER, username="gina")
    member.groups.add(group)
    assign_perm("change_agent", group, agent)
    return member


def test_it_finds_the_owner_the_delegates_and_the_caring_groups(agent, owner, team):
    delegate = make_user(Role.BUSINESS_OWNER, username="dora")
    services.agent_add_delegate(actor=owner, agent=agent, user=delegate)
    outsider = make_user(Role.BUSINESS_OWNER, username="otto")
    found = grants.caretakers([agent.pk])[agent.pk]
    assert [u.username for u in found] == ["dora", "gina", "olivia"]
    assert outsider not in found


def test_it_leaves_out_inactive_people(agent, owner, team):
    team.is_active = False
    team.save()
    assert grants.caretakers([agent.pk])[agent.pk] == [owner]


def test_it_reads_a_fixed_number_of_queries_for_many_agents(owner, team,
                                                            django_assert_num_queries):
    agents = [make_agent(owner, name=f"Agent {n}") for n in range(5)]
    for agent in agents:
        assign_perm("change_agent", Group.objects.get(name="faq-team"), agent)
    with django_assert_num_queries(4):
        found = grants.caretakers(a.pk for a in agents)
    assert all(found[a.pk] == [team, owner] for a in agents)


def test_a_group_caretaker_sees_the_agent_in_their_care_on_the_home_page(agent, team):
    assert list(agents_in_care_of(team)) == [agent]
    assert team in grants.agent_caretakers(agent)
    assert list(owner_home(team)["agents"]) == [agent]


def test_a_view_grant_through_a_group_is_not_care(agent, owner):
    group = Group.objects.create(name="readers")
    reader = make_user(Role.BUSINESS_OWNER, username="rita")
    reader.groups.add(group)
    assign_perm("view_agent", group, agent)
    assert not agents_in_care_of(reader).exists()
    assert reader not in grants.agent_caretakers(agent)
