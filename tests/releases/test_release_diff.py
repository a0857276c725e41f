import pytest

from almportal.inventory import services
from almportal.inventory.choices import Stage
from almportal.releases import services as release_services
from almportal.releases.diff import release_diff

from ..factories import make_agent, make_model, make_prompt

pytestmark = pytest.mark.django_db


def add(agent, kind, **data):
    return services.component_add_version(actor=agent.business_owner, agent=agent, kind=kind,
                                          data=data)


@pytest.fixture
def two_releases(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    model, prompt = make_model(agent), make_prompt(agent, text="Answer politely.\nCite sources.")
    lookup = add(agent, "tools", name="lookup", tool_kind="rest_api", endpoint="https://kb",
                 operations=["search"], writes=False)
    old = release_services.release_create(
        actor=owner, agent=agent, configuration={"max_tokens": 1000},
        components={"models": [model.pk], "prompts": [prompt.pk], "tools": [lookup.pk]})
    new_model = make_model(agent, pinned_version="2026-09-01", hosting="self_hosted")
    new_prompt = make_prompt(agent, text="Answer politely.\nCite two sources.")
    writer = add(agent, "tools", name="ticket-writer", tool_kind="rest_api",
                 endpoint="https://tickets", operations=["create"], writes=True)
    new = release_services.release_create(
        actor=owner, agent=agent, configuration={"max_tokens": 2000},
        components={"models": [new_model.pk], "prompts": [new_prompt.pk],
                    "tools": [lookup.pk, writer.pk]})
    return agent, old, new


def changes_of(diff):
    return {(c.kind, c.name): c for c in diff.components}


def test_it_marks_a_changed_prompt_an_added_write_tool_and_a_changed_model(two_releases):
    _, old, new = two_releases
    diff = release_diff(old, new)
    changes = changes_of(diff)
    prompt = changes[("prompts", "system")]
    assert prompt.change == "changed" and not prompt.reassessment
    assert "+Cite two sources." in prompt.text_diff and "-Cite sources." in prompt.text_diff
    tool = changes[("tools", "ticket-writer")]
    assert tool.change == "added" and tool.reassessment == ["a tool that writes"]
    model = changes[("models", "main-model")]
    assert model.change == "changed" and {"hosting", "pinned_version"} <= set(model.fields)
    assert model.reassessment
    assert ("tools", "lookup") not in changes  # the same version is no change
    assert diff.configuration == [("max_tokens", 1000, 2000)]
    assert diff.needs_reassessment


def test_a_model_pinned_to_a_new_version_only_needs_no_reassessment(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    prompt = make_prompt(agent)
    old = release_services.release_create(actor=owner, agent=agent, components={
        "models": [make_model(agent).pk], "prompts": [prompt.pk]})
    new = release_services.release_create(actor=owner, agent=agent, components={
        "models": [make_model(agent, pinned_version="2026-12-01").pk], "prompts": [prompt.pk]})
    diff = release_diff(old, new)
    assert [c.fields for c in diff.components] == [["pinned_version"]]
    assert [c.field_labels for c in diff.components] == [["Pinned version"]]
    assert not diff.needs_reassessment


def test_the_compare_page_shows_the_marks(two_releases, client):
    agent, old, new = two_releases
    client.force_login(agent.business_owner)
    html = client.get(f"/agents/{agent.slug}/releases/compare/",
                      {"old": old.number, "new": new.number}).content.decode()
    assert 'data-change="prompts:system:changed"' in html
    assert 'data-change="tools:ticket-writer:added"' in html
    assert 'data-change="models:main-model:changed"' in html
    assert "data-needs-reassessment" in html and html.count("data-reassessment>") == 2


def test_the_compare_page_refuses_the_same_release_twice(two_releases, client):
    agent, old, _ = two_releases
    client.force_login(agent.business_owner)
    response = client.get(f"/agents/{agent.slug}/releases/compare/",
                          {"old": old.number, "new": old.number})
    assert b"Choose two different releases." in response.content
    assert b"data-diff" not in response.content


def test_another_owner_gets_404_and_an_auditor_may_read(two_releases, client, other_owner,
                                                        auditor):
    agent, old, new = two_releases
    url = f"/agents/{agent.slug}/releases/compare/?old={old.number}&new={new.number}"
    client.force_login(other_owner)
    assert client.get(url).status_code == 404
    client.force_login(auditor)
    assert client.get(url).status_code == 200
