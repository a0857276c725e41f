"""Every write of the audit area: appending to the ledger, recording exports and verification
runs, and placing or releasing retention holds.

How the ledger is appended, and how its order is kept
-----------------------------------------------------
A business transaction writes its history rows as usual and nothing else: it never touches the
ledger, so it never waits on it. Each history row is noted when simple_history creates it
(audit.capture) and, once the business transaction commits, `ledger_append` runs in a short
transaction of its own:

1. outside any lock, it reads the history rows and builds each entry's content (diff against
   the previous row of the same object, actor, agent, reason);
2. it locks the single LedgerHead row (SELECT … FOR UPDATE), skips rows already in the ledger,
   numbers the new entries from the head, chains their hashes, inserts them in one statement,
   moves the head, and commits.

The lock covers four short statements and never any business work, so writers are serialised
for microseconds, not for the length of their transactions. The ledger's order is the order in
which committed changes were appended, which follows commit order; within one business
transaction the rows keep the order in which they were written. Each entry also keeps the time
of the change itself ("time").

Appending is idempotent: (history model, history id) is unique, checked under the lock. A crash
between commit and append loses nothing: `ledger_catch_up` (a periodic task and the
`audit_catch_up` command) appends every history row the ledger does not yet hold.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from ..accounts.models import User
from ..accounts.permissions import require
from ..core.errors import Conflict, DomainError
from ..core.lifecycle import lock, record
from ..inventory.models import Agent
from . import ledger, permissions, signing
from .models import (
    ExportKind,
    ExportRecord,
    LedgerEntry,
    LedgerHead,
    RetentionHold,
    VerificationRun,
)
from .registry import agent_resolver

log = logging.getLogger(__name__)

HistoryKey = tuple[str, int]  # (history model label, history_id)
APPEND_BATCH = 500


# --- Which models are tracked, and which agent a row belongs to --------------------------------

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


def agent_id_of(row) -> int | None:
    model = row.instance_type
    resolver = agent_resolver(model._meta.label_lower)
    if resolver is not None:
        return resolver(row)
    if model is Agent:
        return row.id
    direct = _agent_fk(model)
    if direct is not None:
        return getattr(row, direct.attname)
    parent = _parent_with_agent(model)
    if parent is not None and getattr(row, parent.attname) is not None:
        related = parent.related_model
        return (related._default_manager.filter(pk=getattr(row, parent.attname))
                .values_list(_agent_fk(related).attname, flat=True).first())
    return None


# --- Appending -----------------------------------------------------------------------------------

def _load_rows(keys: Sequence[HistoryKey]) -> list:
    by_model: dict[str, list[int]] = defaultdict(list)
    for label, history_id in keys:
        by_model[label].append(history_id)
    found = {}
    for label, ids in by_model.items():
        model = apps.get_model(label)
        for row in model.objects.filter(history_id__in=ids).select_related("history_user"):
            found[(label, row.history_id)] = row
    return [found[key] for key in keys if key in found]


def _draft(row) -> dict:
    """The column values of a ledger entry for a history row, except seq and hashes."""
    history_model = type(row)
    previous = None
    if row.history_type != "+":
        previous = (history_model.objects.filter(id=row.id, history_date__lte=row.history_date)
                    .exclude(history_id=row.history_id)
                    .order_by("-history_date", "-history_id").first())
    user = row.history_user
    return {
        "time": row.history_date,
        "actor_id": row.history_user_id,
        "actor_name": user.get_username() if user else ledger.UNRECORDED_ACTOR,
        "object_model": row.instance_type._meta.label_lower,
        "object_pk": str(row.id),
        "object_repr": ledger.object_repr(row),
        "agent_id": agent_id_of(row),
        "action": ledger.ACTIONS[row.history_type],
        "changes": ledger.changes_text(ledger.field_changes(row, previous)),
        "reason": row.history_change_reason or "",
        "history_model": history_model._meta.label_lower,
        "history_id": row.history_id,
    }


def _lock_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    # Only after the table was emptied (a test database's flush): restart from the last entry.
    last = LedgerEntry.objects.order_by("-seq").first()
    try:
        with transaction.atomic():
            LedgerHead.objects.create(pk=1, seq=last.seq if last else 0,
                                      hash=last.hash if last else ledger.GENESIS_HASH)
    except IntegrityError:
        pass  # another writer made it first
    return LedgerHead.objects.select_for_update().get(pk=1)


def _already_in(keys: Iterable[HistoryKey]) -> set[HistoryKey]:
    by_model: dict[str, list[int]] = defaultdict(list)
    for label, history_id in keys:
        by_model[label].append(history_id)
    if not by_model:
        return set()
    query = Q()
    for label, ids in by_model.items():
        query |= Q(history_model=label, history_id__in=ids)
    return set(LedgerEntry.objects.filter(query).values_list("history_model", "history_id"))


def ledger_append(keys: Sequence[HistoryKey]) -> int:
    """Append entries for these history rows in this order; rows already in are skipped, rows
    that do not exist (rolled back) are ignored. Returns how many entries were appended."""
    appended = 0
    for start in range(0, len(keys), APPEND_BATCH):
        batch = list(dict.fromkeys(keys[start:start + APPEND_BATCH]))
        drafts = [_draft(row) for row in _load_rows(batch)]  # the slow part, outside the lock
        if not drafts:
            continue
        with transaction.atomic():
            head = _lock_head()
            done = _already_in((d["history_model"], d["history_id"]) for d in drafts)
            fresh = [d for d in drafts if (d["history_model"], d["history_id"]) not in done]
            entries = ledger.chain(fresh, after_seq=head.seq, after_hash=head.hash)
            if entries:
                LedgerEntry.objects.bulk_create(entries)
                LedgerHead.objects.filter(pk=head.pk).update(seq=entries[-1].seq,
                                                             hash=entries[-1].hash)
        appended += len(entries)
    return appended


def missing_history_keys() -> list[HistoryKey]:
    """History rows not yet in the ledger, oldest change first."""
    missing = []
    for model in history_models():
        label = model._meta.label_lower
        in_ledger = LedgerEntry.objects.filter(history_model=label).values("history_id")
        rows = (model.objects.exclude(history_id__in=in_ledger)
                .values_list("history_date", "history_id"))
        missing.extend((when, label, history_id) for when, history_id in rows)
    missing.sort()
    return [(label, history_id) for _, label, history_id in missing]


def ledger_catch_up() -> int:
    """Append every history row the ledger does not hold yet (after a crash between a commit
    and its append, or rows written without signals). Safe to run at any time, and twice."""
    keys = missing_history_keys()
    signing.refuse_behind_broken_checkpoint(keys)
    appended = ledger_append(keys) if keys else 0
    if appended:
        log.warning("Audit ledger catch-up appended %d entries.", appended)
    return appended


# --- Exports and verification runs ---------------------------------------------------------------

def require_export(actor: User) -> None:
    require(actor, permissions.EXPORT, message="Your role may not export audit history.")


@transaction.atomic
def export_record(*, actor: User, kind: str, filters: dict | None = None,
                  agent: Agent | None = None, last: LedgerEntry | None = None) -> ExportRecord:
    """Record an export or pack download before it is sent; it enters the ledger like any
    other change."""
    require_export(actor)
    return download_record(actor=actor, kind=kind, filters=filters, agent=agent, last=last)


@transaction.atomic
def download_record(*, actor: User, kind: str, filters: dict | None = None,
                    agent: Agent | None = None, last: LedgerEntry | None = None) -> ExportRecord:
    """Record a download whose permission the caller checked (a retirement archive is the
    owner's to download too): who, what, when, and a signed checkpoint of the ledger."""
    if kind not in ExportKind.values:
        raise DomainError(f"Unknown export kind {kind!r}.", field="kind")
    export = ExportRecord(kind=kind, agent=agent, filters=ledger.jsonable(filters or {}),
                          last_seq=last.seq if last else None,
                          last_hash=last.hash if last else "", created_by=actor)
    label = ExportKind(kind).label
    record(export, actor=actor, reason=f"{label} downloaded" + (f" for {agent}" if agent else ""))
    signing.sign_head()  # the file carries a checkpoint of the ledger as it stands
    return export


@transaction.atomic
def verification_record(*, actor: User, result) -> VerificationRun:
    run = VerificationRun(ok=result.ok, checked=result.checked, head_seq=result.head_seq,
                          first_bad_seq=result.first_bad_seq, problem=result.problem,
                          run_by=actor)
    record(run, actor=actor, reason="Ledger verified" if result.ok else "Ledger verification "
                                                                        "failed")
    return run


# --- Retention -------------------------------------------------------------------------------

def active_holds(agent: Agent, *, today: date | None = None) -> list[RetentionHold]:
    today = today or timezone.localdate()
    holds = RetentionHold.objects.filter(agent=agent, released_at__isnull=True)
    return [h for h in holds if h.legal_hold or (h.retain_until and h.retain_until >= today)]


@transaction.atomic
def retention_hold_place(*, actor: User, agent: Agent, reason: str,
                         retain_until: date | None = None,
                         legal_hold: bool = False) -> RetentionHold:
    require(actor, permissions.MANAGE_RETENTION, message="Your role may not place retention holds.")
    if not reason or not reason.strip():
        raise DomainError("Say why the records must be kept.", field="reason")
    if not legal_hold and retain_until is None:
        raise DomainError("Give a retain-until date, or make it a legal hold.",
                          field="retain_until")
    if retain_until is not None and retain_until <= timezone.localdate():
        raise DomainError("The retain-until date must be in the future.", field="retain_until")
    agent = lock(Agent, agent.pk)
    hold = RetentionHold(agent=agent, reason=reason.strip(), retain_until=retain_until,
                         legal_hold=legal_hold, placed_by=actor)
    record(hold, actor=actor, reason=("Legal hold placed: " if legal_hold else
                                      "Retention set: ") + reason.strip())
    return hold


@transaction.atomic
def retention_hold_release(*, actor: User, hold: RetentionHold, reason: str) -> RetentionHold:
    require(actor, permissions.MANAGE_RETENTION, message="Your role may not release retention holds.")
    if not reason or not reason.strip():
        raise DomainError("Say why the hold is released.", field="reason")
    hold = lock(RetentionHold, hold.pk)
    if hold.released_at is not None:
        raise Conflict("This hold was already released.")
    hold.released_at, hold.released_by = timezone.now(), actor
    hold.release_reason = reason.strip()
    record(hold, actor=actor, reason="Hold released: " + reason.strip())
    return hold


def retention_expire(*, actor: User, today: date | None = None) -> int:
    """Close retention periods that have ended (never legal holds). Run daily by a task."""
    today = today or timezone.localdate()
    expired = 0
    for hold in RetentionHold.objects.filter(released_at__isnull=True, legal_hold=False,
                                             retain_until__lt=today):
        with transaction.atomic():
            hold = lock(RetentionHold, hold.pk)
            if hold.released_at is None:
                hold.released_at, hold.released_by = timezone.now(), actor
                hold.release_reason = f"Retention period ended on {hold.retain_until:%Y-%m-%d}"
                record(hold, actor=actor, reason=hold.release_reason)
                expired += 1
    return expired
