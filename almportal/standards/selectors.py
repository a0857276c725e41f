"""Reads of the standards area, with what their pages need fetched at once."""

from django.db.models import Case, QuerySet, Value, When

from ..accounts.models import User
from ..inventory.models import Agent
from ..inventory.selectors import visible_through
from ..releases.choices import ReleaseState
from ..releases.models import Release
from .models import DriftFinding, FindingState, ImportRecord, WatchedCard
from .rules import COMPARED_STATES, PUBLISHED_STATES


def imports_visible_to(user: User) -> QuerySet[ImportRecord]:
    return (ImportRecord.objects.filter(visible_through(user))
            .select_related("agent", "created_by"))


def watches_visible_to(user: User) -> QuerySet[WatchedCard]:
    return (WatchedCard.objects.filter(visible_through(user))
            .select_related("agent", "created_by"))


def findings_visible_to(user: User) -> QuerySet[DriftFinding]:
    return (DriftFinding.objects.filter(visible_through(user))
            .select_related("agent", "watch", "release", "closed_by"))


def watches_due() -> QuerySet[WatchedCard]:
    return WatchedCard.objects.filter(active=True).order_by("last_polled_at", "pk")


def published_release(slug: str, number: int) -> Release | None:
    """An approved or deployed release, whose card anyone may read; None for any other."""
    return (Release.objects.select_related("agent", "agent__business_owner")
            .filter(agent__slug=slug, number=number, state__in=PUBLISHED_STATES).first())


def compared_release(agent: Agent) -> Release | None:
    """The release a live card is held to: the one deployed, else the latest approved."""
    releases = Release.objects.filter(agent=agent, state__in=COMPARED_STATES)
    deployed_first = Case(When(state=ReleaseState.DEPLOYED, then=Value(0)), default=Value(1))
    return releases.order_by(deployed_first, "-number").first()


def open_finding(watch: WatchedCard, fingerprint: str) -> DriftFinding | None:
    return DriftFinding.objects.filter(watch=watch, fingerprint=fingerprint,
                                       state=FindingState.OPEN).first()


def drift_attributes(agent: Agent) -> dict:
    """The agent's open drift findings as a risk-relevant attribute (risk asks, see apps.py);
    nothing when there are none, so an agent without drift keeps its fingerprint."""
    open_ = sorted(f"#{f.pk}: " + ", ".join(d["subject"] for d in f.differences)
                   for f in agent.drift_findings.all() if f.state == FindingState.OPEN)
    return {"open_drift": open_} if open_ else {}


def open_findings(agent: Agent) -> QuerySet[DriftFinding]:
    return agent.drift_findings.filter(state=FindingState.OPEN).order_by("-opened_at")


def published_releases(agent: Agent) -> QuerySet[Release]:
    return agent.releases.filter(state__in=PUBLISHED_STATES).order_by("-number")


def imports_to_confirm(agent: Agent) -> QuerySet[ImportRecord]:
    """The agent's imports whose tools still wait for their write flags to be confirmed."""
    return agent.imports.exclude(pending_tools=[]).order_by("-created_at")
