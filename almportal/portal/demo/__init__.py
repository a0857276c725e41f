"""Demo data for the portal: users for every role and an agent in every lifecycle stage, taken
there through the real flows (intake, triage, risk assessment, the release gate, deployments,
monitoring, incidents, the kill switch, decommissioning). The retired agent keeps the records of
its working life before it (lifetime.py), so its evidence pack holds every item auditors ask for.

Idempotent: users are found by username and agents by slug, and whatever already exists is left
as it is (a password is set only on a user this creates)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from almportal.accounts.models import User
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent
from almportal.releases import services as releases

from . import flows, lifetime
from .catalogue import DEMO_AGENTS
from .oversight import seed_oversight
from .register import seed_registers
from .users import DEMO_USERS, demo_password, demo_users, ensure_users, login_table

__all__ = ["DEMO_AGENTS", "DEMO_USERS", "demo_password", "seed"]

def seed() -> list[str]:
    """Load what is missing; return the lines to print."""
    with transaction.atomic():
        created_users = ensure_users()
    created_agents = []
    for spec in DEMO_AGENTS:
        if Agent.objects.filter(slug=slugify(spec["intake"]["name"])).exists():
            continue
        users = demo_users()
        with transaction.atomic():
            agent = build_agent(spec, users)
        if "sunset" in spec:
            # Its history is in the ledger once committed, so the archive made now carries it.
            with transaction.atomic():
                decommission(agent, spec, users)
        created_agents.append(spec["intake"]["name"])
    registers = seed_registers(demo_users())
    evidence = seed_oversight(demo_users())
    if not created_users and not created_agents and not registers and not evidence:
        return ["demo data already present"]
    lines = login_table(created_users) if created_users else []
    lines += evidence
    if created_agents:
        lines.append(f"Demo agents created: {', '.join(created_agents)}.")
    if registers:
        lines.append(f"Demo risk registers and impact assessments: {', '.join(registers)}.")
    return lines


def build_agent(spec: dict, users: dict[str, User]) -> Agent:
    """Create one demo agent and take it to its stage."""
    owner, compliance = users[spec["owner"]], users["compliance"]
    target = spec["stage"]
    agent = inventory.agent_create(actor=owner, data=spec["intake"])
    if "delegate" in spec:
        inventory.agent_add_delegate(actor=owner, agent=agent, user=users[spec["delegate"]],
                                     reason="Demo data: covers for the owner")
    add_components(agent, owner, spec.get("components", {}))
    if target == Stage.DRAFT:
        return agent
    agent = inventory.agent_submit_intake(actor=owner, agent=agent)
    if target == Stage.PROPOSED:
        return agent
    if target == Stage.DECLINED:
        return inventory.agent_decline(actor=compliance, agent=agent,
                                       reason=spec["decline_reason"])
    agent = inventory.agent_accept(actor=compliance, agent=agent,
                                   reason="Clear business case; proceed to development")
    flows.assess(agent, spec["answers"], owner=owner, assessor=compliance)
    agent = operate(agent, spec, users)
    if "sunset" not in spec and agent.stage != target:
        raise RuntimeError(f"{agent} ended {agent.stage}, not {target}.")
    return agent


def operate(agent: Agent, spec: dict, users: dict[str, User]) -> Agent:
    """Ship the agent's releases and take it through what happened to it in production."""
    owner = flows.owner_of(agent)
    submitter = users.get(spec.get("delegate", ""), owner)
    for release_spec in spec.get("releases", []):
        add_release(agent, release_spec, owner=owner, submitter=submitter,
                    users=users)
    agent.refresh_from_db()
    if spec.get("lifetime"):
        lifetime.live_through(agent, spec, users)
    if "suspend" in spec:
        flows.alert_and_incident(agent, users)
        flows.suspend(agent, spec["suspend"], users)
    if "revoke" in spec:
        flows.revoke(agent, spec["revoke"], users)
    if spec.get("review_due"):
        # The first access-review scan after `make run` starts opens this agent's review.
        flows.review_due(agent, users, on=timezone.localdate(),
                         reason="Demo data: access review due today")
    agent.refresh_from_db()
    return agent


def decommission(agent: Agent, spec: dict, users: dict[str, User]) -> None:
    plan = flows.sunset(agent, spec, users)
    if spec["stage"] == Stage.RETIRED:
        flows.retire(plan, users)
    else:
        flows.do_tasks(plan, users, count=2)
    agent.refresh_from_db()
    if agent.stage != spec["stage"]:
        raise RuntimeError(f"{agent} ended {agent.stage}, not {spec['stage']}.")


def add_release(agent: Agent, spec: dict, *, owner: User, submitter: User,
                users: dict[str, User]) -> None:
    add_components(agent, owner, spec.get("new_versions", {}))
    release = releases.release_create(
        actor=submitter, agent=agent, label=spec["label"], notes=spec["notes"],
        configuration=spec["configuration"], components=latest_components(agent))
    if not (spec.get("submit") or spec.get("deploy")):
        return
    release = releases.release_submit(actor=submitter, release=release,
                                      reason="Ready for review; please sign")
    if not spec.get("deploy"):
        return
    release = flows.approve(release, users)
    flows.deploy(release, spec)
    if spec.get("samples"):
        spike = spec.get("errors_spike_hours_ago", 0) if spec.get("errors_spike") else None
        flows.send_samples(release, spike_end=spike)


def add_components(agent: Agent, owner: User, components: dict) -> None:
    for kind, versions in components.items():
        for data in versions:
            data = dict(data)
            if "expires_in_days" in data:
                days = data.pop("expires_in_days")
                data["expires_at"] = timezone.now() + timedelta(days=days)
            inventory.component_add_version(actor=owner, agent=agent, kind=kind, data=data)


def latest_components(agent: Agent) -> dict[str, list[int]]:
    """The newest version of each named component that is still in force."""
    chosen: dict[str, list[int]] = {}
    for kind, relation in (("models", agent.models), ("prompts", agent.prompts),
                           ("tools", agent.tools), ("data_sources", agent.data_sources),
                           ("credentials", agent.credentials.filter(revoked_at=None))):
        newest: dict[str, int] = {}
        for component in relation.order_by("name", "-version"):
            newest.setdefault(component.name, component.pk)
        chosen[kind] = list(newest.values())
    return chosen
