"""Every change of the standards area: importing a document as an intake draft (through the
inventory's own services), confirming the tool flags it seeded, watching live cards, and the
drift findings a poll opens or a reviewer closes. Each inside one transaction, recorded with
the acting user and a reason."""

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..accounts.models import User
from ..accounts.services import system_user
from ..core.errors import DomainError, clean_or_refuse
from ..core.hashing import content_hash
from ..core.lifecycle import lock, record
from ..inventory import services as inventory
from ..inventory.choices import (
    ActionReach,
    Audience,
    AutonomyLevel,
    DataClassification,
    RegulatedDomain,
)
from ..inventory.models import Agent, Tool
from ..risk.services import assessments_mark_changed
from . import documents, fetching, releasing, rules, selectors
from .models import DriftFinding, FindingState, ImportRecord, WatchedCard

log = logging.getLogger(__name__)

# What the import form asks beside the document, and what it assumes when not told: the
# draft's owner completes the intake before submitting it.
INTAKE_DEFAULTS = {
    "business_unit": "",
    "intended_users": "To be completed by the owner.",
    "why_agent": "To be completed by the owner.",
    "audience": Audience.INTERNAL,
    "autonomy_level": AutonomyLevel.HUMAN_APPROVES,
    "data_classification": DataClassification.INTERNAL,
    "regulated_domain": RegulatedDomain.NONE,
}


def _require(refusal: DomainError | None) -> None:
    if refusal is not None:
        raise refusal


def _intake_data(definition: documents.Definition, intake: Mapping[str, Any]) -> dict:
    unknown = set(intake) - set(INTAKE_DEFAULTS)
    if unknown:
        raise DomainError(errors={f: ["This field cannot be set here."] for f in sorted(unknown)})
    data = {**INTAKE_DEFAULTS, **{k: v for k, v in intake.items() if v not in (None, "")}}
    writes = any(t.writes for t in definition.tools)
    fmt = documents.DocumentFormat(definition.document_format).label
    return {**data, "name": definition.name[:120],
            "purpose": (definition.description or f"Imported from an {fmt}.")[:4000],
            "action_reach": ActionReach.WRITES_INTERNAL if writes else ActionReach.READ_ONLY}


def _add_components(actor: User, agent: Agent, definition: documents.Definition) -> None:
    for tool in definition.tools:
        inventory.component_add_version(
            actor=actor, agent=agent, kind="tools", reason=f"Imported: tool {tool.name}",
            data={"name": tool.name, "tool_kind": tool.tool_kind, "endpoint": tool.endpoint[:500],
                  "operations": tool.operations, "writes": tool.writes,
                  "needs_human_approval": tool.needs_human_approval, "notes": tool.notes})
    for secret in definition.credentials:
        inventory.component_add_version(
            actor=actor, agent=agent, kind="credentials", reason=f"Imported: secret {secret.name}",
            data={"name": secret.name, "identity": secret.name, "scopes": ["to confirm"],
                  "granted_by": "To confirm", "notes": secret.notes})


@transaction.atomic
def import_document(*, actor: User, document_format: str, document: Any, source_url: str = "",
                    intake: Mapping[str, Any] | None = None) -> ImportRecord:
    """Draft an intake with its tools and secrets from the document. Every tool's write flags
    wait for a person to confirm them."""
    _require(rules.import_refusal(actor))
    definition = documents.read(document_format, document)
    agent = inventory.agent_create(actor=actor, data=_intake_data(definition, intake or {}),
                                   reason=f"Intake drafted from an imported "
                                          f"{documents.DocumentFormat(document_format).label}")
    _add_components(actor, agent, definition)
    imported = ImportRecord(
        agent=agent, document_format=document_format, source_url=source_url, document=document,
        document_hash=content_hash(document), interface=definition.interface, created_by=actor,
        pending_tools=[{"name": t.name, "writes": t.writes,
                        "needs_human_approval": t.needs_human_approval, "basis": t.basis}
                       for t in definition.tools])
    record(imported, actor=actor, reason="Document imported")
    return imported


def import_from_url(*, actor: User, url: str, document_format: str = "",
                    intake: Mapping[str, Any] | None = None) -> ImportRecord:
    _require(rules.import_refusal(actor))
    document = documents.load_json(fetching.fetch(url).body)
    document_format = document_format or documents.guess_format(document)
    return import_document(actor=actor, document_format=document_format, document=document,
                           source_url=url, intake=intake)


@transaction.atomic
def import_confirm_tool(*, actor: User, imported: ImportRecord, tool: str, writes: bool,
                        needs_human_approval: bool, reason: str = "") -> ImportRecord:
    """A person confirms (or corrects) the write flags an import seeded for one tool. A
    correction is the tool's next version; the seeded version stays on record."""
    imported = lock(ImportRecord, imported.pk)
    _require(rules.watch_refusal(actor, imported.agent))
    pending = {p["name"]: p for p in imported.pending_tools}
    if tool not in pending:
        raise DomainError("This tool has nothing left to confirm.", field="tool")
    latest = Tool.objects.filter(agent=imported.agent, name=tool).order_by("-version").first()
    if latest is None:
        raise DomainError("This tool is no longer on the agent.", field="tool")
    if (latest.writes, latest.needs_human_approval) != (writes, needs_human_approval):
        inventory.component_add_version(
            actor=actor, agent=imported.agent, kind="tools", reason=reason or
            f"Write flags of {tool} corrected on confirmation",
            data={"name": tool, "tool_kind": latest.tool_kind, "endpoint": latest.endpoint,
                  "operations": latest.operations, "writes": writes,
                  "needs_human_approval": needs_human_approval, "notes": latest.notes})
    imported.pending_tools = [p for p in imported.pending_tools if p["name"] != tool]
    record(imported, actor=actor, reason=reason or f"Write flags of {tool} confirmed: "
           f"writes {'yes' if writes else 'no'}, approval per call "
           f"{'yes' if needs_human_approval else 'no'}")
    return imported


