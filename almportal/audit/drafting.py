"""From history rows to draft ledger entries, for a whole batch at once.

A draft is the column values of a ledger entry except its number and hashes. Drafting a batch
runs a fixed number of queries whatever its size: per history model, one for the rows with the
id of each row's previous version, one for those previous versions, one per relation the
model's text follows (learnt from the first row) and one per step to the agent. Nothing
here writes.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import OuterRef, Subquery, prefetch_related_objects

from ..inventory.models import Agent
from . import ledger
from .registry import agent_path, agent_resolver

HistoryKey = tuple[str, int]  # (history model label, history_id)


def history_models() -> list[type[models.Model]]:
    """Every simple-history table of every installed app (not the m2m history tables)."""
    found = []
    for model in apps.get_models():
        if not hasattr(model, "instance_type"):
            continue
        names = {f.name for f in model._meta.concrete_fields}
        if {"history_id", "history_type", "history_date"} <= names:
            found.append(model)
    return found


# --- Which agent a row belongs to -----------------------------------------------------------------

def _agent_fk(model) -> models.Field | None:
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is Agent:
            return f
    return None


def _parent_with_agent(model) -> models.Field | None:
    """A foreign key to a model that itself has an agent (a sign-off's release, say)."""
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is not None and _agent_fk(f.related_model):
            return f
    return None


def agent_lookup(model) -> str | None:
    """How a record reaches its agent, as a lookup ("agent", "release__agent",
    "item__release__agent"), or None when it belongs to no agent."""
    registered = agent_path(model._meta.label_lower)
    if registered:
        return registered
    direct = _agent_fk(model)
    if direct is not None:
        return direct.name
    parent = _parent_with_agent(model)
    if parent is not None:
        return f"{parent.name}__{_agent_fk(parent.related_model).name}"
    return None


def agent_ids(model, rows: Sequence) -> list[int | None]:
    """The agent of each history row of `model`, with at most one query."""
    if model is Agent:
        return [row.id for row in rows]
    resolver = agent_resolver(model._meta.label_lower)
    if resolver is not None:  # a per-row function: kept for callers that still register one
        return [resolver(row) for row in rows]
    lookup = agent_lookup(model)
    if lookup is None:
        return [None] * len(rows)
    first, _, rest = lookup.partition("__")
    attname = model._meta.get_field(first).attname
    if not rest:
        return [getattr(row, attname) for row in rows]
    related = model._meta.get_field(first).related_model
    parents = {getattr(row, attname) for row in rows} - {None}
    found = dict(related._default_manager.filter(pk__in=parents)
                 .values_list("pk", rest))
    return [found.get(getattr(row, attname)) for row in rows]


# --- What the row shows as --------------------------------------------------------------------

def _instance(row, model, attnames: list[str]):
    """The record as the row saw it, without simple_history's extra query per row for the
    fields it does not keep (none of which a record's text uses)."""
    return model(**{name: getattr(row, name) for name in attnames})


def _followed(instance, prefix: str = "", seen: tuple = ()) -> list[str]:
    """The relations reading the instance's text loaded, as prefetch lookups."""
    paths, seen = [], seen or (instance,)
    for name, related in instance._state.fields_cache.items():
        if any(related is kept for kept in seen):
            continue  # a one-to-one field's back-reference, cached by following it
        path = f"{prefix}{name}"
        paths.append(path)
        if related is not None:
            paths.extend(_followed(related, f"{path}__", (*seen, related)))
    return paths


def object_reprs(model, rows: Sequence) -> list[str]:
    """Each row's text, loading what the text follows once for the whole batch."""
    fields = {f.attname for f in model._meta.concrete_fields}
    attnames = [f.attname for f in ledger.tracked_fields(type(rows[0])) if f.attname in fields]
    instances = [_instance(row, model, attnames) for row in rows]
    texts = [ledger.instance_repr(instances[0], rows[0].pk)]
    paths = _followed(instances[0])
    if paths and len(instances) > 1:
        prefetch_related_objects(instances[1:], *paths)
    texts.extend(ledger.instance_repr(instance, row.pk)
                 for instance, row in zip(instances[1:], rows[1:], strict=True))
    return texts


# --- The rows and their previous versions -----------------------------------------------------

def _rows_with_previous(history_model, ids: Iterable[int]) -> tuple[list, dict]:
    """The history rows with these ids, and the version before each (by history id)."""
    before = (history_model.objects
              .filter(id=OuterRef("id"), history_date__lte=OuterRef("history_date"))
              .exclude(history_id=OuterRef("history_id"))
              .order_by("-history_date", "-history_id").values("history_id")[:1])
    rows = list(history_model.objects.filter(history_id__in=list(ids))
                .annotate(ledger_prior_id=Subquery(before)).select_related("history_user"))
    wanted = [row.ledger_prior_id for row in rows
              if row.history_type != "+" and row.ledger_prior_id]
    previous = {}
    if wanted:
        previous = {p.history_id: p for p in history_model.objects.filter(history_id__in=wanted)}
    return rows, previous


def _draft(row, previous, repr_text: str, agent_id: int | None) -> dict:
    user = row.history_user
    return {
        "time": row.history_date,
        "actor_id": row.history_user_id,
        "actor_name": user.get_username() if user else ledger.UNRECORDED_ACTOR,
        "object_model": row.instance_type._meta.label_lower,
        "object_pk": str(row.id),
        "object_repr": repr_text,
        "agent_id": agent_id,
        "action": ledger.ACTIONS[row.history_type],
        "changes": ledger.changes_text(ledger.field_changes(row, previous)),
        "reason": row.history_change_reason or "",
        "history_model": type(row)._meta.label_lower,
        "history_id": row.history_id,
    }


def drafts_for(keys: Sequence[HistoryKey]) -> list[dict]:
    """Drafts for these history rows, in the order of the keys; keys of rows that do not exist
    (rolled back) are left out."""
    by_model: dict[str, list[int]] = defaultdict(list)
    for label, history_id in keys:
        by_model[label].append(history_id)
    found: dict[HistoryKey, dict] = {}
    for label, ids in by_model.items():
        history_model = apps.get_model(label)
        rows, previous = _rows_with_previous(history_model, ids)
        if not rows:
            continue
        model = history_model.instance_type
        texts, agents = object_reprs(model, rows), agent_ids(model, rows)
        for row, text, agent_id in zip(rows, texts, agents, strict=True):
            prior = previous.get(row.ledger_prior_id) if row.history_type != "+" else None
            found[(label, row.history_id)] = _draft(row, prior, text, agent_id)
    return [found[key] for key in keys if key in found]


def draft_of(row) -> dict[str, Any]:
    """The draft for one history row (as drafts_for would make it)."""
    return drafts_for([(type(row)._meta.label_lower, row.history_id)])[0]
