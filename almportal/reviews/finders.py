"""The reminders for what exists today (registered in ReviewsConfig.ready). Each finder runs in a
fixed number of queries, however many objects it finds."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from ..accounts.roles import Role
from ..inventory.choices import Stage
from ..inventory.grants import caretakers
from ..inventory.models import Agent, Credential
from ..operations import selectors as operations
from ..releases.choices import ReleaseState
from ..releases.models import Release
from ..releases.rules import role_label, short_roles
from ..releases.selectors import signers_waiting
from ..retirement import selectors as retirement
from ..risk.choices import AssessmentState
from ..risk.models import Assessment
from ..risk.selectors import policies_by_tier
from . import reminders, selectors
from .models import UNFINISHED_STATES, AccessReview, ReviewState
from .reminders import Reminder

EXPIRY_WINDOW = timedelta(days=14)
REASSESSMENT_WINDOW = timedelta(days=14)


def _reviews(**filters) -> list[tuple[int, int, str, datetime]]:
    """(pk, agent id, agent name, due) of the matching reviews: plain rows, as a scan over
    thousands of open reviews runs every hour."""
    return list(AccessReview.objects.filter(**filters).order_by()
                .values_list("pk", "agent_id", "agent__name", "due_at"))


@cache
def _review_url_pattern() -> str:
    return reverse("reviews:review-detail", kwargs={"pk": 999999999})


def _review_url(pk: int) -> str:
    # One reverse() per process, not per review: it dominated a scan of thousands of reviews.
    return _review_url_pattern().replace("999999999", str(pk))


def reviews_due(now: datetime) -> Iterator[Reminder]:
    reviews = _reviews(state=ReviewState.OPEN, due_at__gt=now)
    people = caretakers(agent_id for _, agent_id, _, _ in reviews)
    for pk, agent_id, agent, due_at in reviews:
        yield Reminder(people[agent_id], f"Access review due: {agent}",
                       f"Certify keep or revoke for each grant of {agent} by "
                       f"{due_at:%Y-%m-%d}.", _review_url(pk), f"review:{pk}")


def reviews_overdue(now: datetime) -> Iterator[Reminder]:
    reviews = _reviews(state__in=UNFINISHED_STATES, due_at__lte=now)
    people = caretakers(agent_id for _, agent_id, _, _ in reviews)
    for pk, agent_id, agent, due_at in reviews:
        yield Reminder(people[agent_id], f"Access review overdue: {agent}",
                       f"The access review of {agent} was due by "
                       f"{due_at:%Y-%m-%d} and has been escalated to compliance.",
                       _review_url(pk), f"review:{pk}")


def _live_credentials():
    return (Credential.objects.filter(revoked_at__isnull=True, expires_at__isnull=False)
            .exclude(agent__stage=Stage.RETIRED).select_related("agent"))


def _credential_reminders(credentials, subject: str, body: str) -> Iterator[Reminder]:
    credentials = list(credentials)
    people = caretakers(c.agent_id for c in credentials)
    security = selectors.people_with_role(Role.SECURITY)
    for c in credentials:
        yield Reminder(people[c.agent_id] + security, subject.format(c=c), body.format(c=c),
                       c.agent.get_absolute_url(), f"credential:{c.pk}",
                       period=f"{c.expires_at:%Y-%m-%d}")


def credentials_expiring(now: datetime) -> Iterator[Reminder]:
    return _credential_reminders(
        _live_credentials().filter(expires_at__gt=now, expires_at__lte=now + EXPIRY_WINDOW),
        "Credential expiring: {c.name} of {c.agent}",
        "The grant {c.name} v{c.version} ({c.identity}) expires on "
        "{c.expires_at:%Y-%m-%d %H:%M}. Renew it as a new version, or let it lapse.")


def credentials_expired(now: datetime) -> Iterator[Reminder]:
    return _credential_reminders(
        _live_credentials().filter(expires_at__lte=now),
        "Credential expired: {c.name} of {c.agent}",
        "The grant {c.name} v{c.version} ({c.identity}) expired on {c.expires_at:%Y-%m-%d} "
        "and is not revoked. Revoke it, or renew it as a new version.")


def reassessments_due(now: datetime) -> Iterator[Reminder]:
    days = {tier: p.reassessment_days for tier, p in policies_by_tier().items()}
    latest = (Assessment.objects.filter(agent=OuterRef("pk"), state=AssessmentState.COMPLETED)
              .order_by("-completed_at", "-pk"))
    agents = list(Agent.objects.exclude(stage__in=[Stage.RETIRED, Stage.DECLINED])
                  .annotate(assessed_at=Subquery(latest.values("completed_at")[:1]),
                            assessed_tier=Subquery(latest.values("tier")[:1]))
                  .filter(assessed_at__isnull=False))
    due = []
    for agent in agents:
        if agent.assessed_tier in days:
            due_at = agent.assessed_at + timedelta(days=days[agent.assessed_tier])
            if due_at <= now + REASSESSMENT_WINDOW:
                due.append((agent, due_at))
    people = caretakers(agent.pk for agent, _ in due)
    for agent, due_at in due:
        yield Reminder(people[agent.pk], f"Risk reassessment due: {agent}",
                       f"The risk assessment of {agent} must be redone by {due_at:%Y-%m-%d}.",
                       reverse("risk:agent-assessments", kwargs={"slug": agent.slug}),
                       f"agent:{agent.pk}", period=f"{due_at:%Y-%m-%d}")


def dormant(now: datetime) -> Iterator[Reminder]:
    found = selectors.dormant_agents(now=now)
    people = caretakers(d.agent.pk for d in found)
    compliance = selectors.people_with_role(Role.COMPLIANCE)
    for d in found:
        seen = f"{d.last_activity:%Y-%m-%d}" if d.last_activity else "never"
        yield Reminder(people[d.agent.pk] + compliance, f"Dormant agent: {d.agent}",
                       f"{d.agent} is live but has shown no activity for {d.dormancy_days} "
                       f"days or more (last seen: {seen}). Consider sunsetting it.",
                       d.agent.get_absolute_url(), f"agent:{d.agent.pk}", period=seen)


def ownerless(now: datetime) -> Iterator[Reminder]:
    agents = list(selectors.ownerless_agents())
    if not agents:
        return
    compliance = selectors.people_with_role(Role.COMPLIANCE)
    for agent in agents:
        yield Reminder(compliance, f"Ownerless agent: {agent}",
                       f"The business owner of {agent} ({agent.business_owner or 'none'}) is no "
                       "longer active. Reassign the agent to a new owner.",
                       reverse("reviews:ownerless"), f"agent:{agent.pk}")


def signoffs_waiting(now: datetime) -> Iterator[Reminder]:
    """Releases under sign-off for more than SIGNOFF_REMINDER_DAYS: everyone who may give a
    missing sign-off now is reminded, as releases.rules decides (independence, the tier's
    order, one person one role)."""
    since = now - timedelta(days=settings.SIGNOFF_REMINDER_DAYS)
    releases = list(Release.objects.filter(state=ReleaseState.SUBMITTED, submitted_at__lte=since)
                    .select_related("agent__business_owner")
                    .prefetch_related("signoffs"))
    for facts, people in signers_waiting(releases):
        release = facts.release
        assert isinstance(release, Release)  # the facts are about the releases passed in
        if people:
            yield Reminder(people, f"Sign-off waiting: {release}",
                           f"{release} has waited for sign-off since "
                           f"{release.submitted_at:%Y-%m-%d}; still missing: "
                           f"{', '.join(role_label(r) for r in short_roles(facts))}.",
                           release.get_absolute_url(), f"release:{release.pk}")


INCIDENT_REMIND_BEFORE = timedelta(days=3)


def incident_deadlines(now: datetime) -> Iterator[Reminder]:
    """Serious incidents (EU AI Act Art. 73) whose report falls due within three days, or is
    overdue: compliance and the incident's owner, once before and once after the deadline."""
    incidents = operations.serious_incidents_due(before=now + INCIDENT_REMIND_BEFORE)
    if not incidents:
        return
    compliance = selectors.people_with_role(Role.COMPLIANCE)
    for incident in incidents:
        if incident.report_deadline is None:  # the selector finds only incidents with one
            continue
        overdue = incident.report_deadline < now
        yield Reminder(
            [*compliance, incident.owner],
            f"{'Overdue' if overdue else 'Due soon'}: report {incident} (EU AI Act Art. 73)",
            f"The report on {incident.agent} is due by "
            f"{timezone.localtime(incident.report_deadline):%Y-%m-%d %H:%M}.",
            incident.get_absolute_url(), f"incident:{incident.pk}",
            period=f"{incident.report_deadline:%Y-%m-%d}-{'overdue' if overdue else 'due'}")


def decommission_tasks_late(now: datetime) -> Iterator[Reminder]:
    for task in retirement.late_tasks(timezone.localdate(now)):
        agent = task.plan.agent
        yield Reminder([task.assignee or agent.business_owner],
                       f"Late decommission task: {task.title} ({agent})",
                       f"“{task.title}” for the decommissioning of {agent} was due on "
                       f"{task.due_date:%Y-%m-%d}.",
                       task.get_absolute_url(), f"decommission-task:{task.pk}")


def register_all() -> None:
    reminders.register("review-due", reviews_due, cadence="weekly")
    reminders.register("review-overdue", reviews_overdue, cadence="weekly")
    reminders.register("credential-expiring", credentials_expiring)
    reminders.register("credential-expired", credentials_expired)
    reminders.register("reassessment-due", reassessments_due)
    reminders.register("agent-dormant", dormant)
    reminders.register("agent-ownerless", ownerless, cadence="weekly")
    reminders.register("signoff-waiting", signoffs_waiting, cadence="weekly")
    reminders.register("incident-deadline", incident_deadlines, cadence="once")
    reminders.register("decommission-task-late", decommission_tasks_late, cadence="weekly")
