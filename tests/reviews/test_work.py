"""My work: every user sees what waits for them; the page's query count holds with rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.accounts.services import system_user, user_deactivate
from almportal.reviews import services, work
from almportal.reviews.models import AccessReview

from .conftest import add, later, live_agent, open_reviews

pytestmark = pytest.mark.django_db
URL = "/reviews/my-work/"


def test_the_owner_sees_grants_to_certify(client, owner, live):
    [review] = open_reviews(now=later(400))
    client.force_login(owner)
    page = client.get(URL)
    assert page.status_code == 200
    assert b"Access reviews to certify" in page.content
    assert review.get_absolute_url().encode() in page.content


def test_security_sees_revocation_tasks_and_compliance_escalations(client, owner, security,
                                                                  compliance, admin_user, live):
    [review] = open_reviews(now=later(400))
    item = review.items.get(kind="credential")
    services.access_review_certify(actor=owner, review=review,
                                   entries=[{"item": item.pk, "decision": "revoke",
                                             "comment": "unused"}])
    services.access_reviews_escalate_overdue(actor=system_user(), now=later(800))
    user_deactivate(actor=admin_user, user=owner, reason="Left")
    client.force_login(security)
    assert b"Revocation tasks" in client.get(URL).content
    client.force_login(compliance)
    page = client.get(URL).content
    assert b"Overdue access reviews" in page and b"Ownerless agents" in page


def test_an_owner_with_nothing_waiting_sees_so(client, other_owner):
    client.force_login(other_owner)
    assert b"Nothing waits for you" in client.get(URL).content


def test_other_apps_add_sections(client, owner):
    work.register_section("test", lambda user: work.WorkSection(
        "Test things", [work.WorkItem("Do it", "/x/")]))
    try:
        client.force_login(owner)
        assert b"Test things" in client.get(URL).content
    finally:
        work._providers.pop("test")


def test_a_release_waiting_for_sign_off_is_on_my_work(client, owner, compliance, security):
    from almportal.accounts.roles import Role

    from ..factories import make_user
    from ..releases.helpers import high_release

    release = high_release(owner, compliance, make_user(Role.BUSINESS_OWNER, username="dana"))
    client.force_login(security)
    page = client.get(URL).content.decode()
    assert "Sign-offs waiting" in page and release.get_absolute_url() in page
    assert "as security reviewer" in page


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_review_items(client, owner, compliance):
    agent = live_agent(owner)
    open_reviews(now=later(400))
    client.force_login(owner)
    few = _queries(client)
    AccessReview.objects.update(state="completed", completed_at=later(400))
    for n in range(6):
        add(agent, "tools", name=f"t{n}", tool_kind="rest_api", endpoint="https://x",
            operations=["a"])
    open_reviews(now=later(800))
    assert _queries(client) == few
    client.force_login(compliance)
    services.access_reviews_escalate_overdue(actor=system_user(), now=later(900))
    one = _queries(client)
    for n in range(4):
        live_agent(owner, name=f"More {n}")
    open_reviews(now=later(900))
    services.access_reviews_escalate_overdue(actor=system_user(), now=later(1000))
    assert AccessReview.objects.filter(state="escalated").count() == 5
    assert _queries(client) == one


def test_the_nav_links_to_my_work(client, owner):
    client.force_login(owner)
    page = client.get(reverse("portal:home"))
    assert URL.encode() in page.content
