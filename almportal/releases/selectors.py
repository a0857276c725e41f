"""Read queries for the release pages, the API, the inbox and other apps' pages. What a user may
see follows the agents they may see (releases_visible_to)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from django.db.models import Count, Prefetch, Q, QuerySet

from ..accounts.models import User
from ..accounts.roles import GROUP_NAMES, ROLE_BY_GROUP_NAME, Role
from ..inventory import grants
from ..inventory.models import COMPONENT_MODELS, Agent
from ..inventory.selectors import visible_through
from ..risk.models import TierPolicy
from ..risk.selectors import policies_by_tier, tier_policy
from . import rules
from .choices import METRICS, Decision, ItemStatus, ReleaseState
from .models import ChecklistItem, EvaluationRun, EvaluationSuite, Evidence, Release, SignOff

# Releases whose sign-off request is open or whose approval still stands.
UNDER_APPROVAL = (ReleaseState.SUBMITTED, ReleaseState.APPROVED)


def releases_visible_to(user: User) -> QuerySet[Release]:
    return _releases().filter(visible_through(user))


def releases_of(agents: QuerySet[Agent]) -> QuerySet[Release]:
    """The releases of `agents`, which the caller has limited to agents the user sees."""
    return _releases().filter(agent__in=agents)


def _releases() -> QuerySet[Release]:
    return Release.objects.select_related("agent", "created_by", "submitted_by")


def checklist_items_visible_to(user: User) -> QuerySet[ChecklistItem]:
    return ChecklistItem.objects.filter(release__in=releases_visible_to(user)).select_related(
        "release__agent", "owner", "reviewer", "reviewed_by")


def evidence_visible_to(user: User) -> QuerySet[Evidence]:
    return Evidence.objects.filter(item__release__in=releases_visible_to(user)).select_related(
        "item__release__agent", "uploaded_by", "evaluation_run__suite")


def suites_visible_to(user: User) -> QuerySet[EvaluationSuite]:
    return EvaluationSuite.objects.filter(visible_through(user)).select_related(
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


def reviewer_choices(release: Release, items: Iterable[ChecklistItem] = ()) -> list[User]:
    """The people who may review `items` of the release (all its items when none are given),
    as rules.eligible_reviewers decides, among those who see every agent; two queries."""
    items = list(items) or list(release.checklist_items.all())
    people = list(User.objects.filter(is_active=True, is_service_account=False)
                  .filter(Q(is_superuser=True) | Q(groups__permissions__codename="view_agent",
                                                   groups__permissions__content_type__app_label=
                                                   "inventory"))
                  .distinct().prefetch_related("groups").order_by("first_name", "username"))
    for person in people:  # the roles from the prefetched groups: no query per person
        names = {group.name for group in person.groups.all()}
        roles = {ROLE_BY_GROUP_NAME[n] for n in names if n in ROLE_BY_GROUP_NAME}
        person.__dict__["roles"] = frozenset(roles | ({Role.ADMIN} if person.is_superuser
                                                      else set()))
    return rules.eligible_reviewers(people, items or [ChecklistItem(release=release)],
                                    release_involvement(release))


def next_item(item: ChecklistItem) -> ChecklistItem | None:
    """The next item of the release's checklist still to be accepted, after this one in the
    checklist's order (then from the top)."""
    items = list(item.release.checklist_items.exclude(pk=item.pk)
                 .exclude(status=ItemStatus.ACCEPTED).only("pk", "order", "release_id", "title"))
    later = [i for i in items if (i.order, i.pk) > (item.order, item.pk)]
    return next(iter(later or items), None)


def release_to_start_from(agent: Agent) -> Release | None:
    """The release a new one starts from: the agent's latest approved or deployed release,
    or, when none was, its latest release (so a second draft does not start empty)."""
    releases = agent.releases.order_by("-number")
    return (releases.filter(state__in=(ReleaseState.APPROVED, ReleaseState.DEPLOYED)).first()
            or releases.first())


def release_before(release: Release) -> Release | None:
    """The agent's release numbered just before this one: what the release page shows the
    changes since, and what the API compares the release with by default."""
    return (Release.objects.filter(agent_id=release.agent_id, number__lt=release.number)
            .select_related("agent").order_by("-number").first())


