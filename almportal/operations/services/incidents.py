"""Incidents: opened by compliance or the agent's owner (also from an alert), worked through
open → mitigated → resolved with a timeline, a post-incident review and a corrective release
(which goes back through the release gates like any other). A serious incident under the EU AI
Act (Article 73) gets its reporting deadline from the kind of harm."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ...accounts.models import User
from ...accounts.notifications import notify
from ...core.errors import Conflict, DomainError, require_that
from ...core.lifecycle import Transitions, lock, record
from ...inventory.models import Agent
from ...releases.models import Release
from ..choices import (
    INCIDENT_TRANSITIONS,
    REPORTING_DAYS,
    EventKind,
    IncidentStatus,
    SeriousKind,
    Severity,
)
from ..models import Alert, Incident, IncidentEvent
from ..rules import may_manage_incidents, may_open_incident, may_work_incident

incident_states = Transitions(IncidentStatus, INCIDENT_TRANSITIONS)


def report_deadline(kind: str, aware_at: datetime) -> datetime:
    return aware_at + timedelta(days=REPORTING_DAYS[SeriousKind(kind)])


def _text(value: str, field: str, message: str, limit: int = 10_000) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field=field)
    return value[:limit]


def _event(incident: Incident, *, actor: User, kind: str, text: str) -> IncidentEvent:
    event = IncidentEvent(incident=incident, kind=kind, text=text, actor=actor)
    record(event, actor=actor, reason=f"Incident timeline: {event.get_kind_display().lower()}")
    return event


def _release_of(agent: Agent, release: Release | None, field: str) -> Release | None:
    if release is not None and release.agent_id != agent.pk:
        raise DomainError("The release does not belong to this agent.", field=field)
    return release


@transaction.atomic
def incident_open(*, actor: User, agent: Agent, title: str, severity: str,
                  description: str = "", affected_release: Release | None = None,
                  owner: User | None = None, alert: Alert | None = None) -> Incident:
    require_that(may_open_incident(actor, agent),
                 "Only compliance, the agent's owner, a delegate or an admin open incidents.")
    title = _text(title, "title", "Give the incident a title.", 200)
    if severity not in Severity.values:
        raise DomainError("Choose a severity.", field="severity")
    if alert is not None:
        alert = lock(Alert, alert.pk)
        if alert.agent_id != agent.pk:
            raise DomainError("The alert is about another agent.", field="alert")
        if alert.incident_id is not None:
            raise Conflict("This alert already has an incident.")
        affected_release = affected_release or alert.release
    incident = Incident(agent=agent, title=title, description=(description or "").strip()[:10_000],
                        severity=severity, owner=owner or agent.business_owner or actor,
                        affected_release=_release_of(agent, affected_release, "affected_release"),
                        opened_by=actor)
    record(incident, actor=actor, reason=f"Incident opened: {title}")
    _event(incident, actor=actor, kind=EventKind.OPENED, text=incident.description or title)
    if alert is not None:
        alert.incident = incident
        record(alert, actor=actor, reason=f"Incident INC-{incident.pk} opened from the alert")
        _event(incident, actor=actor, kind=EventKind.ALERT,
               text=f"From alert #{alert.pk}: {alert.get_metric_display()} {alert.value:g} was "
                    f"not {alert.bound_text}.")
    notify(users=[u for u in {incident.owner, agent.business_owner} if u and u != actor],
           kind="incident-opened", subject=f"Incident on {agent}: {title}",
           body=incident.get_severity_display(), url=incident.get_absolute_url())
    return incident


@transaction.atomic
def incident_set_status(*, actor: User, incident: Incident, status: str, reason: str
                        ) -> Incident:
    """Mitigate (the owner's team or compliance); resolve or reopen (compliance). Resolving
    needs the post-incident review."""
    incident = lock(Incident, incident.pk)
    if status == IncidentStatus.MITIGATED:
        require_that(may_work_incident(actor, incident.agent),
                     "Only compliance, the agent's owner or a delegate mitigate incidents.")
    else:
        require_that(may_manage_incidents(actor), "Only compliance resolves or reopens incidents.")
    reason = _text(reason, "reason", "Say why.", 1000)
    if status not in IncidentStatus.values:
        raise DomainError("Choose a status.", field="status")
    incident_states.check(incident.status, status)
    if status == IncidentStatus.RESOLVED and not incident.post_incident_review.strip():
        raise DomainError("Write the post-incident review before resolving.",
                          field="post_incident_review")
    previous = incident.get_status_display()
    incident.status = status
    incident.resolved_at = timezone.now() if status == IncidentStatus.RESOLVED else None
    record(incident, actor=actor, reason=reason)
    _event(incident, actor=actor, kind=EventKind.STATUS,
           text=f"{previous} → {incident.get_status_display()}: {reason}")
    return incident


@transaction.atomic
def incident_add_note(*, actor: User, incident: Incident, text: str) -> IncidentEvent:
    incident = lock(Incident, incident.pk)
    require_that(may_work_incident(actor, incident.agent),
                 "Only compliance, the agent's owner or a delegate add to the timeline.")
    return _event(incident, actor=actor, kind=EventKind.NOTE,
                  text=_text(text, "text", "Write the note."))


@transaction.atomic
def incident_update_review(*, actor: User, incident: Incident, review: str,
                           corrective_release: Release | None = None) -> Incident:
    """The post-incident review, and the release that corrects the cause (which reaches
    production only through the release gate)."""
    incident = lock(Incident, incident.pk)
    require_that(may_work_incident(actor, incident.agent),
                 "Only compliance, the agent's owner or a delegate write the review.")
    review = (review or "").strip()[:20_000]
    corrective = _release_of(incident.agent, corrective_release, "corrective_release")
    if review != incident.post_incident_review:
        incident.post_incident_review = review
        record(incident, actor=actor, reason="Post-incident review updated")
        _event(incident, actor=actor, kind=EventKind.REVIEW, text=review or "(review cleared)")
    if corrective is not None and corrective.pk != incident.corrective_release_id:
        incident.corrective_release = corrective
        record(incident, actor=actor,
               reason=f"Corrective release {corrective.display_version} linked")
        _event(incident, actor=actor, kind=EventKind.CORRECTIVE,
               text=f"Corrective release {corrective.display_version} "
                    f"({corrective.get_state_display().lower()}).")
    return incident


@transaction.atomic
def incident_mark_serious(*, actor: User, incident: Incident, kind: str,
                          aware_at: datetime | None = None, reason: str) -> Incident:
    """Mark a serious incident (Article 73) and compute its reporting deadline: 15 days from
    awareness, 10 for a death, 2 for a widespread infringement or critical infrastructure."""
    incident = lock(Incident, incident.pk)
    require_that(may_manage_incidents(actor), "Only compliance marks serious incidents.")
    reason = _text(reason, "reason", "Say why the incident is serious.", 1000)
    if kind not in SeriousKind.values:
        raise DomainError("Choose the kind of serious incident.", field="serious_kind")
    aware_at = aware_at or incident.aware_at or timezone.now()
    if aware_at > timezone.now() + timedelta(minutes=5):
        raise DomainError("Awareness cannot be in the future.", field="aware_at")
    incident.serious, incident.serious_kind, incident.aware_at = True, kind, aware_at
    incident.report_deadline = report_deadline(kind, aware_at)
    record(incident, actor=actor, reason=reason)
    _event(incident, actor=actor, kind=EventKind.SERIOUS,
           text=f"{SeriousKind(kind).label}: report due by "
                f"{timezone.localtime(incident.report_deadline):%Y-%m-%d %H:%M}. {reason}")
    return incident


@transaction.atomic
def incident_mark_reported(*, actor: User, incident: Incident, reason: str) -> Incident:
    incident = lock(Incident, incident.pk)
    require_that(may_manage_incidents(actor), "Only compliance records the report.")
    if not incident.serious:
        raise Conflict("Only a serious incident is reported to the authority.")
    if incident.reported_at is not None:
        raise Conflict("The report is already recorded.")
    reason = _text(reason, "reason", "Say how and to whom it was reported.", 1000)
    incident.reported_at = timezone.now()
    record(incident, actor=actor, reason=reason)
    _event(incident, actor=actor, kind=EventKind.REPORTED, text=reason)
    return incident
