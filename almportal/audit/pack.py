"""Evidence packs: a zip per agent (or per period for the whole portfolio) with a readable
dossier, the records of every registered section, the full history as JSON Lines, and a
MANIFEST.sha256 (sha256sum format) listing the SHA-256 of every other file.

A pack is written to a temporary file, not to memory, and hashed as it is written."""

import hashlib
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from ..core.hashing import canonical_json
from ..inventory.models import Agent
from .exports import jsonl_stream
from .ledger import utc_iso
from .models import ExportRecord, LedgerEntry
from .registry import PackFile, Section
from .sections import all_pack_sections, as_json, record_dict
from .selectors import entry_changes
from .verify import MANIFEST

SPOOL_LIMIT = 8 * 1024 * 1024
PORTFOLIO_CHUNK = 200
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


def _write_section(writer: _Writer, name: str, files: Iterable[PackFile],
                   prefix: str = "") -> dict:
    paths, records = [], {}
    for pack_file in files:
        path = f"{prefix}{name}/{pack_file.path}"
        writer.write_file(path, pack_file)
        paths.append(path)
        if pack_file.record_spec():
            records[path] = pack_file.record_spec()
    return {"name": name, "files": paths, "records": records}


def _section_files(writer: _Writer, agent: Agent) -> list[dict]:
    return [_write_section(writer, section.name, section.fn(agent))
            for section in all_pack_sections()]


def _chunks(agents: QuerySet[Agent]) -> Iterator[list[Agent]]:
    chunk: list[Agent] = []
    for agent in agents.order_by("slug").iterator(chunk_size=PORTFOLIO_CHUNK):
        chunk.append(agent)
        if len(chunk) == PORTFOLIO_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _chunk_files(sections: list[Section], chunk: list[Agent]) -> dict[str, dict]:
    """Each bulk section's files for the chunk's agents, in a fixed number of queries."""
    return {s.name: s.bulk(chunk) for s in sections if s.bulk is not None}


def _agent_section_files(writer: _Writer, sections: list[Section], agent: Agent,
                         bulk: dict[str, dict]) -> list[dict]:
    """One agent's sections in a portfolio pack; record files that list nothing are left out."""
    listed = []
    for section in sections:
        files = (bulk[section.name].get(agent.pk, []) if section.name in bulk
                 else section.fn(agent))
        kept = [f for f in files if not f.holds_no_records]
        listed.append(_write_section(writer, section.name, kept, prefix=f"agents/{agent.slug}/"))
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


def _portfolio_agents(writer: _Writer, agents: QuerySet[Agent],
                      progress: Callable[[int], None] | None) -> tuple[PackFile, list[dict]]:
    """Every agent's sections, chunk by chunk. The full index (each agent's files) goes to a
    temporary file as it grows; only a short line per agent stays in memory, for the dossier."""
    sections = [s for s in all_pack_sections() if not s.per_pack]
    index = tempfile.TemporaryFile()
    index.write(b"[")
    listed: list[dict] = []
    for chunk in _chunks(agents):
        bulk = _chunk_files(sections, chunk)
        for agent in chunk:
            if progress is not None:
                progress(len(listed))
            entry = {"id": agent.pk, "slug": agent.slug, "name": agent.name,
                     "stage": agent.stage, "risk_tier": agent.risk_tier}
            entry_sections = _agent_section_files(writer, sections, agent, bulk)
            index.write((b",\n" if listed else b"\n") +
                        canonical_json({**entry, "sections": entry_sections}))
            listed.append(entry)
    index.write(b"\n]\n")
    index.seek(0)
    return PackFile("agents.json", opener=lambda: index), listed


def build_portfolio_pack(*, agents: QuerySet[Agent], history: QuerySet[LedgerEntry],
                         start: datetime | None, end: datetime | None, export: ExportRecord,
                         progress: Callable[[int], None] | None = None):
    """Every agent's records as they stand, and the whole ledger for the period. `progress`
    is told how many agents are in so far. Agents are read in chunks and each section of a
    chunk in one query where it can (constant memory, a fixed number of queries per chunk);
    the evidence index and the checkpoint describe the pack, so they are written once."""
    spool, archive = _open_pack()
    writer = _Writer(archive)
    index_file, listed = _portfolio_agents(writer, agents, progress)
    writer.write_file("agents.json", index_file)
    pack_sections = [_write_section(writer, s.name, s.fn(None))
                     for s in all_pack_sections() if s.per_pack]
    writer.write("history.jsonl", jsonl_stream(history, export_id=export.pk))
    info = {"kind": "portfolio", "period": {"start": start and utc_iso(start),
                                            "end": end and utc_iso(end)},
            "generated_at": utc_iso(timezone.now()),
            "generated_by": export.created_by.get_username(), "export": export.pk,
            "ledger": {"last_seq": export.last_seq, "last_hash": export.last_hash},
            "agents": len(listed), "sections": pack_sections}
    writer.write("pack.json", [as_json(info)])
    top_level = [row for row in writer.listing() if not row[0].startswith("agents/")]
    writer.write("dossier.html", [render_to_string("audit/portfolio_dossier.html", {
        "agents": listed, "info": info, "files": top_level,
        "agent_files": len(writer.hashes) - len(top_level), "manifest_name": MANIFEST,
    }).encode("utf-8")])
    return _close_pack(spool, archive, writer)
