"""Read queries for the reviews pages, API, tasks and other apps' pages. Each owns its
select_related/prefetch; lists for many agents run in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import GROUP_NAMES, Role
from ..core.lists import Shortlist
from ..inventory import grants
from ..inventory.choices import RiskTier, Stage
from ..inventory.models import COMPONENT_MODELS, Agent, Credential, DataSource, Tool
from ..inventory.selectors import visible_through
from ..releases.choices import Decision as SignDecision
from ..releases.choices import ReleaseState
from ..releases.models import Release, SignOff
from ..releases.selectors import releases_visible_to
from ..risk.models import TierPolicy
from ..risk.selectors import policies_by_tier
from .models import (
    UNFINISHED_STATES,
    AccessReview,
    Decision,
    GrantKind,
    ReviewItem,
    ReviewState,
    RevocationTask,
    TaskState,
)
from .rules import is_compliance

# A review opens this long before it falls due, so the owner has time to certify.
REVIEW_LEAD = timedelta(days=14)
# However late a review opens, its owner has at least this long before it escalates.
MIN_REVIEW_WINDOW = timedelta(days=7)
# Used only when no tier policy exists at all.
DEFAULT_REVIEW_DAYS = 90
DEFAULT_DORMANCY_DAYS = 30


# --- Policy ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cadence:
    """Days between access reviews and days of silence before dormancy, per tier. An agent
    without an assessed tier follows the strictest policy until it is assessed."""

    review_days: dict[str, int]
    dormancy_days: dict[str, int]

    def review_for(self, tier: str) -> int:
        return self.review_days.get(tier) or min(self.review_days.values(),
                                                 default=DEFAULT_REVIEW_DAYS)

    def dormancy_for(self, tier: str) -> int:
        return self.dormancy_days.get(tier) or min(self.dormancy_days.values(),
                                                   default=DEFAULT_DORMANCY_DAYS)


def cadence() -> Cadence:
    policies = policies_by_tier()
    return Cadence({t: p.access_review_days for t, p in policies.items()},
                   {t: p.dormancy_days for t, p in policies.items()})


# --- Which reviews are due -------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    agent_id: int
    tier: str
    due_on: date


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def review_deadline(due_on: date, now: datetime) -> datetime:
    return max(end_of_day(due_on), now + MIN_REVIEW_WINDOW)


def next_due_on(*, tier_days: int, last_completed: datetime | None, last_due_on: date | None,
                next_review_at: date | None, created_at: datetime) -> date:
    """When the agent's next review falls due: its tier's period after the last completed
    review (counted from its due date when it was completed early, so that each period is
    reviewed once); before any review, the agent's next review date, else a period after
    intake."""
    if last_completed is not None:
        start = max(timezone.localdate(last_completed), last_due_on or date.min)
        return start + timedelta(days=tier_days)
    if next_review_at is not None:
        return next_review_at
    return timezone.localdate(created_at) + timedelta(days=tier_days)


def agents_due_for_review(now: datetime, *, agent_ids=None) -> list[Due]:
    """Live agents without an unfinished review whose next review falls due within the lead
    time. Two queries, however many agents."""
    policy = cadence()
    last_completed = (AccessReview.objects.filter(agent=OuterRef("pk"),
                                                  state=ReviewState.COMPLETED)
                      .order_by("-due_on"))
    unfinished = AccessReview.objects.filter(agent=OuterRef("pk"), state__in=UNFINISHED_STATES)
    agents = (Agent.objects.filter(stage=Stage.LIVE).order_by()
              .annotate(last_done=Subquery(last_completed.values("completed_at")[:1]),
                        last_due_on=Subquery(last_completed.values("due_on")[:1]),
                        busy=Exists(unfinished))
              .filter(busy=False))
    if agent_ids is not None:
        agents = agents.filter(pk__in=agent_ids)
    horizon = timezone.localdate(now) + REVIEW_LEAD
    due = []
    for pk, tier, next_review_at, created_at, last_done, last_due_on in agents.values_list(
            "pk", "risk_tier", "next_review_at", "created_at", "last_done", "last_due_on"):
        due_on = next_due_on(tier_days=policy.review_for(tier), last_completed=last_done,
                             last_due_on=last_due_on, next_review_at=next_review_at,
                             created_at=created_at)
        if due_on <= horizon:
            due.append(Due(pk, tier, due_on))
    return due


# --- The grants a review lists ---------------------------------------------------------------

def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _latest_per_name(rows):
    seen, latest = set(), []
    for row in rows:
        if (row.agent_id, row.name) not in seen:
            seen.add((row.agent_id, row.name))
            latest.append(row)
    return latest


def grants_held(agent_ids: list[int]) -> dict[int, list[dict]]:
    """Every grant each agent holds, as review item fields: every credential version not
    revoked (each is access until revoked), and the newest version of each tool and data
    source. Three queries, however many agents."""
    held: dict[int, list[dict]] = {pk: [] for pk in agent_ids}
    for c in Credential.objects.filter(agent_id__in=agent_ids, revoked_at__isnull=True).order_by(
            "agent_id", "name", "-version"):
        held[c.agent_id].append({
            "kind": GrantKind.CREDENTIAL, "credential_id": c.pk, "name": c.name,
            "version": c.version, "granted_by": c.granted_by, "granted_at": c.created_at,
            "access": {"identity": c.identity, "scopes": c.scopes, "mode": c.mode,
                       "expires_at": c.expires_at.isoformat() if c.expires_at else None}})
    tools = Tool.objects.filter(agent_id__in=agent_ids).select_related("created_by")
    for t in _latest_per_name(tools.order_by("agent_id", "name", "-version")):
        held[t.agent_id].append({
            "kind": GrantKind.TOOL, "tool_id": t.pk, "name": t.name, "version": t.version,
            "granted_by": _person(t.created_by), "granted_at": t.created_at,
            "access": {"endpoint": t.endpoint, "operations": t.operations, "writes": t.writes,
                       "needs_human_approval": t.needs_human_approval}})
    sources = DataSource.objects.filter(agent_id__in=agent_ids).select_related("created_by")
    for s in _latest_per_name(sources.order_by("agent_id", "name", "-version")):
        held[s.agent_id].append({
            "kind": GrantKind.DATA_SOURCE, "data_source_id": s.pk, "name": s.name,
            "version": s.version, "granted_by": _person(s.created_by), "granted_at": s.created_at,
            "access": {"system": s.system, "classification": s.classification,
                       "retrieval_scope": s.retrieval_scope}})
    return held


# --- Reviews and tasks for a user ------------------------------------------------------------

def reviews_visible_to(user: User) -> QuerySet[AccessReview]:
    return (AccessReview.objects.filter(visible_through(user))
            .select_related("agent", "agent__business_owner", "completed_by"))


def review_items(review: AccessReview) -> list[ReviewItem]:
    return list(review.items.select_related("decided_by", "credential", "revocation_task")
                .order_by("kind", "name", "-version"))


def items_to_certify(user: User) -> QuerySet[ReviewItem]:
    """Undecided grants in unfinished reviews of agents the user owns or is a delegate on."""
    return (ReviewItem.objects.filter(visible_through(user, perm="change_agent"),
                                      decision=Decision.PENDING,
                                      review__state__in=UNFINISHED_STATES)
            .select_related("review", "agent").order_by("review__due_at", "agent__name", "name"))


def revocation_tasks_visible_to(user: User) -> QuerySet[RevocationTask]:
    return (RevocationTask.objects.filter(visible_through(user))
            .select_related("agent", "item", "item__decided_by", "completed_by"))


def open_revocation_tasks(user: User) -> QuerySet[RevocationTask]:
    if not can(user, "reviews.complete_revocationtask"):
        return RevocationTask.objects.none()
    return revocation_tasks_visible_to(user).filter(state=TaskState.OPEN)


def escalated_reviews(user: User) -> QuerySet[AccessReview]:
    if not is_compliance(user):
        return AccessReview.objects.none()
    return reviews_visible_to(user).filter(state=ReviewState.ESCALATED).order_by("due_at")


def agent_reviews(agent: Agent) -> list[AccessReview]:
    return list(agent.access_reviews.select_related("completed_by").order_by("-due_on"))


@dataclass
class AgentReviewStatus:
    open: AccessReview | None
    overdue: bool
    last_completed: AccessReview | None


def agent_review_status(agent: Agent, *, now: datetime | None = None) -> AgentReviewStatus:
    """For the agent page: the unfinished review (and whether it is overdue), the last done."""
    now = now or timezone.now()
    reviews = agent_reviews(agent)
    unfinished = next((r for r in reviews if not r.is_finished), None)
    done = next((r for r in reviews if r.is_finished), None)
    return AgentReviewStatus(unfinished, bool(unfinished and unfinished.is_overdue(now)), done)


# --- Ownership hygiene -----------------------------------------------------------------------

def ownerless_agents() -> QuerySet[Agent]:
    """Agents not yet retired whose business owner is gone (deactivated) or missing. Derived:
    the owner stays on the record until compliance reassigns the agent."""
    return (Agent.objects.exclude(stage=Stage.RETIRED)
            .filter(Q(business_owner__isnull=True) | Q(business_owner__is_active=False))
            .select_related("business_owner").order_by("name"))


@dataclass
class Dormancy:
    agent: Agent
    last_activity: datetime | None
    dormancy_days: int


def dormant(agents: QuerySet[Agent] | None = None, *, now: datetime | None = None,
            policy: Cadence | None = None) -> QuerySet[Agent]:
    """Live agents with no activity (Agent.last_active_at: metrics arriving, a gateway polling,
    going live, a deployment) for their tier's dormancy period, by name."""
    now = now or timezone.now()
    policy = policy or cadence()
    quiet = Q(pk__in=[])
    for tier in RiskTier.values:
        cutoff = now - timedelta(days=policy.dormancy_for(tier))
        quiet |= Q(risk_tier=tier) & (Q(last_active_at__isnull=True)
                                      | Q(last_active_at__lte=cutoff))
    live = (agents if agents is not None else Agent.objects.all()).filter(stage=Stage.LIVE)
    return live.filter(quiet).select_related("business_owner").order_by("name", "pk")


