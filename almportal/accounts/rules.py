"""Identity decisions, pure: who may provision, which roles a person's identity-provider groups
grant, who needs a second factor, when a session has run out."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from .roles import Role


def may_provision(actor) -> bool:
    """The identity provider acts as a service account (with a SCIM-scoped token); admins may
    do the same by hand."""
    return actor.is_active and (actor.is_service_account or actor.has_role(Role.ADMIN))


def may_manage_identity(actor) -> bool:
    """Editing the group-to-role mapping, unlocking sign-ins: admins."""
    return actor.is_active and actor.has_role(Role.ADMIN)


def roles_for_idp_groups(groups: Iterable[str],
                         mappings: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The roles that active (group, role) mappings grant to a member of these groups."""
    member_of = set(groups)
    return frozenset(role for group, role in mappings if group in member_of)


def second_factor_required(user, required_roles: Iterable[str]) -> bool:
    """The policy names roles that sign off or administer; holding any of them needs a second
    factor. Service accounts never sign in to pages, so the policy does not reach them."""
    return not user.is_service_account and bool(user.roles & set(required_roles))


def idp_used_second_factor(amr, trusted: Iterable[str]) -> bool:
    """Whether the identity provider says (in the ID token's `amr` claim) that the person
    signed in there with a method the portal trusts as a second factor."""
    return isinstance(amr, list) and bool(set(map(str, amr)) & set(trusted))


def session_expiry(*, started: datetime, last_seen: datetime, now: datetime,
                   idle: timedelta, lifetime: timedelta) -> str | None:
    """Why the session has ended, or None while it is still good."""
    if now - started >= lifetime:
        return "Your session reached its maximum length. Please log in again."
    if now - last_seen >= idle:
        return "You were logged out after a period of inactivity. Please log in again."
    return None
