"""Comparing two releases through the API: the changes the compare page and the release page
show, with the same marks for what needs a risk reassessment, for whoever may see the agent."""

import pytest

from almportal.accounts.models import TokenScope
from almportal.inventory.choices import Stage
from almportal.releases import services as release_services
from almportal.releases.diff import release_diff

from ..api.test_token_scopes import client_with
from ..factories import make_agent, make_model, make_prompt, make_release
from .test_release_diff import add

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_releases(owner):
    """Release 1, then release 2 with a new model hosting, a new prompt text, a tool that
    writes and a larger token limit."""
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    model, prompt = make_model(agent), make_prompt(agent, text="Answer politely.\nCite sources.")
    old = release_services.release_create(
        actor=owner, agent=agent, configuration={"max_tokens": 1000},
        components={"models": [model.pk], "prompts": [prompt.pk]})
    writer = add(agent, "tools", name="ticket-writer", tool_kind="rest_api",
                 endpoint="https://tickets", operations=["create"], writes=True)
    new = release_services.release_create(
        actor=owner, agent=agent, configuration={"max_tokens": 2000}, components={
            "models": [make_model(agent, pinned_version="2026-09-01", hosting="self_hosted").pk],
            "prompts": [make_prompt(agent, text="Answer politely.\nCite two sources.").pk],
            "tools": [writer.pk]})
    return agent, old, new


def compare(user, release, **query):
    return client_with(user, TokenScope.READ).get(f"/api/v1/releases/{release.pk}/compare/",
                                                  query)


def by_name(body):
    return {(c["kind"], c["name"]): c for c in body["components"]}


def test_it_answers_the_changes_from_the_release_named(two_releases, owner):
    _, old, new = two_releases
    response = compare(owner, new, **{"with": old.pk})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["old"]["id"], body["new"]["id"]) == (old.pk, new.pk)
    assert body["needs_reassessment"] is True
    changes = by_name(body)
    tool = changes[("tools", "ticket-writer")]
    assert tool["change"] == "added" and tool["reassessment"] == ["a tool that writes"]
    assert tool["before"] is None and tool["after"]["writes"] is True
    prompt = changes[("prompts", "system")]
    assert prompt["change"] == "changed" and not prompt["reassessment"]
    assert "+Cite two sources." in prompt["text_diff"]
    model = changes[("models", "main-model")]
    assert {"hosting", "pinned_version"} <= set(model["fields"])
    assert "Pinned version" in model["field_labels"]
    assert body["configuration"] == [{"key": "max_tokens", "before": 1000, "after": 2000}]


def test_it_compares_with_the_release_before_by_default_as_the_release_page(two_releases,
                                                                            owner, client):
    _, old, new = two_releases
    body = compare(owner, new).json()
    assert body["old"]["id"] == old.pk
    client.force_login(owner)
    page = client.get(new.get_absolute_url()).content.decode()
    shown = {(c.kind, c.name, c.change) for c in release_diff(old, new).components}
    assert {(c["kind"], c["name"], c["change"]) for c in body["components"]} == shown
    for kind, name, change in shown:
        assert f'data-change="{kind}:{name}:{change}"' in page
    assert "data-needs-reassessment" in page


def test_it_answers_as_the_compare_page_either_way_round(two_releases, owner, client):
    agent, old, new = two_releases
    body = compare(owner, old, **{"with": new.pk}).json()
    client.force_login(owner)
    page = client.get(f"/agents/{agent.slug}/releases/compare/",
                      {"old": new.number, "new": old.number}).content.decode()
    assert (body["old"]["id"], body["new"]["id"]) == (new.pk, old.pk)
    for change in body["components"]:
        assert f'data-change="{change["kind"]}:{change["name"]}:{change["change"]}"' in page
    assert by_name(body)[("tools", "ticket-writer")]["change"] == "removed"


def test_a_first_release_without_with_is_a_400_naming_it(two_releases, owner):
    _, old, _ = two_releases
    response = compare(owner, old)
    assert response.status_code == 400
    assert "first" in response.json()["errors"]["with"][0]


def test_the_same_release_twice_is_a_400_naming_with(two_releases, owner):
    _, old, _ = two_releases
    response = compare(owner, old, **{"with": old.pk})
    assert response.status_code == 400
    assert response.json()["errors"]["with"] == ["Choose two different releases."]


def test_a_release_of_another_agent_is_a_400_naming_with(two_releases, owner):
    _, _, new = two_releases
    elsewhere = make_release(make_agent(owner, Stage.IN_DEVELOPMENT, name="Other helper"))
    response = compare(owner, new, **{"with": elsewhere.pk})
    assert response.status_code == 400
    assert response.json()["errors"]["with"] == ["Choose a release of the same agent."]


@pytest.mark.parametrize("value", ["latest", "0", "-3"])
def test_a_with_that_is_no_id_is_a_400_naming_it(two_releases, owner, value):
    _, _, new = two_releases
    response = compare(owner, new, **{"with": value})
    assert response.status_code == 400
    assert "with" in response.json()["errors"]


def test_a_release_you_may_not_see_is_a_404_either_way(two_releases, other_owner):
    _, old, new = two_releases
    assert compare(other_owner, new, **{"with": old.pk}).status_code == 404
    theirs = make_release(make_agent(other_owner, Stage.IN_DEVELOPMENT, name="Their helper"))
    assert compare(other_owner, theirs, **{"with": new.pk}).status_code == 404


def test_an_auditor_may_read_it_as_the_page(two_releases, auditor):
    _, old, new = two_releases
    assert compare(auditor, new, **{"with": old.pk}).status_code == 200
