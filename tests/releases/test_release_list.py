"""The list of releases under sign-off: sortable columns paged by keyset, filters as chips, and
the same sorts in the releases API (`?ordering=`)."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts.roles import Role
from almportal.inventory.choices import RiskTier
from almportal.inventory.models import Agent
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release

from ..conftest import client_for
from ..factories import make_release, make_user
from .helpers import high_release

pytestmark = pytest.mark.django_db
TIERS = list(RiskTier.values)


@pytest.fixture
def releases(owner, compliance, delegate):
    """Five releases under sign-off in different tiers and states, submitted a day apart."""
    made = []
    for n, (tier, state) in enumerate([("high", "submitted"), ("low", "approved"),
                                       ("critical", "submitted"), ("medium", "approved"),
                                       ("low", "submitted")]):
        release = high_release(make_user(Role.BUSINESS_OWNER, username=f"o{n}"), compliance,
                               make_user(Role.BUSINESS_OWNER, username=f"d{n}"))
        # Arranged directly: the list only reads these.
        Agent.objects.filter(pk=release.agent_id).update(risk_tier=tier, name=f"Agent {'ECADB'[n]}")
        Release.objects.filter(pk=release.pk).update(
            state=state, submitted_at=timezone.now() - timedelta(days=n))
        made.append(release.pk)
    return made


def walk(client, url: str, params: dict) -> list[Release]:
    """Every row of the list, page after page, through its Next links."""
    page = client.get(url, params).context["page"]
    seen = list(page.object_list)
    while page.next_url:
        page = client.get(url + page.next_url).context["page"]
        seen += page.object_list
    return seen


def test_it_sorts_by_each_column_and_pages_by_keyset(client, compliance, releases,
                                                     monkeypatch):
    from almportal.releases import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client_for(client, compliance)
    by_tier = walk(client, "/releases/", {"sort": "-tier"})
    assert len(by_tier) == len({r.pk for r in by_tier}) == 5
    ranks = [TIERS.index(r.agent.risk_tier) for r in by_tier]
    assert ranks == sorted(ranks, reverse=True)
    assert [r.agent.name for r in walk(client, "/releases/", {"sort": "release"})] == [
        "Agent A", "Agent B", "Agent C", "Agent D", "Agent E"]
    newest_first = walk(client, "/releases/", {})
    assert [r.pk for r in newest_first] == releases  # submitted a day apart, newest first
    by_state = [r.state for r in walk(client, "/releases/", {"sort": "state"})]
    assert by_state == ["submitted"] * 3 + ["approved"] * 2  # the order of the states


def test_its_headers_link_each_sort_and_say_which_is_current(client, compliance, releases):
    page = client_for(client, compliance).get("/releases/", {"sort": "tier"}).content.decode()
    assert 'aria-sort="ascending"><a class="sort" href="?sort=-tier"' in page
    assert 'href="?sort=state"' in page and 'href="?sort=release"' in page
    assert '<th scope="col">Checklist</th>' in page  # a column that does not sort
    assert 'class="table-wrap" tabindex="0"' in page


def test_it_filters_by_state_and_tier_chips_keeping_the_sort(client, compliance, releases):
    client_for(client, compliance)
    response = client.get("/releases/", {"state": "submitted", "tier": ["low", "critical"],
                                         "sort": "-tier"})
    assert [r.agent.risk_tier for r in response.context["page"].object_list] == ["critical",
                                                                                 "low"]
    page = response.content.decode()
    assert 'name="state" value="submitted" id="id_state_0" checked' in page
    assert 'name="tier" value="critical"' in page
    assert '<input type="hidden" name="sort" value="-tier">' in page
    assert 'value="draft"' not in page  # the page lists releases under sign-off only
    in_its_own_order = client.get("/releases/", {"state": "submitted"}).content.decode()
    filter_form = in_its_own_order.split('aria-label="Filter releases"')[1].split("</form>")[0]
    assert 'name="sort"' not in filter_form  # the list's own order is not carried along


def cursor(value, pk) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode()


def test_a_cursor_or_sort_it_did_not_make_shows_the_first_page(client, compliance, releases):
    client_for(client, compliance)

    def first(params):
        response = client.get("/releases/", params)
        assert response.status_code == 200
        return [r.pk for r in response.context["page"].object_list]

    for params in ({"after": "not-a-cursor"}, {"before": cursor("yesterday", 1)},
                   {"after": cursor([1], "x")}, {"sort": "checklist"}, {"sort": "--submitted"}):
        assert first(params) == first({})
    assert first({"sort": "tier", "after": cursor("x", 1)}) == first({"sort": "tier"})


def test_its_query_count_does_not_grow_with_rows(client, compliance, releases,
                                                  django_assert_max_num_queries):
    client_for(client, compliance)
    with django_assert_max_num_queries(40) as few:
        client.get("/releases/", {"sort": "tier", "state": "submitted"})
    for n in range(4):
        high_release(make_user(Role.BUSINESS_OWNER, username=f"x{n}"), compliance,
                     make_user(Role.BUSINESS_OWNER, username=f"y{n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/releases/", {"sort": "tier", "state": "submitted"})
    assert response.content.decode().count("data-release=") == 7


def test_another_owner_sees_none_of_them(client, releases):
    outsider = make_user(Role.BUSINESS_OWNER, username="outsider")
    assert client_for(client, outsider).get("/releases/").context["page"].object_list == []


# --- The API sorts as the page does ---------------------------------------------------------

def api(user) -> APIClient:
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")
    client.force_authenticate(user)
    return client


def api_walk(client, params: dict) -> list[dict]:
    body = client.get("/api/v1/releases/", {**params, "page_size": 2}).json()
    rows = body["results"]
    while body["next"]:
        body = client.get(body["next"]).json()
        rows += body["results"]
    return rows


def test_the_api_orders_as_the_page_sorts(client, compliance, releases):
    client_for(client, compliance)
    for sort in ("tier", "-tier", "state", "release", "-submitted"):
        on_page = [r.pk for r in client.get("/releases/", {"sort": sort}).context[
            "page"].object_list]
        assert [r["id"] for r in api_walk(api(compliance), {"ordering": sort})] == on_page


def test_the_api_sorts_drafts_by_when_they_were_drafted(compliance, releases):
    draft = make_release(Release.objects.get(pk=releases[0]).agent)  # never submitted
    rows = api_walk(api(compliance), {"ordering": "-submitted"})
    assert rows[0]["id"] == draft.pk and len(rows) == 6
    assert [r["id"] for r in api_walk(api(compliance), {})] == [r["id"] for r in rows]


def test_the_api_refuses_an_ordering_the_page_has_not(compliance, releases):
    for asked in ("checklist", "manifest_hash", "--tier"):
        response = api(compliance).get("/api/v1/releases/", {"ordering": asked})
        assert response.status_code == 400
        assert "tier" in response.json()["errors"]["ordering"][0]


def test_the_api_filters_by_tier_and_state(compliance, releases):
    rows = api_walk(api(compliance), {"tier": "low", "state": ReleaseState.APPROVED})
    assert [r["id"] for r in rows] == [releases[1]]