def releases_in_review(user: User) -> QuerySet[Release]:
    """Releases submitted or approved, with counts for the list page (one query); the page
    sorts them."""
    return (releases_visible_to(user).filter(state__in=UNDER_APPROVAL)
            .annotate(
                items_total=Count("checklist_items", distinct=True),
                items_accepted=Count("checklist_items", distinct=True,
                                     filter=Q(checklist_items__status=ItemStatus.ACCEPTED)),
                approvals=Count("signoffs", distinct=True,
                                filter=Q(signoffs__voided_at__isnull=True,
                                         signoffs__decision=Decision.APPROVE))))


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
    """Releases the user may sign now, each with the roles they may sign (releases.rules)."""
    releases = list(releases_visible_to(user).filter(state=ReleaseState.SUBMITTED)
                    .exclude(signoffs__user=user, signoffs__voided_at__isnull=True)
                    .prefetch_related(_active_signoffs()).order_by("submitted_at", "pk"))
    waiting = []
    for facts in signing_facts_of(releases):
        roles = rules.signing_options(user, facts).roles
        if roles:
            waiting.append(SignoffWaiting(facts.release, roles))
    return waiting


def _active_signoffs() -> Prefetch:
    return Prefetch("signoffs", queryset=SignOff.objects.filter(voided_at__isnull=True)
                    .select_related("user"))


def signing_facts_of(releases: list[Release]) -> list[rules.SigningFacts]:
    """The signing facts of many releases (their sign-offs prefetched) in a fixed number of
    queries."""
    policies = policies_by_tier()
    found = involvements(releases)
    return [signing_facts(r, policies.get(r.agent.risk_tier), involvement=found[r.pk])
            for r in releases]


def signers_waiting(releases: list[Release]) -> list[tuple[rules.SigningFacts, list[User]]]:
    """For each release (sign-offs prefetched), the people who may sign it now: its business
    owner and everyone holding a role its tier asks for, as the rules decide."""
    facts_list = signing_facts_of(releases)
    roles = {role for facts in facts_list for role in rules.short_roles(facts)}
    holders = _holders(roles - {Role.BUSINESS_OWNER})
    waiting = []
    for facts in facts_list:
        short = rules.short_roles(facts)
        candidates = {u.pk: u for role in short for u in holders.get(role, [])}
        owner = facts.release.agent.business_owner
        if Role.BUSINESS_OWNER in short and owner is not None:
            candidates[owner.pk] = owner
        waiting.append((facts, [u for u in candidates.values()
                                if rules.signing_options(u, facts).any]))
    return waiting


def _holders(roles: set[str]) -> dict[str, list[User]]:
    return {role: list(User.objects.filter(groups__name=GROUP_NAMES[role], is_active=True,
                                           is_service_account=False).distinct())
            for role in roles}


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


# --- Involvement: the facts releases.rules judges independence on ---------------------------

def _delegates_at_submission(releases: list[Release]) -> dict[int, set[int]]:
    """Per release, who held the agent's change grant when it was submitted (from the grants'
    history: the last change of each grant before that moment was not its removal)."""
    submitted = [r for r in releases if r.submitted_at is not None]
    if not submitted:
        return {}
    rows = grants.delegate_history({r.agent_id for r in submitted},
                                   until=max(r.submitted_at for r in submitted if r.submitted_at))
    found = {}
    for release in submitted:
        last: dict[int, str] = {}
        for agent_id, user_id, kind, at in rows:
            if agent_id == release.agent_id and at <= release.submitted_at:
                last[user_id] = kind
        found[release.pk] = {user_id for user_id, kind in last.items() if kind != "-"}
    return found


def _component_authors(release_ids: set[int]) -> dict[int, set[int]]:
    authors: dict[int, set[int]] = defaultdict(set)
    for model in COMPONENT_MODELS.values():
        # Every concrete kind has the `releases` reverse relation (Release's many-to-manys);
        # the plugin resolves the field against the abstract base, which cannot have it.
        rows = model._default_manager.filter(releases__in=release_ids)  # type: ignore[misc]
        pairs = rows.values_list("releases", "created_by_id")  # type: ignore[misc]
        for release_id, user_id in pairs:
            authors[release_id].add(user_id)
    return authors


def involvements(releases: Iterable[Release]) -> dict[int, rules.Involvement]:
    """Who is involved in each release, in a fixed number of queries however many releases."""
    releases = list(releases)
    if not releases:
        return {}
    now = grants.delegate_ids({r.agent_id for r in releases})
    then = _delegates_at_submission(releases)
    authors = _component_authors({r.pk for r in releases})
    return {r.pk: rules.involvement_of(
        business_owner_id=r.agent.business_owner_id,
        technical_owner_id=r.agent.technical_owner_id, author_id=r.created_by_id,
        submitted_by_id=r.submitted_by_id, delegate_ids=now.get(r.agent_id, ()),
        former_delegate_ids=then.get(r.pk, ()), component_author_ids=authors.get(r.pk, ()),
    ) for r in releases}


def release_involvement(release: Release) -> rules.Involvement:
    return involvements([release])[release.pk]


