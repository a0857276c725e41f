"""From history rows to draft ledger entries, for a whole batch at once.

A draft is the column values of a ledger entry except its number and hashes. Drafting a batch
runs a fixed number of queries whatever its size: per history model, one for the rows (as
value tuples), one for the versions around them (which tell each row's previous version), one
for those previous versions, one for the actors' names, one per relation the model's text
follows (learnt from the first row) and one per step to the agent. Per row it does only what
the entry needs: it compares the values of the row and the one before it, and builds the
record once to read its text. Nothing here writes.
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast
from uuid import UUID

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import OuterRef, Q, Subquery, prefetch_related_objects
from django.db.models.expressions import RawSQL

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


def tracked_model(history_model: type[models.Model]) -> type[models.Model]:
    """The model whose changes a history table records (simple-history builds the table's class
    at run time and sets instance_type on it, which no stub can know)."""
    return cast(Any, history_model).instance_type


def among(model, column: str, values: Iterable) -> Q | RawSQL:
    """A filter for rows whose column is one of these values. On PostgreSQL one array
    parameter (`= ANY`), which costs nothing per value to build, where an IN list of ten
    thousand placeholders costs more to prepare than to run."""
    values = list(values)
    if connection.vendor != "postgresql":
        return Q(**{f"{column}__in": values})
    return RawSQL(f'"{model._meta.db_table}"."{column}" = ANY(%s)', [values],
                  output_field=models.BooleanField())


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
        via = _agent_fk(parent.related_model)
        assert via is not None  # _parent_with_agent picks only parents that have an agent
        return f"{parent.name}__{via.name}"
    return None


def _agents_through(model, lookup: str, firsts: Sequence) -> list[int | None]:
    """The agent of each record, from the value of the lookup's first step in each."""
    first, _, rest = lookup.partition("__")
    if not rest:
        return list(firsts)
    related = model._meta.get_field(first).related_model
    found = dict(related._default_manager.filter(pk__in=set(firsts) - {None})
                 .values_list("pk", rest))
    return [found.get(value) for value in firsts]


def agent_ids(model, rows: Sequence) -> list[int | None]:
    """The agent of each history row of `model` (history model instances), with at most one
    query."""
    if model is Agent:
        return [row.id for row in rows]
    resolver = agent_resolver(model._meta.label_lower)
    if resolver is not None:  # a per-row function: kept for callers that still register one
        return [resolver(row) for row in rows]
    lookup = agent_lookup(model)
    if lookup is None:
        return [None] * len(rows)
    attname = model._meta.get_field(lookup.partition("__")[0]).attname
    return _agents_through(model, lookup, [getattr(row, attname) for row in rows])


# --- What drafting needs to know about a history model, worked out once ---------------------------

# The leading columns of every row drafting reads, before the record's tracked fields.
HEAD = ("history_id", "id", "history_date", "history_type", "history_user_id",
        "history_change_reason")
HISTORY_ID, OBJECT_ID, DATE, TYPE, USER_ID, REASON = range(len(HEAD))
# Values jsonable() returns as they are: two of them differ as JSON exactly when they differ.
PLAIN = (str, int, float, bool, type(None))
# Values of a type whose equal values jsonable() writes alike (not Decimal: 1.0 equals 1.00;
# not time: 12:00+01:00 equals 11:00+00:00), so an unchanged one needs no writing at all.
ALIKE_WHEN_EQUAL = (list, dict, dt.datetime, dt.date, UUID)


@dataclass(frozen=True)
class Plan:
    label: str
    model: type[models.Model]  # the tracked model
    names: tuple[str, ...]  # its tracked fields, in the order a change lists them
    attnames: tuple[str, ...]  # the same fields' columns, as they follow HEAD in a row
    slots: tuple[tuple[int, int], ...]  # (field position in the record, position in a row)
    agent_lookup: str | None
    agent_slot: int | None  # where a row holds the first step of agent_lookup


@cache
def plan_for(history_model) -> Plan:
    model = history_model.instance_type
    tracked = ledger.tracked_fields(history_model)
    attnames = tuple(f.attname for f in tracked)
    where = {attname: len(HEAD) + n for n, attname in enumerate(attnames)}
    concrete = model._meta.concrete_fields
    lookup = agent_lookup(model)
    first = model._meta.get_field(lookup.partition("__")[0]).attname if lookup else None
    return Plan(
        label=history_model._meta.label_lower, model=model,
        names=tuple(f.name for f in tracked), attnames=attnames,
        slots=tuple((n, where[f.attname]) for n, f in enumerate(concrete)
                    if f.attname in where),
        agent_lookup=lookup, agent_slot=where.get(first) if first else None)


