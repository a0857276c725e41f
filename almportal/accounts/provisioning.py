"""SCIM provisioning: the identity provider creates, changes and deactivates people and the
groups they belong to. Each change is recorded with the provisioning client as actor; group
changes change roles (through the group-to-role mapping); a deactivation revokes the person's
API tokens and leaves their agents ownerless, waiting for reassignment."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from ..core.errors import Conflict, DomainError, NotPermitted
from ..core.lifecycle import lock, record
from . import rules
from .identity import directory_roles_sync
from .models import DirectoryGroup, ExternalIdentity, IdentitySource, User
from .services import SYSTEM_USERNAME, account_deactivate

DEACTIVATION_REASON = "Deactivated by the identity provider"


@dataclass
class PersonData:
    """What SCIM may set on a person. None leaves a field as it is."""

    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    external_id: str | None = None
    active: bool | None = None


def _require_provisioner(actor: User) -> None:
    if not rules.may_provision(actor):
        raise NotPermitted("Only the identity provider's service account provisions people.")


def provisioned_people():
    """Everyone SCIM may see: people, not service accounts."""
    return (User.objects.filter(is_service_account=False).exclude(username=SYSTEM_USERNAME)
            .prefetch_related("directory_groups", "external_identities").order_by("pk"))


def _check_username(username: str, user: User | None) -> str:
    username = username.strip()
    if not username or len(username) > 150:
        raise DomainError("userName is required, at most 150 characters.", field="userName")
    clash = User.objects.filter(username__iexact=username)
    if user is not None:
        clash = clash.exclude(pk=user.pk)
    if clash.exists():
        raise Conflict("A user with this userName already exists.", field="userName")
    return username


def _apply(user: User, data: PersonData) -> None:
    if data.username is not None:
        user.username = _check_username(data.username, user if user.pk else None)
    for name in ("first_name", "last_name"):
        value = getattr(data, name)
        if value is not None:
            setattr(user, name, value.strip()[:150])
    if data.email is not None:
        user.email = data.email.strip()[:254]


def _link(*, actor: User, user: User, external_id: str | None) -> None:
    subject = (external_id or "").strip() or user.username
    link = ExternalIdentity.objects.filter(user=user, source=IdentitySource.SCIM).first()
    if link is not None and link.subject == subject:
        return
    if ExternalIdentity.objects.filter(source=IdentitySource.SCIM, subject=subject).exclude(
            user=user).exists():
        raise Conflict("Another user has this externalId.", field="externalId")
    link = link or ExternalIdentity(user=user, source=IdentitySource.SCIM)
    link.subject = subject
    record(link, actor=actor, reason="Linked by the identity provider")


@transaction.atomic
def person_create(*, actor: User, data: PersonData) -> User:
    _require_provisioner(actor)
    if data.username is None:
        raise DomainError("userName is required.", field="userName")
    user = User()
    _apply(user, data)
    user.is_active = data.active is not False
    user.set_unusable_password()  # they sign in through the identity provider
    record(user, actor=actor, reason="Provisioned by the identity provider")
    _link(actor=actor, user=user, external_id=data.external_id)
    return user


@transaction.atomic
def person_update(*, actor: User, user: User, data: PersonData) -> User:
    """Change what SCIM sent; active=false deactivates (tokens revoked, agents ownerless)."""
    _require_provisioner(actor)
    user = lock(User, user.pk)
    if user.is_service_account or user.username == SYSTEM_USERNAME:
        raise NotPermitted("Service accounts are not provisioned.")
    before = (user.username, user.first_name, user.last_name, user.email)
    _apply(user, data)
    if data.active is True and not user.is_active:
        user.is_active = True
        record(user, actor=actor, reason="Reactivated by the identity provider")
    elif (user.username, user.first_name, user.last_name, user.email) != before:
        record(user, actor=actor, reason="Updated by the identity provider")
    _link(actor=actor, user=user, external_id=data.external_id)
    if data.active is False:
        user = account_deactivate(actor=actor, user=user, reason=DEACTIVATION_REASON)
    return user


# --- Groups --------------------------------------------------------------------------------------

def directory_groups():
    return DirectoryGroup.objects.filter(active=True).prefetch_related("members").order_by("pk")


def _check_display_name(name: str, group: DirectoryGroup | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise DomainError("displayName is required, at most 200 characters.", field="displayName")
    clash = DirectoryGroup.objects.filter(active=True, display_name=name)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if clash.exists():
        raise Conflict("A group with this displayName already exists.", field="displayName")
    return name


def _resync(actor: User, users: Iterable[User], reason: str) -> None:
    for user in {u.pk: u for u in users}.values():
        directory_roles_sync(actor=actor, user=user, reason=reason)


@transaction.atomic
def group_create(*, actor: User, display_name: str, external_id: str = "",
                 members: Iterable[User] = ()) -> DirectoryGroup:
    _require_provisioner(actor)
    group = DirectoryGroup(display_name=_check_display_name(display_name, None),
                           external_id=(external_id or "").strip()[:200])
    record(group, actor=actor, reason="Group created by the identity provider")
    members = list(members)
    if members:
        group.members.add(*members)
        record(group, actor=actor, reason=_members_reason(added=members, removed=[]))
    _resync(actor, members, f"Added to group {group.display_name}")
    return group


def _members_reason(*, added: list[User], removed: list[User]) -> str:
    parts = []
    if added:
        parts.append("added " + ", ".join(u.username for u in added))
    if removed:
        parts.append("removed " + ", ".join(u.username for u in removed))
    return "Members changed by the identity provider: " + "; ".join(parts)


@transaction.atomic
def group_update(*, actor: User, group: DirectoryGroup, display_name: str | None = None,
                 add: Iterable[User] = (), remove: Iterable[User] = (),
                 replace: Iterable[User] | None = None) -> DirectoryGroup:
    """Rename the group and change its members; each member whose groups changed has their
    roles brought in line (and so does everyone, on a rename)."""
    _require_provisioner(actor)
    group = lock(DirectoryGroup, group.pk)
    current = {u.pk: u for u in group.members.all()}
    target = dict(current)
    if replace is not None:
        target = {u.pk: u for u in replace}
    target.update({u.pk: u for u in add})
    for user in remove:
        target.pop(user.pk, None)
    added = [u for pk, u in target.items() if pk not in current]
    removed = [u for pk, u in current.items() if pk not in target]
    renamed = display_name is not None and display_name.strip() != group.display_name
    if renamed and display_name is not None:
        group.display_name = _check_display_name(display_name, group)
        record(group, actor=actor, reason="Group renamed by the identity provider")
    if added or removed:
        group.members.add(*added)
        group.members.remove(*removed)
        record(group, actor=actor, reason=_members_reason(added=added, removed=removed))
    changed = list(target.values()) + removed if renamed else added + removed
    _resync(actor, changed, f"Group {group.display_name} changed")
    return group


@transaction.atomic
def group_delete(*, actor: User, group: DirectoryGroup) -> None:
    """Kept as history, inactive; its members lose the roles it gave."""
    _require_provisioner(actor)
    group = lock(DirectoryGroup, group.pk)
    members = list(group.members.all())
    group.active = False
    record(group, actor=actor, reason="Group deleted by the identity provider")
    _resync(actor, members, f"Group {group.display_name} deleted")