# --- Watching live cards ---------------------------------------------------------------------

@transaction.atomic
def watch_add(*, actor: User, agent: Agent, kind: str, url: str, reason: str = "") -> WatchedCard:
    _require(rules.watch_refusal(actor, agent))
    fetching.check_url(url)
    if WatchedCard.objects.filter(agent=agent, kind=kind, url=url).exists():
        raise DomainError("This URL is already registered for this agent.", field="url")
    watch = WatchedCard(agent=agent, kind=kind, url=url, created_by=actor)
    clean_or_refuse(watch)
    record(watch, actor=actor, reason=reason or "Live card registered for drift watch")
    return watch


@transaction.atomic
def watch_set_active(*, actor: User, watch: WatchedCard, active: bool,
                     reason: str = "") -> WatchedCard:
    watch = lock(WatchedCard, watch.pk)
    _require(rules.watch_refusal(actor, watch.agent))
    if watch.active != active:
        watch.active = active
        record(watch, actor=actor,
               reason=reason or ("Drift watch resumed" if active else "Drift watch stopped"))
    return watch


def watch_poll(watch: WatchedCard) -> DriftFinding | None:
    """Fetch the live card (with its ETag) and compare it with the approved manifest. Safe to
    run twice: the same differences against the same release open one finding."""
    try:
        fetched = fetching.fetch(watch.url, etag=watch.etag)
        document = None if fetched.status == 304 else documents.load_json(fetched.body)
    except DomainError as error:
        WatchedCard.objects.filter(pk=watch.pk).update(last_polled_at=timezone.now(),
                                                       last_error=error.message[:500])
        return None
    if document is None:
        WatchedCard.objects.filter(pk=watch.pk).update(last_polled_at=timezone.now(),
                                                       last_error="")
        return None
    return _judge(watch, document, fetched.etag)


@transaction.atomic
def _judge(watch: WatchedCard, document: Any, etag: str) -> DriftFinding | None:
    watch = lock(WatchedCard, watch.pk)
    release = selectors.compared_release(watch.agent)
    found = [] if release is None or not isinstance(document, dict) else rules.differences(
        rules.approved_view(watch.kind, release.manifest, watch.agent.purpose,
                            str(document.get("name", ""))),
        rules.live_view(watch.kind, document))
    shown = rules.cosmetic(found)
    changed = shown != watch.cosmetic or content_hash(document) != watch.document_hash
    watch.etag, watch.last_polled_at, watch.last_error = etag[:200], timezone.now(), ""
    watch.document_hash, watch.cosmetic = content_hash(document), shown
    if changed:
        record(watch, actor=system_user(), reason="Live card changed")
    else:
        watch.save(update_fields=["etag", "last_polled_at", "last_error"])
    material = rules.material(found)
    if not material or release is None:
        return None
    return _open_finding(watch, release, material)


def _open_finding(watch: WatchedCard, release, material: list[dict]) -> DriftFinding | None:
    fingerprint = rules.finding_fingerprint(watch.pk, release.pk, material)
    if selectors.open_finding(watch, fingerprint) is not None:
        return None
    finding = DriftFinding(agent=watch.agent, watch=watch, release=release,
                           differences=material, fingerprint=fingerprint)
    actor = system_user()
    record(finding, actor=actor, reason="; ".join(d["detail"] for d in material)[:1000])
    # Like any material change: the assessment is no longer current, pending approvals fall.
    assessments_mark_changed(watch.agent_id)
    releasing.releases_recheck(actor=actor, agent=watch.agent)
    return finding


def watch_poll_now(*, actor: User, watch: WatchedCard) -> DriftFinding | None:
    """Poll one watched card at once, for its agent's owner, a delegate or an admin."""
    _require(rules.watch_refusal(actor, watch.agent))
    return watch_poll(watch)


def watches_poll_due() -> int:
    """Poll every active watch (beat), each in its own transaction; returns how many."""
    polled = 0
    for watch in selectors.watches_due():
        try:
            watch_poll(watch)
        except DomainError:
            log.exception("Drift watch %s not judged", watch.pk)
        polled += 1
    return polled


@transaction.atomic
def finding_close(*, actor: User, finding: DriftFinding, reason: str) -> DriftFinding:
    finding = lock(DriftFinding, finding.pk)
    _require(rules.close_refusal(actor, finding))
    if not reason or not reason.strip():
        raise DomainError("Say why the finding is closed.", field="reason")
    finding.state, finding.closed_at, finding.closed_by = (FindingState.CLOSED, timezone.now(),
                                                           actor)
    finding.close_reason = reason.strip()
    record(finding, actor=actor, reason=finding.close_reason)
    assessments_mark_changed(finding.agent_id)
    return finding
