"""My work in the API: the page's sections, for the caller only, in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope
from almportal.accounts.services import system_user
from almportal.reviews import services, work

from ..api.test_token_scopes import client_with
from ..clients import api
from .conftest import later, live_agent, open_reviews

pytestmark = pytest.mark.django_db
URL = "/api/v1/work/"
PAGE = "/reviews/my-work/"


def escalated_reviews(owner, agents: int) -> None:
    """Overdue access reviews of `agents` live agents: to certify for their owner, escalated
    to compliance."""
    for n in range(agents):
        live_agent(owner, name=f"Helpdesk {n}")
    open_reviews(now=later(400))
    services.access_reviews_escalate_overdue(actor=system_user(), now=later(800))


def as_json(sections: list[work.WorkSection]) -> list[dict]:
    return [{"key": s.key, "title": s.title, "total": s.total,
             "items": [{"label": i.label, "url": i.url, "detail": i.detail, "urgent": i.urgent}
                       for i in s.items]} for s in sections]


def sections(client: APIClient, **params) -> list[dict]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.json()
    return response.json()["sections"]


def test_it_answers_the_sections_of_the_my_work_page(client, owner, compliance):
    escalated_reviews(owner, 3)
    answer = sections(client_with(compliance, TokenScope.READ))
    assert answer == as_json(work.sections_for(compliance, limit=work.WORK_SHOWN))
    keys = [s["key"] for s in answer]
    assert "reviews-escalated" in keys and "ownerless" not in keys
    [escalated] = [s for s in answer if s["key"] == "reviews-escalated"]
    assert escalated["total"] == len(escalated["items"]) == 3
    assert escalated["items"][0]["url"].startswith("/reviews/")
    client.force_login(compliance)
    assert as_json(client.get(PAGE).context["sections"]) == answer


def test_the_url_is_named(owner):
    assert reverse("api-work") == URL


def test_a_limit_lists_fewer_items_and_keeps_the_total(owner):
    escalated_reviews(owner, 3)
    [certify] = [s for s in sections(api(owner), limit=1) if s["key"] == "reviews-certify"]
    assert certify["total"] == 3 and len(certify["items"]) == 1
    assert sections(api(owner), limit=1) == as_json(work.sections_for(owner, limit=1))


@pytest.mark.parametrize("limit", ["abc", "0", "201", "-1", "1.5"])
def test_a_bad_limit_is_a_400_naming_it(owner, limit):
    response = api(owner).get(URL, {"limit": limit})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["limit"]


def test_it_needs_a_signed_in_caller():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert "errors" not in response.json()


def test_each_caller_sees_only_their_own_work(owner, other_owner, compliance):
    escalated_reviews(owner, 2)
    assert sections(api(other_owner)) == []
    mine = {s["key"] for s in sections(api(owner))}
    theirs = {s["key"] for s in sections(api(compliance))}
    assert "reviews-certify" in mine and "reviews-certify" not in theirs
    assert "reviews-escalated" in theirs and "reviews-escalated" not in mine


def _queries(client: APIClient) -> int:
    client.get(URL)  # a token's first request reads it and records its use
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_the_items(owner, compliance):
    escalated_reviews(owner, 1)
    as_owner, as_compliance = (client_with(user, TokenScope.READ)
                               for user in (owner, compliance))
    few = _queries(as_owner), _queries(as_compliance)
    for n in range(5):
        live_agent(owner, name=f"More {n}")
    open_reviews(now=later(900))
    services.access_reviews_escalate_overdue(actor=system_user(), now=later(1000))
    [escalated] = [s for s in sections(as_compliance) if s["key"] == "reviews-escalated"]
    assert escalated["total"] == 6
    assert (_queries(as_owner), _queries(as_compliance)) == few
