import pytest
from django.urls import reverse

from almportal.accounts.notifications import notify
from almportal.reviews.models import Decision, RevocationTask

from ..clients import api
from .conftest import later, open_reviews

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(live):
    [review] = open_reviews(now=later(400))
    return review


def certify_url(review):
    return reverse("api-access-review-certify", args=[review.pk])


def test_the_owner_lists_reads_and_certifies(owner, review):
    listed = api(owner).get(reverse("api-access-review-list")).json()
    assert [r["id"] for r in listed["results"]] == [review.pk]
    detail = api(owner).get(reverse("api-access-review-detail", args=[review.pk])).json()
    assert len(detail["items"]) == 3
    entries = [{"item": i["id"], "decision": "revoke" if i["kind"] == "tool" else "keep",
                "comment": "checked"} for i in detail["items"]]
    response = api(owner).post(certify_url(review), {"decisions": entries}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "completed"
    assert RevocationTask.objects.count() == 1


def test_bad_input_is_a_400_and_writes_nothing(owner, review):
    item = review.items.first()
    response = api(owner).post(certify_url(review), {"decisions": [
        {"item": item.pk, "decision": "keep", "comment": ""}]}, format="json")
    assert response.status_code == 400
    assert not review.items.exclude(decision=Decision.PENDING).exists()


def test_another_owner_gets_404_and_an_auditor_403(other_owner, auditor, review):
    item = review.items.first()
    body = {"decisions": [{"item": item.pk, "decision": "keep", "comment": "x"}]}
    assert api(other_owner).get(reverse("api-access-review-detail",
                                        args=[review.pk])).status_code == 404
    assert api(other_owner).post(certify_url(review), body, format="json").status_code == 404
    assert api(auditor).post(certify_url(review), body, format="json").status_code == 403


def test_security_completes_a_task(owner, security, auditor, other_owner, review):
    item = review.items.get(kind="credential")
    api(owner).post(certify_url(review), {"decisions": [
        {"item": item.pk, "decision": "revoke", "comment": "unused"}]}, format="json")
    task = RevocationTask.objects.get()
    url = reverse("api-revocation-task-complete", args=[task.pk])
    assert api(other_owner).post(url, {"note": "x"}, format="json").status_code == 404
    assert api(auditor).post(url, {"note": "x"}, format="json").status_code == 403
    assert api(owner).post(url, {"note": "x"}, format="json").status_code == 403
    assert api(security).get(reverse("api-revocation-task-list")).json()["results"][0]["id"] \
        == task.pk
    response = api(security).post(url, {"note": "Disabled"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "done"


def test_notifications_list_and_mark_read(owner, other_owner):
    [mine] = notify(users=[owner], kind="test", subject="Hello", url="/x/")
    [theirs] = notify(users=[other_owner], kind="test", subject="Other")
    listed = api(owner).get(reverse("api-notification-list") + "?unread=true").json()
    assert [n["id"] for n in listed["results"]] == [mine.pk]
    assert api(owner).post(reverse("api-notification-read",
                                   args=[theirs.pk])).status_code == 404
    response = api(owner).post(reverse("api-notification-read", args=[mine.pk]))
    assert response.status_code == 200 and response.json()["read_at"]
    assert api(owner).get(reverse("api-notification-list") + "?unread=true").json()[
        "results"] == []
    assert api(other_owner).post(reverse("api-notification-read-all")).json() == {"marked": 1}
