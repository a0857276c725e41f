"""“My work”: one page where every user sees what waits for them, built from sections. The
reviews app sits above every area it gathers (ARCHITECTURE §1), so the sections are registered
here and read each area's selectors; a provider takes the user and returns a WorkSection (or a
list of them), in a fixed number of queries:

    register_section("decommission-tasks", provider, order=60)
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from ..accounts.models import User
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from ..releases import selectors as releases
from ..releases.rules import role_label
from ..retirement import selectors as retirement
from ..risk import selectors as risk
from ..risk.rules import is_assessor
from . import rules, selectors
from .models import AccessReview, ReviewItem

log = logging.getLogger(__name__)


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


Provider = Callable[[User], WorkSection | Iterable[WorkSection] | None]
_providers: dict[str, tuple[int, Provider]] = {}


def register_section(key: str, provider: Provider, *, order: int = 100) -> None:
    _providers[key] = (order, provider)


def sections_for(user: User) -> list[WorkSection]:
    """Every non-empty section for this user, in order."""
    found = []
    for key, (_, provider) in sorted(_providers.items(), key=lambda kv: (kv[1][0], kv[0])):
        result = provider(user)
        for section in ([result] if isinstance(result, WorkSection) else result or []):
            if section.items:
                section.key = section.key or key
                found.append(section)
    return found


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


def dormant(user: User) -> WorkSection:
    scope = (agents_visible_to(user) if rules.is_compliance(user)
             else agents_visible_to(user, "change_agent"))
    return WorkSection("Dormant agents (consider sunsetting)", [
        WorkItem(str(d.agent), d.agent.get_absolute_url(),
                 "no activity " + (f"since {_date(d.last_activity)}" if d.last_activity
                                   else "recorded"))
        for d in selectors.dormant_agents(agents=scope)])


def assessments(user: User) -> WorkSection:
    items = [WorkItem(str(s.agent),
                      reverse("risk:agent-assessments", kwargs={"slug": s.agent.slug}),
                      "assessment missing" if s.is_missing else "assessment stale")
             for s in risk.assessments_needing_attention(user)]
    if is_assessor(user):
        items += [WorkItem(f"Complete the draft assessment of {d.agent}", d.get_absolute_url(),
                           f"drafted by {d.drafted_by}")
                  for d in risk.drafts_awaiting_completion(user)]
    return WorkSection("Risk assessments", items)


def releases_work(user: User) -> list[WorkSection]:
    """Sign-offs the user could give, and checklist items to do and to review."""
    found = releases.work_waiting_for(user)
    signoffs = [WorkItem(f"Sign off {w.release}", w.release.get_absolute_url(),
                         "as " + ", ".join(role_label(r).lower() for r in w.roles))
                for w in found.signoffs]

    def checklist(items) -> list[WorkItem]:
        return [WorkItem(str(i), i.get_absolute_url(), i.get_status_display()) for i in items]

    return [WorkSection("Sign-offs waiting", signoffs, "releases-signoffs"),
            WorkSection("Checklist items to do", checklist(found.items_to_do),
                        "releases-items-to-do"),
            WorkSection("Checklist items to review", checklist(found.items_to_review),
                        "releases-items-to-review")]


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
    register_section("reviews-certify", grants_to_certify, order=10)
    register_section("releases", releases_work, order=20)
    register_section("risk", assessments, order=30)
    register_section("revocation-tasks", revocation_tasks, order=40)
    register_section("reviews-escalated", escalated, order=50)
    register_section("ownerless", ownerless, order=60)
    register_section("retirement", decommissioning, order=65)
    register_section("dormant", dormant, order=70)
