"""Agents nobody registered, found from their own telemetry (or their gateways' runtime polls):
one finding per name, its points kept; compliance claims it (an intake draft is filed for the
chosen owner, with the models and tools seen, and the name is mapped to the new agent) or
dismisses it with a reason."""

from collections.abc import Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ...accounts.models import User
from ...core.errors import Conflict, DomainError, require_that
from ...core.lifecycle import lock, record
from ...inventory import services as inventory
from ...inventory.choices import (
    ActionReach,
    Audience,
    AutonomyLevel,
    DataClassification,
    Hosting,
    ToolKind,
)
from ...inventory.models import Agent
from .. import otlp
from ..choices import SAMPLE_METRICS, FindingStatus
from ..models import DiscoveredSample, DiscoveryFinding, TelemetryName
from ..rules import may_triage_findings

SEEN_LIMIT = 50  # models or tools listed per finding
POLL_NOTED = timedelta(minutes=1)  # a polling gateway refreshes its finding this often
SEEN_IN_TELEMETRY = "(seen in telemetry)"
TO_COMPLETE = "To be completed by the owner."
# What nobody has said yet is assumed at its riskiest, so that the draft cannot understate the
# risk; the owner corrects it before submitting the intake.
CAUTIOUS_ANSWERS = {
    "audience": Audience.PUBLIC, "autonomy_level": AutonomyLevel.FULLY_AUTONOMOUS,
    "data_classification": DataClassification.RESTRICTED,
    "action_reach": ActionReach.MOVES_MONEY_OR_ACCESS,
}


def _finding(name: str, actor: User, now) -> DiscoveryFinding:
    found = DiscoveryFinding.objects.select_for_update().filter(name=name).first()
    if found is not None:
        return found
    finding = DiscoveryFinding(name=name, first_seen_at=now, last_seen_at=now)
    try:
        with transaction.atomic():
            record(finding, actor=actor, reason="Telemetry from an agent the inventory does "
                                                "not know")
    except IntegrityError:  # opened by a simultaneous export
        return DiscoveryFinding.objects.select_for_update().get(name=name)
    return finding


def _merged(seen: list, new: Iterable[str]) -> list:
    return sorted(set(seen) | set(new))[:SEEN_LIMIT]


@transaction.atomic
def discovery_record(*, actor: User, resource: otlp.Resource, now=None) -> int:
    """Keep an unknown agent's points with its finding (opened on first sight); returns the
    number of points kept."""
    now = now or timezone.now()
    finding = _finding(resource.names[0], actor, now)
    hint = str(resource.attributes.get(otlp.RELEASE_HASH)
               or resource.attributes.get(otlp.RELEASE_VERSION) or "")[:100]
    DiscoveredSample.objects.bulk_create([
        DiscoveredSample(finding=finding, environment=resource.environment[:40],
                         release_hint=hint, timestamp=point.at, metric=value.metric,
                         value=value.value)
        for point in resource.points for value in point.values
        if value.metric in SAMPLE_METRICS], batch_size=1000)
    models = {m for point in resource.points for m in point.models}
    tools = {t for point in resource.points for t in point.tools}
    DiscoveryFinding.objects.filter(pk=finding.pk).update(
        points=F("points") + len(resource.points), last_seen_at=max(now, finding.last_seen_at),
        models_seen=_merged(finding.models_seen, models),
        tools_seen=_merged(finding.tools_seen, tools), attributes=resource.attributes)
    return len(resource.points)


def _known(name: str) -> bool:
    return (Agent.objects.filter(slug=name).exists()
            or TelemetryName.objects.filter(name=name).exists())


