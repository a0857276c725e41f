"""Read queries of the audit area: the ledger filtered the way auditors search it, one agent as
it stood at a moment, and the ledger's state."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import GROUP_NAMES, READ_ONLY_ROLES
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import content
from .drafting import history_models, tracked_model
from .models import (
    CheckpointKind,
    CorrectiveAction,
    ExportRecord,
    Finding,
    InternalAudit,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    RetentionHold,
    VerificationRun,
)
from .registry import AsOfSection
from .rules import can_view_audit
from .sections import all_as_of_sections


def audit_agents(user: User) -> QuerySet[Agent]:
    """Agents whose audit trail this user may read (everyone's, for the audit roles)."""
    if not can_view_audit(user):
        return Agent.objects.none()
    return agents_visible_to(user)


@dataclass
class LedgerFilters:
    agent: Agent | None = None
    object_model: str = ""
    actor: User | None = None
    start: datetime | None = None
    end: datetime | None = None
    action: str = ""
    object_pk: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in {
            "agent": self.agent.slug if self.agent else None,
            "object_model": self.object_model or None,
            "actor": self.actor.get_username() if self.actor else None,
            "start": self.start, "end": self.end, "action": self.action or None,
            "object_pk": self.object_pk or None,
        }.items() if v is not None}


def ledger_entries(filters: LedgerFilters | None = None) -> QuerySet[LedgerEntry]:
    """Ledger entries matching the filters, in ledger order."""
    entries = LedgerEntry.objects.all()
    f = filters or LedgerFilters()
    if f.agent is not None:
        entries = entries.filter(agent_id=f.agent.pk)
    if f.object_model:
        entries = entries.filter(object_model=f.object_model)
    if f.object_pk:
        entries = entries.filter(object_pk=f.object_pk)
    if f.actor is not None:
        entries = entries.filter(actor_id=f.actor.pk)
    if f.start is not None:
        entries = entries.filter(time__gte=f.start)
    if f.end is not None:
        entries = entries.filter(time__lt=f.end)
    if f.action:
        entries = entries.filter(action=f.action)
    return entries.order_by("seq")


