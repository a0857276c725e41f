"""An agent's change history over the API: what the agent's page shows (record, components,
releases and grants, field by field, with who and why), to anyone who may see the agent."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope
from almportal.inventory import selectors, services

from ..api.test_token_scopes import client_with
from ..factories import make_agent, make_prompt, make_user

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")  # as behind the TLS proxy
    if user is not None:
        client.force_authenticate(user)
    return client


def history_url(agent) -> str:
    return f"/api/v1/agents/{agent.slug}/history/"


def renamed(agent, owner):
    return services.agent_update(actor=owner, agent=agent, data={"name": "Handbook helper"},
                                 reason="Clearer name")


def test_it_lists_an_edit_with_who_what_and_why(owner):
    agent = renamed(make_agent(owner), owner)
    answer = api(owner).get(history_url(agent))
    assert answer.status_code == 200, answer.json()
    latest = answer.json()[0]
    assert (latest["user"], latest["action"], latest["subject"], latest["reason"]) == (
        "olivia", "changed", "Agent record", "Clearer name")
    assert {"field": "name", "old": "Internal FAQ assistant",
            "new": "Handbook helper"} in latest["changes"]
    assert answer.json()[-1]["action"] == "created" and answer.json()[-1]["changes"] == []


def test_it_covers_components_and_grants(owner):
    agent = make_agent(owner)
    make_prompt(agent, text="A second version of the system prompt.")
    services.agent_add_delegate(actor=owner, agent=agent, user=make_user(), reason="Backup")
    subjects = [entry["subject"] for entry in api(owner).get(history_url(agent)).json()]
    assert any(s.startswith("Access: ") for s in subjects)
    assert any(s.startswith("Prompt ") for s in subjects)


def test_it_answers_what_the_agent_page_shows(client, owner):
    agent = renamed(make_agent(owner), owner)
    client.force_login(owner)
    shown = client.get(agent.get_absolute_url()).context["history"]
    body = api(owner).get(history_url(agent)).json()
    assert [(e["subject"], e["action"], e["reason"], e["user"]) for e in body] == [
        (e.subject, e.action, e.reason, e.user.username if e.user else None) for e in shown]
    assert [e["changes"] for e in body] == [
        [{"field": c.field, "old": c.old, "new": c.new} for c in e.changes] for e in shown]


def test_a_delegate_sees_it(owner):
    agent = make_agent(owner)
    delegate = make_user()
    services.agent_add_delegate(actor=owner, agent=agent, user=delegate)
    assert api(delegate).get(history_url(agent)).status_code == 200


@pytest.mark.parametrize("persona", ["compliance", "auditor", "admin_user"])
def test_those_who_see_every_agent_see_it(owner, request, persona):
    agent = make_agent(owner)
    user = request.getfixturevalue(persona)
    assert api(user).get(history_url(agent)).status_code == 200


def test_a_read_token_is_enough(owner):
    agent = make_agent(owner)
    assert client_with(owner, TokenScope.READ).get(history_url(agent)).status_code == 200


def test_it_hides_the_agent_from_an_outsider(owner, other_owner):
    agent = renamed(make_agent(owner), owner)
    answer = api(other_owner).get(history_url(agent))
    assert answer.status_code == 404
    assert "Clearer name" not in answer.content.decode()


def test_it_asks_a_sign_in(owner):
    assert api().get(history_url(make_agent(owner))).status_code == 401


def test_it_lists_the_latest_changes_up_to_the_limit(owner):
    agent = renamed(make_agent(owner), owner)
    body = api(owner).get(history_url(agent), {"limit": 1}).json()
    assert len(body) == 1 and body[0]["reason"] == "Clearer name"


@pytest.mark.parametrize("limit", ["0", str(selectors.HISTORY_SHOWN + 1), "many"])
def test_it_names_a_wrong_limit(owner, limit):
    answer = api(owner).get(history_url(make_agent(owner)), {"limit": limit})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["limit"]


def test_it_lists_as_many_as_the_page_by_default(owner, monkeypatch):
    monkeypatch.setattr(selectors, "HISTORY_SHOWN", 3)
    agent = make_agent(owner)
    for n in range(5):
        services.agent_update(actor=owner, agent=agent, data={"business_unit": f"U{n}"})
    assert len(api(owner).get(history_url(agent)).json()) == 3


def test_its_queries_do_not_grow_with_the_history(owner, monkeypatch):
    monkeypatch.setattr(selectors, "HISTORY_SHOWN", 5)
    agent = make_agent(owner)
    client = api(owner)

    def edit(times: int) -> None:
        for n in range(times):
            services.agent_update(actor=owner, agent=agent, data={"business_unit": f"U{n}"},
                                  reason="Edit")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(history_url(agent)).status_code == 200
        return len(captured)

    edit(30)
    client.get(history_url(agent))
    before = queries()
    edit(30)
    assert queries() == before