# --- What a row shows as, what it changed, and whose it is -------------------------------------

def _record(plan: Plan, defaults: list, row: tuple) -> models.Model:
    """The record as the row saw it, given all its field values in order (the model's fast
    path); fields history does not keep (the key, excluded fields) have their defaults, as
    Model(**tracked_values) would give them."""
    values = defaults.copy()
    for position, slot in plan.slots:
        values[position] = row[slot]
    return plan.model(*values)


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


def _texts(plan: Plan, rows: Sequence[tuple]) -> list[str]:
    """Each row's text, loading what the text follows once for the whole batch."""
    defaults = [models.DEFERRED if f.generated else f.get_default()
                for f in plan.model._meta.concrete_fields]
    records = [_record(plan, defaults, row) for row in rows]
    texts = [ledger.instance_repr(records[0], rows[0][HISTORY_ID])]
    paths = _followed(records[0])
    if paths and len(records) > 1:
        prefetch_related_objects(records[1:], *paths)
    texts.extend(ledger.instance_repr(record, row[HISTORY_ID])
                 for record, row in zip(records[1:], rows[1:], strict=True))
    return texts


def _agents(plan: Plan, history_model, rows: Sequence[tuple]) -> list[int | None]:
    if plan.model is Agent:
        return [row[OBJECT_ID] for row in rows]
    if agent_resolver(plan.model._meta.label_lower) is not None:
        by_id = history_model.objects.in_bulk([row[HISTORY_ID] for row in rows])
        return agent_ids(plan.model, [by_id[row[HISTORY_ID]] for row in rows])
    if plan.agent_lookup is None or plan.agent_slot is None:  # no agent, or no way to it kept
        return [None] * len(rows)
    return _agents_through(plan.model, plan.agent_lookup, [row[plan.agent_slot] for row in rows])


def _changes(plan: Plan, row: tuple, before: tuple | None) -> str:
    """ledger.field_changes() of the row and the one before it, from their values."""
    jsonable, start = ledger.jsonable, len(HEAD)
    values = row[start:]
    if row[TYPE] == "-":
        changes = [{"field": name, "old": jsonable(value), "new": None}
                   for name, value in zip(plan.names, values, strict=True)]
    elif before is None:
        changes = [{"field": name, "old": None, "new": jsonable(value)}
                   for name, value in zip(plan.names, values, strict=True)]
    else:
        changes = []
        for name, old, new in zip(plan.names, before[1:], values, strict=True):
            kind = type(old)
            if kind in PLAIN and type(new) in PLAIN:
                if old != new:
                    changes.append({"field": name, "old": old, "new": new})
            elif kind is type(new) and kind in ALIKE_WHEN_EQUAL and old == new:
                continue
            elif (old_json := jsonable(old)) != (new_json := jsonable(new)):
                changes.append({"field": name, "old": old_json, "new": new_json})
    return ledger.changes_text(changes)


# --- The rows and their previous versions -----------------------------------------------------
# A row's previous version is the other version of the same record with the latest
# (history_date, history_id) at or before the row's history_date, as it always was.

def _previous_in_database(history_model, ids: list[int]) -> dict[int, int | None]:
    """Each row's previous version, one correlated lookup per row: how fast depends on the
    planner, so only where there is nothing better (SQLite, in development)."""
    before = (history_model.objects
              .filter(id=OuterRef("id"), history_date__lte=OuterRef("history_date"))
              .exclude(history_id=OuterRef("history_id"))
              .order_by("-history_date", "-history_id").values("history_id")[:1])
    return dict(history_model.objects.filter(among(history_model, "history_id", ids))
                .annotate(ledger_prior_id=Subquery(before)).order_by()
                .values_list("history_id", "ledger_prior_id"))


# The versions of the batch's records from each one's first version in the batch to its last,
# and the one before that first: all a batch's previous versions can be, read once per record
# rather than looked up per row (where a record with many versions and stale statistics makes
# the planner sort all of them for every row).
NEARBY = """
WITH span AS (SELECT {id} AS id, min({date}) AS lo, max({date}) AS hi FROM {table}
              WHERE {history_id} = ANY(%s) GROUP BY {id})
SELECT v.{history_id}, v.{id}, v.{date} FROM span
    JOIN {table} v ON v.{id} = span.id AND v.{date} BETWEEN span.lo AND span.hi
UNION ALL
SELECT p.* FROM span CROSS JOIN LATERAL (
    SELECT {history_id}, {id}, {date} FROM {table} WHERE {id} = span.id AND {date} < span.lo
    ORDER BY {date} DESC, {history_id} DESC LIMIT 1) p
"""


