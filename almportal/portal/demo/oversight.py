"""Demo evidence of oversight and assurance: named overseers of the running agents, their event
logs' daily usage periods, and an internal audit with a finding whose corrective action was
recorded by the owner and verified by the auditor. Idempotent: what exists is left alone."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from almportal.accounts.models import User
from almportal.audit import findings
from almportal.audit.models import AuditKind, AuditState, FindingSeverity, InternalAudit
from almportal.inventory.choices import Stage
from almportal.inventory.models import Agent
from almportal.operations import services as operations
from almportal.operations.choices import OversightRole

from .flows import SAMPLE_DAYS, owner_of

AUDIT_TITLE = "AI management system internal audit"
REVIEW_TITLE = "Management review of the AI management system"


def seed_oversight(users: dict[str, User]) -> list[str]:
    lines = []
    with transaction.atomic():
        named = _overseers(users)
    if named:
        lines.append(f"Demo overseers named for: {', '.join(named)}.")
    today = timezone.localdate()
    days = sum(operations.usage_summarise(day=today - timedelta(days=back))
               for back in range(1, SAMPLE_DAYS + 1))
    if days:
        lines.append(f"Demo event log: {days} daily usage periods.")
    if not InternalAudit.objects.filter(title=AUDIT_TITLE).exists():
        with transaction.atomic():
            _audit(users, today)
        lines.append("Demo internal audit, finding and verified corrective action recorded.")
    return lines


def _overseers(users: dict[str, User]) -> list[str]:
    named = []
    for agent in Agent.objects.filter(stage__in=[Stage.LIVE, Stage.SUSPENDED],
                                      overseers__isnull=True).select_related("business_owner"):
        name_overseers(agent, users)
        named.append(agent.name)
    return named


def name_overseers(agent: Agent, users: dict[str, User], *, since: date | None = None) -> None:
    """The owner operates the agent; a security reviewer trained in the drill may halt it
    (from `since`, today by default)."""
    owner = owner_of(agent)
    today = timezone.localdate()
    for user, role, course in (
            (owner, OversightRole.OPERATOR, "AI oversight for operators (internal course)"),
            (users["security"], OversightRole.CAN_HALT, "Kill-switch and incident drill")):
        operations.overseer_assign(
            actor=owner, agent=agent, user=user, role=role, training=course,
            trained_on=today - timedelta(days=60),
            training_expires_on=today + timedelta(days=305),
            evidence_url="https://learning.example/certificates/ai-oversight",
            active_from=since, reason="Demo data: named overseer")


# The internal audit of the agents in production, and what it found in the first live one.
AUDIT = {
    "title": AUDIT_TITLE, "days": (30, 0),
    "scope": "Human oversight and logging of agents in production (ISO/IEC 42001 9.2).",
    "finding": {"severity": FindingSeverity.MINOR, "clause": "ISO/IEC 42001 7.2",
                "title": "Overseer training records lack expiry dates",
                "description": "Two overseers' training records had no expiry date, so lapsed "
                               "training would not show."},
    "action": "Add expiry dates to every overseer's training record.",
    "taken": "Expiry dates added for every overseer.",
    "evidence": "https://learning.example/reports/overseer-training",
    "verified": "Checked on the overseers page: every record dated.",
}


def _audit(users: dict[str, User], today: date) -> None:
    compliance = users["compliance"]
    findings.internal_audit_plan(
        actor=compliance, kind=AuditKind.MANAGEMENT_REVIEW, title=REVIEW_TITLE,
        scope="Results of audits, incidents, monitoring and changes in context (ISO/IEC "
              "42001 9.3).", period_start=today.replace(day=1), period_end=today + timedelta(30),
        lead=compliance)
    agent = Agent.objects.filter(stage=Stage.LIVE).order_by("pk").first()
    audit_with_finding(AUDIT, agent, users)


def audit_with_finding(spec: dict, agent: Agent | None, users: dict[str, User]
                       ) -> InternalAudit:
    """Compliance plans an audit the auditor leads; the auditor records its finding on the
    agent; the owner records the corrective action and the auditor verifies its closure."""
    compliance, auditor = users["compliance"], users["auditor"]
    today = timezone.localdate()
    audit = findings.internal_audit_plan(
        actor=compliance, kind=AuditKind.AUDIT, title=spec["title"], scope=spec["scope"],
        period_start=today - timedelta(days=spec["days"][0]),
        period_end=today - timedelta(days=spec["days"][1]), lead=auditor)
    audit = findings.internal_audit_move(actor=compliance, audit=audit,
                                         state=AuditState.IN_PROGRESS)
    finding = findings.finding_record(actor=auditor, audit=audit, agent=agent, **spec["finding"])
    owner = owner_of(agent) if agent else users["owner"]
    action = findings.corrective_action_assign(actor=compliance, finding=finding, owner=owner,
                                               description=spec["action"],
                                               due_on=today + timedelta(days=14))
    action = findings.corrective_action_record(actor=owner, action=action,
                                               action_taken=spec["taken"],
                                               evidence=spec["evidence"])
    findings.corrective_action_verify(actor=auditor, action=action, accepted=True,
                                      note=spec["verified"])
    return audit