def agent_involvement(agent: Agent) -> rules.Involvement:
    """Who is involved in the agent or in any of its releases still in the making or under
    approval: the people who may not complete the risk assessment those releases rest on."""
    pending = list(Release.objects.filter(
        agent=agent, state__in=(ReleaseState.DRAFT, *UNDER_APPROVAL)).select_related("agent"))
    found = involvements(pending)
    merged: dict[int, tuple[str, ...]] = dict(rules.involvement_of(
        business_owner_id=agent.business_owner_id, technical_owner_id=agent.technical_owner_id,
        delegate_ids=grants.delegate_ids({agent.pk}).get(agent.pk, ())).reasons)
    for involvement in found.values():
        for user_id, why in involvement.reasons.items():
            merged[user_id] = tuple(dict.fromkeys((*merged.get(user_id, ()), *why)))
    return rules.Involvement(merged)


def signing_facts(release: Release, policy: TierPolicy | None = None, *,
                  involvement: rules.Involvement | None = None) -> rules.SigningFacts:
    """Everything a sign-off decision on this release rests on. Uses the release's prefetched
    sign-offs when the caller fetched them."""
    if policy is None:
        policy = tier_policy(release.agent.risk_tier)
    signoffs = release.signoffs.all()
    if "signoffs" not in getattr(release, "_prefetched_objects_cache", {}):
        signoffs = signoffs.select_related("user")  # the pages name each signer
    active = [s for s in signoffs if s.voided_at is None]
    approvals = [s for s in active if s.decision == Decision.APPROVE
                 and s.manifest_hash == release.manifest_hash]
    return rules.SigningFacts(release, policy, active, approvals,
                              involvement or release_involvement(release))


@dataclass
class RoleProgress:
    role: str
    label: str
    count: int
    quorum: int
    signers: list[str]


def signing_order(facts: rules.SigningFacts) -> list[RoleProgress]:
    """Each role the tier asks for, in its signing order, with who has signed it."""
    return [RoleProgress(role, rules.role_label(role), count, quorum,
                         [str(s.user) for s in facts.approvals if s.role == role])
            for role, (count, quorum) in facts.counts.items()]


# --- What a release's standing rests on (rules.release_standing) ---------------------------

def policy_terms_change(tier: str) -> rules.TermsChange | None:
    """The latest change of the tier policy's approval terms, read from its history (the
    newest row whose terms differ from the row before it)."""
    rows = list(TierPolicy.history.filter(tier=tier).order_by("-history_date", "-history_id")
                .values("history_date", "history_change_reason", *rules.APPROVAL_TERMS))
    for newer, older in pairwise(rows):
        fields = tuple(f for f in rules.APPROVAL_TERMS if newer[f] != older[f])
        if fields:
            return rules.TermsChange(newer["history_date"], tier, fields,
                                     newer["history_change_reason"] or "")
    return None


def tier_change(agent: Agent) -> rules.TermsChange | None:
    """When the agent moved to its present risk tier, read from its history."""
    rows = (agent.history.order_by("-history_date", "-history_id")
            .values_list("risk_tier", "history_date").iterator(chunk_size=100))
    since = None
    for tier, at in rows:
        if tier != agent.risk_tier:
            return rules.TermsChange(since, agent.risk_tier, previous_tier=tier) if since else None
        since = at
    return None


def terms_change(agent: Agent) -> rules.TermsChange | None:
    """The later of the agent's tier policy change and the agent's tier change."""
    changes = [c for c in (policy_terms_change(agent.risk_tier), tier_change(agent)) if c]
    return max(changes, key=lambda c: c.at) if changes else None


def standing_facts(release: Release, assessment) -> rules.StandingFacts:
    """The facts of rules.release_standing for one release; `assessment` is the agent's
    assessment status (risk), which the caller has."""
    states = list(release.history.order_by("history_date", "history_id")
                  .values_list("state", "history_date", "history_change_reason"))
    approved_at = next((at for state, at, _ in states if state == ReleaseState.APPROVED), None)
    voided = next((why for state, _, why in reversed(states) if state == ReleaseState.VOIDED), "")
    signed_at = tuple(SignOff.objects.filter(release=release, voided_at__isnull=True)
                      .values_list("created_at", flat=True))
    return rules.StandingFacts(
        state=release.state, assessment_current=assessment.is_current,
        assessment_reasons=tuple(assessment.reasons),
        terms_change=terms_change(release.agent),
        approved_at=approved_at, signed_at=signed_at, voided_because=voided or "")


def releases_under_approval(tier: str | None = None) -> QuerySet[Release]:
    """Releases submitted or approved (not yet deployed), of agents in `tier` when given."""
    releases = Release.objects.filter(state__in=UNDER_APPROVAL).select_related("agent")
    return (releases.filter(agent__risk_tier=tier) if tier else releases).order_by("pk")
