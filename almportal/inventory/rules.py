"""Who may change or triage an agent, and where its stage may move: asked by the pages for their
buttons and by the services before they write.

Who may hold which grant on an agent: one decision, asked by the delegate and ownership
services, the service-account grants, and the admin's object-permission page.

A read-only role (auditors) reads every agent and is never a delegate nor holds any write
grant. A service account (CI, a gateway) holds only narrow rights on the agents chosen for it,
never the owner's `change_agent`."""

from collections.abc import Iterable

from ..accounts.permissions import can
from ..accounts.roles import GROUP_NAMES, READ_ONLY_ROLES, is_read_only
from ..core.errors import Conflict, DomainError, NotPermitted
from ..core.lifecycle import Transitions
from .choices import CLOSED_STAGES, STAGE_TRANSITIONS, Stage

agent_stages = Transitions(Stage, STAGE_TRANSITIONS)

READ_GRANTS = {"view_agent"}
READ_ONLY_GROUP_NAMES = {GROUP_NAMES[role] for role in READ_ONLY_ROLES}

# The narrow rights a service account may hold on an agent, by permission codename.
SERVICE_RIGHTS = {
    "record_evaluations": "Record evaluation runs (CI)",
    "deploy_agent": "Deploy releases (CI/CD)",
    "poll_runtime": "Poll the runtime status (gateway)",
    "ingest_metrics": "Send monitoring samples (gateway)",
}


def change_refusal(user, agent) -> DomainError | None:
    """Why `user` may not change the agent now, or None: its owner, a delegate or an admin,
    while the agent is not closed."""
    if not can(user, "inventory.change_agent", agent):
        return NotPermitted("Only the agent's owner, a delegate or an admin may change it.")
    return closed_refusal(agent)


def closed_refusal(agent) -> Conflict | None:
    """A retired or declined-and-closed agent no longer changes."""
    if agent.stage in CLOSED_STAGES:
        return Conflict(f"{agent} is {agent.get_stage_display().lower()} and can no longer "
                        "change.")
    return None


def may_change(user, agent) -> bool:
    return change_refusal(user, agent) is None


def triage_refusal(user, agent) -> NotPermitted | None:
    """Compliance triages intakes, never one they own or filed."""
    if not can(user, "inventory.triage_agent"):
        return NotPermitted("Only compliance officers triage intakes.")
    if user.pk in (agent.business_owner_id, agent.created_by_id):
        return NotPermitted("You cannot triage an intake you own or filed.")
    return None


def grant_refusal(user, codenames: Iterable[str]) -> DomainError | None:
    """Why `user` may not hold these agent permissions, or None."""
    writes = set(codenames) - READ_GRANTS
    if not user.is_active:
        return DomainError(f"{user} is not active: grants go to active accounts.", field="user")
    if writes and is_read_only(user):
        return DomainError(f"{user} holds a read-only role (auditor): they read every agent "
                           "but are never a delegate nor hold any write grant.", field="user")
    if user.is_service_account and writes - set(SERVICE_RIGHTS):
        return DomainError(f"{user} is a service account: it holds only narrow rights ("
                           f"{', '.join(SERVICE_RIGHTS)}), never a delegate's.", field="user")
    if not user.is_service_account and writes & set(SERVICE_RIGHTS):
        return DomainError("Narrow rights are granted to service accounts only.", field="user")
    return _care_refusal(codenames, field="user")


def _care_refusal(codenames: Iterable[str], *, field: str) -> DomainError | None:
    """Care (change_agent) comes with sight (view_agent): a person in an agent's care sees it,
    which pages listing the agents in someone's care rely on instead of asking again."""
    chosen = set(codenames)
    if "change_agent" in chosen and not chosen & READ_GRANTS:
        return DomainError("Whoever may change an agent must also see it: grant view_agent "
                           "with change_agent.", field=field)
    return None


def group_grant_refusal(group, members: Iterable, codenames: Iterable[str]) -> DomainError | None:
    """Why a group may not hold these agent permissions, or None: a write grant to a group would
    reach every member, so no member may hold a read-only role, nor be a service account."""
    if not set(codenames) - READ_GRANTS:
        return None
    for member in members:
        if is_read_only(member) or member.is_service_account:
            return DomainError(f"{group} includes {member}, who holds a read-only role or is a "
                               "service account: write grants go to people one by one.",
                               field="group")
    if group.name in READ_ONLY_GROUP_NAMES:
        return DomainError(f"{group} is a read-only role: it is never given a write grant.",
                           field="group")
    return _care_refusal(codenames, field="group")
