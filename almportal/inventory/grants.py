"""Guardian's per-agent permission rows are read here and nowhere else: who holds which right on
which agent, directly or through a group, now and in the grants' history.

"Who takes care of this agent" has one answer, `caretakers`: the active business owner, the
delegates (a direct `change_agent` grant) and every active person in a group holding
`change_agent` on it. Services write grant rows (`unsaved_grant`, `grants_of`); pages, finders,
reminders and the evidence pack ask the functions below."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import In

from ..accounts.models import User
from .models import Agent
from .models import AgentGroupObjectPermission as GroupGrant
from .models import AgentUserObjectPermission as UserGrant

CARE = "change_agent"
# The model labels the evidence pack lists the grants section under.
USER_GRANT_LABEL = UserGrant._meta.label_lower


def agents_granted(user: User, perm: str) -> Q:
    """Agents on which `user` holds `perm`, directly or through one of their groups. Starts
    from the user's own rows (indexed by user): the cost follows the grants, not the fleet."""
    direct = UserGrant.objects.filter(user=user, permission__codename=perm)
    via_group = GroupGrant.objects.filter(group__in=user.groups.all(), permission__codename=perm)
    return (Q(pk__in=direct.values("content_object_id"))
            | Q(pk__in=via_group.values("content_object_id")))


def in_care_of(user: User) -> Q:
    """Agents `user` takes care of: as business owner, delegate or member of a caring group.
    Each grant set is read once (a hashed list), not probed agent by agent."""
    direct = UserGrant.objects.filter(user=user, permission__codename=CARE)
    via_group = GroupGrant.objects.filter(group__in=user.groups.all(), permission__codename=CARE)
    return (Q(business_owner=user) | Q(pk__in=direct.values("content_object_id"))
            | Q(pk__in=via_group.values("content_object_id")))


def is_delegate(user: User, agent: str = "agent_id") -> Exists:
    """Whether `user` holds a direct `change_agent` grant now on the agent of each outer row
    (its column `agent`): the database side of delegate_ids."""
    return Exists(UserGrant.objects.filter(content_object_id=OuterRef(agent), user=user,
                                           permission__codename=CARE))


def was_delegate(user: User, agent: str = "agent_id", at: str = "submitted_at") -> Q:
    """Whether `user` held that grant at each outer row's moment `at`: the last history row of
    the grant up to then was not its removal (the database side of delegate_history)."""
    last = (UserGrant.history.filter(content_object_id=OuterRef(agent), user=user,
                                     permission__codename=CARE, history_date__lte=OuterRef(at))
            .order_by("-history_date", "-history_id").values("history_type")[:1])
    return Q(In(Coalesce(Subquery(last), Value("")), ["+", "~"]))  # never NULL: it is negated


def caretakers(agent_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active people who take care of each agent. Four queries however many agents; each
    person is loaded once however many agents they care for (a reminder scan passes
    thousands)."""
    ids = list(agent_ids)
    pairs = list(Agent.objects.filter(pk__in=ids).values_list("pk", "business_owner_id"))
    pairs += UserGrant.objects.filter(content_object_id__in=ids, permission__codename=CARE
                                      ).values_list("content_object_id", "user_id")
    pairs += GroupGrant.objects.filter(
        content_object_id__in=ids, permission__codename=CARE, group__user__isnull=False,
    ).values_list("content_object_id", "group__user")
    users = User.objects.filter(is_active=True, is_service_account=False).in_bulk(
        {user_id for _, user_id in pairs})
    people: dict[int, dict[int, User]] = {pk: {} for pk in ids}
    for agent_id, user_id in pairs:
        if user_id in users:
            people[agent_id][user_id] = users[user_id]
    return {pk: sorted(found.values(), key=lambda u: u.username)
            for pk, found in people.items()}


def agent_caretakers(agent: Agent) -> list[User]:
    return caretakers([agent.pk])[agent.pk]


def delegate_ids(agent_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per agent, who holds a direct `change_agent` grant now (owner included)."""
    held: dict[int, set[int]] = defaultdict(set)
    for agent_id, user_id in UserGrant.objects.filter(
            content_object_id__in=list(agent_ids), permission__codename=CARE,
    ).values_list("content_object_id", "user_id"):
        held[agent_id].add(user_id)
    return held


def delegate_history(agent_ids: Iterable[int], until: datetime) -> list[tuple]:
    """The direct `change_agent` grants' history rows up to `until`, oldest first, as
    (agent_id, user_id, history_type, history_date)."""
    return list(UserGrant.history.filter(
        content_object_id__in=list(agent_ids), permission__codename=CARE,
        history_date__lte=until).order_by("history_date", "history_id")
        .values_list("content_object_id", "user_id", "history_type", "history_date"))


def agent_delegates(agent: Agent) -> list[User]:
    """The people with a direct `change_agent` grant, the business owner left out."""
    rows = UserGrant.objects.filter(content_object=agent, permission__codename=CARE)
    if agent.business_owner_id is not None:
        rows = rows.exclude(user_id=agent.business_owner_id)
    ids = rows.values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("username"))


def rights_of(agent: Agent, user: User, codenames: Iterable[str]) -> list[str]:
    """Which of these rights `user` holds directly on `agent`, sorted."""
    return sorted(UserGrant.objects.filter(
        content_object=agent, user=user, permission__codename__in=list(codenames),
    ).values_list("permission__codename", flat=True))


def service_accounts_holding(agent: Agent, codenames: Iterable[str]
                             ) -> list[tuple[User, list[str]]]:
    """The service accounts holding some of these rights on the agent, each with its rights."""
    rows = (UserGrant.objects.filter(content_object=agent, permission__codename__in=codenames,
                                     user__is_service_account=True)
            .select_related("user", "permission")
            .order_by("user__username", "permission__codename"))
    found: dict[int, tuple[User, list[str]]] = {}
    for row in rows:
        found.setdefault(row.user_id, (row.user, []))[1].append(row.permission.codename)
    return list(found.values())


def grants_of(agent: Agent, user: User | None = None) -> QuerySet[UserGrant]:
    """The direct grant rows on `agent` (of one user, or of everyone), with user and right."""
    rows = UserGrant.objects.filter(content_object=agent).select_related("user", "permission")
    return rows.filter(user=user) if user is not None else rows


def unsaved_grant(agent: Agent, user: User, permission) -> UserGrant:
    """A new direct grant row, for a service to record with its actor and reason."""
    return UserGrant(content_object=agent, user=user, permission=permission)


def grant_history(agent_id: int):
    """The direct grants' history rows of one agent, with their right."""
    return UserGrant.history.filter(content_object_id=agent_id).select_related("permission")


def grants_as_of(agent_id: int, at: datetime) -> Iterable[UserGrant]:
    """The direct grants on an agent as they stood at `at` (removed ones left out)."""
    return (UserGrant.history.filter(history_date__lte=at, content_object_id=agent_id)
            .latest_of_each().as_instances())
