"""Checking the ledger and files made from it. Read-only; the callers record the runs.

The chain is checked entry by entry in sequence order: the numbers run 1, 2, 3… with no gap; each
entry's prev_hash is the hash of the entry before it; each entry's hash is the SHA-256 of its
content rebuilt from its columns; the history row it names exists and agrees on the object,
action and time; and the last entry is the one the ledger head records. The first entry that
fails any of these is named. Without a secret, someone who can write to the database could
rebuild a consistent chain from a point on; exports and evidence packs carry the hash of their
last entry, so an earlier file still proves what the ledger held when it was made."""

import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice

from django.apps import apps

from ..core.hashing import content_hash
from . import signing
from .exports import parse_csv, parse_jsonl, row_content
from .ledger import ACTIONS, GENESIS_HASH, hash_of
from .models import LedgerEntry, LedgerHead
from .offline import alm_verify as offline
from .services import missing_history_keys

CHUNK = 2000
MANIFEST = offline.MANIFEST


@dataclass
class LedgerCheck:
    ok: bool = True
    checked: int = 0
    head_seq: int = 0
    first_bad_seq: int | None = None
    problem: str = ""
    unledgered: int = 0  # history rows not yet appended (not tampering: run the catch-up)

    def fail(self, seq: int, problem: str) -> "LedgerCheck":
        self.ok, self.first_bad_seq, self.problem = False, seq, problem
        return self


def _chunks(iterator: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(iterator, size)):
        yield chunk


def _history_facts(entries: list[LedgerEntry]) -> dict[tuple[str, int], tuple]:
    wanted: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        wanted[entry.history_model].append(entry.history_id)
    facts = {}
    for label, ids in wanted.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        for history_id, when, kind, pk in model.objects.filter(history_id__in=ids).values_list(
                "history_id", "history_date", "history_type", "id"):
            facts[(label, history_id)] = (when, ACTIONS[kind], str(pk))
    return facts


def _entry_problem(entry: LedgerEntry, prev_hash: str, facts: dict) -> str:
    if entry.prev_hash != prev_hash:
        return "its previous hash is not the hash of the entry before it"
    if hash_of(entry) != entry.hash:
        return "its content does not match its hash (the entry was altered)"
    fact = facts.get((entry.history_model, entry.history_id))
    if fact is None:
        return (f"the history row it names ({entry.history_model} #{entry.history_id}) "
                "does not exist (the entry was inserted, or history deleted)")
    if fact != (entry.time, entry.action, entry.object_pk):
        return "it does not agree with the history row it names"
    return ""


def verify_ledger(*, include_unledgered: bool = True) -> LedgerCheck:
    head = LedgerHead.objects.filter(pk=1).first() or LedgerHead(seq=0, hash=GENESIS_HASH)
    result = LedgerCheck(head_seq=head.seq)
    expected, prev_hash = 1, GENESIS_HASH
    entries = LedgerEntry.objects.order_by("seq").iterator(chunk_size=CHUNK)
    for chunk in _chunks(entries, CHUNK):
        facts = _history_facts(chunk)
        for entry in chunk:
            if entry.seq > head.seq:
                return result.fail(entry.seq, f"entry #{entry.seq} lies beyond the ledger head "
                                              f"(#{head.seq}): it was inserted")
            if entry.seq != expected:
                return result.fail(expected, f"entry #{expected} is missing (the next entry is "
                                             f"#{entry.seq}): it was deleted")
            problem = _entry_problem(entry, prev_hash, facts)
            if problem:
                return result.fail(entry.seq, f"entry #{entry.seq}: {problem}")
            prev_hash, expected = entry.hash, expected + 1
            result.checked += 1
    if result.checked < head.seq:
        return result.fail(result.checked + 1, f"entry #{result.checked + 1} is missing: the "
                                               f"ledger head records #{head.seq}")
    if head.seq and head.hash != prev_hash:
        return result.fail(head.seq, f"entry #{head.seq} is not the one the ledger head records")
    if include_unledgered:
        result.unledgered = len(missing_history_keys())
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