def discovery_poll(*, actor: User, name: str, environment: str, now=None) -> bool:
    """A runtime poll naming an agent the inventory does not know opens its finding (or keeps
    it seen), at most one write a minute per name however often the gateway polls. Returns
    whether the poll was noted (False for a known agent: its poll was refused for another
    reason, which is not a discovery)."""
    now = now or timezone.now()
    name = (name or "")[:200]
    if not name or _known(name):
        return False
    if DiscoveryFinding.objects.filter(name=name, last_seen_at__gte=now - POLL_NOTED).exists():
        return True
    with transaction.atomic():
        finding = _finding(name, actor, now)
        attributes = finding.attributes or {"alm.seen_in": "runtime polls",
                                            "deployment.environment": environment or "production"}
        DiscoveryFinding.objects.filter(pk=finding.pk).update(
            last_seen_at=max(now, finding.last_seen_at), attributes=attributes)
    return True


def _open(finding: DiscoveryFinding) -> DiscoveryFinding:
    finding = lock(DiscoveryFinding, finding.pk)
    if finding.status != FindingStatus.OPEN:
        raise Conflict(f"This finding is already {finding.get_status_display().lower()}.")
    return finding


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise DomainError("Say why.", field="reason")
    return reason.strip()[:1000]


def _draft(finding: DiscoveryFinding, owner: User, claimer: User) -> Agent:
    """The intake draft, filed in the owner's name (they complete it) with what was seen."""
    seen = ", ".join(finding.models_seen) or "none reported"
    agent = inventory.agent_create(actor=owner, owner=owner, data={
        "name": finding.name[:120],
        "purpose": f"Found from its telemetry as “{finding.name}”; to be described by its "
                   f"owner. Models seen: {seen}.",
        "why_agent": TO_COMPLETE, "business_unit": TO_COMPLETE[:80],
        "intended_users": TO_COMPLETE, "tags": ["discovered"], **CAUTIOUS_ANSWERS,
    }, reason=f"Drafted from discovery finding #{finding.pk}, claimed by {claimer}")
    for model in finding.models_seen:
        inventory.component_add_version(actor=owner, agent=agent, kind="models", data={
            "name": model[:120], "provider": SEEN_IN_TELEMETRY, "model_name": model[:120],
            "pinned_version": model[:80], "hosting": Hosting.VENDOR_API})
    for tool in finding.tools_seen:
        inventory.component_add_version(actor=owner, agent=agent, kind="tools", data={
            "name": tool[:120], "tool_kind": ToolKind.REST_API, "endpoint": SEEN_IN_TELEMETRY,
            "operations": [SEEN_IN_TELEMETRY], "writes": True})
    return agent


@transaction.atomic
def finding_claim(*, actor: User, finding: DiscoveryFinding, owner: User,
                  reason: str) -> DiscoveryFinding:
    """File an intake draft for the owner from what was seen; the finding's name then maps to
    the new agent, whose page shows the points received before."""
    require_that(may_triage_findings(actor), "Only compliance may claim discovery findings.")
    finding = _open(finding)
    reason = _reason(reason)
    if not owner.is_active or not owner.has_perm("inventory.add_agent"):
        raise DomainError("Choose an owner who may file intakes.", field="owner")
    agent = _draft(finding, owner, actor)
    name = TelemetryName(name=finding.name, agent=agent, added_by=actor)
    record(name, actor=actor, reason=f"Claimed from discovery finding #{finding.pk}")
    finding.status, finding.agent = FindingStatus.CLAIMED, agent
    finding.decided_by, finding.decided_at, finding.reason = actor, timezone.now(), reason
    record(finding, actor=actor, reason=reason)
    return finding


@transaction.atomic
def finding_dismiss(*, actor: User, finding: DiscoveryFinding, reason: str) -> DiscoveryFinding:
    """Dismiss with a reason; the points stay with the finding."""
    require_that(may_triage_findings(actor), "Only compliance may dismiss discovery findings.")
    finding = _open(finding)
    finding.status, finding.reason = FindingStatus.DISMISSED, _reason(reason)
    finding.decided_by, finding.decided_at = actor, timezone.now()
    record(finding, actor=actor, reason=finding.reason)
    return finding
