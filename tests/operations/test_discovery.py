"""Agents nobody registered: found from their telemetry (one finding per name, every point
kept), claimed into an intake draft with the models and tools seen, or dismissed."""

import pytest
from google.protobuf import json_format

from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory.choices import Stage
from almportal.operations import services
from almportal.operations.models import DiscoveredSample, DiscoveryFinding, TelemetryName

from ..conftest import client_for
from .helpers import ingest_client
from .otlp_helpers import request_from_sdk

SHADOW = {"service.name": "shadow-bot", "gen_ai.agent.version": "0.3"}


def send(client, attributes=SHADOW):
    body = json_format.MessageToJson(request_from_sdk(attributes))
    response = client.post("/v1/metrics", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def finding(owner):
    client = ingest_client(owner)
    send(client)
    assert "partialSuccess" not in send(client)
    return DiscoveryFinding.objects.get()


def test_it_opens_one_finding_per_unknown_name_and_keeps_every_point(finding):
    assert finding.name == "shadow-bot" and finding.status == "open"
    assert finding.points == 2 * 7  # two exports of seven data points
    assert finding.models_seen == ["example-large-2026-06"]
    assert finding.tools_seen == ["crm_lookup"]
    kept = DiscoveredSample.objects.filter(finding=finding)
    assert sum(kept.filter(metric="requests").values_list("value", flat=True)) == 20
    assert set(kept.values_list("release_hint", flat=True)) == {"0.3"}
    assert finding.history.count() == 1
    assert finding.first_seen_at <= finding.last_seen_at


def test_it_claims_a_finding_into_an_intake_draft_with_what_was_seen(finding, owner,
                                                                     compliance, client):
    claimed = services.finding_claim(actor=compliance, finding=finding, owner=owner,
                                     reason="Customer-support pilot run by the sales team")
    agent = claimed.agent
    assert claimed.status == "claimed" and agent.stage == Stage.DRAFT
    assert agent.business_owner == owner and "discovered" in agent.tags
    assert list(agent.models.values_list("model_name", flat=True)) == ["example-large-2026-06"]
    assert list(agent.tools.values_list("name", flat=True)) == ["crm_lookup"]
    assert TelemetryName.objects.get(name="shadow-bot").agent == agent
    last = claimed.history.first()
    assert last.history_user == compliance and last.status == "claimed"
    assert "Customer-support pilot" in last.history_change_reason

    page = client_for(client, owner).get(f"/operations/agents/{agent.slug}/")
    assert page.status_code == 200
    assert "Sent before registration" in page.content.decode()
    shown = list(page.context["before_registration"])
    assert len(shown) == DiscoveredSample.objects.count() == 2 * 9
    assert {s.finding_id for s in shown} == {finding.pk}


def test_it_dismisses_with_a_reason_and_decides_once(finding, owner, compliance):
    with pytest.raises(NotPermitted):
        services.finding_dismiss(actor=owner, finding=finding, reason="Mine")
    with pytest.raises(NotPermitted):
        services.finding_claim(actor=owner, finding=finding, owner=owner, reason="Mine")
    with pytest.raises(DomainError):
        services.finding_dismiss(actor=compliance, finding=finding, reason=" ")
    dismissed = services.finding_dismiss(actor=compliance, finding=finding,
                                         reason="A load-test harness, not an agent")
    assert dismissed.status == "dismissed" and dismissed.decided_by == compliance
    with pytest.raises(Conflict):
        services.finding_claim(actor=compliance, finding=finding, owner=owner, reason="x")
    send(ingest_client(owner))  # still kept, still dismissed, still one finding
    finding.refresh_from_db()
    assert finding.status == "dismissed" and finding.points == 3 * 7
    assert DiscoveryFinding.objects.count() == 1


def test_it_refuses_an_owner_who_may_not_file_intakes(finding, compliance, auditor):
    with pytest.raises(DomainError):
        services.finding_claim(actor=compliance, finding=finding, owner=auditor, reason="x")
    finding.refresh_from_db()
    assert finding.status == "open" and finding.agent is None


def test_it_offers_the_queue_in_the_api_to_compliance_only(finding, owner, compliance):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(owner)
    assert api.get("/api/v1/discovery-findings/").json()["results"] == []
    assert api.get(f"/api/v1/discovery-findings/{finding.pk}/").status_code == 404
    assert api.post(f"/api/v1/discovery-findings/{finding.pk}/dismiss/",
                    {"reason": "x"}, format="json").status_code == 404
    api.force_authenticate(compliance)
    listed = api.get("/api/v1/discovery-findings/").json()["results"]
    assert [f["name"] for f in listed] == ["shadow-bot"]
    assert api.post(f"/api/v1/discovery-findings/{finding.pk}/claim/",
                    {"owner": owner.username}, format="json").status_code == 400
    claimed = api.post(f"/api/v1/discovery-findings/{finding.pk}/claim/",
                       {"owner": owner.username, "reason": "Sales pilot"}, format="json")
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert claimed.json()["agent"] == DiscoveryFinding.objects.get().agent.slug


def test_it_shows_the_queue_pages_to_compliance_only(finding, owner, compliance, client):
    client_for(client, owner)
    assert client.get("/operations/discovery/").status_code == 403
    assert client.get(f"/operations/discovery/{finding.pk}/").status_code == 404
    assert client.post(f"/operations/discovery/{finding.pk}/dismiss/",
                       {"reason": "x"}).status_code == 404
    client_for(client, compliance)
    queue = client.get("/operations/discovery/")
    assert queue.status_code == 200 and "shadow-bot" in queue.content.decode()
    detail = client.get(f"/operations/discovery/{finding.pk}/")
    assert "crm_lookup" in detail.content.decode()
    response = client.post(f"/operations/discovery/{finding.pk}/dismiss/",
                           {"reason": "Test traffic"})
    assert response.status_code == 302
    assert DiscoveryFinding.objects.get().status == "dismissed"


def test_runtime_polls_for_an_unknown_agent_open_one_finding(team, owner, other_owner):
    from .helpers import runtime_client

    client = runtime_client(owner)
    for _ in range(3):
        assert client.get("/api/v1/runtime/agents/night-shift-bot/?environment=staging"
                          ).status_code == 404
    finding = DiscoveryFinding.objects.get()
    assert finding.name == "night-shift-bot" and finding.status == "open"
    assert finding.points == 0 and finding.attributes["alm.seen_in"] == "runtime polls"
    assert finding.history.count() == 1

    agent, _ = team.live()  # known, though this token may not see it: not a discovery
    assert runtime_client(other_owner).get(f"/api/v1/runtime/agents/{agent.slug}/"
                                           ).status_code == 404
    assert DiscoveryFinding.objects.count() == 1
