from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.operations import services
from almportal.operations.models import Alert, Incident
from almportal.reviews import reminders

from .helpers import ingest_client
from .test_thresholds import traffic


def open_incident(actor, agent, **kwargs):
    return services.incident_open(actor=actor, agent=agent, title="Wrong refunds",
                                  severity="high", **kwargs)


def test_it_opens_an_incident_from_an_alert(team, owner, compliance, post_judged):
    agent, release = team.live()
    post_judged(ingest_client(owner), "b", traffic(agent, release, errors=40))
    alert = Alert.objects.get()
    incident = open_incident(compliance, agent, alert=alert)
    alert.refresh_from_db()
    assert alert.incident == incident and incident.affected_release == release
    assert [e.kind for e in incident.events.all()] == ["opened", "alert"]
    with pytest.raises(Conflict):
        open_incident(compliance, agent, alert=alert)


def test_it_walks_open_mitigated_resolved_with_a_timeline(team, owner, compliance):
    agent, _ = team.live()
    incident = open_incident(owner, agent)
    services.incident_set_status(actor=owner, incident=incident, status="mitigated",
                                 reason="Suspended the tool")
    with pytest.raises(NotPermitted):
        services.incident_set_status(actor=owner, incident=incident, status="resolved",
                                     reason="Done")
    with pytest.raises(DomainError):
        services.incident_set_status(actor=compliance, incident=incident, status="resolved",
                                     reason="Done")
    fix = team.approved_release(agent)
    services.incident_update_review(actor=owner, incident=incident, review="Root cause: prompt",
                                    corrective_release=fix)
    services.incident_set_status(actor=compliance, incident=incident, status="resolved",
                                 reason="Fix deployed")
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.corrective_release == fix
    assert [e.kind for e in incident.events.all()] == [
        "opened", "status", "review", "corrective", "status"]
    assert incident.history.count() >= 4


def test_it_refuses_a_move_the_table_does_not_allow(team, owner, compliance):
    agent, _ = team.live()
    incident = open_incident(compliance, agent)
    services.incident_update_review(actor=owner, incident=incident, review="x")
    services.incident_set_status(actor=compliance, incident=incident, status="resolved",
                                 reason="Done")
    with pytest.raises(Conflict):
        services.incident_set_status(actor=owner, incident=incident, status="mitigated",
                                     reason="x")


@pytest.mark.parametrize("who", ["other_owner", "auditor", "security"])
def test_it_refuses_others_an_incident(team, who, request):
    agent, _ = team.live()
    with pytest.raises(NotPermitted):
        open_incident(request.getfixturevalue(who), agent)


@pytest.mark.parametrize("kind,days", [("other", 15), ("death", 10), ("widespread", 2),
                                       ("critical_infrastructure", 2)])
def test_it_computes_the_article_73_deadline(team, compliance, kind, days):
    agent, _ = team.live()
    aware = timezone.now() - timedelta(hours=1)
    incident = services.incident_mark_serious(actor=compliance,
                                              incident=open_incident(compliance, agent),
                                              kind=kind, aware_at=aware, reason="Harm")
    assert incident.report_deadline == aware + timedelta(days=days)


def test_it_reminds_of_a_serious_incident_before_it_falls_due(team, owner, compliance):
    agent, _ = team.live()
    incident = services.incident_mark_serious(
        actor=compliance, incident=open_incident(owner, agent), kind="widespread",
        reason="Many customers affected")
    first = reminders.reminders_send(only=["incident-deadline"])
    again = reminders.reminders_send(only=["incident-deadline"])
    assert first.sent["incident-deadline"] >= 2  # compliance and the incident's owner
    assert again.sent["incident-deadline"] == 0
    services.incident_mark_reported(actor=compliance, incident=incident,
                                    reason="Reported to the market surveillance authority")
    later = reminders.reminders_send(now=timezone.now() + timedelta(days=3),
                                     only=["incident-deadline"])
    assert later.sent["incident-deadline"] == 0
    assert not Incident.objects.filter(serious=True, reported_at__isnull=True).exists()


def test_it_lets_only_compliance_mark_serious(team, owner):
    agent, _ = team.live()
    with pytest.raises(NotPermitted):
        services.incident_mark_serious(actor=owner, incident=open_incident(owner, agent),
                                       kind="death", reason="x")