def dormant_agents(*, now: datetime | None = None, agents: QuerySet[Agent] | None = None
                   ) -> list[Dormancy]:
    """The dormant agents with when each was last seen and its tier's dormancy period."""
    policy = cadence()
    return [Dormancy(agent, agent.last_active_at, policy.dormancy_for(agent.risk_tier))
            for agent in dormant(agents, now=now, policy=policy)]


# --- Who to tell -----------------------------------------------------------------------------

def people_with_role(role: str) -> list[User]:
    return list(User.objects.filter(groups__name=GROUP_NAMES[role], is_active=True,
                                    is_service_account=False).distinct())


def prefetch_items() -> Prefetch:
    return Prefetch("items", queryset=ReviewItem.objects.select_related("decided_by"))


# --- Sign-offs waiting, decided in the database ----------------------------------------------

def releases_to_sign(user: User) -> QuerySet[Release]:
    """Releases under sign-off that `user` may approve now, oldest first, decided in the
    database: the decision releases.rules.signing_options takes release by release (the tier
    policy's roles and quorums, its signing order, one role per person, the business owner's
    own role, independence from everyone involved), as one filter. A test holds the two to
    agreeing (tests/reviews/test_signable.py)."""
    if not (user.is_authenticated and user.is_active):
        return Release.objects.none()
    policies = list(policies_by_tier().values())
    roles = {role for policy in policies for role in policy.signoff_roles}
    as_owner, as_reviewer = Q(pk__in=[]), Q(pk__in=[])
    for policy in policies:
        owner_turn, reviewer_turn = _turns_under(user, policy)
        as_owner |= Q(agent__risk_tier=policy.tier) & owner_turn
        as_reviewer |= Q(agent__risk_tier=policy.tier) & reviewer_turn
    # Independence is one condition for every reviewer role, so it is written once: NULL (a
    # comparison with an empty column, and nothing true) is not involved.
    independent = Q(involved=False) | Q(involved__isnull=True)
    may = (Q(agent__business_owner=user) & as_owner) | (independent & as_reviewer)
    signed = SignOff.objects.filter(release=OuterRef("pk"), user=user, voided_at__isnull=True)
    return (releases_visible_to(user).filter(state=ReleaseState.SUBMITTED)
            .annotate(**{_approvals(role): _approvals_of(role) for role in roles},
                      involved=ExpressionWrapper(_involved(user), output_field=BooleanField()))
            .filter(~Exists(signed), may).order_by("submitted_at", "pk"))


