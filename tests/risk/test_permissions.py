import pytest

from almportal.core.errors import NotPermitted
from almportal.inventory import services as inventory
from almportal.risk import services
from almportal.risk.models import Assessment

from ..conftest import client_for
from ..factories import make_agent, make_user
from .helpers import FAQ_ANSWERS

pytestmark = pytest.mark.django_db


def test_the_owner_drafts_for_their_own_agent(agent, owner):
    draft = services.assessment_draft(actor=owner, agent=agent, answers=FAQ_ANSWERS)
    assert draft.drafted_by == owner
    assert draft.history.get().history_user == owner


def test_a_delegate_drafts_too(agent, owner):
    delegate = make_user("business_owner")
    inventory.agent_add_delegate(actor=owner, agent=agent, user=delegate)
    assert services.assessment_draft(actor=delegate, agent=agent).drafted_by == delegate


@pytest.mark.parametrize("persona", ["other_owner", "auditor", "security"])
def test_others_cannot_draft(agent, persona, request):
    with pytest.raises(NotPermitted):
        services.assessment_draft(actor=request.getfixturevalue(persona), agent=agent)
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("persona", ["owner", "other_owner", "auditor", "security"])
def test_only_compliance_and_admins_complete(agent, owner, persona, request):
    draft = services.assessment_draft(actor=owner, agent=agent, answers=FAQ_ANSWERS)
    with pytest.raises(NotPermitted):
        services.assessment_complete(actor=request.getfixturevalue(persona), assessment=draft)
    draft.refresh_from_db()
    assert draft.state == "draft"


@pytest.mark.parametrize("persona", ["compliance", "admin_user"])
def test_compliance_and_admins_complete(agent, owner, persona, request):
    draft = services.assessment_draft(actor=owner, agent=agent, answers=FAQ_ANSWERS)
    services.assessment_complete(actor=request.getfixturevalue(persona), assessment=draft)
    draft.refresh_from_db()
    assert draft.state == "completed"


def test_an_assessor_does_not_complete_for_an_agent_they_own(compliance):
    agent = make_agent(make_user("business_owner"))
    inventory.agent_transfer_ownership(actor=compliance, agent=agent, new_owner=compliance,
                                       reason="Compliance runs this one")
    draft = services.assessment_draft(actor=compliance, agent=agent, answers=FAQ_ANSWERS)
    with pytest.raises(NotPermitted):
        services.assessment_complete(actor=compliance, assessment=draft)


def test_pages_answer_404_to_another_owner(client, agent, owner, other_owner):
    draft = services.assessment_draft(actor=owner, agent=agent)
    client_for(client, other_owner)
    for url in (f"/risk/agents/{agent.slug}/", f"/risk/agents/{agent.slug}/assess/",
                f"/risk/assessments/{draft.pk}/", f"/risk/assessments/{draft.pk}/edit/",
                f"/risk/agents/{agent.slug}/coverage/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/risk/assessments/{draft.pk}/edit/",
                       {**FAQ_ANSWERS, "action": "save"}).status_code == 404


def test_pages_refuse_writes_to_the_auditor_and_security(client, agent, owner, auditor,
                                                         security):
    draft = services.assessment_draft(actor=owner, agent=agent, answers=FAQ_ANSWERS)
    for persona in (auditor, security):
        client_for(client, persona)
        assert client.get(f"/risk/assessments/{draft.pk}/").status_code == 200
        response = client.post(f"/risk/assessments/{draft.pk}/edit/",
                               {**FAQ_ANSWERS, "action": "complete"})
        assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_the_api_answers_404_to_another_owner_and_403_to_the_auditor(client, agent, owner,
                                                                     other_owner, auditor):
    client_for(client, other_owner)
    response = client.post("/api/v1/risk/assessments/", {"agent": agent.slug},
                           content_type="application/json")
    assert response.status_code == 404
    client_for(client, auditor)
    response = client.post("/api/v1/risk/assessments/", {"agent": agent.slug},
                           content_type="application/json")
    assert response.status_code == 403
    draft = services.assessment_draft(actor=owner, agent=agent, answers=FAQ_ANSWERS)
    response = client.post(f"/api/v1/risk/assessments/{draft.pk}/complete/", {},
                           content_type="application/json")
    assert response.status_code == 403
    client_for(client, other_owner)
    assert client.get(f"/api/v1/risk/assessments/{draft.pk}/").status_code == 404