def _previous_nearby(history_model, ids: list[int]) -> dict[int, int | None]:
    """Each row's previous version, from the versions around the batch (NEARBY)."""
    quote, meta = connection.ops.quote_name, history_model._meta
    sql = NEARBY.format(table=quote(meta.db_table), **{
        name: quote(meta.get_field(name).column) for name in ("id", "history_id")},
        date=quote(meta.get_field("history_date").column))
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        versions = cursor.fetchall()
    by_record: dict[Any, list[tuple]] = defaultdict(list)
    for history_id, record_id, when in versions:
        by_record[record_id].append((when, history_id))
    wanted, previous = set(ids), {}
    for found in by_record.values():
        found.sort()
        dates = [when for when, _ in found]
        for when, history_id in found:
            if history_id in wanted:
                last = bisect_right(dates, when) - 1  # the latest version at or before it
                if found[last][1] == history_id:
                    last -= 1
                previous[history_id] = found[last][1] if last >= 0 else None
    return previous


def _rows_with_previous(history_model, plan: Plan, ids: Iterable[int]
                        ) -> tuple[list[tuple], dict[int, tuple | None]]:
    """The history rows with these ids as value tuples (HEAD, then the tracked fields), and
    the version before each changed or deleted row, by the row's history id (its history id,
    then the tracked fields)."""
    ids = list(ids)
    rows = list(history_model.objects.filter(among(history_model, "history_id", ids))
                .order_by().values_list(*HEAD, *plan.attnames))
    prior = (_previous_nearby if connection.vendor == "postgresql"
             else _previous_in_database)(history_model, ids)
    wanted = {row[HISTORY_ID]: prior.get(row[HISTORY_ID]) for row in rows if row[TYPE] != "+"}
    found: dict[int | None, tuple] = {}
    if any(wanted.values()):
        found = {p[0]: p for p in history_model.objects.filter(
            among(history_model, "history_id", set(wanted.values()) - {None}))
            .order_by().values_list("history_id", *plan.attnames)}
    return rows, {history_id: found.get(prior_id) for history_id, prior_id in wanted.items()}


def _actor_names(rows: Iterable[tuple]) -> dict[int, str]:
    user_model = get_user_model()
    ids = {row[USER_ID] for row in rows} - {None}
    if not ids:
        return {}
    return dict(user_model._default_manager.filter(among(user_model, "id", ids))
                .values_list("pk", user_model.USERNAME_FIELD))


def _drafts_of_model(history_model, ids: list[int]) -> dict[HistoryKey, dict]:
    plan = plan_for(history_model)
    rows, previous = _rows_with_previous(history_model, plan, ids)
    if not rows:
        return {}
    texts, agents = _texts(plan, rows), _agents(plan, history_model, rows)
    names, model_label = _actor_names(rows), plan.model._meta.label_lower
    drafts = {}
    for row, text, agent_id in zip(rows, texts, agents, strict=True):
        before = previous.get(row[HISTORY_ID])
        drafts[(plan.label, row[HISTORY_ID])] = {
            "time": row[DATE], "actor_id": row[USER_ID],
            "actor_name": names.get(row[USER_ID], ledger.UNRECORDED_ACTOR),
            "object_model": model_label, "object_pk": str(row[OBJECT_ID]),
            "object_repr": text, "agent_id": agent_id, "action": ledger.ACTIONS[row[TYPE]],
            "changes": _changes(plan, row, before), "reason": row[REASON] or "",
            "history_model": plan.label, "history_id": row[HISTORY_ID]}
    return drafts


def drafts_for(keys: Sequence[HistoryKey]) -> list[dict]:
    """Drafts for these history rows, in the order of the keys; keys of rows that do not exist
    (rolled back) are left out."""
    by_model: dict[str, list[int]] = defaultdict(list)
    for label, history_id in keys:
        by_model[label].append(history_id)
    found: dict[HistoryKey, dict] = {}
    for label, ids in by_model.items():
        found.update(_drafts_of_model(apps.get_model(label), ids))
    return [found[key] for key in keys if key in found]


def draft_of(row) -> dict[str, Any]:
    """The draft for one history row (as drafts_for would make it)."""
    return drafts_for([(type(row)._meta.label_lower, row.history_id)])[0]