def releases_to_sign_shortlist(user: User, limit: int | None = None) -> Shortlist:
    """The first `limit` releases of releases_to_sign (all without a limit), their active
    sign-offs prefetched, and how many there are: the filter selects ids only (joined with the
    rows' own columns the planner misjudged it by a thousandfold)."""
    ids = list(releases_to_sign(user).values_list("pk", flat=True))
    shown = ids if limit is None else ids[:limit]
    active = SignOff.objects.filter(voided_at__isnull=True).select_related("user")
    rows = (Release.objects.filter(pk__in=shown).select_related("agent", "submitted_by")
            .prefetch_related(Prefetch("signoffs", queryset=active))
            .order_by("submitted_at", "pk"))
    return Shortlist(rows, len(ids))


def _approvals(role: str) -> str:
    return f"approvals_{role}"


def _approvals_of(role: str) -> Coalesce:
    """Approvals that count for `role`: not voided, bound to the release's current manifest."""
    rows = (SignOff.objects.filter(release=OuterRef("pk"), role=role, voided_at__isnull=True,
                                   decision=SignDecision.APPROVE,
                                   manifest_hash=OuterRef("manifest_hash"))
            .order_by().values("release").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows), 0)


def _turns_under(user: User, policy: TierPolicy) -> tuple[Q, Q]:
    """Whether the policy's business-owner role, and some other role of it that `user` holds,
    is still short of its quorum with its turn come in the signing order
    (releases.rules.signing_refusal, read as a filter). Who holds the business owner's role,
    and the independence every other role asks, releases_to_sign adds once."""
    quorums, order = dict(policy.signoff_roles), list(policy.signoff_order)
    as_owner, as_reviewer = Q(pk__in=[]), Q(pk__in=[])
    for role, quorum in quorums.items():
        turn = Q(**{f"{_approvals(role)}__lt": quorum})
        for before in order[:order.index(role)] if role in order else []:
            if before in quorums:
                turn &= Q(**{f"{_approvals(before)}__gte": quorums[before]})
        if role == Role.BUSINESS_OWNER:
            as_owner |= turn
        elif user.has_role(role):
            as_reviewer |= turn
    return as_owner, as_reviewer


def _involved(user: User) -> Q:
    """Whether `user` is involved in the release (releases.rules.involvement_of)."""
    authored = Q(pk__in=[])
    for model in COMPONENT_MODELS.values():
        authored |= Q(Exists(model._default_manager.filter(  # type: ignore[misc]
            releases=OuterRef("pk"), created_by=user)))
    return (Q(agent__business_owner=user) | Q(agent__technical_owner=user)
            | Q(created_by=user) | Q(submitted_by=user) | Q(grants.is_delegate(user))
            | grants.was_delegate(user) | authored)
