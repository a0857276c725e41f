"""Who sees and acts on what: another owner gets 404 on every object page and API object, an
auditor reads but acts on nothing (403), and list pages cost the same queries however many
rows they show."""

import pytest

from almportal.standards import exports, services

from ..conftest import client_for
from .conftest import approved_release, imported_agent

pytestmark = pytest.mark.django_db

NEW_SKILL = {"id": "cancel-trip", "name": "Cancel trip", "description": "x", "tags": ["x"]}


@pytest.fixture
def objects(owner, served):
    """An import, a watched card and an open drift finding of the owner's agents."""
    imported = imported_agent(owner)
    release = approved_release(owner)
    card = exports.card_content(release)
    served.put("/card.json", {**card, "skills": [*card["skills"], NEW_SKILL]})
    watch = services.watch_add(actor=owner, agent=release.agent, kind="a2a_card",
                               url=served.base + "/card.json")
    finding = services.watch_poll(watch)
    return imported, watch, finding


def pages(imported, watch, finding):
    return [imported.get_absolute_url(), watch.get_absolute_url(),
            finding.get_absolute_url(), f"/standards/agents/{watch.agent.slug}/watches/",
            f"/api/v1/agent-imports/{imported.pk}/", f"/api/v1/card-watches/{watch.pk}/",
            f"/api/v1/drift-findings/{finding.pk}/"]


def actions(imported, watch, finding):
    return [(f"/standards/imports/{imported.pk}/confirm/",
             {"tool": "book-hotel", "writes": "on"}),
            (f"/standards/watches/{watch.pk}/poll/", {}),
            (f"/standards/watches/{watch.pk}/active/", {"active": "0"}),
            (f"/standards/findings/{finding.pk}/close/", {"reason": "fine"}),
            (f"/standards/agents/{watch.agent.slug}/watches/",
             {"kind": "a2a_card", "url": "https://x.example.test/card.json"})]


def api_actions(imported, watch, finding):
    return [(f"/api/v1/agent-imports/{imported.pk}/confirm-tool/",
             {"tool": "book-hotel", "writes": True, "needs_human_approval": False}),
            (f"/api/v1/card-watches/{watch.pk}/poll/", {}),
            (f"/api/v1/card-watches/{watch.pk}/active/", {"active": False}),
            (f"/api/v1/drift-findings/{finding.pk}/close/", {"reason": "fine"})]


def test_another_owner_gets_404_everywhere(client, other_owner, objects):
    client_for(client, other_owner)
    for url in pages(*objects):
        assert client.get(url).status_code == 404, url
    for url, data in actions(*objects):
        assert client.post(url, data).status_code == 404, url
    for url, data in api_actions(*objects):
        assert client.post(url, data, content_type="application/json").status_code == 404, url
    response = client.post("/api/v1/card-watches/", {
        "agent": objects[1].agent.slug, "kind": "a2a_card",
        "url": "https://x.example.test/card.json"}, content_type="application/json")
    assert response.status_code == 400 and "agent" in response.json()["errors"]
    for url in ("/api/v1/agent-imports/", "/api/v1/card-watches/", "/api/v1/drift-findings/"):
        assert client.get(url).json()["results"] == []


def test_an_auditor_reads_but_may_not_act(client, auditor, objects):
    client_for(client, auditor)
    for url in pages(*objects):
        assert client.get(url).status_code == 200, url
    for url, data in actions(*objects):
        assert client.post(url, data).status_code in (302, 403), url
    for url, data in api_actions(*objects):
        assert client.post(url, data, content_type="application/json").status_code == 403, url
    imported, watch, finding = objects
    imported.refresh_from_db()
    watch.refresh_from_db()
    finding.refresh_from_db()
    assert len(imported.pending_tools) == 2 and watch.active and finding.is_open


def test_the_owner_may_not_close_a_finding_on_their_agent(client, owner, objects):
    client_for(client, owner)
    finding = objects[2]
    response = client.post(f"/api/v1/drift-findings/{finding.pk}/close/", {"reason": "fine"},
                           content_type="application/json")
    assert response.status_code == 403


def test_the_published_documents_need_no_sign_in(client, owner):
    release = approved_release(owner)
    base = f"/standards/cards/{release.agent.slug}/{release.number}/"
    assert client.get(base + "agent-card.json").status_code == 200
    assert client.get(base + "oasf.json").status_code == 200
    assert client.get("/.well-known/jwks.json").status_code == 200


@pytest.mark.parametrize("url", ["/standards/imports/", "/standards/findings/",
                                 "/api/v1/agent-imports/", "/api/v1/drift-findings/",
                                 "/api/v1/card-watches/"])
def test_list_pages_cost_the_same_queries_for_more_rows(client, owner, served, url,
                                                        django_assert_max_num_queries):
    def add_rows():
        imported_agent(owner)
        release = approved_release(owner)
        card = exports.card_content(release)
        served.put(f"/{release.agent.slug}.json",
                   {**card, "skills": [*card["skills"], NEW_SKILL]})
        services.watch_poll(services.watch_add(
            actor=owner, agent=release.agent, kind="a2a_card",
            url=f"{served.base}/{release.agent.slug}.json"))

    client_for(client, owner)
    add_rows()
    with django_assert_max_num_queries(40) as few:
        assert client.get(url).status_code == 200
    for _ in range(3):
        add_rows()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
