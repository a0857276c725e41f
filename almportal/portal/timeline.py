"""The agent page's timeline: the audit ledger entries filed under the agent, newest first,
grouped by day, with readable labels."""

import json
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby

from django.apps import apps
from django.core.paginator import Page, Paginator
from django.utils import timezone

from ..audit.models import LedgerEntry
from ..inventory.models import Agent

PER_PAGE = 25
# Fields whose change is the headline of an entry (a move through a lifecycle).
STATE_FIELDS = ("stage", "state", "status", "decision", "risk_tier", "tier")
# Areas of the lifecycle, by the app that keeps the record.
AREAS = {"inventory": "Record", "risk": "Risk", "releases": "Release readiness",
         "operations": "Operations", "reviews": "Access review", "retirement": "Decommissioning",
         "audit": "Audit", "accounts": "Access"}


@dataclass
class Event:
    entry: LedgerEntry
    kind: str
    area: str
    headline: str
    changes: list[dict] = field(default_factory=list)


@dataclass
class Day:
    day: date
    events: list[Event]


def _kind(object_model: str) -> str:
    try:
        return str(apps.get_model(object_model)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return object_model


def _headline(entry: LedgerEntry, kind: str, changes: list[dict]) -> str:
    moved = next((c for c in changes if c.get("field") in STATE_FIELDS), None)
    if entry.action == "created":
        return f"{kind} “{entry.object_repr}” created"
    if entry.action == "deleted":
        return f"{kind} “{entry.object_repr}” deleted"
    if moved is not None:
        return (f"{kind} “{entry.object_repr}”: {moved['field'].replace('_', ' ')} "
                f"{moved.get('old') or '—'} → {moved.get('new') or '—'}")
    return f"{kind} “{entry.object_repr}” changed"


def _event(entry: LedgerEntry) -> Event:
    try:
        changes = json.loads(entry.changes)
    except ValueError:
        changes = []
    kind = _kind(entry.object_model)
    area = AREAS.get(entry.object_model.split(".")[0], "Other")
    return Event(entry, kind, area, _headline(entry, kind, changes),
                 [c for c in changes if isinstance(c, dict)])


@dataclass
class Timeline:
    page: Page
    days: list[Day]


def agent_timeline(agent: Agent, page_number=1) -> Timeline:
    """One page of the agent's ledger entries (a count and a slice: two queries)."""
    entries = LedgerEntry.objects.filter(agent_id=agent.pk).order_by("-seq")
    page = Paginator(entries, PER_PAGE).get_page(page_number)
    events = [_event(e) for e in page.object_list]
    days = [Day(day, list(group)) for day, group in
            groupby(events, key=lambda e: timezone.localtime(e.entry.time).date())]
    return Timeline(page, days)
