import pytest

from almportal.core.errors import Conflict, NotPermitted
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.operations import services
from almportal.operations.models import Suspension

from .helpers import runtime_client


def url(agent):
    return f"/api/v1/runtime/agents/{agent.slug}/"


def test_it_says_suspended_on_the_very_next_request(team, owner, security):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    before = gateway.get(url(agent))
    assert before.json()["state"] == "active"
    services.agent_suspend(actor=security, agent=agent, reason="Leaking internal notes")
    after = gateway.get(url(agent), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after.json() == {**after.json(), "state": "suspended", "may_run": False, "routes": []}
    agent.refresh_from_db()
    assert agent.stage == Stage.SUSPENDED


@pytest.mark.parametrize("who", ["owner", "compliance", "security", "admin_user"])
def test_it_lets_the_owner_compliance_security_and_admins_suspend(team, who, request):
    agent, _ = team.live()
    actor = request.getfixturevalue(who)
    services.agent_suspend(actor=actor, agent=agent, reason="Stop")
    assert Suspension.objects.get(agent=agent).suspended_by == actor


@pytest.mark.parametrize("who", ["other_owner", "auditor"])
def test_it_refuses_others_the_kill_switch(team, who, request):
    agent, _ = team.live()
    with pytest.raises(NotPermitted):
        services.agent_suspend(actor=request.getfixturevalue(who), agent=agent, reason="Stop")


def test_it_needs_a_reason(team, owner):
    agent, _ = team.live()
    with pytest.raises(Exception) as refused:
        services.agent_suspend(actor=owner, agent=agent, reason="  ")
    assert refused.value.errors == {"reason": ["Say why the agent is suspended."]}


def test_it_resumes_a_low_tier_agent_by_its_owner(team, owner, security):
    agent, _ = team.live()
    services.agent_suspend(actor=security, agent=agent, reason="Check")
    services.agent_resume(actor=owner, agent=agent, reason="Checked")
    agent.refresh_from_db()
    assert agent.stage == Stage.LIVE
    assert Suspension.objects.get(agent=agent).resumed_by == owner
    assert runtime_client(owner).get(url(agent)).json()["state"] == "active"


def test_it_needs_compliance_to_resume_a_high_tier_agent(team, owner, compliance, admin_user):
    agent, _ = team.live()
    inventory.agent_set_risk_tier(actor=compliance, agent=agent, tier="high",
                                  reason="Reassessed as high")
    services.agent_suspend(actor=owner, agent=agent, reason="Wrong answers")
    for refused in (owner, team.delegate, admin_user):
        with pytest.raises(NotPermitted):
            services.agent_resume(actor=refused, agent=agent, reason="Fixed")
    services.agent_resume(actor=compliance, agent=agent, reason="Fix verified")
    agent.refresh_from_db()
    assert agent.stage == Stage.LIVE


def test_it_records_a_drills_time_to_halt(team, owner):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    gateway.get(url(agent))
    drill = services.agent_suspend(actor=owner, agent=agent, reason="Quarterly drill",
                                   drill=True)
    assert drill.time_to_halt is None
    gateway.get(url(agent))
    gateway.get(url(agent))
    drill.refresh_from_db()
    assert drill.is_drill and drill.first_halted_poll_at >= drill.suspended_at
    assert drill.time_to_halt.total_seconds() >= 0
    first = drill.first_halted_poll_at
    gateway.get(url(agent))
    drill.refresh_from_db()
    assert drill.first_halted_poll_at == first  # the first poll, not the latest
    assert drill.history.filter(history_change_reason__contains="First gateway poll").exists()


def test_it_suspends_only_a_live_agent(team, owner):
    agent = team.agent()
    with pytest.raises(Conflict):
        services.agent_suspend(actor=owner, agent=agent, reason="Stop")
