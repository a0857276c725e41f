"""Streamed exports of ledger entries: CSV and JSON Lines, each ending with a line that carries
the hash of the last entry included. The JSON Lines format is documented in
schemas/ledger-entry.schema.json.

On PostgreSQL the rows come straight from the database: `COPY … TO STDOUT` writes the CSV, and
the database writes each JSON line in canonical form (audit.pgsql), so Python only passes blocks
of bytes along and memory stays flat. Elsewhere (SQLite in development) the rows are read with
.iterator() and written in Python, with the same result.

CSV is made safe to open in a spreadsheet: it starts with a UTF-8 byte-order mark, and a cell
that starts with a formula character gets one "'" in front (ledger.CSV_FORMULA_STARTS);
reading drops one leading "'" from every cell that has one."""

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ..core.hashing import canonical_json
from . import pgsql, signing
from .ledger import CONTENT_KEYS, CSV_BOM, CSV_FORMULA_STARTS, content, utc_iso
from .models import LedgerEntry

CHUNK = 2000
BLOCK = 1 << 16  # bytes passed on at a time
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


def end_row(*, count: int, last: Mapping[str, Any] | None, export_id: int | None) -> dict:
    return {"type": "end", "format": FORMAT_VERSION, "count": count,
            "last_seq": last["seq"] if last else None,
            "last_hash": last["hash"] if last else None,
            "export": export_id, "generated_at": utc_iso(timezone.now()),
            "checkpoint": latest_checkpoint_document()}


def latest_checkpoint_document() -> dict | None:
    """The latest signed checkpoint of the ledger head (signed when the export was recorded)."""
    checkpoint = signing.latest_checkpoint()
    return signing.as_document(checkpoint) if checkpoint else None


CSV_COPY = "FORMAT csv"


def _on_postgresql(entries: QuerySet) -> bool:
    return connections[entries.db].vendor == "postgresql"


class _Copied:
    """The output of `COPY (SELECT <columns> of each entry, in order) TO STDOUT`, in blocks,
    counting the rows as they pass (no second scan for the closing line)."""

    END = b""  # what follows each row's bytes (the text and CSV formats end lines themselves)

    def __init__(self, entries: QuerySet[LedgerEntry], columns: list[str], options: str):
        self.entries, self.columns, self.options, self.count = entries, columns, options, 0

    def __iter__(self) -> Iterator[bytes]:
        names = {f"copied_{n}": RawSQL(sql, ()) for n, sql in enumerate(self.columns)}
        query = self.entries.order_by("seq").annotate(**names).values_list(*names)
        sql, params = query.query.get_compiler(self.entries.db).as_sql()
        buffer, end = bytearray(), self.END
        with connections[self.entries.db].cursor() as cursor:
            # One process reads the ledger in order: parallel workers would compute the rows'
            # text, but merging their output in order costs more than they save.
            cursor.execute("SET max_parallel_workers_per_gather = 0")
            try:  # psycopg's own cursor: Django's debug wrapper passes no parameters to copy
                with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH ({self.options})",
                                        params) as copy:
                    for row in self._rows(copy):
                        buffer += row
                        buffer += end
                        self.count += 1
                        if len(buffer) >= BLOCK:
                            yield bytes(buffer)
                            buffer.clear()
            finally:
                cursor.execute("RESET max_parallel_workers_per_gather")
        if buffer:
            yield bytes(buffer)

    def _rows(self, copy: Any) -> Iterator[Any]:
        return iter(copy)

    def last(self) -> Mapping[str, Any] | None:
        return self.entries.order_by("-seq").values("seq", "hash").first() if self.count else None


class _CopiedLines(_Copied):
    """One text column per row, in COPY's binary format: each line exactly as the database
    wrote it, with nothing escaped on the way (the text and CSV formats scan every byte to
    escape or quote it, which costs more than writing the line). Each message holds one row:
    its field count and length, then the text; the first starts with the file's header, and
    the last is the trailer."""

    END = b"\n"
    HEADER = 19  # signature (11 bytes), flags (4) and header extension length (4)
    PREFIX = 6  # one field (2 bytes) of this many bytes (4)

    def __init__(self, entries: QuerySet[LedgerEntry], line: str):
        super().__init__(entries, [line], "FORMAT binary")

    def _rows(self, copy: Any) -> Iterator[Any]:
        messages = iter(copy)
        first = memoryview(next(messages, b""))[self.HEADER:]
        prefix = self.PREFIX
        for message in chain([first], messages):
            if len(message) > 2:  # not the trailer
                yield memoryview(message)[prefix:]


def jsonl_stream(entries: QuerySet[LedgerEntry], *, export_id: int | None = None
                 ) -> Iterator[bytes]:
    if _on_postgresql(entries):
        copied: _Copied = _CopiedLines(entries, pgsql.JSONL_LINE)
        yield from copied
        count, last = copied.count, copied.last()
    else:
        count, last = 0, None
        for columns in _columns(entries):
            yield canonical_json(jsonl_row(columns)) + b"\n"
            count, last = count + 1, columns
    yield canonical_json(end_row(count=count, last=last, export_id=export_id)) + b"\n"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_safe(cell):
    """A cell as a spreadsheet may open it: text that starts like a formula gets a "'"."""
    if isinstance(cell, str) and cell.startswith(CSV_FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_unsafe(cell: str) -> str:
    """A cell as written before csv_safe (every reader drops one leading "'")."""
    return cell[1:] if cell.startswith("'") else cell


def csv_row(c: dict) -> list:
    return [csv_safe(cell) for cell in (
        "entry", c["seq"], utc_iso(c["time"]), "" if c["actor_id"] is None else c["actor_id"],
        c["actor_name"], c["object_model"], c["object_pk"], c["object_repr"],
        "" if c["agent_id"] is None else c["agent_id"], c["action"], c["changes"], c["reason"],
        c["history_model"], c["history_id"], c["prev_hash"], c["hash"])]


def csv_stream(entries: QuerySet[LedgerEntry], *, export_id: int | None = None
               ) -> Iterator[bytes]:
    # Lines end as PostgreSQL's COPY ends them; quoting every text cell also quotes a lone
    # carriage return, which the csv module's minimal quoting would leave bare.
    writer = csv.writer(_Echo(), lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    yield (CSV_BOM + writer.writerow(CSV_COLUMNS)).encode("utf-8")
    if _on_postgresql(entries):
        copied = _Copied(entries, pgsql.CSV_CELLS, CSV_COPY)
        yield from copied
        count, last = copied.count, copied.last()
    else:
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


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    lines = iter(lines)
    first = next(lines, "")
    yield first.removeprefix(CSV_BOM)
    yield from lines


def parse_csv(lines: Iterable[str]) -> Iterator[dict]:
    """The rows of a CSV export as the same dicts a JSON Lines export holds."""
    reader = csv.DictReader(_without_bom(lines))
    if reader.fieldnames != CSV_COLUMNS:
        raise ValueError("The header is not that of an audit ledger CSV export.")
    for cells in reader:
        row = {name: csv_unsafe(cell) for name, cell in cells.items()}
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
