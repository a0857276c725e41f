"""“My work”: one page where every user sees what waits for them, built from sections, one
per kind of work. The reviews app sits above every area it gathers (ARCHITECTURE §1), so the
sections are registered here and read each area's selectors; a provider takes the user and
returns a WorkSection (or a list of them), in a fixed number of queries:

    register_section("decommission-tasks", provider, order=60)

The home page shows the same sections' totals (sections_for with a limit), so the two never
disagree; a provider registered with `limited=True` also takes the limit and reads only the
rows shown plus a count.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from ..accounts.models import User
from ..accounts.permissions import can
from ..core.lists import Shortlist
from ..inventory.choices import Stage
from ..inventory.models import Agent
from ..inventory.selectors import agents_in_care_of, agents_visible_to
from ..operations.selectors import incidents_visible_to
from ..releases import selectors as releases
from ..releases.choices import ItemStatus, ReleaseState
from ..releases.rules import role_label, signing_options
from ..retirement import selectors as retirement
from ..risk import selectors as risk
from ..risk.rules import is_assessor
from . import rules, selectors
from .models import AccessReview, ReviewItem

log = logging.getLogger(__name__)
# My work, page and API, lists this many items of each kind (and says how many there are).
WORK_SHOWN = 200


@dataclass
class WorkItem:
    label: str
    url: str = ""
    detail: str = ""
    urgent: bool = False


@dataclass
class WorkSection:
    title: str
    items: list[WorkItem] = field(default_factory=list)
    key: str = ""
    total: int = -1  # every item's count, when `items` holds the first ones only

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.items)


Provider = Callable[..., WorkSection | Iterable[WorkSection] | None]
_providers: dict[str, tuple[int, Provider, bool]] = {}


def register_section(key: str, provider: Provider, *, order: int = 100,
                     limited: bool = False) -> None:
    _providers[key] = (order, provider, limited)


def _call(provider: Provider, limited: bool, user: User, limit: int | None) -> list:
    result = provider(user, limit) if limited else provider(user)
    sections = [result] if isinstance(result, WorkSection) else list(result or [])
    if limit is not None and not limited:
        sections = [WorkSection(s.title, s.items[:limit], s.key, s.total) for s in sections]
    return sections


def sections_for(user: User, limit: int | None = None) -> list[WorkSection]:
    """Every non-empty section for this user, in order: all items, or the first `limit`."""
    found = []
    for key, (_, provider, limited) in sorted(_providers.items(),
                                              key=lambda kv: (kv[1][0], kv[0])):
        for section in _call(provider, limited, user, limit):
            if section.total:
                section.key = section.key or key
                found.append(section)
    return found


def _listed(title: str, key: str, rows: QuerySet, item: Callable[..., WorkItem],
            limit: int | None) -> WorkSection:
    """A section of one item per row: the first `limit` rows and the count of all."""
    shown = Shortlist.of(rows, limit) if limit is not None else Shortlist(rows)
    return WorkSection(title, [item(row) for row in shown], key, shown.total)


# --- This app's sections ---------------------------------------------------------------------

def _date(value: datetime) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d}"


def grants_to_certify(user: User) -> WorkSection:
    now = timezone.now()
    by_review: dict[int, tuple[AccessReview, Agent, list[ReviewItem]]] = {}
    for item in selectors.items_to_certify(user):
        by_review.setdefault(item.review_id, (item.review, item.agent, []))[2].append(item)
    return WorkSection("Access reviews to certify", [
        WorkItem(f"{agent}: {len(items)} grant{'s' if len(items) != 1 else ''} to certify",
                 review.get_absolute_url(),
                 ("overdue since " if review.is_overdue(now) else "due by ") +
                 _date(review.due_at), urgent=review.is_overdue(now))
        for review, agent, items in by_review.values()])


def revocation_tasks(user: User) -> WorkSection:
    return WorkSection("Revocation tasks", [
        WorkItem(f"Revoke {task.item} of {task.agent}", task.get_absolute_url(),
                 f"opened {_date(task.opened_at)}")
        for task in selectors.open_revocation_tasks(user)])


def escalated(user: User) -> WorkSection:
    return WorkSection("Overdue access reviews (escalated)", [
        WorkItem(f"{review.agent}", review.get_absolute_url(),
                 f"due by {_date(review.due_at)}, owner {review.agent.business_owner or '—'}",
                 urgent=True)
        for review in selectors.escalated_reviews(user)])


def ownerless(user: User) -> WorkSection | None:
    if not rules.is_compliance(user):
        return None
    return WorkSection("Ownerless agents to reassign", [
        WorkItem(str(agent), agent.get_absolute_url(),
                 f"owner {agent.business_owner or 'none'} is no longer active")
        for agent in selectors.ownerless_agents()])


def dormant(user: User, limit: int | None = None) -> WorkSection:
    scope = (agents_visible_to(user) if rules.is_compliance(user)
             else agents_visible_to(user, "change_agent"))
    rows = selectors.dormant(scope)
    return _listed("Dormant agents (consider sunsetting)", "dormant", rows, lambda agent: WorkItem(
        str(agent), agent.get_absolute_url(),
        "no activity " + (f"since {_date(agent.last_active_at)}" if agent.last_active_at
                          else "recorded")), limit)


def assessments(user: User, limit: int | None = None) -> list[WorkSection]:
    """Assessments stale or missing: of every agent for compliance (who completes them), of
    the agents they may change for anyone else; and drafts for assessors to complete."""
    scope = (agents_visible_to(user) if rules.is_compliance(user)
             else agents_visible_to(user, "change_agent"))
    due = risk.assessments_needing_attention(user, limit, agents=scope)
    found = [WorkSection("Risk assessments to redo or make", [
        WorkItem(str(s.agent), reverse("risk:agent-assessments", kwargs={"slug": s.agent.slug}),
                 "assessment missing" if s.is_missing else "assessment stale",
                 urgent=s.is_missing)
        for s in due], "risk", due.total)]
    if is_assessor(user):
        found.append(_listed(
            "Draft assessments to complete", "risk-drafts", risk.drafts_awaiting_completion(user),
            lambda d: WorkItem(f"Complete the draft assessment of {d.agent}",
                               d.get_absolute_url(), f"drafted by {d.drafted_by}"), limit))
    return found


def intakes(user: User, limit: int | None = None) -> list[WorkSection]:
    """Intakes the user completes (drafts, declined ones to revise) or triages."""
    mine = (agents_in_care_of(user).filter(stage__in=[Stage.DRAFT, Stage.DECLINED])
            .order_by("name"))
    found = [_listed("Intakes to complete and submit", "intakes-mine", mine, lambda a: WorkItem(
        str(a), a.get_absolute_url(),
        "a draft to complete" if a.stage == Stage.DRAFT else "declined: revise and resubmit"),
        limit)]
    if can(user, "inventory.triage_agent"):
        found.append(_listed("Intakes to triage", "intakes-triage", intakes_to_triage(user),
                             lambda a: WorkItem(str(a), a.get_absolute_url(),
                                                f"owner {a.business_owner or '—'}, waiting "
                                                f"since {_date(a.updated_at)}"), limit))
    return found


def intakes_to_triage(user: User) -> QuerySet[Agent]:
    """Proposed intakes the user may triage (inventory.rules.triage_refusal: never one they
    own or filed), oldest first."""
    return (agents_visible_to(user).filter(stage=Stage.PROPOSED)
            .exclude(business_owner=user).exclude(created_by=user)
            .select_related("business_owner").order_by("updated_at", "pk"))


def serious_incidents(user: User, limit: int | None = None) -> WorkSection | None:
    """Serious incidents compliance has still to report to the authority, nearest deadline
    first."""
    if not rules.is_compliance(user):
        return None
    rows = (incidents_visible_to(user).filter(serious=True, reported_at__isnull=True)
            .order_by("report_deadline", "pk"))
    return _listed("Serious incidents to report", "serious-incidents", rows, lambda i: WorkItem(
        f"Report “{i.title}” ({i.agent})", i.get_absolute_url(),
        f"report by {_date(i.report_deadline)}" if i.report_deadline else "no deadline set",
        urgent=True), limit)


def releases_work(user: User, limit: int | None = None) -> list[WorkSection]:
    """Sign-offs the user could give (selected in the database; the roles are asked of
    releases.rules for the rows shown), and checklist items to do and to review."""
    shown = selectors.releases_to_sign_shortlist(user, limit)
    signoffs = [WorkItem(f"Sign off {facts.release}", facts.release.get_absolute_url(),
                         "as " + ", ".join(role_label(r).lower()
                                           for r in signing_options(user, facts).roles))
                for facts in releases.signing_facts_of(list(shown))]
    items = releases.checklist_items_visible_to(user).filter(
        release__state=ReleaseState.SUBMITTED).order_by("release_id", "order", "pk")

    def checklist(title: str, key: str, rows) -> WorkSection:
        return _listed(title, key, rows,
                       lambda i: WorkItem(str(i), i.get_absolute_url(), i.get_status_display()),
                       limit)

    return [WorkSection("Sign-offs waiting", signoffs, "releases-signoffs", shown.total),
            checklist("Checklist items to do", "releases-items-to-do",
                      items.filter(owner=user, status=ItemStatus.OPEN)),
            checklist("Checklist items to review", "releases-items-to-review",
                      items.filter(reviewer=user, status=ItemStatus.IN_REVIEW))]


def decommissioning(user: User) -> list[WorkSection]:
    """Decommission tasks assigned to the user, and retirement sign-offs waiting for them."""
    today = timezone.localdate()
    tasks = [WorkItem(f"{task.title} ({task.plan.agent})", task.get_absolute_url(),
                      f"due {task.due_date:%Y-%m-%d}", urgent=task.due_date < today)
             for task in retirement.tasks_waiting_for(user)]
    signoffs = [WorkItem(f"Sign the retirement of {w.plan.agent}", w.plan.get_absolute_url(),
                         f"as {w.role_label.lower()}")
                for w in retirement.signoffs_waiting_for(user)]
    return [WorkSection("Decommission tasks", tasks, "decommission-tasks"),
            WorkSection("Retirement sign-offs waiting", signoffs, "retirement-signoffs")]


def register_defaults() -> None:
    register_section("intakes", intakes, order=5, limited=True)
    register_section("reviews-certify", grants_to_certify, order=10)
    register_section("releases", releases_work, order=20, limited=True)
    register_section("serious-incidents", serious_incidents, order=25, limited=True)
    register_section("risk", assessments, order=30, limited=True)
    register_section("revocation-tasks", revocation_tasks, order=40)
    register_section("reviews-escalated", escalated, order=50)
    register_section("ownerless", ownerless, order=60)
    register_section("retirement", decommissioning, order=65)
    register_section("dormant", dormant, order=70, limited=True)
