"""People the identity provider manages: the group-to-role mapping, roles that follow its
groups, single sign-on accounts, and sign-in unlocks. Every change is recorded with its actor."""

from collections.abc import Iterable

from axes.utils import reset as axes_reset
from django.contrib.auth.models import Group
from django.db import transaction

from ..core.errors import DomainError, NotPermitted
from ..core.lifecycle import lock, record
from . import rules
from .models import DirectoryGroup, ExternalIdentity, GroupRoleMapping, IdentitySource, User
from .roles import GROUP_NAMES, ROLE_BY_GROUP_NAME, Role
from .services import system_user


def _require_identity_admin(actor: User) -> None:
    if not rules.may_manage_identity(actor):
        raise NotPermitted("Only admins manage sign-in and identity provider settings.")


def active_mappings() -> list[tuple[str, str]]:
    return list(GroupRoleMapping.objects.filter(active=True).values_list("idp_group", "role"))


@transaction.atomic
def role_mapping_save(*, actor: User, idp_group: str, role: str, active: bool = True,
                      mapping: GroupRoleMapping | None = None,
                      reason: str = "") -> GroupRoleMapping:
    """Create or change a mapping, then bring the roles of the provisioned members of the
    groups it names (before and after) in line with it."""
    _require_identity_admin(actor)
    idp_group = (idp_group or "").strip()
    if not idp_group:
        raise DomainError("Name the identity provider group.", field="idp_group")
    if role not in Role.values:
        raise DomainError("Choose one of the roles.", field="role")
    taken = GroupRoleMapping.objects.filter(idp_group=idp_group, role=role)
    if mapping is not None:
        taken = taken.exclude(pk=mapping.pk)
    if taken.exists():
        raise DomainError("This group already maps to this role.", field="idp_group")
    mapping = lock(GroupRoleMapping, mapping.pk) if mapping else GroupRoleMapping()
    groups_before = {mapping.idp_group} if mapping.pk else set()
    mapping.idp_group, mapping.role, mapping.active = idp_group, role, active
    record(mapping, actor=actor, reason=reason or "Group role mapping saved")
    for user in User.objects.filter(directory_groups__active=True,
                                    directory_groups__display_name__in=groups_before | {idp_group}
                                    ).distinct():
        directory_roles_sync(actor=actor, user=user, reason="Group role mapping changed")
    return mapping


def idp_roles_apply(*, actor: User, user: User, idp_groups: Iterable[str], reason: str) -> bool:
    """Give a managed person exactly the roles their identity-provider groups map to. Other
    Django groups are left alone. True when anything changed."""
    wanted = rules.roles_for_idp_groups(idp_groups, active_mappings())
    role_groups = {g.name: g for g in Group.objects.filter(name__in=GROUP_NAMES.values())}
    current = {ROLE_BY_GROUP_NAME[g.name] for g in user.groups.all() if g.name in role_groups}
    added, removed = wanted - current, current - wanted
    if not added and not removed and user.is_staff == (Role.ADMIN in wanted):
        return False
    user.groups.add(*(role_groups[GROUP_NAMES[role]] for role in added))
    user.groups.remove(*(role_groups[GROUP_NAMES[role]] for role in removed))
    user.is_staff = Role.ADMIN in wanted
    user.__dict__.pop("roles", None)  # the cached roles are stale now
    labels = ", ".join(sorted(Role(role).label for role in wanted)) or "none"
    record(user, actor=actor, reason=f"{reason}: roles now {labels}")
    return True


def directory_roles_sync(*, actor: User, user: User, reason: str) -> bool:
    """Roles from the SCIM groups the person belongs to."""
    names = DirectoryGroup.objects.filter(active=True, members=user).values_list(
        "display_name", flat=True)
    return idp_roles_apply(actor=actor, user=user, idp_groups=list(names), reason=reason)


# --- Single sign-on ------------------------------------------------------------------------------

def _claim_str(claims: dict, name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _claim_groups(claims: dict, name: str) -> list[str]:
    value = claims.get(name) or []
    if isinstance(value, str):
        value = [value]
    return [str(group) for group in value if isinstance(group, str | int)]


def sso_user_for(*, claims: dict, username_claim: str, groups_claim: str) -> User:
    """The person these verified claims describe: found by their subject, else by username
    (a person provisioned over SCIM signing in for the first time), else created. Their
    roles then follow the groups in the claims."""
    subject = _claim_str(claims, "sub")
    username = _claim_str(claims, username_claim) or _claim_str(claims, "email") or subject
    if not subject or not username:
        raise DomainError("The identity provider sent no subject or username.")
    actor = system_user()
    with transaction.atomic():
        link = (ExternalIdentity.objects.select_related("user")
                .filter(source=IdentitySource.OIDC, subject=subject).first())
        user = link.user if link else User.objects.filter(username__iexact=username).first()
        if user is None:
            user = _sso_user_create(actor=actor, username=username, claims=claims)
        if user.is_service_account or not user.is_active:
            raise DomainError("This account may not sign in.")
        if link is None:
            link = ExternalIdentity(user=user, source=IdentitySource.OIDC, subject=subject)
            record(link, actor=actor, reason="Linked at single sign-on")
        idp_roles_apply(actor=actor, user=user, idp_groups=_claim_groups(claims, groups_claim),
                        reason="Groups sent at single sign-on")
    return user


def _sso_user_create(*, actor: User, username: str, claims: dict) -> User:
    user = User(username=username[:150], email=_claim_str(claims, "email")[:254],
                first_name=_claim_str(claims, "given_name")[:150],
                last_name=_claim_str(claims, "family_name")[:150])
    user.set_unusable_password()  # they sign in through the identity provider
    record(user, actor=actor, reason="Account created at first single sign-on")
    return user


# --- Sign-in lockout ------------------------------------------------------------------------------

@transaction.atomic
def sign_in_unlock(*, actor: User, user: User) -> int:
    """Lift a lockout on this account's sign-in (failed attempts from any address for its
    username). Returns how many attempt records were cleared."""
    _require_identity_admin(actor)
    cleared = axes_reset(username=user.get_username())
    record(lock(User, user.pk), actor=actor, reason="Sign-in unlocked after failed attempts")
    return cleared
