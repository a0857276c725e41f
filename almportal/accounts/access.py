"""What every signed-in request reads about its user: the roles and the model permissions they
give. Both are kept in the cache between requests, so a page does not query for them each time.

A cached answer is dropped whenever something it depends on changes through Django (the user
row, their groups, their own permissions, a group's permissions: see `forget_*` below, connected
in apps.py), and in any case lives at most ACCESS_CACHE_SECONDS, the bound for a change made
outside Django (raw SQL on the database). Object permissions (django-guardian) are not cached.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from ..core import caching
from .roles import ROLE_BY_GROUP_NAME, Role

KINDS = ("roles", "permissions")


def _key(kind: str, user_pk: int) -> str:
    return f"access:{kind}:{user_pk}"


def _cached(kind: str, user, read: Callable[[Any], frozenset[str]]) -> frozenset[str]:
    """Each kind on its own, so that a page asking another person's roles reads only those."""
    if not user.is_active:
        return frozenset()
    return caching.remembered(_key(kind, user.pk), lambda: read(user),
                              settings.ACCESS_CACHE_SECONDS)


def _read_roles(user) -> frozenset[str]:
    names = user.groups.values_list("name", flat=True)
    roles = {ROLE_BY_GROUP_NAME[name] for name in names if name in ROLE_BY_GROUP_NAME}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return frozenset(roles)


def _read_permissions(user) -> frozenset[str]:
    """"app_label.codename" of the user's own and their groups' permissions (every one for a
    superuser), as Django's ModelBackend reads them."""
    from django.contrib.auth.backends import ModelBackend

    backend = ModelBackend()
    return frozenset(backend.get_user_permissions(user) | backend.get_group_permissions(user))


def roles_of(user) -> frozenset[str]:
    """An active user's roles; none for an inactive one."""
    return _cached("roles", user, _read_roles)


def permissions_of(user) -> frozenset[str]:
    """An active user's model permissions; none for an inactive one."""
    return _cached("permissions", user, _read_permissions)


def forget(user_pks: Iterable[int]) -> None:
    caching.forget(_key(kind, pk) for pk in user_pks for kind in KINDS)


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
