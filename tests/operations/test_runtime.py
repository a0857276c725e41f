import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope
from almportal.operations.models import RuntimePoll

from .helpers import runtime_client, token_client


def url(agent):
    return f"/api/v1/runtime/agents/{agent.slug}/"


def test_it_tells_a_gateway_that_the_agent_may_run(team, owner):
    agent, release = team.live()
    response = runtime_client(owner).get(url(agent))
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "active" and body["may_run"] is True
    assert body["routes"] == [{"release": release.number, "version": release.display_version,
                               "manifest_hash": release.manifest_hash, "weight": 100,
                               "audience": None, "canary": False}]


def test_it_answers_304_when_nothing_changed(team, owner):
    agent, _ = team.live()
    client = runtime_client(owner)
    first = client.get(url(agent))
    again = client.get(url(agent), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and not again.content
    assert again["ETag"] == first["ETag"]


def test_it_is_cheap_to_poll(team, owner):
    agent, _ = team.live()
    client = runtime_client(owner)
    client.get(url(agent))
    with CaptureQueriesContext(connection) as queries:
        client.get(url(agent))
    assert len(queries) <= 10


def test_it_records_the_last_poll_per_token(team, owner):
    agent, _ = team.live()
    runtime_client(owner).get(url(agent))
    runtime_client(owner).get(url(agent))
    polls = RuntimePoll.objects.filter(agent=agent)
    assert polls.count() == 2 and {p.last_state for p in polls} == {"active"}


@pytest.mark.parametrize("scope", [TokenScope.READ, TokenScope.WRITE, TokenScope.INGEST])
def test_it_refuses_tokens_without_the_runtime_scope(team, owner, scope):
    agent, _ = team.live()
    assert token_client(owner, scope).get(url(agent)).status_code == 403


def test_it_lets_a_runtime_token_read_nothing_else(team, owner):
    agent, _ = team.live()
    client = runtime_client(owner)
    assert client.get("/api/v1/agents/").status_code == 403
    assert client.get("/api/v1/releases/").status_code == 403


def test_it_refuses_sessions(team, owner):
    agent, _ = team.live()
    client = APIClient()
    client.force_login(owner)
    assert client.get(url(agent)).status_code in (401, 403)


def test_it_hides_agents_the_token_user_cannot_see(team, other_owner):
    agent, _ = team.live()
    assert runtime_client(other_owner).get(url(agent)).status_code == 404


def test_it_serves_another_environment_on_request(team, owner):
    agent, _ = team.live()
    body = runtime_client(owner).get(url(agent) + "?environment=staging").json()
    assert body["state"] == "not_deployed" and body["routes"] == []
    assert runtime_client(owner).get(url(agent) + "?environment=nowhere").status_code == 404
