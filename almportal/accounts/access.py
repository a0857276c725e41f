"""What every signed-in request reads about its user: the roles and the model permissions they
give. Both are kept in the cache between requests, so a page does not query for them each time.

A cached answer is dropped whenever something it depends on changes through Django (the user
row, their groups, their own permissions, a group's permissions: see `forget_*` below, connected
in apps.py), and in any case lives at most ACCESS_CACHE_SECONDS, the bound for a change made
outside Django (raw SQL on the database). Object permissions (django-guardian) are not cached.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from ..core import caching
from .roles import ROLE_BY_GROUP_NAME, Role


def _key(user_pk: int) -> str:
    return f"access:{user_pk}"


def _read(user) -> tuple[frozenset[str], frozenset[str]]:
    """(roles, "app_label.codename" model permissions) from the database: two queries."""
    from django.contrib.auth.backends import ModelBackend

    names = user.groups.values_list("name", flat=True)
    roles = {ROLE_BY_GROUP_NAME[name] for name in names if name in ROLE_BY_GROUP_NAME}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    backend = ModelBackend()
    permissions = backend.get_user_permissions(user) | backend.get_group_permissions(user)
    return frozenset(roles), frozenset(permissions)


def access_of(user) -> tuple[frozenset[str], frozenset[str]]:
    """An active user's (roles, model permissions); nothing for an inactive one."""
    if not user.is_active:
        return frozenset(), frozenset()
    found = cache.get(_key(user.pk))
    if found is None:
        found = _read(user)
        cache.set(_key(user.pk), found, settings.ACCESS_CACHE_SECONDS)
    return found


def forget(user_pks: Iterable[int]) -> None:
    caching.forget(_key(pk) for pk in user_pks)


# --- Signal receivers (connected in apps.py) -------------------------------------------------

def forget_user(sender, instance, **kwargs) -> None:
    """A saved or deleted user: active, superuser or staff may have changed."""
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return
    forget([instance.pk])


CHANGED = ("post_add", "post_remove", "post_clear")


def forget_members(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A change to a user's groups or own permissions, made from either side."""
    if not reverse:  # the user's side
        if action in CHANGED:
            forget([instance.pk])
    elif action in ("post_add", "post_remove"):  # the group's or permission's: pk_set the users
        forget(pk_set)
    elif action == "pre_clear":  # read before the links go
        forget(_users_linked_to(instance))


def forget_group_permissions(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A change to a group's permissions, made from either side."""
    if not reverse:  # the group's side
        groups = [instance.pk] if action in CHANGED else []
    elif action in ("post_add", "post_remove"):  # the permission's: pk_set the groups
        groups = list(pk_set)
    elif action == "pre_clear":
        groups = list(instance.group_set.values_list("pk", flat=True))
    else:
        groups = []
    if groups:
        forget(_members_of_groups(groups))


def forget_group(sender, instance, **kwargs) -> None:
    """A group renamed (its role) or about to be deleted: every member's roles."""
    forget(_members_of_groups([instance.pk]))


def _users_linked_to(instance) -> list[int]:
    from django.contrib.auth.models import Group

    link = "groups" if isinstance(instance, Group) else "user_permissions"
    return list(get_user_model().objects.filter(**{link: instance}).values_list("pk", flat=True))


def _members_of_groups(group_pks: list[int]) -> list[int]:
    return list(get_user_model().objects.filter(groups__in=group_pks)
                .values_list("pk", flat=True).distinct())
