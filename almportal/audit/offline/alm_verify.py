#!/usr/bin/env python3
"""Check ALM Portal audit evidence with nothing but the files: history exports (JSON Lines or
CSV), evidence packs (.zip) and signed checkpoints (checkpoint.json).

    python alm_verify.py FILE [--key signing-key.pem] [--checkpoint earlier-checkpoint.json ...]

Needs only the Python standard library, and the `cryptography` package to check signatures.
The format is written down in docs/evidence-format.md. Exit status 0: every check passed;
1: something does not match (each problem is printed, naming the line, entry or file);
2: the file could not be read.

This file never imports Django or the portal: the portal imports it (audit.verify), so the
rules it applies are the portal's own.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HASH = "0" * 64
MANIFEST = "MANIFEST.sha256"
CONTENT_KEYS = ("seq", "time", "actor", "object", "agent", "action", "changes", "reason",
                "source", "prev_hash")
CSV_COLUMNS = ["type", "seq", "time", "actor_id", "actor_name", "object_model", "object_pk",
               "object_repr", "agent", "action", "changes", "reason", "source_model",
               "source_id", "prev_hash", "hash"]
BOM = "\ufeff"
CSV_ESCAPE = "'"  # a cell the portal neutralised for spreadsheets starts with one extra '
CHECKPOINT_FILE = "checkpoint.json"


# --- Canonical JSON and hashes --------------------------------------------------------------

def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, non-ASCII as UTF-8 (not \\u escapes), numbers
    as Python's json module writes them."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                      ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_hash(row: dict) -> str:
    return sha256_hex(canonical_json({key: row.get(key) for key in CONTENT_KEYS}))


# --- Results ------------------------------------------------------------------------------

@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0
    files: int = 0
    records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, problem: str) -> None:
        self.problems.append(problem)


# --- Reading exports ----------------------------------------------------------------------

def _int_or_none(value: str) -> int | None:
    return int(value) if value not in ("", None) else None


def unescape_cell(cell: str) -> str:
    return cell[1:] if cell.startswith(CSV_ESCAPE) else cell


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        yield line[1:] if first and line.startswith(BOM) else line
        first = False


def csv_rows(lines: Iterable[str]) -> Iterator[dict]:
    """The rows of a CSV export as the dicts a JSON Lines export holds."""
    reader = csv.reader(_strip_bom(lines))
    header = next(reader, None)
    if header != CSV_COLUMNS:
        raise ValueError("the header is not that of an ALM Portal ledger CSV export")
    for cells in reader:
        row = dict(zip(CSV_COLUMNS, (unescape_cell(c) for c in cells), strict=False))
        if row["type"] == "end":
            meta = json.loads(row["reason"] or "{}")
            yield {"type": "end", "count": meta.get("count"), "export": meta.get("export"),
                   "checkpoint": meta.get("checkpoint"), "last_seq": _int_or_none(row["seq"]),
                   "last_hash": row["hash"] or None, "generated_at": row["time"]}
            continue
        yield {
            "type": row["type"], "seq": int(row["seq"]), "time": row["time"],
            "actor": {"id": _int_or_none(row["actor_id"]), "name": row["actor_name"]},
            "object": {"model": row["object_model"], "pk": row["object_pk"],
                       "repr": row["object_repr"]},
            "agent": _int_or_none(row["agent"]), "action": row["action"],
            "changes": json.loads(row["changes"]), "reason": row["reason"],
            "source": {"model": row["source_model"], "id": int(row["source_id"])},
            "prev_hash": row["prev_hash"], "hash": row["hash"],
        }


def jsonl_rows(lines: Iterable[str]) -> Iterator[dict]:
    for line in _strip_bom(lines):
        if line.strip():
            yield json.loads(line)


def export_rows(lines: Iterable[str]) -> Iterator[dict]:
    lines = iter(lines)
    first = next(lines, "")
    rest = _chain([first], lines)
    if first.lstrip(BOM).lstrip().startswith("{"):
        return jsonl_rows(rest)
    return csv_rows(rest)


def _chain(*iterables: Iterable[str]) -> Iterator[str]:
    for iterable in iterables:
        yield from iterable


# --- Exports ------------------------------------------------------------------------------

@dataclass
class ExportSummary:
    count: int = 0
    last_seq: int | None = None
    last_hash: str | None = None
    hashes: dict[int, str] = field(default_factory=dict)
    contiguous: bool = True  # entries 1, 2, 3… with none left out (an unfiltered export)
    generated_at: str = ""
    checkpoint: dict | None = None


def check_export(lines: Iterable[str], report: Report, *, name: str = "the export",
                 on_entry: Callable[[dict], None] | None = None) -> ExportSummary:
    """Each row's content against its hash, the chain between consecutive entries, and the
    closing line against the rows above it."""
    summary, end, previous = ExportSummary(), None, None
    try:
        for number, row in enumerate(export_rows(lines), start=1):
            if end is not None:
                report.fail(f"{name} row {number}: there are rows after the closing line")
                return summary
            if row.get("type") == "end":
                end = row
                continue
            if row.get("type") != "entry":
                report.fail(f"{name} row {number}: unknown row type")
                return summary
            seq = row["seq"]
            if entry_hash(row) != row.get("hash"):
                report.fail(f"{name} entry #{seq}: its content does not match its hash "
                            "(the file was altered)")
                return summary
            if previous is not None and seq <= previous["seq"]:
                report.fail(f"{name} entry #{seq}: out of order after #{previous['seq']}")
                return summary
            if previous is not None and seq == previous["seq"] + 1 \
                    and row["prev_hash"] != previous["hash"]:
                report.fail(f"{name} entry #{seq}: its previous hash is not the hash of entry "
                            f"#{previous['seq']} (the chain is broken)")
                return summary
            if seq == 1 and row["prev_hash"] != GENESIS_HASH:
                report.fail(f"{name} entry #1: it does not start the chain")
                return summary
            summary.contiguous &= seq == (previous["seq"] + 1 if previous else 1)
            summary.hashes[seq] = row["hash"]
            summary.last_seq, summary.last_hash = seq, row["hash"]
            summary.count += 1
            report.entries += 1
            if on_entry:
                on_entry(row)
            previous = row
    except (ValueError, KeyError, TypeError) as exc:
        report.fail(f"{name}: unreadable row after entry #{summary.last_seq}: {exc}")
        return summary
    if end is None:
        report.fail(f"{name}: the closing line is missing (the file is cut short)")
        return summary
    if end.get("count") not in (None, summary.count) or end.get("last_seq") != summary.last_seq \
            or end.get("last_hash") != summary.last_hash:
        report.fail(f"{name}: the closing line does not match the rows above it")
    summary.checkpoint = end.get("checkpoint")
    summary.generated_at = end.get("generated_at") or ""
    return summary


# --- Checkpoints --------------------------------------------------------------------------

def load_public_key(pem: bytes) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the key is not an Ed25519 public key, which the portal signs with")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)[:16]


def checkpoint_payload(document: dict) -> dict:
    return {"seq": document["seq"], "hash": document["hash"], "signed_at": document["signed_at"],
            "key_id": document["key_id"]}


def check_checkpoint(document: dict, public_key: Ed25519PublicKey | None, report: Report, *,
                     name: str) -> bool:
    """The signature over the checkpoint's canonical payload, with the given public key."""
    if public_key is None:
        report.notes.append(f"{name}: signature not checked (give the portal's public key "
                            "with --key)")
        return True
    from cryptography.exceptions import InvalidSignature

    try:
        if document["key_id"] != key_id(public_key):
            report.fail(f"{name}: signed with key {document['key_id']}, not with the key given")
            return False
        public_key.verify(base64.b64decode(document["signature"]),
                          canonical_json(checkpoint_payload(document)))
    except (InvalidSignature, KeyError, TypeError, ValueError):
        report.fail(f"{name}: the signature does not verify (the checkpoint was altered or "
                    "forged)")
        return False
    return True


