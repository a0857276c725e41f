"""A new release starts from the current one: the form holds the components (at the versions
it used) and the configuration of the agent's latest approved or deployed release, points out
newer versions, and refuses an empty release at once."""

import re

import pytest

from almportal.inventory.choices import Stage
from almportal.releases.models import Release

from ..conftest import client_for
from ..factories import make_agent, make_prompt, make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(owner):
    return make_agent(owner, Stage.IN_DEVELOPMENT, name="HR helper")


@pytest.fixture
def deployed(agent, owner):
    release = make_release(agent, actor=owner, label="1.0.0",
                           configuration={"max_tokens": 4000})
    Release.objects.filter(pk=release.pk).update(state="deployed")  # as operations would
    release.refresh_from_db()
    return release


def _selected(page: str, name: str) -> str:
    """The label of the selected option of the component field labelled `name`."""
    field = page[page.index(f">{name}"):]
    field = field[:field.index("</select>")]
    found = re.search(r'<option value="\d+" selected>([^<]*)</option>', field)
    return found.group(1) if found else ""


def _post(client, agent, **fields):
    data = {"label": "1.1.0", "configuration": "{}"}
    data.update(fields)
    return client.post(f"/agents/{agent.slug}/releases/new/", data)


def test_the_form_starts_from_the_deployed_release(client, agent, owner, deployed):
    newer = make_prompt(agent, owner, text="You answer HR questions, briefly.")
    client_for(client, owner)
    page = client.get(f"/agents/{agent.slug}/releases/new/").content.decode()
    assert f'data-starts-from="{deployed.number}"' in page
    assert _selected(page, "main-model") == "v1"
    assert _selected(page, "system") == "v1"
    assert f"v{newer.version} · newer version available" in page
    assert f"Release {deployed.display_version} used v1; v{newer.version} is newer." in page
    assert "&quot;max_tokens&quot;: 4000" in page


def test_a_prompt_change_is_one_edit(client, agent, owner, deployed):
    newer = make_prompt(agent, owner, text="You answer HR questions, briefly.")
    client_for(client, owner)
    page = client.get(f"/agents/{agent.slug}/releases/new/").content.decode()
    fields = dict(re.findall(r'<select name="([\w-]+)"[^>]*>.*?<option value="(\d+)" selected',
                             page, re.S))
    prompt_field = next(n for n in fields if n.startswith("prompts-"))
    answer = _post(client, agent, **{**fields, prompt_field: newer.pk})
    assert answer.status_code == 302
    release = agent.releases.order_by("-number").first()
    assert release.number == deployed.number + 1
    assert [e["version"] for e in release.manifest["components"]["prompts"]] == [newer.version]
    assert release.manifest["components"]["models"] == deployed.manifest["components"]["models"]


def test_an_empty_release_is_refused_at_the_form(client, agent, owner, deployed):
    client_for(client, owner)
    before = agent.releases.count()
    answer = _post(client, agent)
    assert answer.status_code == 200
    assert "an empty release cannot be submitted" in answer.content.decode()
    prompt_id = deployed.manifest["components"]["prompts"][0]["id"]
    page = client.get(f"/agents/{agent.slug}/releases/new/").content.decode()
    prompt_field = re.search(r'<select name="(prompts-\d+)"', page).group(1)
    answer = _post(client, agent, **{prompt_field: prompt_id})
    assert "A release needs at least one model." in answer.content.decode()
    assert agent.releases.count() == before


def test_without_an_approved_release_it_starts_from_the_latest(client, agent, owner):
    draft = make_release(agent, actor=owner)
    client_for(client, owner)
    page = client.get(f"/agents/{agent.slug}/releases/new/").content.decode()
    assert f'data-starts-from="{draft.number}"' in page
    assert _selected(page, "main-model").startswith("v")


def test_the_first_release_starts_empty(client, agent, owner):
    client_for(client, owner)
    page = client.get(f"/agents/{agent.slug}/releases/new/").content.decode()
    assert "data-starts-from" not in page


def test_another_user_sees_no_form(client, agent, other_owner, deployed):
    client_for(client, other_owner)
    assert client.get(f"/agents/{agent.slug}/releases/new/").status_code == 404
