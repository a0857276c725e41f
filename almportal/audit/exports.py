"""Streamed exports of ledger entries: CSV and JSON Lines, read with .iterator() so memory stays
flat whatever the size, each ending with a line that carries the hash of the last entry
included. The JSON Lines format is documented in schemas/ledger-entry.schema.json."""

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone

from ..core.hashing import canonical_json
from . import signing
from .ledger import CONTENT_KEYS, content, utc_iso
from .models import LedgerEntry

CHUNK = 2000
FORMAT_VERSION = 1
CSV_COLUMNS = ["type", "seq", "time", "actor_id", "actor_name", "object_model", "object_pk",
               "object_repr", "agent", "action", "changes", "reason", "source_model",
               "source_id", "prev_hash", "hash"]


def bounded(entries: QuerySet[LedgerEntry], last_seq: int | None) -> QuerySet[LedgerEntry]:
    """Fix what an export includes when it starts: entries appended meanwhile are left out."""
    return entries.filter(seq__lte=last_seq or 0).order_by("seq")


COLUMNS = ["seq", "time", "actor_id", "actor_name", "object_model", "object_pk", "object_repr",
           "agent_id", "action", "changes", "reason", "history_model", "history_id",
           "prev_hash", "hash"]


def _columns(entries: QuerySet[LedgerEntry]) -> Iterator[dict]:
    """Plain rows rather than model instances: an export touches every entry once."""
    return entries.values(*COLUMNS).iterator(chunk_size=CHUNK)


def jsonl_row(columns: dict) -> dict:
    values = dict(columns)
    digest = values.pop("hash")
    return {"type": "entry", **content(**values), "hash": digest}


def end_row(*, count: int, last: dict | None, export_id: int | None) -> dict:
    return {"type": "end", "format": FORMAT_VERSION, "count": count,
            "last_seq": last["seq"] if last else None,
            "last_hash": last["hash"] if last else None,
            "export": export_id, "generated_at": utc_iso(timezone.now()),
            "checkpoint": latest_checkpoint_document()}


def latest_checkpoint_document() -> dict | None:
    """The latest signed checkpoint of the ledger head (signed when the export was recorded)."""
    checkpoint = signing.latest_checkpoint()
    return signing.as_document(checkpoint) if checkpoint else None


def jsonl_stream(entries: QuerySet[LedgerEntry], *, export_id: int | None = None
                 ) -> Iterator[bytes]:
    count, last = 0, None
    for columns in _columns(entries):
        yield canonical_json(jsonl_row(columns)) + b"\n"
        count, last = count + 1, columns
    yield canonical_json(end_row(count=count, last=last, export_id=export_id)) + b"\n"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_row(c: dict) -> list:
    return ["entry", c["seq"], utc_iso(c["time"]), "" if c["actor_id"] is None else
            c["actor_id"], c["actor_name"], c["object_model"], c["object_pk"],
            c["object_repr"], "" if c["agent_id"] is None else c["agent_id"], c["action"],
            c["changes"], c["reason"], c["history_model"], c["history_id"], c["prev_hash"],
            c["hash"]]


def csv_stream(entries: QuerySet[LedgerEntry], *, export_id: int | None = None
               ) -> Iterator[bytes]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS).encode("utf-8")
    count, last = 0, None
    for columns in _columns(entries):
        yield writer.writerow(csv_row(columns)).encode("utf-8")
        count, last = count + 1, columns
    end = end_row(count=count, last=last, export_id=export_id)
    trailer = dict.fromkeys(CSV_COLUMNS, "")
    trailer.update(type="end", seq=end["last_seq"] or "", time=end["generated_at"],
                   reason=json.dumps({k: end[k] for k in ("format", "count", "export",
                                                          "checkpoint")}),
                   hash=end["last_hash"] or "")
    yield writer.writerow([trailer[c] for c in CSV_COLUMNS]).encode("utf-8")


# --- Reading an export back ----------------------------------------------------------------

def _int_or_none(value: str) -> int | None:
    return int(value) if value not in ("", None) else None


def parse_csv(lines: Iterable[str]) -> Iterator[dict]:
    """The rows of a CSV export as the same dicts a JSON Lines export holds."""
    reader = csv.DictReader(lines)
    if reader.fieldnames != CSV_COLUMNS:
        raise ValueError("The header is not that of an audit ledger CSV export.")
    for row in reader:
        if row["type"] == "end":
            meta = json.loads(row["reason"] or "{}")
            yield {"type": "end", "count": meta.get("count"), "export": meta.get("export"),
                   "last_seq": _int_or_none(row["seq"]), "last_hash": row["hash"] or None}
            continue
        data = content(
            seq=int(row["seq"]), time=row["time"], actor_id=_int_or_none(row["actor_id"]),
            actor_name=row["actor_name"], object_model=row["object_model"],
            object_pk=row["object_pk"], object_repr=row["object_repr"],
            agent_id=_int_or_none(row["agent"]), action=row["action"], changes=row["changes"],
            reason=row["reason"], history_model=row["source_model"],
            history_id=int(row["source_id"]), prev_hash=row["prev_hash"])
        yield {"type": row["type"], **data, "hash": row["hash"]}


def parse_jsonl(lines: Iterable[str]) -> Iterator[dict]:
    for line in lines:
        if line.strip():
            yield json.loads(line)


def row_content(row: dict) -> dict:
    return {key: row.get(key) for key in CONTENT_KEYS}
