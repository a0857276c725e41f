"""Who may decommission an agent, work its tasks and sign its retirement: pure decisions the
pages, API and template tags show and the services enforce."""

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import Role
from ..inventory.models import Agent
from .choices import PlanState, SignOffRole
from .models import Archive, DecommissionPlan, DecommissionTask

MANAGE = "retirement.manage_decommission"
DOWNLOAD = "retirement.download_archive"


def may_manage(user: User, agent: Agent) -> bool:
    """Start the sunsetting, work the tasks and retire: the owner, a delegate, compliance or
    an admin."""
    return can(user, "inventory.change_agent", agent) or can(user, MANAGE)


def may_work(user: User, task: DecommissionTask, *, manages: bool | None = None) -> bool:
    """A task's assignee works it, and so does whoever manages the decommissioning (`manages`
    when the caller already knows it, for a list of tasks)."""
    if user.pk == task.assignee_id:
        return True
    return manages if manages is not None else may_manage(user, task.plan.agent)


def may_sign(user: User, plan: DecommissionPlan, role: str) -> bool:
    """The owner signs as owner only; a compliance officer who does not own the agent signs
    as compliance."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if role == SignOffRole.OWNER:
        return user.pk == plan.agent.business_owner_id
    if role == SignOffRole.COMPLIANCE:
        return user.has_role(Role.COMPLIANCE) and user.pk != plan.agent.business_owner_id
    return False


def may_see_archives(user: User, agent: Agent) -> bool:
    """Auditors, compliance officers and admins see every archive; a business owner those of
    their own agents."""
    if can(user, DOWNLOAD):
        return True
    return bool(user and user.is_authenticated and user.is_active
                and user.pk == agent.business_owner_id)


def final_archive_pending(user: User, plan: DecommissionPlan, archives: list[Archive]) -> bool:
    """Whether to tell this user that the retired agent's final archive is being built."""
    return (plan.state == PlanState.RETIRED and may_see_archives(user, plan.agent)
            and not any(a.final for a in archives))
