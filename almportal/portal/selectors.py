"""What each role's home page gathers: small queries over the lower apps' selectors."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from ..accounts.models import ApiToken, User
from ..audit.models import LedgerEntry
from ..audit.selectors import ledger_head, recent_exports, recent_verifications
from ..core import lists
from ..core.lists import Shortlist
from ..inventory.choices import GrantMode, Stage
from ..inventory.models import Agent, Credential
from ..inventory.selectors import agents_in_care_of, agents_visible_to, visible_through
from ..operations.choices import IncidentStatus, RuntimeState
from ..operations.models import Alert, Incident
from ..operations.selectors import incidents_of, incidents_visible_to, production, runtime_status
from ..releases.choices import ReleaseState
from ..releases.models import Release
from ..releases.selectors import releases_of, releases_visible_to
from ..reviews.models import UNFINISHED_STATES
from ..reviews.selectors import agent_review_status, reviews_visible_to
from ..reviews.work import intakes_to_triage
from ..risk.selectors import assessment_status

EXPIRY_WINDOW = timedelta(days=30)


def stage_counts(agents: QuerySet[Agent]) -> list[tuple[str, str, int]]:
    """(stage, label, count) for every stage, zeros included, in lifecycle order."""
    counted = dict(agents.order_by().values_list("stage").annotate(n=Count("pk")))
    return [(stage, label, counted.get(stage, 0)) for stage, label in Stage.choices]


def live_grants(user: User) -> QuerySet[Credential]:
    return (Credential.objects.filter(visible_through(user), revoked_at__isnull=True)
            .select_related("agent"))


def credentials_expiring(user: User, within: timedelta = EXPIRY_WINDOW) -> QuerySet[Credential]:
    return live_grants(user).filter(expires_at__isnull=False,
                                    expires_at__lte=timezone.now() + within).order_by("expires_at")


def standing_grants(user: User) -> QuerySet[Credential]:
    """Standing grants, held longest first (the first to question)."""
    return live_grants(user).filter(mode=GrantMode.STANDING).order_by("created_at", "pk")


def recent_changes(user: User, limit: int = 15):
    """The latest history rows of agent records the user may see."""
    return (Agent.history.filter(visible_through(user, "id"))
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


# --- Role home pages -------------------------------------------------------------------------

def open_incidents(user: User, of: QuerySet[Agent] | None = None) -> QuerySet[Incident]:
    """Unresolved incidents of the agents the user sees, or of `of` (some of those)."""
    incidents = incidents_visible_to(user) if of is None else incidents_of(of)
    return incidents.exclude(status=IncidentStatus.RESOLVED).order_by("-opened_at", "-pk")


def releases_in_review(user: User, of: QuerySet[Agent] | None = None) -> QuerySet[Release]:
    """Releases under sign-off of the agents the user sees, or of `of` (some of those),
    whoever signs them next: My work lists the sign-offs the rule lets this user give."""
    releases = releases_visible_to(user) if of is None else releases_of(of)
    return releases.filter(state=ReleaseState.SUBMITTED).order_by("submitted_at", "pk")


def overdue_reviews(user: User, now=None) -> QuerySet:

    return (reviews_visible_to(user).filter(state__in=UNFINISHED_STATES,
                                            due_at__lte=now or timezone.now())
            .order_by("due_at", "pk"))


def owner_home(user: User) -> dict:
    """The agents in the user's care, and their releases and incidents: agents in someone's
    care are theirs to see (inventory.rules grants care only with sight), so no second test
    of their grants."""
    mine = agents_in_care_of(user)
    counts = stage_counts(mine)
    return {
        "agents": Shortlist(mine.order_by("name")[:lists.SHORTLIST], sum(n for _, _, n in counts)),
        "counts": counts,
        "in_review": Shortlist.of(releases_in_review(user, of=mine)),
        "incidents": Shortlist.of(open_incidents(user, of=mine)),
    }


def fleet_counts(user: User) -> list[tuple[str, str, int]]:
    """The stage counts of every agent the user sees (the oversight roles' home sections)."""
    return stage_counts(agents_visible_to(user))


def compliance_home(user: User, counts: list[tuple[str, str, int]]) -> dict:
    """Oversight beside the work itself (the intakes to triage, sign-offs, assessments and
    reports the home page shows from My work's sections); `counts` from fleet_counts."""
    return {
        "intakes": Shortlist.of(intakes_to_triage(user)),
        "overdue_reviews": Shortlist.of(overdue_reviews(user)),
        "incidents": Shortlist.of(open_incidents(user)),
        "counts": counts,
    }


def security_home(user: User) -> dict:
    return {"expiring": Shortlist.of(credentials_expiring(user)),
            "standing": Shortlist.of(standing_grants(user)),
            "live": live_grants(user).count()}


@dataclass
class LedgerStatus:
    entries: int
    head_seq: int
    head_hash: str
    last_run: object | None


def ledger_status() -> LedgerStatus:

    head = ledger_head()
    runs = recent_verifications(limit=1)
    return LedgerStatus(LedgerEntry.objects.count(), head.seq, head.hash,
                        runs[0] if runs else None)


def recent_ledger_entries(limit: int = 15) -> list:

    return list(LedgerEntry.objects.order_by("-seq")[:limit])


def auditor_home(user: User, counts: list[tuple[str, str, int]]) -> dict:

    return {
        "changes": recent_ledger_entries(),
        "ledger": ledger_status(),
        "exports": recent_exports(limit=10),
        "counts": counts,
    }


# --- The agent page's summary ----------------------------------------------------------------

@dataclass
class AgentSummary:
    current_release: Release | None
    gate: object | None
    deployed_release: Release | None
    runtime_state: str
    runtime_label: str
    open_alerts: int
    open_incidents: int
    assessment: object
    review: object


def agent_summary(agent: Agent, gate_of: Callable | None = None) -> AgentSummary:
    """The header of the agent page: where the agent stands in each area; `gate_of(release)` is
    the releases area's production gate of the release in progress (asked by the caller, so
    this module reads and never imports a services module)."""
    releases = list(agent.releases.filter(state__in=[ReleaseState.SUBMITTED,
                                                     ReleaseState.APPROVED,
                                                     ReleaseState.DEPLOYED])
                    .order_by("-number"))
    current = next((r for r in releases if r.state != ReleaseState.DEPLOYED), None)
    deployed = next((r for r in releases if r.state == ReleaseState.DEPLOYED), None)
    environment = production()
    state = (runtime_status(agent, environment).state if environment is not None
             else RuntimeState.NOT_DEPLOYED)
    return AgentSummary(
        current_release=current,
        gate=gate_of(current) if current is not None and gate_of else None,
        deployed_release=deployed,
        runtime_state=str(state),
        runtime_label=RuntimeState(state).label,
        open_alerts=Alert.objects.filter(agent=agent, cleared_at__isnull=True).count(),
        open_incidents=Incident.objects.filter(agent=agent).exclude(
            status=IncidentStatus.RESOLVED).count(),
        assessment=assessment_status(agent),
        review=agent_review_status(agent),
    )
