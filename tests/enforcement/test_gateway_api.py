"""The policy endpoint gateways poll, and the revisions they report."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope
from almportal.enforcement import rules
from almportal.enforcement.models import GatewayReport
from almportal.operations import services as operations

from ..factories import make_service_account
from ..operations.helpers import token_client
from ..operations.test_gateway_rights import account_client
from .helpers import gateway, live_with_tools, policy_url, report_url


@pytest.fixture
def live(team):
    return live_with_tools(team)


def test_it_serves_the_policy_with_the_manifest_hash_as_etag_then_304(live, owner):
    agent, release = live
    client = gateway(owner)
    first = client.get(policy_url(agent))
    assert first.status_code == 200
    assert first["ETag"] == f'"{release.manifest_hash}"'
    body = first.json()
    assert body["revision"] == release.manifest_hash and body["mode"] == "releases"
    assert body["releases"] == [{"number": release.number, "version": release.display_version,
                                 "manifest_hash": release.manifest_hash}]
    assert 'Tool::"search"' in body["policies"] and "entity Tool" in body["schema"]
    again = client.get(policy_url(agent), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and not again.content
    assert again["ETag"] == first["ETag"]


def test_a_suspension_is_served_on_the_next_poll(live, owner, security):
    agent, release = live
    client = gateway(owner)
    before = client.get(policy_url(agent))
    suspension = operations.agent_suspend(actor=security, agent=agent, reason="Leak")
    after = client.get(policy_url(agent), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    revision = rules.forbid_all_revision(agent.pk, suspension.pk)
    assert after.json()["revision"] == revision and after.json()["mode"] == "forbid_all"
    assert after["ETag"] == f'"{revision}"'
    operations.agent_resume(actor=owner, agent=agent, reason="Fixed")
    resumed = client.get(policy_url(agent), HTTP_IF_NONE_MATCH=after["ETag"])
    assert resumed.json()["revision"] == release.manifest_hash


def test_it_needs_a_runtime_token(live, owner):
    agent, _ = live
    assert APIClient().get(policy_url(agent)).status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer alm_not-a-token")
    assert bad.get(policy_url(agent)).status_code == 401
    for scope in (TokenScope.READ, TokenScope.WRITE, TokenScope.INGEST):
        assert token_client(owner, scope).get(policy_url(agent)).status_code == 403
        assert token_client(owner, scope).post(report_url(agent), {"revision": "x"},
                                               format="json").status_code == 403
    session = APIClient()
    session.force_login(owner)
    assert session.get(policy_url(agent)).status_code in (401, 403)


def test_it_hides_agents_the_token_may_not_see(live, other_owner, admin_user):
    agent, _ = live
    assert gateway(other_owner).get(policy_url(agent)).status_code == 404
    assert gateway(other_owner).post(report_url(agent), {"revision": "x"},
                                     format="json").status_code == 404
    # A gateway service account sees only the agents it was granted poll_runtime on.
    account = make_service_account(username="gw-bot")
    client = account_client(account, TokenScope.RUNTIME)
    assert client.get(policy_url(agent)).status_code == 404
    make_service_account(agent, rights=("poll_runtime",), username="gw-bot")
    assert client.get(policy_url(agent)).status_code == 200
    assert client.get(policy_url(agent) + "?environment=nowhere").status_code == 404


def test_it_is_cheap_to_poll(live, owner):
    agent, _ = live
    client = gateway(owner)
    client.get(policy_url(agent))
    with CaptureQueriesContext(connection) as queries:
        client.get(policy_url(agent))
    assert len(queries) <= 10


def test_a_report_is_recorded_per_gateway(live, owner):
    agent, release = live
    client = gateway(owner)
    answer = client.post(report_url(agent), {"revision": release.manifest_hash,
                                             "gateway": "edge-1"}, format="json")
    assert answer.status_code == 200
    assert answer.json() == {"revision": release.manifest_hash,
                             "current_revision": release.manifest_hash, "enforces_current": True}
    stale = client.post(report_url(agent), {"revision": "0" * 64, "gateway": "edge-2"},
                        format="json").json()
    assert stale["enforces_current"] is False
    reports = {r.gateway: r for r in GatewayReport.objects.filter(agent=agent)}
    assert set(reports) == {"edge-1", "edge-2"}
    assert reports["edge-1"].revision == release.manifest_hash
    assert reports["edge-1"].environment.slug == "production"


def test_a_report_rewrites_its_row_only_when_needed(live, owner):
    agent, release = live
    client = gateway(owner)
    client.post(report_url(agent), {"revision": release.manifest_hash}, format="json")
    row = GatewayReport.objects.get(agent=agent)
    with CaptureQueriesContext(connection) as queries:
        client.post(report_url(agent), {"revision": release.manifest_hash}, format="json")
    assert not [q for q in queries if q["sql"].upper().startswith("INSERT")]
    row.refresh_from_db()
    first = row.last_reported_at
    assert row.first_reported_at == first  # within the resolution: not rewritten
    GatewayReport.objects.filter(pk=row.pk).update(
        last_reported_at=first - timedelta(minutes=1))
    client.post(report_url(agent), {"revision": release.manifest_hash}, format="json")
    row.refresh_from_db()
    assert row.last_reported_at > first - timedelta(seconds=1)
    assert row.revision_since == first  # same revision: since unchanged
    client.post(report_url(agent), {"revision": "other"}, format="json")
    row.refresh_from_db()
    assert row.revision == "other" and row.revision_since > first
    assert GatewayReport.objects.filter(agent=agent).count() == 1


@pytest.mark.parametrize("body", [{}, {"revision": ""}, {"revision": "x" * 1001},
                                  {"revision": "x", "gateway": "g" * 101},
                                  {"revision": "x", "unknown": 1}])
def test_a_bad_report_gets_field_errors(live, owner, body):
    agent, _ = live
    answer = gateway(owner).post(report_url(agent), body, format="json")
    assert answer.status_code == 400
    assert not GatewayReport.objects.exists()


def test_the_report_time_is_the_portals(live, owner):
    agent, release = live
    before = timezone.now()
    gateway(owner).post(report_url(agent), {"revision": release.manifest_hash}, format="json")
    assert GatewayReport.objects.get(agent=agent).last_reported_at >= before
