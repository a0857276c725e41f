"""The evidence-pack and as-of sections for what the portal holds today (the agent record, its
components, releases and access grants), a generic section for any other tracked record that
belongs to an agent, and the risk assessments when the risk app provides them.

Later apps register their own sections in their AppConfig.ready (see audit.registry)."""

import json
from collections.abc import Callable, Iterable
from datetime import datetime

from django.apps import apps
from django.db import models
from simple_history.utils import get_history_manager_for_model

from ..core.hashing import canonical_json
from ..inventory import grants
from ..inventory.models import COMPONENT_MODELS, Agent
from ..releases.models import Release
from . import evidence, signing
from .ledger import jsonable
from .models import RetentionHold
from .registry import (
    AsOfItem,
    AsOfSection,
    PackFile,
    Section,
    as_of_sections,
    covered_models,
    pack_sections,
    register_as_of_section,
    register_pack_section,
)

SKIPPED_FIELDS = {"id"}


def as_json(value) -> bytes:
    """Readable JSON for people; the hashes in the MANIFEST cover the bytes as written."""
    return (json.dumps(jsonable(value), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            ).encode("utf-8")


def record_dict(instance: models.Model) -> dict:
    return {f.attname: jsonable(getattr(instance, f.attname))
            for f in instance._meta.concrete_fields}


def display_fields(instance: models.Model, *, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    shown = []
    for f in instance._meta.concrete_fields:
        if f.name in SKIPPED_FIELDS or f.name in skip:
            continue
        value = getattr(instance, f.attname)
        if f.choices and value is not None:
            value = dict(f.flatchoices).get(value, value)
        elif f.is_relation and value is not None:
            try:
                value = str(getattr(instance, f.name))
            except Exception:  # a related row gone since
                value = f"#{value}"
        elif isinstance(value, (dict, list)):
            value = canonical_json(value).decode("utf-8")
        shown.append((str(f.verbose_name), "—" if value in (None, "") else str(value)))
    return shown


def as_of(model: type[models.Model], at: datetime, **filters):
    """Instances of `model` as they stood at `at` (deleted ones left out)."""
    return (get_history_manager_for_model(model).filter(history_date__lte=at, **filters)
            .latest_of_each().as_instances())


def agent_fk(model: type[models.Model]) -> models.Field | None:
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is Agent:
            return f
    return None


def _generic_agent_fk(model: type[models.Model]) -> models.Field:
    """The agent key of a model _generic_models picked (it keeps only models that have one)."""
    fk = agent_fk(model)
    assert fk is not None
    return fk


# --- Pack sections -------------------------------------------------------------------------

def rows_by_agent(queryset: models.QuerySet, agents: list[Agent],
                  lookup: str = "agent") -> dict[int, list]:
    """The rows of many agents in one query, grouped by agent id in the queryset's order."""
    grouped: dict[int, list] = {}
    for row in queryset.filter(**{f"{lookup}__in": agents}).annotate(
            _pack_agent=models.F(lookup)):
        grouped.setdefault(row._pack_agent, []).append(row)
    return grouped


def agent_rows_section(build: Callable[..., Iterable[PackFile]], *sources: models.QuerySet,
                       lookup: str = "agent"):
    """A pack section and its bulk form from one description: `build` makes an agent's files
    from its rows of each source queryset (filtered on `lookup`), in the sources' order."""
    def section(agent: Agent) -> Iterable[PackFile]:
        return build(*(source.filter(**{lookup: agent}) for source in sources))

    def bulk(agents: list[Agent]) -> dict[int, list[PackFile]]:
        grouped = [rows_by_agent(source, agents, lookup) for source in sources]
        agent_ids = {agent_id for rows in grouped for agent_id in rows}
        return {agent_id: list(build(*(rows.get(agent_id, []) for rows in grouped)))
                for agent_id in agent_ids}
    return section, bulk


def pack_agent(agent: Agent) -> Iterable[PackFile]:
    yield PackFile("agent.json", as_json(record_dict(agent)), records="inventory.agent")


def bulk_agent(agents: list[Agent]) -> dict[int, list[PackFile]]:
    return {agent.pk: list(pack_agent(agent)) for agent in agents}


def _component_files(rows_of: dict[str, Iterable[models.Model]]) -> list[PackFile]:
    return [PackFile(f"{kind}.json", as_json([record_dict(r) for r in rows_of.get(kind, [])]),
                     records=model._meta.label_lower)
            for kind, model in COMPONENT_MODELS.items()]


def pack_components(agent: Agent) -> Iterable[PackFile]:
    return _component_files({
        kind: model._default_manager.filter(agent=agent).order_by("name", "version")
        for kind, model in COMPONENT_MODELS.items()})


def bulk_components(agents: list[Agent]) -> dict[int, list[PackFile]]:
    by_kind = {kind: rows_by_agent(model._default_manager.order_by("name", "version"), agents)
               for kind, model in COMPONENT_MODELS.items()}
    return {agent.pk: _component_files({kind: rows.get(agent.pk, [])
                                        for kind, rows in by_kind.items()})
            for agent in agents}


def _release_files(releases: Iterable[Release]) -> list[PackFile]:
    files = []
    for release in releases:
        files.append(PackFile(f"release-{release.number}.json", as_json(record_dict(release)),
                              records="inventory.release"))
        # The manifest exactly as hashed: its SHA-256 equals the release's manifest hash.
        files.append(PackFile(f"release-{release.number}-manifest.json",
                              canonical_json(release.manifest)))
    return files


def pack_releases(agent: Agent) -> Iterable[PackFile]:
    return _release_files(agent.releases.order_by("number"))


def bulk_releases(agents: list[Agent]) -> dict[int, list[PackFile]]:
    grouped = rows_by_agent(Release.objects.order_by("number"), agents)
    return {agent_id: _release_files(rows) for agent_id, rows in grouped.items()}


def pack_grants(agent: Agent) -> Iterable[PackFile]:
    rows = grants.grants_of(agent).order_by("user__username")
    yield PackFile("grants.json", as_json([
        {"user": r.user.get_username(), "user_id": r.user_id,
         "permission": r.permission.codename} for r in rows]))


def record_list_file(name: str, model: type[models.Model], rows: Iterable) -> PackFile:
    return PackFile(name, as_json([record_dict(r) for r in rows]),
                    records=model._meta.label_lower)


def _generic_pack(model: type[models.Model]):
    def section(agent: Agent) -> Iterable[PackFile]:
        rows = (model._default_manager.filter(**{_generic_agent_fk(model).name: agent})
                .order_by("pk"))
        yield record_list_file(f"{model._meta.model_name}.json", model, rows)
    return section


def _generic_bulk(model: type[models.Model]):
    def bulk(agents: list[Agent]) -> dict[int, list[PackFile]]:
        grouped = rows_by_agent(model._default_manager.order_by("pk"), agents,
                                lookup=_generic_agent_fk(model).name)
        return {agent_id: [record_list_file(f"{model._meta.model_name}.json", model, rows)]
                for agent_id, rows in grouped.items()}
    return bulk


def pack_evidence_index(agent: Agent | None) -> Iterable[PackFile]:
    """The fourteen evidence items, each with the pack folders it comes from (audit.evidence)."""
    installed = {m._meta.label_lower for m in apps.get_models()}
    yield evidence.pack_file(all_pack_sections(), installed, as_json)


# --- As-of sections ------------------------------------------------------------------------

def as_of_agent(agent: Agent, at: datetime) -> AsOfSection:
    try:
        then = agent.history.as_of(at)
    except Agent.DoesNotExist:
        return AsOfSection("Agent record", note="The agent had not been recorded yet.")
    return AsOfSection("Agent record", [AsOfItem(then.name, display_fields(then))])


def as_of_components(agent: Agent, at: datetime) -> AsOfSection:
    items = []
    for model in COMPONENT_MODELS.values():
        for c in as_of(model, at, agent_id=agent.pk).order_by("name", "version"):
            items.append(AsOfItem(f"{str(model._meta.verbose_name).capitalize()} {c}",
                                  display_fields(c, skip={"agent"})))
    return AsOfSection("Components", items)


def as_of_releases(agent: Agent, at: datetime) -> AsOfSection:
    items = [AsOfItem(f"Release {r.display_version}", display_fields(r, skip={"agent"}))
             for r in as_of(Release, at, agent_id=agent.pk).order_by("number")]
    return AsOfSection("Releases and their manifests", items)


def as_of_grants(agent: Agent, at: datetime) -> AsOfSection:
    rows = grants.grants_as_of(agent.pk, at)
    items = [AsOfItem(str(r.user), [("permission", r.permission.codename)]) for r in rows]
    return AsOfSection("Access grants", items)


def _generic_as_of(model: type[models.Model]):
    def section(agent: Agent, at: datetime) -> AsOfSection:
        fk = _generic_agent_fk(model)
        rows = as_of(model, at, **{fk.attname: agent.pk}).order_by("pk")
        items = [AsOfItem(str(r), display_fields(r, skip={fk.name})) for r in rows]
        return AsOfSection(str(model._meta.verbose_name_plural).capitalize(), items)
    return section


# --- Registration --------------------------------------------------------------------------

def pack_retention(agent: Agent) -> Iterable[PackFile]:
    yield record_list_file("retention-holds.json", RetentionHold,
                           RetentionHold.objects.filter(agent=agent).order_by("pk"))


def bulk_retention(agents: list[Agent]) -> dict[int, list[PackFile]]:
    grouped = rows_by_agent(RetentionHold.objects.order_by("pk"), agents)
    return {agent_id: [record_list_file("retention-holds.json", RetentionHold, rows)]
            for agent_id, rows in grouped.items()}


def pack_ledger(agent: Agent | None) -> Iterable[PackFile]:
    """The latest signed checkpoint of the ledger head (signed when the pack was recorded) and
    the public key it verifies with. An auditor should check it with a key obtained from the
    portal independently; the copy here is a convenience."""
    checkpoint = signing.latest_checkpoint()
    if checkpoint is not None:
        yield PackFile("checkpoint.json", as_json(signing.as_document(checkpoint)))
    if signing.is_configured():
        yield PackFile("signing-key.pem", signing.public_key_pem().encode("ascii"))


def register_builtin() -> None:
    components = [m._meta.label_lower for m in COMPONENT_MODELS.values()]
    register_pack_section("agent", pack_agent, models=["inventory.agent"], order=10,
                          bulk=bulk_agent)
    register_pack_section("components", pack_components, models=components, order=20,
                          bulk=bulk_components)
    register_pack_section("releases", pack_releases, models=["inventory.release"], order=30,
                          bulk=bulk_releases)
    register_pack_section("grants", pack_grants,
                          models=[grants.USER_GRANT_LABEL], order=40)
    register_as_of_section("agent", as_of_agent, models=["inventory.agent"], order=10)
    register_as_of_section("components", as_of_components, models=components, order=20)
    register_as_of_section("releases", as_of_releases, models=["inventory.release"], order=30)
    register_as_of_section("grants", as_of_grants,
                           models=[grants.USER_GRANT_LABEL], order=40)
    register_pack_section("retention", pack_retention, models=["audit.retentionhold"], order=90,
                          bulk=bulk_retention)
    register_pack_section("ledger", pack_ledger, order=95, per_pack=True)
    register_pack_section("index", pack_evidence_index, order=99, per_pack=True)


def _generic_models(taken: set[str]) -> list[type[models.Model]]:
    found = []
    for model in apps.get_models():
        if hasattr(model, "instance_type") or not hasattr(model, "history"):
            continue
        if model._meta.app_label == "audit" or agent_fk(model) is None:
            continue
        if model._meta.label_lower not in taken:
            found.append(model)
    return found


def _name(model) -> str:
    return f"{model._meta.app_label}-{model._meta.model_name}"


def all_pack_sections() -> list:
    """The registered sections, then a plain one for each tracked model with an agent that no
    section covers (risk assessments until the risk app registers its own, say). Worked out
    when a pack is made, so sections registered by apps loaded after this one count."""
    registered = pack_sections()
    generic = [Section(_name(m), _generic_pack(m), (m._meta.label_lower,), 500,
                       bulk=_generic_bulk(m))
               for m in _generic_models(covered_models(registered))]
    return registered + generic


def all_as_of_sections() -> list:
    registered = as_of_sections()
    generic = [Section(_name(m), _generic_as_of(m), (m._meta.label_lower,), 500)
               for m in _generic_models(covered_models(registered))]
    return registered + generic
