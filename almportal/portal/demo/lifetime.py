"""The working life of the demo agent that was live before it was retired, recorded through the
services as it happened and before its retirement (a retired agent's records refuse changes):
its risk register and signed impact assessment, its named overseers, the monitoring plan and the
alert it raised, the incident opened from that alert, a kill-switch drill, a completed access
review, and an internal audit's finding closed by a verified corrective action. With its
releases and sign-offs, event log and decommission record, its evidence pack holds a record of
every item auditors ask for."""

from datetime import timedelta

from django.utils import timezone

from almportal.accounts.models import User
from almportal.accounts.services import system_user
from almportal.audit import findings
from almportal.audit.models import AuditState, FindingSeverity
from almportal.inventory.models import Agent
from almportal.operations import services as operations
from almportal.operations.choices import IncidentStatus, Severity
from almportal.reviews import services as reviews
from almportal.reviews.models import Decision

from . import flows
from .oversight import audit_with_finding, name_overseers
from .register import REGISTERS, fill_register

# The monitoring plan the owner agreed: failed summaries show within the hour.
MONITORING = {"thresholds": {"error_rate": {"max": 0.05}}, "daily_budget": 30,
              "monthly_budget": 600}

KEEP = {"credential": "Still needed: reads the transcripts of meetings that asked for one.",
        "tool": "Still needed for the summaries.",
        "data_source": "Still needed: the transcripts are what it summarises."}

AUDIT = {
    "title": "Retention of what agents produce", "days": (45, 15),
    "scope": "Whether agents' outputs are kept and deleted as the records schedule says "
             "(ISO/IEC 42001 9.2).",
    "finding": {"severity": FindingSeverity.MINOR, "clause": "GDPR Art. 5(1)(e)",
                "title": "Meeting summaries kept beyond the records schedule",
                "description": "Summaries of confidential meetings were kept in the shared "
                               "store for 14 months; the records schedule allows 12."},
    "action": "Delete summaries older than 12 months and make the store delete them itself.",
    "taken": "Old summaries deleted; the store now deletes summaries after 12 months.",
    "evidence": "https://tickets.example.com/REC-2291",
    "verified": "Checked the store's retention rule and a sample of folders: nothing older "
                "than 12 months.",
}


def live_through(agent: Agent, spec: dict, users: dict[str, User]) -> None:
    """What happened while the agent was live, in order."""
    fill_register(agent, REGISTERS[agent.slug], users)
    name_overseers(agent, users, since=timezone.localdate() - timedelta(days=30))
    incident_from_alert(agent, spec["releases"][-1]["errors_spike_hours_ago"], users)
    drill(agent, users)
    access_review(agent, users)
    audit = audit_with_finding(AUDIT, agent, users)
    findings.internal_audit_move(actor=users["compliance"], audit=audit,
                                 state=AuditState.CLOSED,
                                 reason="Report issued; its corrective action is verified.")


def incident_from_alert(agent: Agent, hours_ago: int, users: dict[str, User]) -> None:
    """The owner sets the monitoring plan; the error spike opens an alert, the owner opens an
    incident from it, and the scan clears the alert once errors are back to normal."""
    owner = flows.owner_of(agent)
    operations.monitoring_settings_update(
        actor=owner, agent=agent, data=MONITORING,
        reason="Demo data: monitoring plan agreed with the sponsor")
    alerts = flows.scan(agent, hours_before_last=hours_ago)
    if not alerts:
        raise RuntimeError(f"The error spike of {agent} opened no alert.")
    incident = operations.incident_open(
        actor=owner, agent=agent, severity=Severity.MEDIUM, alert=alerts[0],
        title="Summaries failed after the meeting platform update",
        description="One meeting in twelve got no summary for three hours.")
    operations.incident_add_note(actor=owner, incident=incident,
                                 text="The platform now sends transcripts in a new format; the "
                                      "parser is fixed and the missed meetings summarised.")
    flows.scan(agent)  # errors back to normal: the alert clears
    operations.incident_update_review(
        actor=owner, incident=incident,
        review="Cause: an unannounced change of the transcript format. The platform's change "
               "notices now go to the agent's team. No summary was wrong; some were late.")
    operations.incident_set_status(actor=owner, incident=incident,
                                   status=IncidentStatus.MITIGATED,
                                   reason="Parser fixed; error rate back under 1%.")
    operations.incident_set_status(actor=users["compliance"], incident=incident,
                                   status=IncidentStatus.RESOLVED,
                                   reason="Review read; no personal data was exposed.")


def drill(agent: Agent, users: dict[str, User]) -> None:
    """The overseer who may halt the agent tests the kill switch; the owner resumes it."""
    operations.agent_suspend(actor=users["security"], agent=agent, drill=True,
                             reason="Quarterly kill-switch drill.")
    operations.agent_resume(actor=flows.owner_of(agent), agent=agent,
                            reason="Drill over: the gateway stopped serving within a minute.")


def access_review(agent: Agent, users: dict[str, User]) -> None:
    """Three weeks ago the quarterly access review fell due; the scan opened it and the owner
    kept every grant two days later. (Any later date would also make the live agent's review,
    due today, fall within the scan's lead time.)"""
    held = timezone.now() - timedelta(days=21)
    flows.review_due(agent, users, on=timezone.localdate(held),
                     reason="Demo data: quarterly access review due")
    opened = reviews.access_reviews_open_due(actor=system_user(), now=held)
    if [review.agent_id for review in opened] != [agent.pk]:
        raise RuntimeError(f"The access-review scan opened {opened}, not {agent}'s review.")
    review = opened[0]
    entries = [{"item": item.pk, "decision": Decision.KEEP, "comment": KEEP[item.kind]}
               for item in review.items.all()]
    reviews.access_review_certify(actor=flows.owner_of(agent), review=review, entries=entries,
                                  now=held + timedelta(days=2))
