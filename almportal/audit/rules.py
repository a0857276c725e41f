"""Who reads the audit trail, exports it, manages retention holds and fetches a pack: pure
decisions the pages, API and template tags show and the services enforce."""

from ..accounts.models import User
from ..accounts.permissions import can
from . import permissions
from .models import PackJob


def can_view_audit(user: User) -> bool:
    return can(user, permissions.VIEW)


def can_export(user: User) -> bool:
    return can(user, permissions.EXPORT)


def can_manage_retention(user: User) -> bool:
    return can(user, permissions.MANAGE_RETENTION)


def may_see_job(user: User, job: PackJob) -> bool:
    """A pack is its requester's, while they may still export."""
    return job.requested_by_id == user.pk and can_export(user)
