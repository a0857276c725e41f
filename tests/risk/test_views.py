import pytest

from almportal.inventory import services as inventory
from almportal.inventory.choices import RiskTier
from almportal.risk.models import Assessment

from ..conftest import client_for
from ..factories import make_agent
from .helpers import FAQ_ANSWERS, HR_AGENT, assessed

pytestmark = pytest.mark.django_db


def test_the_owner_drafts_through_the_form_with_suggested_answers(client, owner):
    agent = make_agent(owner, **HR_AGENT)
    client_for(client, owner)
    response = client.get(f"/risk/agents/{agent.slug}/assess/")
    assert response.status_code == 200
    assert response.context["form"].initial["regulated_domain"] == "hr"
    assert b"Complete assessment" not in response.content
    response = client.post(f"/risk/agents/{agent.slug}/assess/", {**FAQ_ANSWERS,
                                                                  "action": "save"})
    draft = Assessment.objects.get()
    assert response.status_code == 302 and response.url == draft.get_absolute_url()
    assert draft.state == "draft" and draft.drafted_by == owner
    assert client.get(f"/risk/agents/{agent.slug}/assess/").url == (
        f"/risk/assessments/{draft.pk}/edit/")


def test_compliance_completes_through_the_form(client, owner, compliance):
    agent = make_agent(owner)
    client_for(client, compliance)
    url = f"/risk/agents/{agent.slug}/assess/"
    response = client.post(url, {**FAQ_ANSWERS, "action": "complete", "tier": "high"})
    assert response.status_code == 200
    assert "justification" in response.context["form"].errors
    assert not Assessment.objects.exists()
    response = client.post(url, {**FAQ_ANSWERS, "action": "complete", "tier": "high",
                                 "justification": "Board asked for extra care"})
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert (assessment.computed_tier, assessment.tier) == (RiskTier.LOW, RiskTier.HIGH)
    page = client.get(assessment.get_absolute_url())
    assert b"Board asked for extra care" in page.content
    assert b"decisive" in page.content


def test_the_result_page_shows_drivers_and_history_lists_assessments(client, owner,
                                                                      compliance, auditor):
    assessment = assessed(owner, compliance, **HR_AGENT, answers={
        **FAQ_ANSWERS, "regulated_domain": "hr", "data_sensitivity": "restricted"})
    client_for(client, auditor)
    page = client.get(assessment.get_absolute_url()).content.decode()
    assert "Employment and HR" in page and "badge-high" in page
    history = client.get(f"/risk/agents/{assessment.agent.slug}/").content.decode()
    assert f"#{assessment.pk}" in history and "Current" in history


def test_the_panel_shows_a_stale_assessment_with_its_reason(client, owner, compliance):
    agent = assessed(owner, compliance).agent
    inventory.agent_update(actor=owner, agent=agent, data={"action_reach": "writes_internal"})
    client_for(client, owner)
    page = client.get(f"/risk/agents/{agent.slug}/").content.decode()
    assert "Stale" in page and "Action reach changed" in page
    assert "Reassess" in page
    home = client.get("/risk/").content.decode()
    assert agent.name in home


def test_compliance_raises_the_tier_on_the_result_page(client, owner, compliance):
    assessment = assessed(owner, compliance)
    client_for(client, compliance)
    url = f"/risk/assessments/{assessment.pk}/tier/"
    client.post(url, {"tier": "medium", "justification": ""})
    assessment.refresh_from_db()
    assert assessment.tier == RiskTier.LOW
    client.post(url, {"tier": "medium", "justification": "Customer-facing soon"})
    assessment.refresh_from_db()
    assert assessment.tier == RiskTier.MEDIUM


def test_the_questionnaire_and_policy_pages_render(client, owner):
    client_for(client, owner)
    assert b"social scoring" in client.get("/risk/questionnaire/").content
    assert b"Readiness checklist" in client.get("/risk/policies/").content


def test_the_agent_page_includes_the_risk_panel(client, owner):
    agent = make_agent(owner)
    client_for(client, owner)
    page = client.get(f"/agents/{agent.slug}/").content.decode()
    assert "Risk assessment" in page and "Not assessed" in page
    assert f"/risk/agents/{agent.slug}/assess/" in page
