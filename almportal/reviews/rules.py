"""Who may certify an access review and who reads the ownerless queue: pure decisions the
pages show and the services enforce."""

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import READ_ONLY_ROLES, Role
from ..core.errors import NotPermitted
from .models import AccessReview


def certify_refusal(user: User, review: AccessReview) -> NotPermitted | None:
    """The agent's owner, a delegate or an admin certifies its grants; a read-only role
    (auditors) never does."""
    if user.roles & READ_ONLY_ROLES:
        return NotPermitted("Auditors read reviews; they do not certify them.")
    if not can(user, "inventory.change_agent", review.agent):
        return NotPermitted("Only the agent's owner, a delegate or an admin certifies its "
                            "grants.")
    return None


def may_certify(user: User, review: AccessReview) -> bool:
    """Whether the page offers the certify form: an unfinished review, to a certifier."""
    return not review.is_finished and certify_refusal(user, review) is None


def is_compliance(user: User) -> bool:
    return user.has_role(Role.COMPLIANCE) or user.has_role(Role.ADMIN)


def may_read_queue(user: User) -> bool:
    """The ownerless queue: compliance officers and admins work it, auditors read it."""
    return is_compliance(user) or user.has_role(Role.AUDITOR)


QUEUE_READERS = "The ownerless queue is for compliance officers, admins and auditors."


def reassign_refusal(user: User) -> NotPermitted | None:
    """Who hands an ownerless agent to a new owner: compliance officers and admins."""
    if is_compliance(user):
        return None
    return NotPermitted("Only compliance officers and admins reassign ownerless agents.")
