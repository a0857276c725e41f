"""The gateway polls over the API: the kill-switch page's proof that a suspension reached the
gateways, to the same readers, in the same rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.accounts.models import TokenScope
from almportal.operations import selectors, services
from almportal.operations.models import RuntimePoll

from .helpers import runtime_client, token_client
from .test_api import api

pytestmark = pytest.mark.django_db


def url(agent) -> str:
    return f"/api/v1/agents/{agent.slug}/runtime-polls/"


def poll(client, agent):
    return client.get(f"/api/v1/runtime/agents/{agent.slug}/")


def test_it_shows_the_state_and_etag_each_gateway_was_served(team, owner, security):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    before = poll(gateway, agent)
    services.agent_suspend(actor=security, agent=agent, reason="Leaking notes", drill=True)
    after = poll(gateway, agent)
    answer = token_client(security, TokenScope.READ).get(url(agent))
    assert answer.status_code == 200, answer.json()
    shown = answer.json()
    token = owner.api_tokens.get(scopes=[TokenScope.RUNTIME])
    assert shown["agent"] == agent.slug
    [row] = shown["polls"]
    assert row["token"] == token.name and row["token_prefix"] == token.key_prefix
    assert row["environment"] == "production"
    assert row["last_state"] == "suspended" and row["last_etag"] == after["ETag"]
    assert row["last_etag"] != before["ETag"]
    assert row["first_polled_at"] <= row["last_polled_at"]


def test_it_lists_one_row_per_token_the_latest_first(team, owner):
    agent, _ = team.live()
    poll(runtime_client(owner), agent)
    poll(runtime_client(owner), agent)
    shown = api(owner).get(url(agent)).json()["polls"]
    assert [p["last_polled_at"] for p in shown] == sorted(
        (p["last_polled_at"] for p in shown), reverse=True)
    assert len(shown) == RuntimePoll.objects.filter(agent=agent).count() == 2


def test_it_answers_an_empty_list_before_any_poll(team, auditor):
    agent = team.agent()
    assert api(auditor).get(url(agent)).json() == {"agent": agent.slug, "polls": []}


def test_it_hides_the_agent_from_who_may_not_see_it(team, other_owner):
    agent, _ = team.live()
    poll(runtime_client(team.owner), agent)
    answer = api(other_owner).get(url(agent))
    assert answer.status_code == 404


def test_it_answers_404_for_an_unknown_agent(owner):
    assert api(owner).get("/api/v1/agents/no-such-agent/runtime-polls/").status_code == 404


def test_it_refuses_a_runtime_token(team, owner):
    agent, _ = team.live()
    assert runtime_client(owner).get(url(agent)).status_code == 403


@pytest.mark.parametrize("persona", ["owner", "compliance", "security", "auditor", "admin_user"])
def test_it_answers_whoever_the_page_answers(team, client, request, persona):
    agent, _ = team.live()
    user = request.getfixturevalue(persona)
    client.force_login(user)
    page = client.get(reverse("operations:kill-switch", args=[agent.slug]))
    assert page.status_code == api(user).get(url(agent)).status_code == 200


def test_it_agrees_with_the_kill_switch_page(team, client, owner):
    agent, _ = team.live()
    for gateway in (owner, team.delegate, owner):
        poll(runtime_client(gateway), agent)
    client.force_login(owner)
    html = client.get(reverse("operations:kill-switch", args=[agent.slug])).content.decode()
    shown = api(owner).get(url(agent)).json()["polls"]
    assert len(shown) == 3
    for row in shown:
        assert f"{row['token']} ({row['token_prefix']}…)" in html


def test_it_shows_as_many_polls_as_the_page(team, owner, monkeypatch):
    agent, _ = team.live()
    for _ in range(3):
        poll(runtime_client(owner), agent)
    monkeypatch.setattr(selectors, "RECENT_POLLS", 2)
    assert len(api(owner).get(url(agent)).json()["polls"]) == 2


def test_it_runs_the_same_queries_for_more_polls(team, owner):
    agent, _ = team.live()
    poll(runtime_client(owner), agent)
    client = api(owner)
    with CaptureQueriesContext(connection) as few:
        client.get(url(agent))
    for _ in range(4):
        poll(runtime_client(owner), agent)
    with CaptureQueriesContext(connection) as many:
        client.get(url(agent))
    assert len(few) == len(many)
