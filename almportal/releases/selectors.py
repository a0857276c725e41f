"""Read queries for the readiness pages, the API, the inbox and other apps' pages. What a user may
see follows the releases they may see (inventory.selectors.releases_visible_to)."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from ..accounts.models import User
from ..inventory.choices import ReleaseState
from ..inventory.models import Agent, Release
from ..inventory.selectors import agents_visible_to, releases_visible_to
from ..risk.models import TierPolicy
from .choices import METRICS, Decision, ItemStatus
from .models import ChecklistItem, EvaluationRun, EvaluationSuite, Evidence, SignOff


def checklist_items_visible_to(user: User) -> QuerySet[ChecklistItem]:
    return ChecklistItem.objects.filter(release__in=releases_visible_to(user)).select_related(
        "release__agent", "owner", "reviewer", "reviewed_by")


def evidence_visible_to(user: User) -> QuerySet[Evidence]:
    return Evidence.objects.filter(item__release__in=releases_visible_to(user)).select_related(
        "item__release__agent", "uploaded_by", "evaluation_run__suite")


def suites_visible_to(user: User) -> QuerySet[EvaluationSuite]:
    return EvaluationSuite.objects.filter(agent__in=agents_visible_to(user)).select_related(
        "agent", "created_by")


def runs_visible_to(user: User) -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.filter(release__in=releases_visible_to(user)).select_related(
        "release__agent", "suite", "created_by", "baseline_release")


def signoffs_visible_to(user: User) -> QuerySet[SignOff]:
    return SignOff.objects.filter(release__in=releases_visible_to(user)).select_related(
        "release__agent", "user")


def release_checklist(release: Release) -> list[ChecklistItem]:
    evidence = Evidence.objects.select_related("uploaded_by", "evaluation_run__suite")
    return list(release.checklist_items.select_related("owner", "reviewer", "reviewed_by")
                .prefetch_related(Prefetch("evidence", queryset=evidence)))


def release_runs(release: Release) -> list[EvaluationRun]:
    return list(release.evaluation_runs.select_related("suite", "created_by",
                                                       "baseline_release"))


def release_signoffs(release: Release) -> list[SignOff]:
    return list(release.signoffs.select_related("user").order_by("created_at", "pk"))


def agent_suites(agent: Agent) -> list[EvaluationSuite]:
    return list(agent.evaluation_suites.all())


def releases_in_review(user: User) -> QuerySet[Release]:
    """Releases submitted or approved, with counts for the list page (one query)."""
    return (releases_visible_to(user).filter(state__in=[ReleaseState.SUBMITTED,
                                                        ReleaseState.APPROVED])
            .annotate(
                items_total=Count("checklist_items", distinct=True),
                items_accepted=Count("checklist_items", distinct=True,
                                     filter=Q(checklist_items__status=ItemStatus.ACCEPTED)),
                approvals=Count("signoffs", distinct=True,
                                filter=Q(signoffs__voided_at__isnull=True,
                                         signoffs__decision=Decision.APPROVE)))
            .order_by("-submitted_at", "-pk"))


# --- Trend across releases -----------------------------------------------------------------

@dataclass
class Series:
    metric: str
    label: str
    points: list[tuple[str, float]] = field(default_factory=list)  # (release, value)


def evaluation_trend(suite: EvaluationSuite) -> list[Series]:
    """Per metric of the suite, the latest run's value on each release, oldest release first."""
    latest: dict[int, EvaluationRun] = {}
    for run in (suite.runs.select_related("release").order_by("-created_at", "-pk")):
        latest.setdefault(run.release_id, run)
    runs = sorted(latest.values(), key=lambda r: r.release.number)
    return [Series(key, METRICS[key].label,
                   [(r.release.display_version, r.metrics[key]) for r in runs if key in r.metrics])
            for key in suite.metrics if key in METRICS]


# --- Work waiting ----------------------------------------------------------------------------

@dataclass
class SignoffWaiting:
    release: Release
    roles: list[str]


@dataclass
class Work:
    signoffs: list[SignoffWaiting] = field(default_factory=list)
    items_to_do: list[ChecklistItem] = field(default_factory=list)
    items_to_review: list[ChecklistItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.signoffs) + len(self.items_to_do) + len(self.items_to_review)


def _signoffs_waiting(user: User) -> list[SignoffWaiting]:
    from .services import quorum_counts, roles_to_sign

    policies = {p.tier: p for p in TierPolicy.objects.all()}
    releases = (releases_visible_to(user).filter(state=ReleaseState.SUBMITTED)
                .exclude(submitted_by=user)
                .exclude(signoffs__user=user, signoffs__voided_at__isnull=True)
                .prefetch_related(Prefetch("signoffs", queryset=SignOff.objects.filter(
                    voided_at__isnull=True)))
                .order_by("submitted_at", "pk"))
    waiting = []
    for release in releases:
        policy = policies.get(release.agent.risk_tier)
        counts = quorum_counts(release, policy)
        roles = [r for r in roles_to_sign(user, release, policy) if counts[r][0] < counts[r][1]]
        if roles:
            waiting.append(SignoffWaiting(release, roles))
    return waiting


def work_waiting_for(user: User) -> Work:
    """Sign-offs the user could give, checklist items they own that are open, and items
    waiting for their review: on releases under sign-off they may see."""
    if not (user.is_authenticated and user.is_active):
        return Work()
    items = checklist_items_visible_to(user).filter(release__state=ReleaseState.SUBMITTED)
    return Work(
        signoffs=_signoffs_waiting(user),
        items_to_do=list(items.filter(owner=user, status=ItemStatus.OPEN)),
        items_to_review=list(items.filter(reviewer=user, status=ItemStatus.IN_REVIEW)),
    )
