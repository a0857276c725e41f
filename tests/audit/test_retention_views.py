"""Placing and releasing retention holds from the page: the service's refusals come back the one
way every page shows them (on the form, or as messages after a redirect)."""

import pytest

from almportal.audit.models import RetentionHold
from almportal.audit.services import retention_hold_place

from ..conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def hold(agent, compliance):
    return retention_hold_place(actor=compliance, agent=agent, reason="Litigation",
                                legal_hold=True)


def _release(client, agent, hold, reason):
    return client.post(f"/audit/agents/{agent.slug}/retention/{hold.pk}/release/",
                       {"reason": reason}, follow=True)


def test_it_releases_a_hold_with_a_reason(client, agent, compliance, hold):
    response = _release(client_for(client, compliance), agent, hold, "Case closed")
    assert "The hold is released." in response.content.decode()
    assert RetentionHold.objects.get(pk=hold.pk).released_at is not None


def test_it_asks_why_and_keeps_the_hold(client, agent, compliance, hold):
    response = _release(client_for(client, compliance), agent, hold, "")
    assert "Say why the hold is released." in response.content.decode()
    assert RetentionHold.objects.get(pk=hold.pk).released_at is None


def test_a_second_release_is_refused_as_a_message(client, agent, compliance, hold):
    client_for(client, compliance)
    _release(client, agent, hold, "Case closed")
    response = _release(client, agent, hold, "Again")
    assert response.status_code == 200
    assert "already released" in response.content.decode()


def test_it_refuses_the_owner(client, agent, owner, hold):
    response = _release(client_for(client, owner), agent, hold, "Mine")
    assert response.status_code in (403, 404)
    assert RetentionHold.objects.get(pk=hold.pk).released_at is None
