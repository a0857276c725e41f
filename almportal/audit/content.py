"""The ledger covers content, not only its own chain. Read-only.

Two checks, each naming the entry, the model, the object and the field of what disagrees:

- every history row's field values (and actor and reason) against the ledger entry made from
  it: the entry's changes are recomputed from the history row and the one before it, exactly as
  they were when the entry was appended (audit.services._draft), and compared field by field;
- every live row of a tracked model against its latest history row: a row edited behind the
  application's back (no history row) differs from the last one history recorded.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.db.models import OuterRef, QuerySet, Subquery

from . import ledger
from .models import LedgerEntry
from .services import history_models

CHUNK = 2000
MAX_FINDINGS = 50  # enough to see the pattern; the first one is what matters


@dataclass(frozen=True)
class Finding:
    seq: int | None  # the ledger entry concerned (the latest one of the object, for live rows)
    model: str  # app_label.model of the record
    object_pk: str
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"entry #{self.seq}, " if self.seq is not None else ""
        field = f", field {self.field}" if self.field else ""
        return f"{where}{self.model} #{self.object_pk}{field}: {self.problem}"


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _chunks(iterator: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- History rows against their ledger entries ------------------------------------------------

def _rows_with_previous(model, history_ids: list[int]) -> tuple[dict, dict]:
    """The history rows with these ids, and for each the row before it (as the append chose)."""
    before = (model.objects.filter(id=OuterRef("id"), history_date__lte=OuterRef("history_date"))
              .exclude(history_id=OuterRef("history_id"))
              .order_by("-history_date", "-history_id").values("history_id")[:1])
    rows = {r.history_id: r for r in model.objects.filter(history_id__in=history_ids)
            .annotate(ledger_previous_id=Subquery(before))}
    previous_ids = [r.ledger_previous_id for r in rows.values()
                    if r.ledger_previous_id is not None]
    previous = {r.history_id: r for r in model.objects.filter(history_id__in=previous_ids)}
    return rows, previous


def _by_field(changes: Iterable[dict]) -> dict[str, tuple]:
    return {c["field"]: (c.get("old"), c.get("new")) for c in changes}


def _entry_findings(entry: LedgerEntry, row, previous) -> list[Finding]:
    def finding(field: str, problem: str) -> Finding:
        return Finding(entry.seq, entry.object_model, entry.object_pk, field, problem)

    found = []
    if row.history_user_id != entry.actor_id:
        found.append(finding("history_user", f"the history row names user "
                                             f"{row.history_user_id}, the entry "
                                             f"{entry.actor_id} ({entry.actor_name})"))
    if (row.history_change_reason or "") != entry.reason:
        found.append(finding("history_change_reason", "the history row's reason differs from "
                                                      "the entry's"))
    expected = _by_field(ledger.field_changes(row, previous if row.history_type != "+" else None))
    recorded = _by_field(json.loads(entry.changes))
    for name in sorted(set(expected) | set(recorded)):
        if expected.get(name) != recorded.get(name):
            now = expected.get(name, (None, None))[1 if row.history_type != "-" else 0]
            then = recorded.get(name, (None, None))[1 if row.history_type != "-" else 0]
            found.append(finding(name, f"the history row holds {_short(now)}, the ledger "
                                       f"entry recorded {_short(then)}"))
    return found


def history_findings(entries: QuerySet[LedgerEntry] | None = None,
                     limit: int = MAX_FINDINGS) -> list[Finding]:
    """Entries (all, or these) whose history row no longer says what the entry recorded, in
    ledger order. Entries whose history row is gone are the chain check's to report."""
    entries = (entries if entries is not None else LedgerEntry.objects.all()).order_by("seq")
    models = {m._meta.label_lower: m for m in history_models()}
    found: list[Finding] = []
    for chunk in _chunks(entries.iterator(chunk_size=CHUNK), CHUNK):
        wanted: dict[str, list[int]] = defaultdict(list)
        for entry in chunk:
            wanted[entry.history_model].append(entry.history_id)
        loaded = {label: _rows_with_previous(models[label], ids)
                  for label, ids in wanted.items() if label in models}
        for entry in chunk:
            rows, previous = loaded.get(entry.history_model, ({}, {}))
            row = rows.get(entry.history_id)
            if row is None:
                continue
            found.extend(_entry_findings(entry, row, previous.get(row.ledger_previous_id)))
            if len(found) >= limit:
                return found[:limit]
    return found


# --- Live rows against their latest history row ---------------------------------------------

def _latest_history(history_model, pks: list) -> dict:
    latest = {}
    for row in history_model.objects.filter(id__in=pks).order_by("id", "history_date",
                                                                 "history_id"):
        latest[row.id] = row
    return latest


def _entry_seqs(label: str, history_ids: list[int]) -> dict[int, int]:
    return dict(LedgerEntry.objects.filter(history_model=label, history_id__in=history_ids)
                .values_list("history_id", "seq"))


def _live_findings_for(history_model) -> Iterator[Finding]:
    model, label = history_model.instance_type, history_model._meta.label_lower
    name = model._meta.label_lower
    fields = ledger.tracked_fields(history_model)
    live_rows = model._default_manager.order_by("pk").iterator(chunk_size=CHUNK)
    for chunk in _chunks(live_rows, CHUNK):
        latest = _latest_history(history_model, [r.pk for r in chunk])
        seqs = _entry_seqs(label, [h.history_id for h in latest.values()])
        for live in chunk:
            last = latest.get(live.pk)
            if last is None or last.history_type == "-":
                yield Finding(None, name, str(live.pk), "",
                              "the row exists but history has no record of it"
                              if last is None else "the row exists but history records it "
                                                   "deleted")
                continue
            for f in fields:
                now, recorded = ledger.jsonable(getattr(live, f.attname)), ledger.jsonable(
                    getattr(last, f.attname))
                if now != recorded:
                    yield Finding(seqs.get(last.history_id), name, str(live.pk), f.name,
                                  f"the live row holds {_short(now)}, its latest history row "
                                  f"{_short(recorded)} (changed outside the application)")


def live_findings(limit: int = MAX_FINDINGS) -> list[Finding]:
    found: list[Finding] = []
    for history_model in history_models():
        if len(found) >= limit:
            break
        found.extend(islice(_live_findings_for(history_model), limit - len(found)))
    return found


def content_findings(limit: int = MAX_FINDINGS) -> list[Finding]:
    found = history_findings(limit=limit)
    return found + live_findings(limit=limit - len(found))
