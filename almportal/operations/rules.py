"""Who may do what in operations, and whether a deployment can be rolled back: pure decisions.
Pages use these to decide which buttons to show; the services ask them again before every change
and refuse with `require_that`."""

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import Role
from ..inventory.choices import RiskTier
from ..inventory.models import Agent
from .choices import CanaryState, DeploymentState

# Resuming an agent of these tiers needs a compliance officer.
COMPLIANCE_RESUME_TIERS = {RiskTier.HIGH, RiskTier.CRITICAL}


def may_deploy(user: User, agent: Agent) -> bool:
    """The agent's owner, a delegate, an admin, or a CI/CD service account granted the right
    (production also needs the release gate)."""
    return (can(user, "inventory.change_agent", agent)
            or can(user, "inventory.deploy_agent", agent))


def may_suspend(user: User, agent: Agent) -> bool:
    return can(user, "operations.suspend_agent") or can(user, "inventory.change_agent", agent)


def resume_needs_compliance(agent: Agent) -> bool:
    return agent.risk_tier in COMPLIANCE_RESUME_TIERS


def may_resume(user: User, agent: Agent) -> bool:
    if resume_needs_compliance(agent):
        # A compliance sign-off, and not from the agent's own owner (segregation of duties).
        return (user.is_active and user.has_role(Role.COMPLIANCE)
                and user.pk != agent.business_owner_id)
    return may_suspend(user, agent)


def may_tune_monitoring(user: User, agent: Agent) -> bool:
    return can(user, "operations.manage_incident") or can(user, "inventory.change_agent", agent)


def may_open_incident(user: User, agent: Agent) -> bool:
    return can(user, "operations.manage_incident") or can(user, "inventory.change_agent", agent)


def may_work_incident(user: User, agent: Agent) -> bool:
    """Notes, mitigation, the review and the corrective release: the owner's team or compliance."""
    return may_open_incident(user, agent)


def may_manage_incidents(user: User) -> bool:
    """Resolve, reopen, mark serious and reported: compliance (and admins)."""
    return can(user, "operations.manage_incident")


def may_triage_findings(user: User) -> bool:
    """The discovery queue (agents nobody registered): compliance, like the intake queue."""
    return can(user, "inventory.triage_agent")


def may_map_telemetry(user: User, agent: Agent) -> bool:
    """Name the telemetry that is this agent's: its owner, a delegate or an admin."""
    return can(user, "inventory.change_agent", agent)


def rollback_refusal(deployment) -> str | None:
    """Why this deployment cannot be rolled back now, or None. A rollback names the deployment
    it undoes, so a second one (a double click, a retried request) finds it ended or its canary
    already back at 0% and changes nothing."""
    if deployment.state != DeploymentState.ACTIVE:
        return (f"Deployment #{deployment.pk} is no longer the active one in "
                f"{deployment.environment}: it was already replaced or rolled back.")
    if deployment.canary_in_progress:
        return None
    if deployment.canary_state == CanaryState.ROLLED_BACK:
        return f"The canary of deployment #{deployment.pk} was already rolled back."
    if deployment.previous_id is None:
        return "There is no earlier deployment to roll back to."
    return None
