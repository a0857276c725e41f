"""The API of the as-of page: an agent as it stood at a moment, checked against the ledger. Same
readers as the page (the audit roles), same content, same answer for a moment before the agent
existed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.accounts.models import TokenScope
from almportal.audit.services import ledger_catch_up
from almportal.inventory import services as inventory

from ..api.test_token_scopes import client_with
from ..clients import api
from .test_tampering import edit_history_row

pytestmark = pytest.mark.django_db


def as_of_url(agent) -> str:
    return f"/api/v1/audit/agents/{agent.slug}/as-of/"


def moment(at) -> str:
    return at.isoformat()


def later() -> str:
    return moment(timezone.now() + timedelta(seconds=1))


def section(body: dict, title: str) -> dict:
    [found] = [s for s in body["sections"] if s["title"] == title]
    return found


def record_values(body: dict) -> dict:
    [record] = section(body, "Agent record")["items"]
    return {value["name"]: value["value"] for value in record["values"]}


def test_it_shows_the_values_the_agent_had_then(released_agent, auditor):
    agent = released_agent
    before = timezone.now()
    inventory.agent_update(actor=agent.business_owner, agent=agent,
                           data={"name": "Renamed assistant", "sponsor": "CFO"}, reason="Rename")
    then = api(auditor).get(as_of_url(agent), {"at": moment(before)})
    now = api(auditor).get(as_of_url(agent), {"at": later()})
    assert then.status_code == now.status_code == 200, then.json()
    assert then.json()["agent"] == agent.slug
    assert record_values(then.json())["name"] == "Internal FAQ assistant"
    assert record_values(now.json())["name"] == "Renamed assistant"
    assert record_values(now.json())["sponsor"] == "CFO"
    assert [i["title"] for i in section(then.json(), "Releases and their manifests")["items"]] \
        == ["Release #1"]
    assert then.json()["findings"] == []


def test_it_answers_what_the_page_shows(released_agent, client, auditor):
    at = later()
    client.force_login(auditor)
    page = client.get(f"/audit/agents/{released_agent.slug}/as-of/", {"at": at[:19]})
    body = api(auditor).get(as_of_url(released_agent), {"at": at[:19]}).json()
    shown = [{"title": s.title, "note": s.note,
              "items": [{"title": i.title,
                         "values": [{"name": n, "value": str(v)} for n, v in i.fields]}
                        for i in s.items]}
             for s in page.context["snapshot"].sections]
    assert body["sections"] == shown
    assert {"Agent record", "Components", "Access grants"} <= {s["title"] for s in shown}


def test_before_the_agent_existed_it_says_so_as_the_page_does(released_agent, client, auditor):
    answer = api(auditor).get(as_of_url(released_agent), {"at": "2001-01-01T00:00:00Z"})
    assert answer.status_code == 200
    record = section(answer.json(), "Agent record")
    assert record["items"] == [] and "had not been recorded yet" in record["note"]
    client.force_login(auditor)
    page = client.get(f"/audit/agents/{released_agent.slug}/as-of/", {"at": "2001-01-01T00:00"})
    assert record["note"] in page.content.decode()


def test_it_names_history_that_disagrees_with_the_ledger(released_agent, client, auditor):
    ledger_catch_up()
    seq, field = edit_history_row(None, released_agent)
    answer = api(auditor).get(as_of_url(released_agent), {"at": later()})
    [finding] = [f for f in answer.json()["findings"] if f["seq"] == seq]
    assert (finding["model"], finding["object_pk"], finding["field"]) == (
        "inventory.agent", str(released_agent.pk), field)
    client.force_login(auditor)
    page = client.get(f"/audit/agents/{released_agent.slug}/as-of/", {"at": "2100-01-01T00:00"})
    assert [str(f) for f in page.context["findings"]] == [
        f"entry #{f['seq']}, {f['model']} #{f['object_pk']}, field {f['field']}: {f['problem']}"
        for f in answer.json()["findings"]]


@pytest.mark.parametrize("persona", ["compliance", "security", "admin_user"])
def test_the_other_audit_roles_read_it(released_agent, request, persona):
    user = request.getfixturevalue(persona)
    assert api(user).get(as_of_url(released_agent), {"at": later()}).status_code == 200


def test_a_read_token_is_enough(released_agent, auditor):
    client = client_with(auditor, TokenScope.READ)
    assert client.get(as_of_url(released_agent), {"at": later()}).status_code == 200


@pytest.mark.parametrize("persona", ["owner", "other_owner"])
def test_it_refuses_those_who_do_not_read_the_audit_trail(released_agent, client, request,
                                                           persona):
    user = request.getfixturevalue(persona)
    answer = api(user).get(as_of_url(released_agent), {"at": later()})
    assert answer.status_code == 403
    client.force_login(user)
    assert client.get(f"/audit/agents/{released_agent.slug}/as-of/").status_code == 403


def test_it_asks_a_sign_in(released_agent):
    assert api().get(as_of_url(released_agent), {"at": later()}).status_code == 401


def test_an_unknown_agent_is_not_found(auditor):
    answer = api(auditor).get("/api/v1/audit/agents/no-such-agent/as-of/", {"at": later()})
    assert answer.status_code == 404


@pytest.mark.parametrize("at", [None, "", "yesterday", "2024-13-40T00:00:00"])
def test_it_names_a_missing_or_wrong_moment(released_agent, auditor, at):
    query = {} if at is None else {"at": at}
    answer = api(auditor).get(as_of_url(released_agent), query)
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["at"]
