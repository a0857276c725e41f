"""Saving a draft assessment's answers through the API without completing it: the page's
"save draft", through the same service, with the page's permissions."""

import pytest
from django.urls import reverse

from almportal.accounts.models import TokenScope
from almportal.inventory import services as inventory
from almportal.risk import services

from ..api.test_token_scopes import client_with
from ..conftest import client_for
from ..factories import make_agent, make_user
from .helpers import FAQ_ANSWERS

pytestmark = pytest.mark.django_db


def url(assessment) -> str:
    return reverse("api-risk-assessment-detail", args=[assessment.pk])


def patch(client, assessment, data):
    return client.patch(url(assessment), data, content_type="application/json")


@pytest.fixture
def draft(owner):
    agent = make_agent(owner)
    return services.assessment_draft(actor=owner, agent=agent,
                                     answers={"autonomy": "suggest_only"})


def test_the_owner_saves_answers_with_a_token(draft, owner):
    token_client = client_with(owner, TokenScope.READ, TokenScope.WRITE)
    response = token_client.patch(url(draft), {"answers": {"scale": "medium"},
                                               "reason": "Scale agreed"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "draft"
    assert body["answers"]["scale"] == "medium"
    assert body["answers"]["autonomy"] == "suggest_only"  # kept: not named
    draft.refresh_from_db()
    assert draft.answers == body["answers"]
    latest = draft.history.first()
    assert (latest.history_user, latest.history_change_reason) == (owner, "Scale agreed")


def test_the_page_shows_what_the_api_saved(client, draft, owner):
    client_for(client, owner)
    saved = patch(client, draft, {"answers": {"scale": "large"}}).json()["answers"]
    page = client.get(reverse("risk:assessment-edit", args=[draft.pk]))
    assert page.context["form"].initial == saved
    assert draft.history.first().history_change_reason == "Risk assessment draft saved"


def test_a_delegate_saves_a_draft_but_does_not_complete_it(client, draft, owner):
    delegate = make_user("business_owner")
    inventory.agent_add_delegate(actor=owner, agent=draft.agent, user=delegate)
    client_for(client, delegate)
    assert patch(client, draft, {"answers": FAQ_ANSWERS}).status_code == 200
    response = client.post(reverse("api-risk-assessment-complete", args=[draft.pk]), {},
                           content_type="application/json")
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == "draft" and draft.answers == FAQ_ANSWERS


def test_another_owner_gets_404_and_an_auditor_403(client, draft, other_owner, auditor):
    before = dict(draft.answers)
    client_for(client, other_owner)
    assert patch(client, draft, {"answers": {"scale": "large"}}).status_code == 404
    client_for(client, auditor)
    assert patch(client, draft, {"answers": {"scale": "large"}}).status_code == 403
    draft.refresh_from_db()
    assert draft.answers == before
    assert draft.history.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"answers": {"scale": "enormous"}}, "scale"),
    ({"answers": {"colour": "blue"}}, "colour"),
    ({"answers": "scale=large"}, "answers"),
    ({}, "answers"),
    ({"answers": {"scale": "large"}, "tier": "high"}, "tier"),
])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(client, draft, owner, body,
                                                                field):
    before = dict(draft.answers)
    client_for(client, owner)
    response = patch(client, draft, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    draft.refresh_from_db()
    assert draft.answers == before
    assert draft.history.count() == 1


def test_a_completed_assessment_is_a_409(client, draft, owner, compliance):
    services.assessment_update(actor=owner, assessment=draft, answers=FAQ_ANSWERS)
    done = services.assessment_complete(actor=compliance, assessment=draft)
    client_for(client, owner)
    response = patch(client, done, {"answers": {"scale": "large"}})
    assert response.status_code == 409
    done.refresh_from_db()
    assert done.answers["scale"] == FAQ_ANSWERS["scale"]
