"""The permission layer shared by pages, API, tasks and admin: a role's model permission, or an
object permission (django-guardian) on the one object."""

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from ..core.errors import NotPermitted
from .models import User


def can(user, perm: str, obj=None) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.has_perm(perm) or (obj is not None and user.has_perm(perm, obj))


def require(user, perm: str, obj=None, *, message: str = "") -> None:
    if not can(user, perm, obj):
        raise NotPermitted(message or "You do not have permission to do this.")


def signed_in(user: User | AnonymousUser) -> User:
    """The user of a request that authentication let through (every API view requires it)."""
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user
