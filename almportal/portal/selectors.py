"""What each role's home page gathers: small queries over the lower apps' selectors."""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ..accounts.models import ApiToken, User
from ..inventory.choices import GrantMode, ReleaseState, Stage
from ..inventory.models import Agent, AgentUserObjectPermission, Credential, Release
from ..inventory.selectors import agents_visible_to

EXPIRY_WINDOW = timedelta(days=30)


def agents_in_my_care(user: User) -> QuerySet[Agent]:
    """Agents the user owns or is a delegate on."""
    delegated = AgentUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user=user, permission__codename="change_agent")
    return (Agent.objects.select_related("business_owner")
            .filter(Q(business_owner=user) | Q(Exists(delegated))))


def waiting_for_owner(user: User) -> QuerySet[Agent]:
    """Intakes the owner has to act on: drafts to submit, declined intakes to revise."""
    return agents_in_my_care(user).filter(stage__in=[Stage.DRAFT, Stage.DECLINED])


def intakes_to_triage(user: User) -> QuerySet[Agent]:
    return (agents_visible_to(user).filter(stage=Stage.PROPOSED)
            .order_by("updated_at"))


def stage_counts(agents: QuerySet[Agent]) -> list[tuple[str, str, int]]:
    """(stage, label, count) for every stage, zeros included, in lifecycle order."""
    counted = dict(agents.order_by().values_list("stage").annotate(n=Count("pk")))
    return [(stage, label, counted.get(stage, 0)) for stage, label in Stage.choices]


def live_grants(user: User) -> QuerySet[Credential]:
    return (Credential.objects.filter(agent__in=agents_visible_to(user), revoked_at__isnull=True)
            .select_related("agent"))


def credentials_expiring(user: User, within: timedelta = EXPIRY_WINDOW) -> QuerySet[Credential]:
    return live_grants(user).filter(expires_at__isnull=False,
                                    expires_at__lte=timezone.now() + within).order_by("expires_at")


def standing_grants(user: User) -> QuerySet[Credential]:
    return live_grants(user).filter(mode=GrantMode.STANDING).order_by("agent__name", "name")


def recent_changes(user: User, limit: int = 15):
    """The latest history rows of agent records the user may see."""
    return (Agent.history.filter(id__in=agents_visible_to(user).values("pk"))
            .select_related("history_user").order_by("-history_date")[:limit])


def totals() -> dict[str, int]:
    return {
        "agents": Agent.objects.count(),
        "releases": Release.objects.count(),
        "releases_in_review": Release.objects.filter(state=ReleaseState.SUBMITTED).count(),
        "users": User.objects.filter(is_service_account=False).count(),
        "service_accounts": User.objects.filter(is_service_account=True).count(),
        "active_tokens": ApiToken.objects.filter(revoked_at__isnull=True,
                                                 expires_at__gt=timezone.now()).count(),
    }
