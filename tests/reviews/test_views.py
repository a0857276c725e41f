"""Pages: each object URL answers 404 to another owner and 403 to an auditor's writes; lists
hold their query count whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.reviews.models import Decision, ReviewItem, ReviewState, RevocationTask

from .conftest import later, live_agent, open_reviews

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(live):
    [review] = open_reviews(now=later(400))
    return review


def certify_data(review, decision="keep"):
    data = {}
    for item in review.items.all():
        data[f"decision_{item.pk}"] = decision if item.kind != "credential" else "revoke"
        data[f"comment_{item.pk}"] = f"{item.name} checked"
    return data


def test_the_owner_certifies_on_the_page(client, owner, review):
    client.force_login(owner)
    page = client.get(review.get_absolute_url())
    assert page.status_code == 200 and b"Record decisions" in page.content
    response = client.post(reverse("reviews:review-certify", args=[review.pk]),
                           certify_data(review))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.COMPLETED
    assert RevocationTask.objects.count() == 1


def test_a_missing_comment_is_a_form_error_and_writes_nothing(client, owner, review):
    client.force_login(owner)
    data = certify_data(review)
    data = {k: ("" if k.startswith("comment_") else v) for k, v in data.items()}
    response = client.post(reverse("reviews:review-certify", args=[review.pk]), data)
    assert response.status_code == 400 and b"comment is required" in response.content
    assert not ReviewItem.objects.exclude(decision=Decision.PENDING).exists()


def test_another_owner_gets_404(client, other_owner, review):
    client.force_login(other_owner)
    assert client.get(review.get_absolute_url()).status_code == 404
    response = client.post(reverse("reviews:review-certify", args=[review.pk]),
                           certify_data(review))
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["auditor", "security"])
def test_readers_see_the_review_but_get_403_on_certify(client, review, persona, request):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(review.get_absolute_url())
    assert page.status_code == 200 and b"Record decisions" not in page.content
    response = client.post(reverse("reviews:review-certify", args=[review.pk]),
                           certify_data(review))
    assert response.status_code == 403
    assert not ReviewItem.objects.exclude(decision=Decision.PENDING).exists()


def test_revocation_task_pages(client, owner, other_owner, security, auditor, review):
    client.force_login(owner)
    client.post(reverse("reviews:review-certify", args=[review.pk]), certify_data(review))
    task = RevocationTask.objects.get()
    url, complete = task.get_absolute_url(), reverse("reviews:task-complete", args=[task.pk])
    client.force_login(other_owner)
    assert client.get(url).status_code == 404
    assert client.post(complete, {"note": "x"}).status_code == 404
    client.force_login(auditor)
    assert client.get(url).status_code == 200
    assert client.post(complete, {"note": "x"}).status_code == 403
    client.force_login(owner)
    assert client.post(complete, {"note": "x"}).status_code == 403
    client.force_login(security)
    assert client.post(complete, {"note": ""}).status_code == 400
    assert client.post(complete, {"note": "Disabled in Okta"}).status_code == 302
    task.refresh_from_db()
    assert task.state == "done"


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_review_list_query_count_does_not_grow_with_rows(client, owner, compliance):
    live_agent(owner, name="First")
    open_reviews(now=later(400))
    client.force_login(compliance)
    one = _queries(client, reverse("reviews:review-list"))
    for n in range(8):
        live_agent(owner, name=f"More {n}")
    open_reviews(now=later(400))
    assert _queries(client, reverse("reviews:review-list")) == one


def test_the_review_page_query_count_does_not_grow_with_grants(client, owner):
    from .conftest import add

    agent = live_agent(owner)
    [review] = open_reviews(now=later(400))
    client.force_login(owner)
    few = _queries(client, review.get_absolute_url())
    for n in range(6):
        add(agent, "tools", name=f"t{n}", tool_kind="rest_api", endpoint="https://x",
            operations=["a"])
    from almportal.reviews.models import AccessReview

    AccessReview.objects.filter(pk=review.pk).update(state=ReviewState.COMPLETED,
                                                     completed_at=later(400))
    [second] = open_reviews(now=later(800))
    assert second.items.count() == 9
    assert _queries(client, second.get_absolute_url()) == few


def test_the_task_list_query_count_does_not_grow_with_rows(client, owner, security):
    def revoke_all():
        for review in open_reviews(now=later(400)):
            client.force_login(owner)
            client.post(reverse("reviews:review-certify", args=[review.pk]),
                        certify_data(review, "revoke"))

    live_agent(owner, name="First")
    revoke_all()
    client.force_login(security)
    one = _queries(client, reverse("reviews:task-list"))
    for n in range(4):
        live_agent(owner, name=f"More {n}")
    revoke_all()
    client.force_login(security)
    assert RevocationTask.objects.count() >= 15
    assert _queries(client, reverse("reviews:task-list")) == one
