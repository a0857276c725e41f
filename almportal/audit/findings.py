"""Writes for internal audits, management reviews, findings and corrective actions. Each one
checks audit.rules, runs in a transaction and is saved with its actor and reason."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from ..accounts.models import User
from ..core.errors import DomainError, NotPermitted, clean_or_refuse
from ..core.lifecycle import lock, record
from . import rules
from .models import ActionState, AuditState, CorrectiveAction, Finding, InternalAudit


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotPermitted(message)


def _raise(refusal: DomainError | None) -> None:
    if refusal is not None:
        raise refusal


def _text(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"Say {what}.", field=field)
    return value


@transaction.atomic
def internal_audit_plan(*, actor: User, kind: str, title: str, scope: str, period_start: date,
                        period_end: date, lead: User, reason: str = "") -> InternalAudit:
    _require(rules.may_plan_audit(actor), "Compliance plans audits and management reviews.")
    audit = InternalAudit(kind=kind, title=(title or "").strip(), scope=(scope or "").strip(),
                          period_start=period_start, period_end=period_end, lead=lead,
                          created_by=actor)
    if period_start and period_end and period_end < period_start:
        raise DomainError("The period cannot end before it starts.", field="period_end")
    if not lead.is_active or lead.is_service_account:
        raise DomainError("The lead is an active person.", field="lead")
    clean_or_refuse(audit, exclude=["lead", "created_by"])
    record(audit, actor=actor, reason=(reason or "").strip() or f"Planned: {audit.title}")
    return audit


@transaction.atomic
def internal_audit_move(*, actor: User, audit: InternalAudit, state: str,
                        reason: str = "") -> InternalAudit:
    _require(rules.may_run_audit(actor), "Compliance starts and closes audits.")
    if state not in AuditState.values:
        raise DomainError("Choose a state.", field="state")
    audit = lock(InternalAudit, audit.pk)
    rules.AUDIT_STATES.check(audit.state, state)
    before = audit.get_state_display()
    audit.state = state
    record(audit, actor=actor, reason=(reason or "").strip()
           or f"{before} → {audit.get_state_display()}")
    return audit


@transaction.atomic
def finding_record(*, actor: User, audit: InternalAudit, severity: str, title: str,
                   description: str, clause: str = "", agent=None) -> Finding:
    """An auditor records what the audit found (their one kind of write)."""
    _require(rules.may_record_finding(actor), "Only an auditor records findings.")
    audit = lock(InternalAudit, audit.pk)
    _raise(rules.finding_refusal(audit))
    finding = Finding(audit=audit, agent=agent, severity=severity, title=(title or "").strip(),
                      description=(description or "").strip(), clause=(clause or "").strip(),
                      recorded_by=actor)
    clean_or_refuse(finding, exclude=["audit", "agent", "recorded_by"])
    record(finding, actor=actor, reason=f"Finding recorded in {audit}")
    return finding


@transaction.atomic
def corrective_action_assign(*, actor: User, finding: Finding, owner: User, description: str,
                             due_on: date | None = None) -> CorrectiveAction:
    _require(rules.may_assign_action(actor, finding), "Compliance, or the agent's owner or a "
                                                      "delegate, assign corrective actions.")
    finding = lock(Finding, finding.pk)
    _raise(rules.action_owner_refusal(owner))
    action = CorrectiveAction(finding=finding, owner=owner, due_on=due_on, created_by=actor,
                              description=_text(description, "description", "what is to be done"))
    clean_or_refuse(action, exclude=["finding", "owner", "created_by"])
    record(action, actor=actor, reason=f"Corrective action assigned to {owner}")
    if finding.closed_at is not None:
        finding.closed_at = None
        record(finding, actor=actor, reason="Reopened: a new corrective action")
    return action


@transaction.atomic
def corrective_action_record(*, actor: User, action: CorrectiveAction, action_taken: str,
                             evidence: str) -> CorrectiveAction:
    """The owner records what was done and the evidence; an auditor then verifies it."""
    action = lock(CorrectiveAction, action.pk)
    _require(rules.may_record_action(actor, action),
             "The action's owner, or the agent's owner or a delegate, record it.")
    _raise(rules.record_refusal(action))
    action.action_taken = _text(action_taken, "action_taken", "what was done")
    action.evidence = _text(evidence, "evidence", "where the evidence is")
    action.state = ActionState.DONE
    action.recorded_by, action.recorded_at = actor, timezone.now()
    clean_or_refuse(action, exclude=["finding", "owner", "created_by", "recorded_by"])
    record(action, actor=actor, reason="Action recorded as done")
    return action


@transaction.atomic
def corrective_action_verify(*, actor: User, action: CorrectiveAction, accepted: bool,
                             note: str) -> CorrectiveAction:
    """An auditor other than the recorder closes the action, or sends it back open."""
    action = lock(CorrectiveAction, action.pk)
    _raise(rules.verify_refusal(actor, action))
    note = _text(note, "note", "what the verification found")[:1000]
    action.verification_note = note
    if accepted:
        action.state, action.verified_by, action.verified_at = (
            ActionState.VERIFIED, actor, timezone.now())
    else:
        action.state = ActionState.OPEN
    record(action, actor=actor, reason=("Closure verified: " if accepted else "Sent back: ")
           + note)
    _close_finding_if_done(actor, action.finding_id)
    return action


def _close_finding_if_done(actor: User, finding_id: int) -> None:
    finding = lock(Finding, finding_id)
    closed = rules.finding_is_closed(finding.actions.all())
    if closed and finding.closed_at is None:
        finding.closed_at = timezone.now()
        record(finding, actor=actor, reason="Closed: every corrective action verified")