def check_against_checkpoint(summary: ExportSummary, document: dict, report: Report, *,
                             name: str, file: str, earlier: bool = False) -> None:
    """The entry the checkpoint signed, if the file holds it, must be the one signed. Given an
    `earlier` checkpoint (one obtained before the file), a whole-ledger file must reach it."""
    seq = document["seq"]
    if seq in summary.hashes:
        if summary.hashes[seq] != document["hash"]:
            report.fail(f"{file} entry #{seq}: not the entry {name} signed (the chain was "
                        "rebuilt)")
    elif earlier and summary.contiguous and summary.generated_at \
            and document["signed_at"] < summary.generated_at:
        # The whole ledger, made after the checkpoint, yet short of the entry it signed.
        report.fail(f"{file} ends at entry #{summary.last_seq}, before entry #{seq} that "
                    f"{name} signed earlier (the tail was cut)")
    else:
        report.notes.append(f"{name}: entry #{seq} is not in {file}")


# --- Evidence packs -----------------------------------------------------------------------

def _file_sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def check_manifest(archive: zipfile.ZipFile, report: Report) -> bool:
    names = set(archive.namelist())
    if MANIFEST not in names:
        report.fail(f"{MANIFEST} is missing")
        return False
    listed = {}
    for line in archive.read(MANIFEST).decode("utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            listed[name] = digest
    for name, digest in sorted(listed.items()):
        if name not in names:
            report.fail(f"{name}: listed in the MANIFEST but missing")
        elif _file_sha256(archive, name) != digest:
            report.fail(f"{name}: changed (its SHA-256 differs from the MANIFEST)")
        else:
            report.files += 1
    for name in sorted(names - set(listed) - {MANIFEST}):
        report.fail(f"{name}: not listed in the MANIFEST")
    return report.ok


class History:
    """Each object's fields as the ledger's entries leave them, replayed in order."""

    def __init__(self) -> None:
        self.state: dict[tuple[str, str], dict] = {}
        self.deleted: set[tuple[str, str]] = set()

    def apply(self, row: dict) -> None:
        key = (row["object"]["model"], str(row["object"]["pk"]))
        if row["action"] == "deleted":
            self.deleted.add(key)
            return
        self.deleted.discard(key)
        fields = self.state.setdefault(key, {})
        for change in row["changes"]:
            fields[change["field"]] = change["new"]


def _record_value(fields: dict, name: str) -> tuple[bool, Any]:
    """A record file keys a foreign key by its column (agent_id), the ledger by its field."""
    if name in fields:
        return True, fields[name]
    if name.endswith("_id") and name[:-3] in fields:
        return True, fields[name[:-3]]
    return False, None


def _check_record(record: dict, model: str, history: History, report: Report, *, file: str,
                  strict: bool) -> None:
    if not isinstance(record, dict) or "id" not in record:
        report.fail(f"{file}: a {model} record without an id")
        return
    key = (model, str(record["id"]))
    fields = history.state.get(key)
    if fields is None or key in history.deleted:
        if strict or key in history.deleted:
            report.fail(f"{file}: {model} #{record['id']} has no live history in the pack")
        return
    report.records += 1
    for name, value in sorted(record.items()):
        if name == "id":
            continue
        known, recorded = _record_value(fields, name)
        if known and recorded != value:
            report.fail(f"{file}: {model} #{record['id']} field {name} is "
                        f"{json.dumps(value, ensure_ascii=False)}, the ledger's history says "
                        f"{json.dumps(recorded, ensure_ascii=False)} (the file was edited)")


def check_record_file(archive: zipfile.ZipFile, path: str, spec: dict, history: History,
                      report: Report, *, strict: bool) -> None:
    try:
        data = json.loads(archive.read(path).decode("utf-8"))
    except (KeyError, ValueError) as exc:
        report.fail(f"{path}: not a readable record file ({exc})")
        return
    for record in data if isinstance(data, list) else [data]:
        _check_record(record, spec["model"], history, report, file=path, strict=strict)
        for key, model in (spec.get("nested") or {}).items():
            for nested in (record.get(key) or []) if isinstance(record, dict) else []:
                _check_record(nested, model, history, report, file=path, strict=strict)


def _record_specs(archive: zipfile.ZipFile) -> tuple[str, dict[str, dict]]:
    info = json.loads(archive.read("pack.json").decode("utf-8"))
    sections = list(info.get("sections") or [])
    if "agents.json" in archive.namelist():
        for agent in json.loads(archive.read("agents.json").decode("utf-8")):
            sections.extend(agent.get("sections") or [])
    specs: dict[str, dict] = {}
    for section in sections:
        specs.update(section.get("records") or {})
    return info.get("kind", ""), specs


def check_pack(fileobj: str | IO[bytes], report: Report, *,
               public_key: Ed25519PublicKey | None = None,
               checkpoints: Iterable[dict] = ()) -> ExportSummary | None:
    """MANIFEST, the history's chain, every record file against that history, and the
    checkpoints the pack carries (and any given)."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile:
        report.fail("this is not a zip file")
        return None
    with archive:
        if not check_manifest(archive, report):
            return None
        names = archive.namelist()
        if "history.jsonl" not in names or "pack.json" not in names:
            report.fail("history.jsonl or pack.json is missing: not an evidence pack")
            return None
        history = History()
        with archive.open("history.jsonl") as handle:
            summary = check_export(io.TextIOWrapper(handle, encoding="utf-8"), report,
                                   name="history.jsonl", on_entry=history.apply)
        if not report.ok:
            return summary
        kind, specs = _record_specs(archive)
        for path, spec in sorted(specs.items()):
            check_record_file(archive, path, spec, history, report, strict=kind == "agent")
        for name in sorted(n for n in names if n.rsplit("/", 1)[-1] == CHECKPOINT_FILE):
            document = json.loads(archive.read(name).decode("utf-8"))
            if check_checkpoint(document, public_key, report, name=name):
                check_against_checkpoint(summary, document, report, name=name,
                                         file="history.jsonl")
        for number, document in enumerate(checkpoints, start=1):
            if check_checkpoint(document, public_key, report, name=f"checkpoint {number}"):
                check_against_checkpoint(summary, document, report, earlier=True,
                                         name=f"checkpoint {number}", file="history.jsonl")
    return summary


# --- The command --------------------------------------------------------------------------

def verify_file(path: str, *, public_key: Ed25519PublicKey | None = None,
                checkpoints: Iterable[dict] = ()) -> Report:
    report = Report()
    if zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            check_pack(handle, report, public_key=public_key, checkpoints=checkpoints)
        return report
    with open(path, encoding="utf-8", newline="") as handle:
        first = handle.read(1 << 12)
        handle.seek(0)
        if first.lstrip(BOM).lstrip().startswith("{") and '"signature"' in first \
                and '"type"' not in first:
            check_checkpoint(json.load(handle), public_key, report, name=path)
            return report
        summary = check_export(handle, report, name=path)
    if not report.ok:
        return report
    given = [(f"checkpoint {n}", c, True) for n, c in enumerate(checkpoints, start=1)]
    for name, document, earlier in [("the export's checkpoint", summary.checkpoint, False)] + given:
        if document and check_checkpoint(document, public_key, report, name=name):
            check_against_checkpoint(summary, document, report, name=name, file=path,
                                     earlier=earlier)
    return report


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="an export (.jsonl, .csv), an evidence pack (.zip) or a "
                                     "checkpoint (.json)")
    parser.add_argument("--key", help="the portal's public key (PEM), obtained independently")
    parser.add_argument("--checkpoint", action="append", default=[],
                        help="an earlier signed checkpoint the file must agree with")
    args = parser.parse_args(argv)
    try:
        public_key = load_public_key(_read(args.key)) if args.key else None
        checkpoints = [json.loads(_read(path)) for path in args.checkpoint]
        report = verify_file(args.file, public_key=public_key, checkpoints=checkpoints)
    except (OSError, ValueError) as exc:
        print(f"cannot read: {exc}", file=sys.stderr)
        return 2
    for note in report.notes:
        print(f"note: {note}")
    if not report.ok:
        for problem in report.problems:
            print(f"FAILED: {problem}")
        return 1
    print(f"OK: {report.entries} entries, {report.files} files, {report.records} records "
          "checked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
