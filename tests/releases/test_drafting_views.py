"""Drafting a release in the pages: choosing component versions, the configuration, editing a
draft, submitting it; a submitted release is frozen."""

import pytest
from django.urls import reverse

from almportal.inventory.choices import Stage
from almportal.releases import services
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release

from ..factories import make_agent, make_model, make_release

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"releases:release-{name}", args=args)


# --- Drafting -----------------------------------------------------------------------------

def test_it_creates_a_release_from_chosen_versions(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    v1 = make_model(agent)
    v2 = make_model(agent, pinned_version="2026-07-01")
    client.force_login(owner)
    form = client.get(url("create", agent.slug)).context["form"]
    field = next(name for kind, _, name in form.component_fields if kind == "models")
    response = client.post(url("create", agent.slug), {
        "label": "1.0.0", "notes": "First", "configuration": '{"max_tokens": 4000}',
        field: v2.pk})
    release = Release.objects.get(agent=agent)
    assert response.url == release.get_absolute_url()
    assert list(release.models_used.all()) == [v2] and v1 not in release.models_used.all()
    assert release.configuration == {"max_tokens": 4000}
    page = client.get(release.get_absolute_url())
    assert release.manifest_hash.encode() in page.content
    assert b"&quot;max_tokens&quot;: 4000" in page.content
    assert url("edit", agent.slug, release.number).encode() in page.content


@pytest.mark.parametrize("configuration, message", [
    ("{not json", "Not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
])
def test_it_rejects_a_configuration_that_is_not_a_json_object(client, owner, configuration,
                                                              message):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    make_model(agent)
    client.force_login(owner)
    response = client.post(url("create", agent.slug),
                           {"label": "x", "configuration": configuration})
    assert message in " ".join(response.context["form"].errors["configuration"])
    assert not Release.objects.exists()


def test_it_edits_then_submits_a_draft_release(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = make_release(agent)
    client.force_login(owner)
    form = client.get(url("edit", agent.slug, release.number)).context["form"]
    data = {"label": "1.1", "configuration": '{"rate": 5}'}
    data.update({name: form[name].initial for _, _, name in form.component_fields})
    client.post(url("edit", agent.slug, release.number), data)
    release.refresh_from_db()
    assert (release.label, release.configuration) == ("1.1", {"rate": 5})
    assert release.models_used.count() == 1
    client.post(url("submit", agent.slug, release.number))
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED


def test_a_submitted_release_cannot_be_edited(client, owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    release = services.release_submit(actor=owner, release=make_release(agent, label="1.0"))
    client.force_login(owner)
    page = client.get(release.get_absolute_url())
    assert page.status_code == 200
    assert url("edit", agent.slug, release.number).encode() not in page.content
    assert b"Submit for sign-off" not in page.content
    before = (release.manifest_hash, Release.history.count())
    for method in (client.get, client.post):
        response = method(url("edit", agent.slug, release.number),
                          {"label": "sneaky", "configuration": "{}"}, follow=True)
        assert b"frozen" in response.content
    release.refresh_from_db()
    assert (release.label, release.manifest_hash, Release.history.count()) == ("1.0", *before)
