"""Pure decisions of operations, no writes and no imports of services: who may deploy, suspend,
resume and roll back, whether a deployment can be rolled back, who names an agent's human
overseers and whether it has the oversight its tier needs, and how long the event log is kept.
Pages use these to decide which buttons to show; the services ask them again before every change
and refuse with `require_that`."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import Role
from ..core.errors import DomainError
from ..inventory.choices import RiskTier, Stage
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


# --- Human oversight (EU AI Act Art. 14, 26(2)) -------------------------------------------------

# An agent of these tiers that runs in production needs a named, trained overseer.
OVERSIGHT_TIERS = {RiskTier.HIGH, RiskTier.CRITICAL}
OVERSIGHT_STAGES = {Stage.LIVE, Stage.SUSPENDED}


def may_assign_overseers(user: User, agent) -> bool:
    """The agent's owner, a delegate or an admin name its overseers."""
    return can(user, "inventory.change_agent", agent)


def overseer_is_active(overseer, today: date) -> bool:
    return (overseer.active_from <= today
            and (overseer.active_to is None or today <= overseer.active_to))


def training_is_current(overseer, today: date) -> bool:
    return (overseer.trained_on <= today
            and (overseer.training_expires_on is None or today <= overseer.training_expires_on))


def competent_overseers(overseers: Iterable, today: date) -> list:
    return [o for o in overseers
            if overseer_is_active(o, today) and training_is_current(o, today)
            and o.user.is_active]


def needs_oversight(agent) -> bool:
    return agent.risk_tier in OVERSIGHT_TIERS and agent.stage in OVERSIGHT_STAGES


def oversight_gap(agent, overseers: Iterable, today: date) -> str | None:
    """Why the agent lacks the human oversight its tier needs in production, or None."""
    if not needs_oversight(agent):
        return None
    if competent_overseers(overseers, today):
        return None
    return (f"{agent} is a {agent.get_risk_tier_display().lower()}-tier agent in production "
            "without an active overseer whose training is current (EU AI Act Art. 14, 26(2)).")


def overseer_refusal(*, user: User, role: str, trained_on: date | None,
                     expires_on: date | None, active_from: date | None,
                     active_to: date | None, roles: Iterable[str]) -> DomainError | None:
    """Why this person and record may not be an overseer, or None."""
    if not user.is_active or user.is_service_account:
        return DomainError("An overseer is an active person, not a service account.",
                           field="user")
    if role not in set(roles):
        return DomainError("Choose an oversight role.", field="role")
    if trained_on and expires_on and expires_on < trained_on:
        return DomainError("The training cannot expire before it was completed.",
                           field="training_expires_on")
    if active_from and active_to and active_to < active_from:
        return DomainError("The end cannot come before the start.", field="active_to")
    return None


# --- Event log retention --------------------------------------------------------------------

# Logs are kept at least six months (EU AI Act Art. 19(1), 26(6)): whatever the setting says,
# the retention job never deletes a younger row.
EVENT_LOG_MIN_DAYS = 183


def event_log_kept_days(configured: int) -> int:
    return max(EVENT_LOG_MIN_DAYS, configured)


def event_log_cutoff(now: datetime, configured: int) -> datetime:
    """Rows whose event is older than this may be deleted by the retention job."""
    return now - timedelta(days=event_log_kept_days(configured))


def event_log_may_expire(at: datetime, now: datetime, configured: int) -> bool:
    return at < event_log_cutoff(now, configured)

