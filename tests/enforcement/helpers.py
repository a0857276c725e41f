"""A live agent whose approved release carries tools, and gateway clients."""

from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage

from ..factories import make_agent
from ..operations.helpers import Team, runtime_client
from ..risk.helpers import assessed

TOOLS = {
    "search": {"tool_kind": "rest_api", "endpoint": "https://kb.example.test",
               "operations": ["query", "fetch"], "writes": False,
               "needs_human_approval": False},
    "tickets": {"tool_kind": "rest_api", "endpoint": "https://tickets.example.test",
                "operations": ["create", "update"], "writes": True,
                "needs_human_approval": False},
    "payments": {"tool_kind": "rest_api", "endpoint": "https://pay.example.test",
                 "operations": ["refund"], "writes": True, "needs_human_approval": True},
}


def agent_with_tools(team: Team, tools=TOOLS, **fields):
    """An agent whose tools exist before its assessment (adding them later would make the
    assessment stale), its delegate, and the tool versions."""
    agent = make_agent(team.owner, Stage.IN_DEVELOPMENT, **fields)
    versions = [inventory.component_add_version(actor=team.owner, agent=agent, kind="tools",
                                                data={"name": name, **data})
                for name, data in tools.items()]
    inventory.agent_add_delegate(actor=team.owner, agent=agent, user=team.delegate)
    assessed(team.owner, team.compliance, agent=agent)
    agent.refresh_from_db()
    return agent, versions


def live_with_tools(team: Team, tools=TOOLS, **fields):
    agent, versions = agent_with_tools(team, tools, **fields)
    return team.live(agent, components={"tools": [t.pk for t in versions]})


def gateway(user):
    return runtime_client(user)


def policy_url(agent) -> str:
    return f"/api/v1/enforcement/agents/{agent.slug}/policy/"


def report_url(agent) -> str:
    return f"/api/v1/enforcement/agents/{agent.slug}/policy/revision/"
