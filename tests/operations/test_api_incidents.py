"""Working an incident over the API as on its page: marking it serious and reported, the
post-incident review, opening one from an alert, and its timeline."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from almportal.inventory.choices import Stage
from almportal.operations import services
from almportal.operations.models import Alert, Incident, IncidentEvent

from ..conftest import client_for
from ..factories import make_agent, make_release
from .helpers import env
from .test_api import api

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(owner):
    """An agent in development: its releases can be corrections."""
    return make_agent(owner, Stage.IN_DEVELOPMENT)


def open_incident(actor, agent, **kwargs) -> Incident:
    return services.incident_open(actor=actor, agent=agent, title="Wrong refunds",
                                  severity="high", **kwargs)


def post(user, incident: Incident, action: str, body: dict):
    return api(user).post(f"/api/v1/incidents/{incident.pk}/{action}/", body, format="json")


def make_alert(agent, release=None, metric="error_rate") -> Alert:
    return Alert.objects.create(agent=agent, release=release, environment=env("production"),
                                metric=metric, subject_key="agent", threshold={"max": 0.05},
                                value=0.4, last_value=0.4, opened_at=timezone.now())


def changed_by(incident: Incident, user, reason: str) -> bool:
    return incident.history.filter(history_user=user, history_change_reason=reason).exists()


# --- Serious and reported ------------------------------------------------------------------

def test_it_marks_an_incident_serious_with_its_deadline(agent, owner, compliance):
    incident = open_incident(owner, agent)
    aware = timezone.now() - timedelta(hours=2)
    answer = post(compliance, incident, "serious", {
        "serious_kind": "widespread", "aware_at": aware.isoformat(), "reason": "Many users"})
    assert answer.status_code == 200, answer.json()
    incident.refresh_from_db()
    assert incident.serious and incident.serious_kind == "widespread"
    assert incident.report_deadline == aware + timedelta(days=2)
    assert answer.json()["serious"] and answer.json()["report_deadline"]
    assert changed_by(incident, compliance, "Many users")
    assert incident.events.filter(kind="serious", actor=compliance).exists()


def test_it_lets_only_compliance_mark_serious_or_reported(agent, owner, auditor, other_owner):
    incident = open_incident(owner, agent)
    body = {"serious_kind": "death", "reason": "x"}
    assert post(owner, incident, "serious", body).status_code == 403
    assert post(auditor, incident, "serious", body).status_code == 403
    assert post(other_owner, incident, "serious", body).status_code == 404
    assert post(owner, incident, "reported", {"reason": "x"}).status_code == 403
    assert post(other_owner, incident, "reported", {"reason": "x"}).status_code == 404
    incident.refresh_from_db()
    assert not incident.serious and incident.events.count() == 1


@pytest.mark.parametrize("body,field", [
    ({"serious_kind": "catastrophe", "reason": "x"}, "serious_kind"),
    ({"serious_kind": "death"}, "reason"),
    ({"serious_kind": "death", "reason": "x", "aware_at": "yesterday"}, "aware_at"),
    ({"serious_kind": "death", "reason": "x", "aware_at": "2999-01-01T00:00:00Z"}, "aware_at"),
    ({"serious_kind": "death", "reason": "x", "deadline": "never"}, "deadline"),
])
def test_it_refuses_bad_input_to_mark_serious(agent, owner, compliance, body, field):
    incident = open_incident(owner, agent)
    answer = post(compliance, incident, "serious", body)
    assert answer.status_code == 400 and field in answer.json()["errors"]
    incident.refresh_from_db()
    assert not incident.serious


def test_it_records_the_report_of_a_serious_incident_once(agent, owner, compliance):
    incident = open_incident(owner, agent)
    assert post(compliance, incident, "reported", {"reason": "x"}).status_code == 409
    services.incident_mark_serious(actor=compliance, incident=incident, kind="other",
                                   reason="Harm")
    assert post(compliance, incident, "reported", {"reason": ""}).json()["errors"]["reason"]
    answer = post(compliance, incident, "reported", {"reason": "Filed with the authority"})
    assert answer.status_code == 200 and answer.json()["reported_at"]
    incident.refresh_from_db()
    assert incident.reported_at is not None
    assert changed_by(incident, compliance, "Filed with the authority")
    assert post(compliance, incident, "reported", {"reason": "Again"}).status_code == 409


# --- Review ---------------------------------------------------------------------------------

def test_it_saves_the_review_and_links_the_corrective_release(agent, owner):
    incident = open_incident(owner, agent)
    fix = make_release(agent)
    answer = post(owner, incident, "review", {"post_incident_review": "Root cause: prompt",
                                              "corrective_release": fix.pk})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["post_incident_review"] == "Root cause: prompt"
    assert answer.json()["corrective_release"] == fix.pk
    incident.refresh_from_db()
    assert incident.corrective_release == fix
    assert changed_by(incident, owner, "Post-incident review updated")
    assert [e.kind for e in incident.events.all()] == ["opened", "review", "corrective"]


def test_it_refuses_the_review_to_others(agent, owner, auditor, other_owner):
    incident = open_incident(owner, agent)
    body = {"post_incident_review": "Mine"}
    assert post(auditor, incident, "review", body).status_code == 403
    assert post(other_owner, incident, "review", body).status_code == 404
    incident.refresh_from_db()
    assert incident.post_incident_review == ""


def test_it_refuses_another_agents_release_as_the_correction(agent, owner):
    incident = open_incident(owner, agent)
    elsewhere = make_release(make_agent(owner, Stage.IN_DEVELOPMENT))
    for release, code in ((elsewhere.pk, 400), (10**12, 404), ("v2", 400)):
        answer = post(owner, incident, "review", {"post_incident_review": "x",
                                                  "corrective_release": release})
        assert answer.status_code == code, release
        if code == 400:
            assert "corrective_release" in answer.json()["errors"]
    assert post(owner, incident, "review", {}).json()["errors"]["post_incident_review"]
    incident.refresh_from_db()
    assert incident.post_incident_review == "" and incident.corrective_release is None


# --- From an alert --------------------------------------------------------------------------

def test_it_opens_an_incident_from_an_alert(agent, owner):
    release = make_release(agent)
    alert = make_alert(agent, release)
    answer = api(owner).post(f"/api/v1/alerts/{alert.pk}/incident/",
                             {"title": "Errors up", "severity": "high"}, format="json")
    assert answer.status_code == 201, answer.json()
    incident = Incident.objects.get(pk=answer.json()["id"])
    alert.refresh_from_db()
    assert alert.incident == incident and incident.affected_release == release
    assert [e.kind for e in incident.events.all()] == ["opened", "alert"]
    assert alert.history.filter(history_user=owner).exists()
    again = api(owner).post(f"/api/v1/alerts/{alert.pk}/incident/",
                            {"title": "Errors up", "severity": "high"}, format="json")
    assert again.status_code == 409 and Incident.objects.count() == 1


def test_it_opens_an_incident_from_an_alert_only_for_those_who_may(agent, owner, auditor,
                                                                   other_owner):
    alert = make_alert(agent)
    body = {"title": "Errors up", "severity": "high"}
    url = f"/api/v1/alerts/{alert.pk}/incident/"
    assert api(other_owner).post(url, body, format="json").status_code == 404
    assert api(auditor).post(url, body, format="json").status_code == 403
    bad = api(owner).post(url, {"title": "", "severity": "meh", "agent": "x"}, format="json")
    assert bad.status_code == 400
    assert {"title", "severity", "agent"} <= set(bad.json()["errors"])
    assert not Incident.objects.exists()
    alert.refresh_from_db()
    assert alert.incident is None


# --- Timeline -------------------------------------------------------------------------------

def test_the_detail_shows_the_timeline_and_alerts_the_page_shows(agent, owner, client):
    alert = make_alert(agent)
    incident = open_incident(owner, agent, alert=alert)
    services.incident_add_note(actor=owner, incident=incident, text="Rolled back")
    answer = api(owner).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert answer["alerts"] == [alert.pk]
    assert [(e["kind"], e["actor"]) for e in answer["events"]] == [
        ("opened", owner.username), ("alert", owner.username), ("note", owner.username)]
    page = client_for(client, owner).get(reverse("operations:incident-detail",
                                                 args=[incident.pk]))
    for event in answer["events"]:
        assert event["text"] in page.content.decode()


def test_the_list_leaves_the_timeline_to_the_detail(agent, owner):
    open_incident(owner, agent)
    listed = api(owner).get("/api/v1/incidents/").json()["results"]
    assert listed and "events" not in listed[0]


def test_incidents_do_not_grow_in_queries_with_rows_or_events(agent, owner):
    client = api(owner)
    first = open_incident(owner, agent, alert=make_alert(agent))

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries("/api/v1/incidents/"), queries(f"/api/v1/incidents/{first.pk}/")
    for metric in ("latency_p95_ms", "escalation_rate", "satisfaction"):
        incident = open_incident(owner, agent, alert=make_alert(agent, metric=metric))
        services.incident_add_note(actor=owner, incident=incident, text=metric)
        services.incident_add_note(actor=owner, incident=first, text=metric)
    assert IncidentEvent.objects.filter(incident=first).count() == 5
    assert (queries("/api/v1/incidents/"), queries(f"/api/v1/incidents/{first.pk}/")) == few