@dataclass
class LedgerPage:
    """One page of entries, newest first, and the cursors of the pages on either side."""

    entries: list[LedgerEntry]
    newer: int | None = None  # ?after=<seq> shows the entries after this one
    older: int | None = None  # ?before=<seq> shows the entries before this one


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def ledger_page(entries: QuerySet[LedgerEntry], *, before: str | None = None,
                after: str | None = None, size: int = 50) -> LedgerPage:
    """A page by keyset on seq: the cost of a page does not depend on how deep it is or on the
    size of the ledger (no OFFSET, no COUNT). A cursor that is not a number is ignored."""
    before_seq, after_seq = _cursor(before), _cursor(after)
    if after_seq is not None and before_seq is None:
        rows = list(entries.filter(seq__gt=after_seq).order_by("seq")[:size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return LedgerPage(rows, newer=rows[0].seq if rows and more_newer else None,
                          older=rows[-1].seq if rows else None)
    if before_seq is not None:
        entries = entries.filter(seq__lt=before_seq)
    rows = list(entries.order_by("-seq")[:size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return LedgerPage(rows, newer=rows[0].seq if rows and before_seq is not None else None,
                      older=rows[-1].seq if rows and more_older else None)


def ledger_record_types() -> list[str]:
    """The record types the ledger can hold (every tracked model), known without reading it."""
    return sorted(tracked_model(model)._meta.label_lower for model in history_models())


def ledger_head() -> LedgerHead:
    return LedgerHead.objects.filter(pk=1).first() or LedgerHead(seq=0)


def latest_checkpoint(kind: str = CheckpointKind.VERIFIED) -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.filter(kind=kind).order_by("-seq", "-pk").first()


def entry_changes(entry: LedgerEntry) -> list[dict]:
    return json.loads(entry.changes)


def verification_runs() -> QuerySet[VerificationRun]:
    """Every recorded verification of the ledger, newest first (read by the audit roles)."""
    return VerificationRun.objects.select_related("run_by")


def recent_verifications(limit: int = 10) -> list[VerificationRun]:
    return list(verification_runs()[:limit])


def exports_on_record() -> QuerySet[ExportRecord]:
    """Every export and download on record, newest first (read by the audit roles)."""
    return ExportRecord.objects.select_related("created_by", "agent")


def recent_exports(limit: int = 20) -> list[ExportRecord]:
    return list(exports_on_record()[:limit])


def agent_holds(agent: Agent) -> list[RetentionHold]:
    return list(agent.retention_holds.select_related("placed_by", "released_by"))


def holds_visible_to(user: User) -> QuerySet[RetentionHold]:
    """Retention and legal holds on the agents whose audit trail the user may read."""
    return (RetentionHold.objects.filter(agent__in=audit_agents(user))
            .select_related("agent", "placed_by", "released_by"))


@dataclass
class AgentAsOf:
    agent: Agent
    at: datetime
    sections: list[AsOfSection] = field(default_factory=list)


def agent_as_of(agent: Agent, at: datetime) -> AgentAsOf:
    """The whole agent as it stood at `at`: its record and every registered section."""
    return AgentAsOf(agent, at, [section.fn(agent, at) for section in all_as_of_sections()])


def agent_as_of_findings(agent: Agent, at: datetime) -> list[content.Finding]:
    """The as-of view is built from history rows: those of the agent's ledger entries up to
    `at` that no longer say what the ledger recorded (none when history agrees)."""
    return content.history_findings(LedgerEntry.objects.filter(agent_id=agent.pk, time__lte=at))


# --- Internal audits, findings and corrective actions ------------------------------------------

def findings_visible_to(user: User) -> QuerySet[Finding]:
    """Every finding for those who read the audit area (auditors, compliance); otherwise the
    findings about agents the user sees and those holding an action the user owns."""
    findings = Finding.objects.select_related("audit", "agent", "recorded_by")
    if can(user, "audit.view_finding"):
        return findings
    if not (user.is_authenticated and user.is_active):
        return findings.none()
    mine = CorrectiveAction.objects.filter(owner=user).values("finding_id")
    return findings.filter(Q(agent__in=agents_visible_to(user)) | Q(pk__in=mine))


def finding_for(user: User, pk: int) -> Finding:
    return get_object_or_404(findings_visible_to(user), pk=pk)


def internal_audits_visible_to(user: User) -> QuerySet[InternalAudit]:
    audits = InternalAudit.objects.select_related("lead", "created_by")
    if can(user, "audit.view_internalaudit"):
        return audits
    return audits.filter(pk__in=findings_visible_to(user).values("audit_id"))


def internal_audit_for(user: User, pk: int) -> InternalAudit:
    return get_object_or_404(internal_audits_visible_to(user), pk=pk)


def corrective_actions_visible_to(user: User) -> QuerySet[CorrectiveAction]:
    return (CorrectiveAction.objects.filter(finding__in=findings_visible_to(user).values("pk"))
            .select_related("finding", "owner", "recorded_by", "verified_by", "created_by"))


def corrective_action_for(user: User, pk: int) -> CorrectiveAction:
    return get_object_or_404(corrective_actions_visible_to(user), pk=pk)


def audit_findings(user: User, audit: InternalAudit) -> QuerySet[Finding]:
    """The audit's findings the user may see, each with its actions counted."""
    return (findings_visible_to(user).filter(audit=audit)
            .annotate(action_count=Count("actions"),
                      open_actions=Count("actions", filter=~Q(actions__state="verified"))))


def finding_actions(finding: Finding) -> list[CorrectiveAction]:
    return list(finding.actions.select_related("owner", "recorded_by", "verified_by",
                                               "created_by"))


def possible_action_owners() -> QuerySet[User]:
    """Active people who may own a corrective action (never a read-only role)."""
    read_only = [GROUP_NAMES[role] for role in READ_ONLY_ROLES]
    return (User.objects.filter(is_active=True, is_service_account=False)
            .exclude(groups__name__in=read_only).order_by("username"))
