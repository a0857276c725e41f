"""How other apps add to the audit area without the audit app knowing their internals.

- `register_pack_section(name, fn, models=…)`: fn(agent) -> iterable of PackFile, written into
  the agent's evidence pack under `<name>/`. A portfolio pack asks `bulk(agents)` instead, when
  given: the files of many agents in a fixed number of queries, as {agent id: [PackFile]} (an
  agent left out has no files). A `per_pack` section describes the pack, not the agent (the
  evidence index, the ledger checkpoint): a portfolio pack writes it once, at its top.
- `register_as_of_section(name, fn, models=…)`: fn(agent, at) -> AsOfSection, shown on the
  "as of" page.
- `register_agent_resolver(model_label, fn)`: fn(history_row) -> agent id, for records that do
  not carry an `agent` foreign key themselves (the ledger files each entry under its agent).
- `register_agent_path(model_label, lookup)`: the same as a lookup ("release__agent"), which the
  ledger resolves for a whole batch of rows in one query; prefer it to a resolver.

`models` names the app_label.model records a section covers. Any tracked model with an `agent`
foreign key that no section covers still appears, through a generic section that lists its
fields, so a new app's records reach the evidence pack and the as-of view from day one.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any


@dataclass(frozen=True)
class PackFile:
    """A file for the evidence pack: bytes in memory, or a callable that opens a binary file
    (for evidence files, copied through without loading them whole).

    A record file (a JSON object or list of objects written by record_dict) names the model of
    its records in `records`, and of records nested under a key in `nested` ((key, model)
    pairs): each record is then checked field by field against the ledger's history of that
    object when the pack is verified."""

    path: str
    content: bytes | None = None
    opener: Callable[[], IO[bytes]] | None = None
    records: str = ""
    nested: tuple[tuple[str, str], ...] = ()

    @property
    def holds_no_records(self) -> bool:
        """A record file listing nothing: a portfolio pack leaves it out (the agents index
        names every file an agent has, so a missing one means no records)."""
        return bool(self.records) and (self.content or b"").strip() == b"[]"

    def record_spec(self) -> dict | None:
        if not self.records:
            return None
        return {"model": self.records, "nested": dict(self.nested)}


@dataclass
class AsOfItem:
    title: str
    fields: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class AsOfSection:
    title: str
    items: list[AsOfItem] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Section:
    name: str
    fn: Callable
    models: tuple[str, ...]
    order: int
    bulk: Callable[[list], dict[int, list[PackFile]]] | None = None
    per_pack: bool = False


_pack_sections: dict[str, Section] = {}
_as_of_sections: dict[str, Section] = {}
_agent_resolvers: dict[str, Callable[[Any], int | None]] = {}
_agent_paths: dict[str, str] = {}


def register_pack_section(name: str, fn: Callable[[Any], Iterable[PackFile]], *,
                          models: Iterable[str] = (), order: int = 100,
                          bulk: Callable[[list], dict[int, list[PackFile]]] | None = None,
                          per_pack: bool = False) -> None:
    _pack_sections[name] = Section(name, fn, tuple(m.lower() for m in models), order,
                                   bulk=bulk, per_pack=per_pack)


def register_as_of_section(name: str, fn: Callable[[Any, datetime], AsOfSection], *,
                           models: Iterable[str] = (), order: int = 100) -> None:
    _as_of_sections[name] = Section(name, fn, tuple(m.lower() for m in models), order)


def register_agent_resolver(model_label: str, fn: Callable[[Any], int | None]) -> None:
    _agent_resolvers[model_label.lower()] = fn


def register_agent_path(model_label: str, lookup: str) -> None:
    _agent_paths[model_label.lower()] = lookup


def agent_path(model_label: str) -> str | None:
    return _agent_paths.get(model_label.lower())


def pack_sections() -> list[Section]:
    return sorted(_pack_sections.values(), key=lambda s: (s.order, s.name))


def as_of_sections() -> list[Section]:
    return sorted(_as_of_sections.values(), key=lambda s: (s.order, s.name))


def agent_resolver(model_label: str) -> Callable[[Any], int | None] | None:
    return _agent_resolvers.get(model_label.lower())


def covered_models(sections: Iterable[Section]) -> set[str]:
    return {label for section in sections for label in section.models}
