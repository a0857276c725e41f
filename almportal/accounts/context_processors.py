from django.utils.functional import SimpleLazyObject

from .notifications import unread_count
from .roles import Role


def roles(request) -> dict:
    user = getattr(request, "user", None)
    user_roles = user.roles if user is not None and user.is_authenticated else frozenset()
    return {"user_roles": user_roles, "Role": Role}


def notifications(request) -> dict:
    """The unread count for the header: one query, and only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
