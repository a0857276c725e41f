import pytest

from almportal.inventory import services as inventory
from almportal.inventory.choices import RiskTier
from almportal.risk.models import Assessment

from ..conftest import client_for
from ..factories import make_agent
from .helpers import FAQ_ANSWERS, HR_AGENT

pytestmark = pytest.mark.django_db

API = "/api/v1/risk/assessments/"


def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_the_owner_drafts_and_compliance_completes(client, owner, compliance):
    agent = make_agent(owner, **HR_AGENT)
    client_for(client, owner)
    response = _post(client, API, {"agent": agent.slug,
                                   "answers": {"human_oversight": "consequential"}})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft" and body["questionnaire_version"] == 1
    assert body["answers"]["regulated_domain"] == "hr"
    assert body["freshness"] is None
    client_for(client, compliance)
    response = _post(client, f"{API}{body['id']}/complete/", {"answers": {
        "scale": "medium", "tool_access": "writes_approved", "model_hosting": "self_hosted",
        "prohibited_practices": "none", "audience": "internal"}})
    assert response.status_code == 200, response.json()
    done = response.json()
    assert done["tier"] == RiskTier.HIGH and done["computed_tier"] == RiskTier.HIGH
    assert done["freshness"]["state"] == "current"
    assert any(d["decisive"] for d in done["drivers"])


def test_the_api_shows_a_stale_assessment(client, owner, compliance):
    agent = make_agent(owner)
    client_for(client, compliance)
    created = _post(client, API, {"agent": agent.slug, "answers": FAQ_ANSWERS}).json()
    _post(client, f"{API}{created['id']}/complete/", {})
    inventory.agent_update(actor=owner, agent=agent, data={"audience": "public"})
    client_for(client, owner)
    body = client.get(f"{API}{created['id']}/").json()
    assert body["freshness"]["state"] == "stale"
    assert "Audience changed" in body["freshness"]["reasons"][0]
    listed = client.get(API, {"agent": agent.slug}).json()
    assert [a["id"] for a in listed["results"]] == [created["id"]]


def test_bad_answers_give_400_and_write_nothing(client, owner):
    agent = make_agent(owner)
    client_for(client, owner)
    response = _post(client, API, {"agent": agent.slug, "answers": {"autonomy": "maybe"}})
    assert response.status_code == 400
    assert "autonomy" in response.json()["errors"]
    response = _post(client, API, {"agent": agent.slug, "colour": "blue"})
    assert response.status_code == 400
    assert not Assessment.objects.exists()


def test_lowering_the_tier_gives_400(client, owner, compliance):
    agent = make_agent(owner, **HR_AGENT)
    client_for(client, compliance)
    created = _post(client, API, {"agent": agent.slug, "answers": {
        **FAQ_ANSWERS, "regulated_domain": "hr"}}).json()
    response = _post(client, f"{API}{created['id']}/complete/", {"tier": "low"})
    assert response.status_code == 400
    assert "tier" in response.json()["errors"]
    done = _post(client, f"{API}{created['id']}/complete/", {}).json()
    response = _post(client, f"{API}{done['id']}/tier/", {"tier": "critical"})
    assert response.status_code == 400
    response = _post(client, f"{API}{done['id']}/tier/",
                     {"tier": "critical", "justification": "Pay data in scope"})
    assert response.status_code == 200 and response.json()["tier"] == "critical"


def test_it_serves_the_questionnaire_and_the_tier_policies(client, auditor):
    client_for(client, auditor)
    questionnaire = client.get("/api/v1/risk/questionnaires/current/").json()
    assert questionnaire["version"] == 1
    keys = {q["key"] for q in questionnaire["questions"]}
    assert {"action_reach", "human_oversight", "prohibited_practices"} <= keys
    prohibited = next(q for q in questionnaire["questions"]
                      if q["key"] == "prohibited_practices")
    assert "eu-ai-act-art-5" in prohibited["clauses"]
    policies = client.get("/api/v1/risk/tier-policies/").json()
    assert [p["tier"] for p in policies] == ["low", "medium", "high", "critical",
                                             "unacceptable"]
    high = client.get("/api/v1/risk/tier-policies/high/").json()
    assert high["signoff_roles"]["security_reviewer"] == 1


def test_the_auditor_cannot_write_through_the_api(client, owner, auditor):
    agent = make_agent(owner)
    client_for(client, auditor)
    assert _post(client, API, {"agent": agent.slug}).status_code == 403
    assert client.put("/api/v1/risk/tier-policies/low/", {},
                      content_type="application/json").status_code == 405
