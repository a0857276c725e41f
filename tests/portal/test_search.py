"""The header search: agents, releases, incidents and hashes, only among what the user sees."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.audit.models import LedgerEntry
from almportal.audit.services import ledger_catch_up
from almportal.inventory.choices import Stage
from almportal.operations import services as operations

from ..factories import make_agent, make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_fleets(owner, other_owner, compliance):
    mine = make_agent(owner, Stage.IN_DEVELOPMENT, name="Alpha helper")
    theirs = make_agent(other_owner, Stage.IN_DEVELOPMENT, name="Alpha rival")
    releases = {agent.pk: make_release(agent, label="alpha-1") for agent in (mine, theirs)}
    for agent in (mine, theirs):
        operations.incident_open(actor=compliance, agent=agent, title=f"Alpha outage {agent}",
                                 severity="low")
    return mine, theirs, releases


def _labels(client, query: str) -> dict[str, list[str]]:
    answer = client.get("/api/v1/search/", {"q": query})
    assert answer.status_code == 200
    return {kind: [hit["label"] for hit in hits] for kind, hits in answer.json().items()
            if kind != "query"}


def test_it_finds_agents_releases_and_incidents_the_user_may_see(two_fleets, client, owner):
    mine, theirs, _ = two_fleets
    client.force_login(owner)
    found = _labels(client, "alpha")
    assert found["agents"] == ["Alpha helper"]
    assert [label.startswith("Alpha helper") for label in found["releases"]] == [True]
    assert [str(mine) in label for label in found["incidents"]] == [True]
    page = client.get(reverse("portal:search"), {"q": "alpha"}).content.decode()
    assert mine.get_absolute_url() in page and theirs.get_absolute_url() not in page
    assert "Alpha rival" not in page


def test_a_hash_finds_only_records_the_user_may_see(two_fleets, client, owner, other_owner):
    mine, theirs, releases = two_fleets
    theirs_hash = releases[theirs.pk].manifest_hash
    client.force_login(owner)
    assert _labels(client, theirs_hash[:12])["hashes"] == []
    assert len(_labels(client, releases[mine.pk].manifest_hash[:12])["hashes"]) == 1
    client.force_login(other_owner)
    assert [theirs.name in h for h in _labels(client, theirs_hash[:12])["hashes"]] == [True]


def test_a_ledger_hash_is_found_by_those_who_read_the_ledger(two_fleets, client, owner,
                                                             auditor):
    ledger_catch_up()
    entry = LedgerEntry.objects.order_by("-seq").first()
    client.force_login(owner)
    assert not [h for h in _labels(client, entry.hash)["hashes"] if "Ledger" in h]
    client.force_login(auditor)
    assert f"Ledger entry #{entry.seq}" in _labels(client, entry.hash)["hashes"]


def test_the_search_box_is_in_the_header_of_every_page(client, owner):
    client.force_login(owner)
    page = client.get(reverse("inventory:agent-list")).content.decode()
    assert f'action="{reverse("portal:search")}"' in page and 'name="q"' in page


def test_a_short_or_empty_search_finds_nothing_and_asks_for_more(two_fleets, client, owner):
    client.force_login(owner)
    for query in ("", "a", "   "):
        assert client.get(reverse("portal:search"), {"q": query}).status_code == 200
        assert sum(map(len, _labels(client, query).values())) == 0


def test_the_search_needs_a_signed_in_user(client):
    assert client.get(reverse("portal:search"), {"q": "alpha"}).status_code == 302
    assert client.get("/api/v1/search/", {"q": "alpha"}).status_code in (401, 403)


def test_the_search_runs_the_same_queries_for_more_matches(two_fleets, client, owner):
    client.force_login(owner)
    client.get(reverse("portal:search"), {"q": "alpha"})
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("portal:search"), {"q": "alpha"})
    for n in range(4):
        make_agent(owner, name=f"Alpha extra {n}")
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("portal:search"), {"q": "alpha"})
    assert len(more) == len(few)
