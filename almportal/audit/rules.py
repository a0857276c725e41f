"""Pure decisions of the audit area, no writes and no imports of services: who reads the audit
trail, exports it, manages retention holds and fetches a pack; and who plans internal audits and
management reviews, records findings and owns, records and verifies corrective actions. Pages,
the API and template tags ask these what to show; the services ask them again before a change.

Segregation of duties: auditors record findings (their one kind of write) and verify closure;
the person who records a corrective action never verifies it, and an auditor never owns one."""

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import is_read_only
from ..core.errors import Conflict, DomainError, NotPermitted
from ..core.lifecycle import Transitions
from . import permissions
from .models import ActionState, AuditState, PackJob


def can_view_audit(user: User) -> bool:
    return can(user, permissions.VIEW)


def can_export(user: User) -> bool:
    return can(user, permissions.EXPORT)


def can_manage_retention(user: User) -> bool:
    return can(user, permissions.MANAGE_RETENTION)


def may_see_job(user: User, job: PackJob) -> bool:
    """A pack is its requester's, while they may still export."""
    return job.requested_by_id == user.pk and can_export(user)


AUDIT_STATES = Transitions(AuditState, {
    AuditState.PLANNED: {AuditState.IN_PROGRESS},
    AuditState.IN_PROGRESS: {AuditState.CLOSED},
})


def may_plan_audit(user: User) -> bool:
    """Compliance (and admins) plan audits and management reviews and move them on."""
    return can(user, "audit.add_internalaudit")


def may_run_audit(user: User) -> bool:
    return can(user, "audit.change_internalaudit")


def may_record_finding(user: User) -> bool:
    return can(user, "audit.add_finding")


def finding_refusal(audit) -> DomainError | None:
    if audit.state != AuditState.IN_PROGRESS:
        return Conflict(f"Findings are recorded while the {audit.get_kind_display().lower()} "
                        f"is in progress; it is {audit.get_state_display().lower()}.")
    return None


def _cares_for_agent(user: User, finding) -> bool:
    return finding.agent_id is not None and can(user, "inventory.change_agent", finding.agent)


def may_assign_action(user: User, finding) -> bool:
    """Compliance on any finding; the agent's owner, a delegate or an admin on the agent's."""
    return can(user, "audit.add_correctiveaction") or _cares_for_agent(user, finding)


def action_owner_refusal(owner: User) -> DomainError | None:
    if not owner.is_active or owner.is_service_account:
        return DomainError("A corrective action is owned by an active person.", field="owner")
    if is_read_only(owner):
        return DomainError(f"{owner} holds a read-only role (auditor): auditors verify "
                           "corrective actions, they never own one.", field="owner")
    return None


def may_record_action(user: User, action) -> bool:
    """Its owner, or the agent's owner, a delegate or an admin."""
    return user.is_active and (user.pk == action.owner_id
                               or _cares_for_agent(user, action.finding))


def record_refusal(action) -> DomainError | None:
    if action.state == ActionState.VERIFIED:
        return Conflict("This corrective action is closed.")
    return None


def verify_refusal(user: User, action) -> DomainError | None:
    if action.state != ActionState.DONE:
        return Conflict("Only an action recorded as done is verified.")
    if not can(user, "audit.verify_correctiveaction"):
        return NotPermitted("Only an auditor verifies the closure of a corrective action.")
    if user.pk == action.recorded_by_id:
        return NotPermitted("The person who recorded the action does not verify it.")
    return None


def may_verify_action(user: User, action) -> bool:
    """An auditor other than the person who recorded the action, once it is done."""
    return verify_refusal(user, action) is None


def finding_is_closed(actions) -> bool:
    """Closed once it has actions and every one is verified."""
    states = [a.state for a in actions]
    return bool(states) and all(s == ActionState.VERIFIED for s in states)
