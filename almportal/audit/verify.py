"""Checking the ledger and files made from it. Read-only; the callers record the runs.

The chain is checked entry by entry in sequence order: the numbers run 1, 2, 3… with no gap; each
entry's prev_hash is the hash of the entry before it; each entry's hash is the SHA-256 of its
content rebuilt from its columns; the history row it names exists and agrees on the object,
action and time; and the last entry is the one the ledger head records. The first entry that
fails any of these is named. Without a secret, someone who can write to the database could
rebuild a consistent chain from a point on; exports and evidence packs carry the hash of their
last entry, so an earlier file still proves what the ledger held when it was made.

The chain is read by binary COPY, a range of entries at a time, with PostgreSQL writing each
entry's content (audit.pgsql) while Python hashes the rows before it: Python only hashes bytes
and compares. The database writes the strings plainly, without escaping them (most of its
work); for an entry with a string JSON escapes (a quote, a backslash, a control character) that
is not its content, so such entries are set aside and checked afterwards against their content
written in full. The history rows are checked by the database, one query per history model. A
check can start from a verified checkpoint (LedgerCheckpoint): it confirms that entry is
unchanged and reads only what came after, so a nightly check costs what is new; a full check
from the first entry stays available."""

import hashlib
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice

from django.db import connection

from ..core.hashing import canonical_json, content_hash
from . import pgsql, signing
from .exports import parse_csv, parse_jsonl, row_content
from .ledger import ACTIONS, GENESIS_HASH, entry_content
from .models import LedgerCheckpoint, LedgerEntry, LedgerHead
from .offline import alm_verify as offline
from .services import history_models, unledgered_count

CHUNK = 2000
VERIFY_RANGE = 100_000  # entries per COPY of the chain (what is set aside is checked after each)
MANIFEST = offline.MANIFEST


@dataclass
class LedgerCheck:
    ok: bool = True
    checked: int = 0
    head_seq: int = 0
    first_bad_seq: int | None = None
    problem: str = ""
    unledgered: int = 0  # history rows not yet appended (not tampering: run the catch-up)
    since_seq: int = 0  # where the check started (after a verified checkpoint), 0 for all
    last_seq: int = 0  # the last entry found good, and its hash
    last_hash: str = GENESIS_HASH

    def fail(self, seq: int, problem: str) -> "LedgerCheck":
        # the earliest problem is the one named
        if self.ok or self.first_bad_seq is None or seq < self.first_bad_seq:
            self.ok, self.first_bad_seq, self.problem = False, seq, problem
        return self


def _chunks(iterator: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- The chain: numbers, links and hashes -------------------------------------------------------

def _rows_between(after: int, upto: int | None) -> Iterator[tuple[int, str, str, bytes, bytes]]:
    """(seq, prev_hash, hash, content, strings) of the entries after `after` (up to `upto`),
    in order. PostgreSQL writes the content itself, plainly (pgsql.PLAIN_CONTENT_BYTES:
    `strings` says whether that is the content), and sends the rows by binary COPY, writing
    the next while Python hashes these; elsewhere the content is rebuilt in Python."""
    entries = LedgerEntry.objects.filter(seq__gt=after).order_by("seq")
    if upto is not None:
        entries = entries.filter(seq__lte=upto)
    if connection.vendor != "postgresql":
        for e in entries.iterator(CHUNK):
            yield e.seq, e.prev_hash, e.hash, canonical_json(entry_content(e)), b""
        return
    bound = "" if upto is None else f" AND seq <= {int(upto)}"
    with connection.cursor() as cursor, cursor.copy(
            f"COPY (SELECT seq, prev_hash, hash, {pgsql.PLAIN_CONTENT_BYTES}, "
            f"{pgsql.STRINGS_BYTES} FROM audit_ledgerentry WHERE seq > {int(after)}{bound} "
            "ORDER BY seq) TO STDOUT (FORMAT binary)") as copy:
        copy.set_types(["int8", "text", "text", "bytea", "bytea"])
        yield from copy.rows()


def _walk(rows: Iterable[tuple[int, str, str, bytes, bytes]], expected: int, prev_hash: str,
          head_seq: int, aside: list[tuple[int, str]]) -> tuple[int, str, tuple[int, str] | None]:
    """Follow the chain: (the next number expected, the last hash, and the first problem as
    (seq, what) or None). The entries whose strings JSON escapes came written plainly: they go
    `aside`, to be checked against their content afterwards (_recheck)."""
    sha256, escaped = hashlib.sha256, pgsql.NEEDS_ESCAPING
    for seq, prev, digest, data, strings in rows:
        if seq > head_seq:
            return expected, prev_hash, (seq, (f"entry #{seq} lies beyond the ledger head "
                                               f"(#{head_seq}): it was inserted"))
        if seq != expected:
            return expected, prev_hash, (expected, (f"entry #{expected} is missing (the next "
                                                    f"entry is #{seq}): it was deleted"))
        if prev != prev_hash:
            return expected, prev_hash, (seq, (f"entry #{seq}: its previous hash is not the "
                                               "hash of the entry before it"))
        if len(strings.translate(None, escaped)) != len(strings):
            aside.append((seq, digest))
        elif sha256(data).hexdigest() != digest:
            return expected, prev_hash, (seq, _ALTERED.format(seq=seq))
        prev_hash, expected = digest, expected + 1
    return expected, prev_hash, None


_ALTERED = "entry #{seq}: its content does not match its hash (the entry was altered)"


def _recheck(aside: list[tuple[int, str]]) -> tuple[int, str] | None:
    """The first of these (seq, hash) whose content, strings escaped, does not match the hash."""
    for start in range(0, len(aside), CHUNK):
        chunk = aside[start:start + CHUNK]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT seq, {pgsql.CONTENT_BYTES} FROM audit_ledgerentry "
                           "WHERE seq = ANY(%s)", [[seq for seq, _ in chunk]])
            contents = {seq: bytes(data) for seq, data in cursor.fetchall()}
        for seq, digest in chunk:
            if hashlib.sha256(contents.get(seq, b"")).hexdigest() != digest:
                return seq, _ALTERED.format(seq=seq)
    return None


