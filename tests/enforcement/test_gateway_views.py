"""The agent page and the API show, per gateway, the revision it enforces and flag a stale or
different one."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.enforcement import rules
from almportal.enforcement.models import GatewayReport
from almportal.operations import services as operations

from ..conftest import client_for
from .helpers import gateway, live_with_tools, report_url


@pytest.fixture
def live(team):
    return live_with_tools(team)


def gateways_url(agent) -> str:
    return f"/api/v1/enforcement/agents/{agent.slug}/gateways/"


def reported(agent, owner, revisions: dict[str, str]) -> None:
    client = gateway(owner)
    for name, revision in revisions.items():
        assert client.post(report_url(agent), {"revision": revision, "gateway": name},
                           format="json").status_code == 200


def test_each_gateway_is_shown_with_its_standing(live, owner, client):
    agent, release = live
    drill = operations.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    operations.agent_resume(actor=owner, agent=agent, reason="Done")
    agent.refresh_from_db()
    reported(agent, owner, {"edge-current": release.manifest_hash,
                            "edge-stale": rules.forbid_all_revision(agent.pk, drill.pk),
                            "edge-odd": "f" * 64})
    body = {g["gateway"]: g for g in client_for(APIClient(), owner).get(
        gateways_url(agent)).json()}
    assert {name: g["standing"] for name, g in body.items()} == {
        "edge-current": "current", "edge-stale": "stale", "edge-odd": "different"}
    assert body["edge-stale"]["current_revision"] == release.manifest_hash
    assert not any(g["silent"] for g in body.values())
    page = client_for(client, owner).get(agent.get_absolute_url()).content.decode()
    assert 'data-gateway="edge-stale" data-standing="stale"' in page
    assert 'data-gateway="edge-odd" data-standing="different"' in page
    assert 'data-gateway="edge-current" data-standing="current"' in page


def test_a_gateway_gone_quiet_is_flagged_silent(live, owner):
    agent, release = live
    reported(agent, owner, {"edge": release.manifest_hash})
    GatewayReport.objects.update(last_reported_at=timezone.now() - timedelta(hours=2))
    [row] = client_for(APIClient(), owner).get(gateways_url(agent)).json()
    assert row["silent"] is True and row["standing"] == "current"


def test_another_owner_sees_nothing(live, owner, other_owner):
    agent, release = live
    reported(agent, owner, {"edge": release.manifest_hash})
    assert client_for(APIClient(), other_owner).get(gateways_url(agent)).status_code == 404


def test_the_queries_do_not_grow_with_gateways(live, owner, client):
    agent, release = live
    reported(agent, owner, {"edge-1": release.manifest_hash})
    api, page = client_for(APIClient(), owner), client_for(client, owner)

    def counted():
        with CaptureQueriesContext(connection) as api_queries:
            assert api.get(gateways_url(agent)).status_code == 200
        with CaptureQueriesContext(connection) as page_queries:
            assert page.get(agent.get_absolute_url()).status_code == 200
        return len(api_queries), len(page_queries)

    one = counted()
    reported(agent, owner, {f"edge-{n}": "f" * 64 for n in range(2, 8)})
    assert counted() == one
