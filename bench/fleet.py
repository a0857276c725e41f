"""A fleet to measure: people in every role, agents inserted in bulk (with their history rows,
as simple-history's bulk path writes them), a grant and an open review item per agent, releases
waiting for sign-off, and one agent taken through the real flows to production."""

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from almportal.accounts.models import User

ROLES = ("owner", "compliance", "security", "auditor", "admin")
UNITS = ["Finance", "IT Operations", "People Operations", "Sales", "Customer Service"]
HISTORY_EDITS = 200


@dataclass
class People:
    owner: "User"
    compliance: "User"
    security: "User"
    auditor: "User"
    admin: "User"

    def by_role(self) -> dict:
        return {role: getattr(self, role) for role in ROLES}


def make_people() -> People:
    from django.contrib.auth.models import Group

    from almportal.accounts.models import User
    from almportal.accounts.roles import GROUP_NAMES, Role

    roles = {"owner": Role.BUSINESS_OWNER, "compliance": Role.COMPLIANCE,
             "security": Role.SECURITY, "auditor": Role.AUDITOR, "admin": Role.ADMIN}
    people = {}
    for name, role in roles.items():
        user = User.objects.create(username=f"bench-{name}", first_name=name.title())
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        people[name] = user
    return People(**people)


def seed_agents(owner, start: int, stop: int) -> None:
    """Agents numbered start..stop-1, owned by `owner`, spread over stages and tiers."""
    from django.contrib.auth.models import Permission
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from almportal.inventory import choices
    from almportal.inventory.models import Agent, AgentUserObjectPermission, Credential
    from almportal.releases.choices import ReleaseState
    from almportal.releases.models import Release

    stages, tiers = list(choices.Stage), list(choices.RiskTier)
    now = timezone.now()
    agents = bulk_create_with_history([
        Agent(
            name=f"Bench agent {n:05d}", slug=f"bench-agent-{n:05d}",
            purpose="Benchmark row: answers questions from a knowledge base.",
            why_agent="Benchmark row.", business_owner=owner, created_by=owner,
            business_unit=UNITS[n % len(UNITS)], intended_users="Staff",
            audience=choices.Audience.INTERNAL,
            success_metrics=[{"name": "Deflection", "target": "30%"}],
            autonomy_level=choices.AutonomyLevel.SUGGEST_ONLY,
            data_classification=choices.DataClassification.INTERNAL,
            action_reach=choices.ActionReach.READ_ONLY, stage=stages[n % len(stages)],
            risk_tier=tiers[n % len(tiers)], tags=["bench"],
            last_active_at=now if stages[n % len(stages)] == choices.Stage.LIVE else None,
        )
        for n in range(start, stop)
    ], Agent, batch_size=1000, default_user=owner, default_change_reason="Bench seed")
    permissions = Permission.objects.filter(content_type__app_label="inventory",
                                            codename__in=("view_agent", "change_agent"))
    AgentUserObjectPermission.objects.bulk_create([
        AgentUserObjectPermission(content_object=agent, user=owner, permission=permission)
        for agent in agents for permission in permissions
    ], batch_size=1000)
    bulk_create_with_history([
        Credential(agent=agent, name="service account", version=1, created_by=owner,
                   identity=f"svc-{agent.slug}", scopes=["read"], granted_by="IT",
                   expires_at=now + timedelta(days=n % 90), mode=choices.GrantMode.STANDING)
        for n, agent in enumerate(agents)
    ], Credential, batch_size=1000, default_user=owner)
    bulk_create_with_history([
        Release(agent=agent, number=1, state=ReleaseState.SUBMITTED,
                manifest={"agent": agent.slug}, manifest_hash=f"{n:064d}", created_by=owner,
                submitted_by=owner, submitted_at=now - timedelta(hours=n % 200))
        for n, agent in enumerate(agents) if n % 10 == 0
    ], Release, batch_size=1000, default_user=owner)


def long_history_agent(people: People):
    """An agent edited HISTORY_EDITS times through the service: a long record and timeline."""
    from almportal.inventory import services
    from tests.factories import make_agent

    agent = make_agent(people.owner, name="Bench long history")
    for n in range(HISTORY_EDITS):
        services.agent_update(actor=people.owner, agent=agent,
                              data={"business_unit": UNITS[n % len(UNITS)] + f" {n}"},
                              reason=f"Edit {n}")
    return agent


def deployed_agent(people: People):
    """An agent live in production through the real flows: assessed, approved, deployed."""
    from almportal.operations import services
    from almportal.operations.models import Environment
    from tests.operations.helpers import Team

    team = Team(people.owner, people.compliance)
    agent = team.agent(name="Bench live agent")
    release = team.approved_release(agent)
    services.deployment_start(
        actor=people.owner, agent=agent, environment=Environment.objects.get(slug="production"),
        strategy="all_at_once", routes=[services.RouteSpec(release=release)],
        reason="Bench deployment")
    agent.refresh_from_db()
    return agent


def runtime_token(people: People) -> str:
    from django.utils import timezone

    from almportal.accounts.models import TokenScope
    from almportal.accounts.services import token_create

    _, key = token_create(actor=people.admin, name="bench gateway",
                          scopes=[TokenScope.RUNTIME],
                          expires_at=timezone.now() + timedelta(days=1))
    return key


def vacuum_analyze() -> None:
    """What autovacuum does soon after a bulk load in production: planner statistics for the
    rows just seeded, and GIN indexes' pending entries merged (until then the planner takes a
    10,000-row table for empty, and a trigram index for costlier than reading every row)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


class Fleet:
    """The seeded fleet, grown size by size; what the sections need to make requests."""

    def __init__(self) -> None:
        self.people = make_people()
        self.size = 0
        self.long_history = long_history_agent(self.people)
        self.live = deployed_agent(self.people)
        self.runtime_key = runtime_token(self.people)
        self.sessions: dict[str, dict] = {}

    def grow_to(self, size: int) -> None:
        from bench.common import session_headers

        if size > self.size:
            seed_agents(self.people.owner, self.size, size)
            self.size = size
            vacuum_analyze()
        # Fresh sessions per size: a signed-in user's cached roles start from the database.
        self.sessions = {role: session_headers(user)
                         for role, user in self.people.by_role().items()}
