"""The ownerless queue through the API: the agents the page lists, and their reassignment
through the same service, with the page's permissions."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope
from almportal.accounts.roles import READ_ONLY_ROLES
from almportal.accounts.services import user_deactivate
from almportal.reviews.selectors import ownerless_agents

from ..api.test_token_scopes import client_with
from ..factories import make_agent

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api-ownerless-agent-list")


def api(user):
    """A token holder's client; a read-only role holds only read tokens, so it signs in."""
    if user.roles & READ_ONLY_ROLES:
        client = APIClient()
        client.force_authenticate(user)
        return client
    return client_with(user, TokenScope.READ, TokenScope.WRITE)


def reassign_url(agent):
    return reverse("api-ownerless-agent-reassign", args=[agent.slug])


@pytest.fixture
def ownerless(owner, admin_user):
    agent = make_agent(owner, name="Orphaned helper")
    user_deactivate(actor=admin_user, user=owner, reason="Left")
    agent.refresh_from_db()
    return agent


def test_it_lists_the_queue_the_page_lists(client, ownerless, owner, other_owner, compliance):
    second = make_agent(owner, name="Another orphan")
    make_agent(other_owner, name="Owned")
    listed = api(compliance).get(LIST_URL)
    assert listed.status_code == 200
    client.force_login(compliance)
    page = client.get(reverse("reviews:ownerless"))
    assert {a["slug"] for a in listed.json()["results"]} \
        == {a.slug for a in page.context["agents"]} == {ownerless.slug, second.slug}
    assert listed.json()["results"][0]["business_owner"] == owner.username


def test_it_lets_auditors_read_the_queue_and_refuses_owners(ownerless, auditor, other_owner):
    assert api(auditor).get(LIST_URL).status_code == 200
    assert api(other_owner).get(LIST_URL).status_code == 403


def test_it_reassigns_through_the_service(ownerless, other_owner, compliance):
    response = api(compliance).post(reassign_url(ownerless), {
        "new_owner": other_owner.username, "reason": "Took over the team"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["slug"] == ownerless.slug
    assert response.json()["business_owner"] == other_owner.username
    ownerless.refresh_from_db()
    assert ownerless.business_owner == other_owner
    latest = ownerless.history.first()
    assert (latest.history_user, latest.history_change_reason) \
        == (compliance, "Took over the team")
    assert list(ownerless_agents()) == []


def test_it_answers_404_for_an_agent_not_in_the_queue(other_owner, compliance, owner):
    owned = make_agent(other_owner, name="Owned")
    response = api(compliance).post(reassign_url(owned), {
        "new_owner": owner.username, "reason": "x"}, format="json")
    assert response.status_code == 404
    owned.refresh_from_db()
    assert owned.business_owner == other_owner


@pytest.mark.parametrize("persona", ["auditor", "other_owner"])
def test_it_refuses_who_may_not_reassign(request, ownerless, owner, other_owner, persona):
    user = request.getfixturevalue(persona)
    response = api(user).post(reassign_url(ownerless), {
        "new_owner": other_owner.username, "reason": "mine now"}, format="json")
    assert response.status_code == 403
    ownerless.refresh_from_db()
    assert ownerless.business_owner == owner


@pytest.mark.parametrize(("body", "field"), [
    ({"new_owner": "oscar", "reason": ""}, "reason"),
    ({"new_owner": "oscar", "reason": "   "}, "reason"),
    ({"new_owner": "nobody", "reason": "x"}, "new_owner"),
    ({"new_owner": "olivia", "reason": "x"}, "new_owner"),  # the deactivated owner
    ({"reason": "x"}, "new_owner"),
])
def test_bad_input_is_a_400_naming_the_field(ownerless, owner, other_owner, compliance, body,
                                             field):
    response = api(compliance).post(reassign_url(ownerless), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    ownerless.refresh_from_db()
    assert ownerless.business_owner == owner
