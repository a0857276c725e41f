"""Evidence packs: a zip per agent (or per period for the whole portfolio) with a readable
dossier, the records of every registered section, the full history as JSON Lines, and a
MANIFEST.sha256 (sha256sum format) listing the SHA-256 of every other file.

A pack is written to a temporary file, not to memory, and hashed as it is written."""

import hashlib
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from ..inventory.models import Agent
from .exports import jsonl_stream
from .ledger import utc_iso
from .models import ExportRecord, LedgerEntry
from .registry import PackFile
from .sections import all_pack_sections, as_json, record_dict
from .selectors import entry_changes
from .verify import MANIFEST

SPOOL_LIMIT = 8 * 1024 * 1024
DOSSIER_HISTORY_LIMIT = 1000


@dataclass
class _Writer:
    archive: zipfile.ZipFile
    hashes: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def write(self, path: str, chunks) -> None:
        digest, size = hashlib.sha256(), 0
        with self.archive.open(path, "w", force_zip64=True) as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
        self.hashes[path], self.sizes[path] = digest.hexdigest(), size

    def write_file(self, path: str, pack_file: PackFile) -> None:
        if pack_file.opener is None:
            self.write(path, [pack_file.content or b""])
            return
        with pack_file.opener() as source:
            self.write(path, iter(lambda: source.read(1 << 16), b""))

    def listing(self) -> list[tuple[str, int, str]]:
        return [(path, self.sizes[path], self.hashes[path]) for path in sorted(self.hashes)]

    def finish(self) -> None:
        lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(self.hashes.items()))
        self.archive.writestr(MANIFEST, lines.encode("utf-8"))


def _section_files(writer: _Writer, agent: Agent, prefix: str = "") -> list[dict]:
    listed = []
    for section in all_pack_sections():
        paths, records = [], {}
        for pack_file in section.fn(agent):
            path = f"{prefix}{section.name}/{pack_file.path}"
            writer.write_file(path, pack_file)
            paths.append(path)
            if pack_file.record_spec():
                records[path] = pack_file.record_spec()
        listed.append({"name": section.name, "files": paths, "records": records})
    return listed


def _dossier_history(entries: QuerySet[LedgerEntry]) -> list[tuple[LedgerEntry, list]]:
    return [(e, entry_changes(e)) for e in entries.order_by("-seq")[:DOSSIER_HISTORY_LIMIT]]


def _open_pack() -> tuple[tempfile.SpooledTemporaryFile, zipfile.ZipFile]:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)
    return spool, zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED)


def _close_pack(spool, archive: zipfile.ZipFile, writer: _Writer):
    writer.finish()
    archive.close()
    spool.seek(0)
    return spool


def build_agent_pack(*, agent: Agent, history: QuerySet[LedgerEntry], export: ExportRecord):
    """The agent's pack as an open binary file, positioned at its start."""
    spool, archive = _open_pack()
    writer = _Writer(archive)
    sections = _section_files(writer, agent)
    writer.write("history.jsonl", jsonl_stream(history, export_id=export.pk))
    info = {"kind": "agent", "agent": {"id": agent.pk, "slug": agent.slug, "name": agent.name},
            "generated_at": utc_iso(timezone.now()),
            "generated_by": export.created_by.get_username(), "export": export.pk,
            "ledger": {"last_seq": export.last_seq, "last_hash": export.last_hash},
            "sections": sections}
    writer.write("pack.json", [as_json(info)])
    writer.write("dossier.html", [render_to_string("audit/dossier.html", {
        "agent": agent, "record": record_dict(agent), "info": info, "files": writer.listing(),
        "history": _dossier_history(history),
        "history_limit": DOSSIER_HISTORY_LIMIT, "holds": agent.retention_holds.all(),
        "releases": agent.releases.order_by("number"), "manifest_name": MANIFEST,
    }).encode("utf-8")])
    return _close_pack(spool, archive, writer)


def build_portfolio_pack(*, agents: QuerySet[Agent], history: QuerySet[LedgerEntry],
                         start: datetime | None, end: datetime | None, export: ExportRecord,
                         progress: Callable[[int], None] | None = None):
    """Every agent's records as they stand, and the whole ledger for the period. `progress`
    is told how many agents are in so far; agents are read in chunks (constant memory)."""
    spool, archive = _open_pack()
    writer = _Writer(archive)
    index = []
    for agent in agents.order_by("slug").iterator(chunk_size=500):
        if progress is not None:
            progress(len(index))
        sections = _section_files(writer, agent, prefix=f"agents/{agent.slug}/")
        index.append({"id": agent.pk, "slug": agent.slug, "name": agent.name,
                      "stage": agent.stage, "risk_tier": agent.risk_tier, "sections": sections})
    writer.write("agents.json", [as_json(index)])
    writer.write("history.jsonl", jsonl_stream(history, export_id=export.pk))
    info = {"kind": "portfolio", "period": {"start": start and utc_iso(start),
                                            "end": end and utc_iso(end)},
            "generated_at": utc_iso(timezone.now()),
            "generated_by": export.created_by.get_username(), "export": export.pk,
            "ledger": {"last_seq": export.last_seq, "last_hash": export.last_hash},
            "agents": len(index)}
    writer.write("pack.json", [as_json(info)])
    writer.write("dossier.html", [render_to_string("audit/portfolio_dossier.html", {
        "agents": index, "info": info, "files": writer.listing(),
        "manifest_name": MANIFEST,
    }).encode("utf-8")])
    return _close_pack(spool, archive, writer)
