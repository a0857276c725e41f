"""Read queries for pages, API, exports and admin: one permission layer (what a user may see)."""

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from ..accounts.models import User
from ..accounts.permissions import can
from . import grants
from .grants import agent_delegates  # noqa: F401 (pages and API read it with the others)
from .models import COMPONENT_MODELS, Agent, ComponentVersion
from .rules import SERVICE_RIGHTS


def sees_every_agent(user: User, perm: str = "view_agent") -> bool:
    """Whether the user holds `perm` over the whole fleet (the oversight roles), not agent by
    agent."""
    return can(user, f"inventory.{perm}")


def agents_visible_to(user: User, perm: str = "view_agent") -> QuerySet[Agent]:
    agents = Agent.objects.select_related("business_owner", "technical_owner")
    if sees_every_agent(user, perm):
        return agents
    if not (user.is_authenticated and user.is_active):
        return agents.none()
    return agents.filter(grants.agents_granted(user, perm))


def visible_through(user: User, path: str = "agent", perm: str = "view_agent") -> Q:
    """Rows whose agent (reached through `path`) the user may see. No condition at all for
    those who see every agent, so that counting over the fleet reads one table, not two."""
    if sees_every_agent(user, perm):
        return Q()
    return Q(**{f"{path}__in": agents_visible_to(user, perm)})


def agents_in_care_of(user: User) -> QuerySet[Agent]:
    """Agents the user owns, is a delegate on, or cares for through a group grant."""
    return Agent.objects.select_related("business_owner").filter(grants.in_care_of(user))


def agents_for_gateway(user: User, right: str) -> QuerySet[Agent]:
    """The agents a token's owner may act on as a gateway (`poll_runtime`, `ingest_metrics`): a
    service account only where that narrow right was granted to it; a person wherever they see
    the agent."""
    return agents_visible_to(user, right if user.is_service_account else "view_agent")


def components_visible_to(user: User, kind: str):
    model = COMPONENT_MODELS[kind]
    return model._default_manager.filter(visible_through(user)).select_related(
        "agent", "created_by")


def agent_components(agent: Agent) -> dict[str, list]:
    """Every version of every component, newest version first within a name."""
    return {kind: list(getattr(agent, _agent_relation(model)).select_related("created_by"))
            for kind, model in COMPONENT_MODELS.items()}


def _agent_relation(model: type[ComponentVersion]) -> str:
    """The name of the agent's relation to this component kind (agent.prompts, agent.tools…)."""
    related_name = model._meta.get_field("agent").remote_field.related_name
    assert related_name, "every component kind names its relation"  # see inventory.models
    return related_name


def agent_service_accounts(agent: Agent) -> list[tuple[User, list[str]]]:
    """The service accounts holding narrow rights on the agent, each with its rights."""
    return grants.service_accounts_holding(agent, SERVICE_RIGHTS)


# --- History: who changed which field, from what to what, when and why --------------------

@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    user: User | None
    action: str  # created, changed, deleted
    subject: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
_HIDDEN = {"id", "created_at", "updated_at", "manifest"}


def _display(model_field, value, users: dict) -> str:
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation and model_field.related_model is User:
        return str(users.get(value, value))
    if isinstance(value, list):
        return ", ".join(
            f"{v.get('name')}: {v.get('target')}" if isinstance(v, dict) else str(v)
            for v in value) or "—"
    return str(value)


def _tracked_fields(model, history_model):
    """The record's fields its history keeps (a history may leave readings out)."""
    kept = {f.attname for f in history_model._meta.concrete_fields}
    return [f for f in model._meta.concrete_fields
            if f.name not in _HIDDEN and f.attname in kept]


def _entries_for(rows, subject_of, users) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    previous: dict[int, Any] = {}
    for row in rows:
        fields = _tracked_fields(row.instance_type, type(row))
        before = previous.get(row.id)
        changes = []
        if before is not None:
            for f in fields:
                old, new = getattr(before, f.attname), getattr(row, f.attname)
                if old != new:
                    changes.append(FieldChange(str(f.verbose_name), _display(f, old, users),
                                               _display(f, new, users)))
        entries.append(HistoryEntry(
            when=row.history_date, user=users.get(row.history_user_id),
            action=_ACTIONS[row.history_type], subject=subject_of(row),
            reason=row.history_change_reason or "", changes=changes))
        previous[row.id] = row
    return entries


HISTORY_SHOWN = 50


def agent_history(agent: Agent, limit: int | None = None) -> list[HistoryEntry]:
    """The latest `limit` changes to the agent's record, components, releases and access
    grants, newest first (the audit timeline pages through the rest). Each source reads at
    most limit + 1 rows: the extra, older row is what the oldest shown one is compared to."""
    limit = limit or HISTORY_SHOWN
    # Releases live in the higher releases area (under this app's label): read by name.
    release_history = apps.get_model("inventory", "Release").history
    sources = [
        (Agent.history.filter(id=agent.pk), lambda r: "Agent record"),
        (release_history.filter(agent_id=agent.pk),
         lambda r: f"Release {r.label or '#' + str(r.number)}"),
        (grants.grant_history(agent.pk),
         lambda r: f"Access: {r.permission.codename.replace('_', ' ')}"),
    ] + [
        (model.history.filter(agent_id=agent.pk),
         lambda r, m=model: f"{m._meta.verbose_name.capitalize()} {r.name} v{r.version}")
        for model in COMPONENT_MODELS.values()
    ]
    rows = [list(reversed(qs.order_by("-history_date", "-history_id")[:limit + 1]))
            for qs, _ in sources]
    user_ids = {r.history_user_id for r in chain(*rows)}
    user_ids |= {r.business_owner_id for r in rows[0]} | {r.technical_owner_id for r in rows[0]}
    user_ids |= {r.user_id for r in rows[2]}
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids - {None})}
    entries = chain.from_iterable(
        _entries_for(r, subject_of, users)[1 if len(r) > limit else 0:]
        for r, (_, subject_of) in zip(rows, sources, strict=True))
    return sorted(entries, key=lambda e: e.when, reverse=True)[:limit]