def _check_chain(result: LedgerCheck, head: LedgerHead) -> None:
    """The chain read a range of VERIFY_RANGE entries at a time (the last one open, to meet any
    entry beyond the head), the entries set aside checked after each."""
    expected, prev_hash, problem = result.since_seq + 1, result.last_hash, None
    after: int | None = result.since_seq
    while problem is None and after is not None:
        upto = after + VERIFY_RANGE if after + VERIFY_RANGE < head.seq else None
        aside: list[tuple[int, str]] = []
        expected, prev_hash, problem = _walk(_rows_between(after, upto), expected, prev_hash,
                                             head.seq, aside)
        problem, after = _recheck(aside) or problem, upto
    if problem is not None:
        result.fail(*problem)
        return
    result.checked, result.last_seq, result.last_hash = (expected - 1 - result.since_seq,
                                                         expected - 1, prev_hash)
    if result.last_seq < head.seq:
        result.fail(expected, f"entry #{expected} is missing: the ledger head records "
                              f"#{head.seq}")
    elif head.seq and head.hash != prev_hash:
        result.fail(head.seq, f"entry #{head.seq} is not the one the ledger head records")


# --- The history rows the entries name ----------------------------------------------------------

def _first_disagreements(since_seq: int, model) -> tuple[int | None, int | None]:
    """The first entry whose history row is gone, and the first whose row differs in time,
    object or action: one join of the ledger with the model's history table, by the database."""
    action = "CASE h.history_type " + " ".join(
        f"WHEN '{kind}' THEN '{name}'" for kind, name in ACTIONS.items()) + " END"
    table, pk = model._meta.db_table, model._meta.get_field("id").column
    sql = (f"SELECT min(e.seq) FILTER (WHERE h.history_id IS NULL), "
           f"min(e.seq) FILTER (WHERE h.history_id IS NOT NULL AND (h.history_date <> e.time "
           f"OR CAST(h.{pk} AS TEXT) <> e.object_pk OR {action} <> e.action)) "
           f"FROM {LedgerEntry._meta.db_table} e LEFT JOIN {table} h "
           f"ON h.history_id = e.history_id WHERE e.history_model = %s AND e.seq > %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.label_lower, since_seq])
        return cursor.fetchone()


def _check_history(result: LedgerCheck) -> None:
    entries = LedgerEntry.objects.filter(seq__gt=result.since_seq)
    models = {model._meta.label_lower: model for model in history_models()}
    unknown = entries.exclude(history_model__in=list(models)).order_by("seq").first()
    if unknown is not None:
        result.fail(unknown.seq, _gone(unknown))
    for model in models.values():
        gone, differs = _first_disagreements(result.since_seq, model)
        if gone is not None:
            result.fail(gone, _gone(LedgerEntry.objects.get(seq=gone)))
        if differs is not None:
            result.fail(differs, f"entry #{differs}: it does not agree with the history row it "
                                 "names")


def _gone(entry: LedgerEntry) -> str:
    return (f"entry #{entry.seq}: the history row it names ({entry.history_model} "
            f"#{entry.history_id}) does not exist (the entry was inserted, or history deleted)")


def verify_ledger(*, include_unledgered: bool = True,
                  since: LedgerCheckpoint | None = None) -> LedgerCheck:
    """Check the chain, from the start or (incrementally) from a verified checkpoint: then only
    the entries after it are read, after checking that the checkpoint's entry is unchanged."""
    head = LedgerHead.objects.filter(pk=1).first() or LedgerHead(seq=0, hash=GENESIS_HASH)
    result = LedgerCheck(head_seq=head.seq)
    if since is not None:
        result.since_seq = result.last_seq = since.seq
        result.last_hash = since.entry_hash
        if since.seq and not LedgerEntry.objects.filter(seq=since.seq,
                                                        hash=since.entry_hash).exists():
            return result.fail(since.seq, f"entry #{since.seq} is not the one the checkpoint "
                                          "of " f"{since.created_at:%Y-%m-%d %H:%M} recorded")
    _check_chain(result, head)
    _check_history(result)
    if include_unledgered:
        result.unledgered = unledgered_count()
    return result


# --- Exports -------------------------------------------------------------------------------

@dataclass
class ExportCheck:
    ok: bool = True
    rows: int = 0
    line: int | None = None
    problem: str = ""
    last_seq: int | None = None
    last_hash: str | None = None

    def fail(self, line: int, problem: str) -> "ExportCheck":
        self.ok, self.line, self.problem = False, line, problem
        return self


def _text_lines(data: Iterable[bytes | str]) -> Iterator[str]:
    for line in data:
        yield line.decode("utf-8") if isinstance(line, bytes) else line


def _ledger_hashes(seqs: list[int]) -> dict[int, str]:
    return dict(LedgerEntry.objects.filter(seq__in=seqs).values_list("seq", "hash"))


def verify_export(data: Iterable[bytes | str]) -> ExportCheck:
    """Check a CSV or JSON Lines export: each row's content against its hash, each hash against
    the ledger, and the closing line against the last row. Reads the file as a stream."""
    lines = _text_lines(data)
    first = next(lines, "")
    if not first.strip():
        return ExportCheck().fail(1, "the file is empty")
    is_jsonl = first.lstrip().startswith("{")
    rows_in = (parse_jsonl if is_jsonl else parse_csv)(chain([first], lines))
    result, end = ExportCheck(), None
    numbered = enumerate(rows_in, start=1 if is_jsonl else 2)  # a CSV's header is row 1
    try:
        for chunk in _chunks(numbered, CHUNK):
            entries = [(n, row) for n, row in chunk if row.get("type") == "entry"]
            ledger = _ledger_hashes([row["seq"] for _, row in entries])
            for n, row in chunk:
                if end is not None:
                    return result.fail(n, "there are rows after the closing line")
                if row.get("type") == "end":
                    end = (n, row)
                    continue
                if row.get("type") != "entry":
                    return result.fail(n, "unknown row type")
                if content_hash(row_content(row)) != row.get("hash"):
                    return result.fail(n, f"entry #{row.get('seq')}: the row's content does not "
                                          "match its hash (the file was altered)")
                if ledger.get(row["seq"]) != row["hash"]:
                    return result.fail(n, f"entry #{row['seq']} does not match the ledger")
                result.rows += 1
                result.last_seq, result.last_hash = row["seq"], row["hash"]
    except (ValueError, KeyError, TypeError) as exc:
        return result.fail(result.rows + (1 if is_jsonl else 2), f"unreadable row: {exc}")
    if end is None:
        return result.fail(result.rows + (1 if is_jsonl else 2),
                           "the closing line is missing (the file is cut short)")
    n, row = end
    if row.get("count") not in (None, result.rows) or row.get("last_seq") != result.last_seq \
            or row.get("last_hash") != result.last_hash:
        return result.fail(n, "the closing line does not match the rows above it")
    return result


# --- Evidence packs ------------------------------------------------------------------------

@dataclass
class PackCheck:
    ok: bool = True
    files: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def verify_pack(fileobj, *, against_ledger: bool = True, public_key=None) -> PackCheck:
    """Every file listed in the MANIFEST is present with the SHA-256 written there and nothing
    else is in the zip; the pack's history holds together and agrees with the ledger; every
    record file agrees, record by record and field by field, with that history (an edited
    record file is named even when its MANIFEST line was regenerated); and the checkpoints the
    pack carries verify with the portal's key. The rules are the offline verifier's own."""
    result, report = PackCheck(), offline.Report()
    summary = offline.check_pack(fileobj, report, public_key=public_key or _portal_key())
    result.files = report.files
    for problem in report.problems:
        result.fail(problem)
    if against_ledger and result.ok and summary is not None:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive, archive.open("history.jsonl") as handle:
            check = verify_export(io.TextIOWrapper(handle, encoding="utf-8"))
        if not check.ok:
            result.fail(f"history.jsonl line {check.line}: {check.problem}")
    return result


def _portal_key():
    return signing.public_key() if signing.is_configured() else None
