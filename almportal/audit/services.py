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

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..accounts.models import User
from ..accounts.permissions import require
from ..core.errors import Conflict, DomainError, require_that
from ..core.lifecycle import lock, record
from ..inventory.models import Agent
from . import drafting, ledger, permissions, signing
from .drafting import history_models
from .models import (
    CheckpointKind,
    ExportKind,
    ExportRecord,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    RetentionHold,
    VerificationRun,
)
from .rules import can_export

log = logging.getLogger(__name__)

HistoryKey = drafting.HistoryKey
# Drafting runs a fixed number of queries per batch, so a large batch costs no more queries
# than a small one; the bound keeps a batch's memory to a few megabytes.
APPEND_BATCH = 10_000
CATCH_UP_LIMIT = 10_000  # per run; the next run (or the command's loop) takes the rest
CATCH_UP_LOCK = "audit-ledger-catch-up"


# --- Which agent a row belongs to -----------------------------------------------------------------

def agent_id_of(row) -> int | None:
    """The agent a history row belongs to."""
    return drafting.agent_ids(row.instance_type, [row])[0]


# --- Appending -----------------------------------------------------------------------------------

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
    found: set[HistoryKey] = set()
    for label, ids in by_model.items():
        found.update((label, history_id) for history_id in LedgerEntry.objects.filter(
            drafting.among(LedgerEntry, "history_id", ids), history_model=label)
            .values_list("history_id", flat=True))
    return found


def insert_entries(rows: list[dict]) -> None:
    """Write chained entries (ledger.chain) in one statement: COPY on PostgreSQL (no SQL text
    to build and no model instances), a bulk insert elsewhere. Call under the head lock."""
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create([LedgerEntry(**row) for row in rows])
        return
    columns = ledger.ENTRY_COLUMNS
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {LedgerEntry._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def ledger_append(keys: Sequence[HistoryKey]) -> int:
    """Append entries for these history rows in this order; rows already in are skipped, rows
    that do not exist (rolled back) are ignored. Returns how many entries were appended."""
    appended = 0
    for start in range(0, len(keys), APPEND_BATCH):
        batch = list(dict.fromkeys(keys[start:start + APPEND_BATCH]))
        drafts = drafting.drafts_for(batch)  # the slow part, outside the lock
        if not drafts:
            continue
        with transaction.atomic():
            head = _lock_head()
            done = _already_in((d["history_model"], d["history_id"]) for d in drafts)
            fresh = [d for d in drafts if (d["history_model"], d["history_id"]) not in done]
            entries = ledger.chain(fresh, after_seq=head.seq, after_hash=head.hash)
            if entries:
                insert_entries(entries)
                LedgerHead.objects.filter(pk=head.pk).update(seq=entries[-1]["seq"],
                                                             hash=entries[-1]["hash"])
        appended += len(entries)
    return appended


# --- Catching up --------------------------------------------------------------------------------

def _unledgered(model) -> models.QuerySet:
    """The model's history rows with no ledger entry: an anti-join on the ledger's unique
    (history model, history id) index, not a NOT IN list."""
    in_ledger = LedgerEntry.objects.filter(history_model=model._meta.label_lower,
                                           history_id=OuterRef("history_id"))
    return model.objects.filter(~Exists(in_ledger))


def missing_history_keys(limit: int | None = None) -> list[HistoryKey]:
    """History rows not yet in the ledger, oldest change first (the oldest `limit` of them)."""
    missing: list[tuple[datetime, str, int]] = []
    for model in history_models():
        label = model._meta.label_lower
        rows = (_unledgered(model).order_by("history_date", "history_id")
                .values_list("history_date", "history_id"))
        missing.extend((when, label, history_id) for when, history_id in rows[:limit])
    missing.sort()
    return [(label, history_id) for _, label, history_id in missing[:limit]]


def unledgered_count() -> int:
    return sum(_unledgered(model).count() for model in history_models())


@contextmanager
def _try_lock(name: str) -> Iterator[bool]:
    """A PostgreSQL advisory lock held for the block if no one else holds it (a session lock,
    so it does not depend on the caller's transaction). Other databases serve one process in
    development: the head lock alone keeps appends single."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def ledger_catch_up(limit: int = CATCH_UP_LIMIT) -> int:
    """Append the oldest history rows the ledger does not hold yet (after a crash between a
    commit and its append, or rows written without signals), at most `limit` per run. A run
    that finds another under way returns at once, so runs never overlap or pile up."""
    with _try_lock(CATCH_UP_LOCK) as acquired:
        if not acquired:
            log.info("Audit ledger catch-up skipped: another run is under way.")
            return 0
        keys = missing_history_keys(limit)
        signing.refuse_behind_broken_checkpoint(keys)
        appended = ledger_append(keys) if keys else 0
    if appended:
        log.warning("Audit ledger catch-up appended %d entries.", appended)
    return appended


# --- Exports and verification runs ---------------------------------------------------------------

def require_export(actor: User) -> None:
    require_that(can_export(actor), "Your role may not export audit history.")


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
    """Record a verification run; a passing one also leaves a "verified" checkpoint at the last
    entry it checked, where the next incremental check starts."""
    run = VerificationRun(ok=result.ok, checked=result.checked, head_seq=result.head_seq,
                          first_bad_seq=result.first_bad_seq, problem=result.problem,
                          run_by=actor)
    record(run, actor=actor, reason="Ledger verified" if result.ok else "Ledger verification "
                                                                        "failed")
    if result.ok and result.last_seq:
        checkpoint_record(actor=actor, kind=CheckpointKind.VERIFIED, seq=result.last_seq,
                          entry_hash=result.last_hash)
    return run


def checkpoint_record(*, actor: User, kind: str, seq: int, entry_hash: str,
                      signature: str | None = None, key_id: str | None = None
                      ) -> LedgerCheckpoint:
    """Keep "the ledger up to entry #seq has this hash" (verified, or signed by a key)."""
    if not LedgerEntry.objects.filter(seq=seq, hash=entry_hash).exists():
        raise DomainError(f"Entry #{seq} does not have that hash.", field="entry_hash")
    checkpoint = LedgerCheckpoint(seq=seq, entry_hash=entry_hash, kind=kind,
                                  signature=signature, key_id=key_id)
    record(checkpoint, actor=actor, reason=f"Ledger {kind} up to entry #{seq}")
    return checkpoint


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
    require(actor, permissions.MANAGE_RETENTION,
            message="Your role may not release retention holds.")
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
