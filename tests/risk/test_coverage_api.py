"""Framework coverage through the API: the clauses, statuses and counts the coverage pages
show, to the same readers (the portfolio's to compliance, security, auditors and admins; an
agent's to whoever may see the agent)."""

import pytest

from almportal.accounts.models import TokenScope
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage

from ..api.test_token_scopes import client_with
from ..conftest import client_for
from ..factories import make_agent
from .helpers import assessed

pytestmark = pytest.mark.django_db

PORTFOLIO = "/api/v1/risk/coverage/"


def of_agent(agent) -> str:
    return f"/api/v1/risk/agents/{agent.slug}/coverage/"


def read(user, url):
    return client_with(user, TokenScope.READ).get(url)


def clauses(body) -> dict:
    return {row["clause"]["code"]: row for group in body["frameworks"]
            for row in group["clauses"]}


def test_it_answers_an_agents_coverage_with_its_evidence(owner, compliance):
    assessment = assessed(owner, compliance)
    response = read(owner, of_agent(assessment.agent))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["agent"] == assessment.agent.slug and body["agent_count"] == 1
    rows = clauses(body)
    oversight = rows["eu-ai-act-art-14"]
    assert oversight["status"] == "evidenced"
    assert oversight["clause"]["ref"] == "Art. 14"
    assert oversight["evidence"][0]["agent"] == assessment.agent.slug
    assert oversight["evidence"][0]["source"] == f"Risk assessment #{assessment.pk}"
    assert oversight["evidence"][0]["url"] == assessment.get_absolute_url()
    assert rows["eu-ai-act-art-12"]["status"] == "missing"
    assert rows["eu-ai-act-art-12"]["evidence"] == []


def test_a_stale_assessment_is_no_evidence_here_either(owner, compliance):
    agent = assessed(owner, compliance).agent
    agent = inventory.agent_update(actor=owner, agent=agent, data={"audience": "public"})
    assert clauses(read(owner, of_agent(agent)).json())["eu-ai-act-art-14"]["status"] == \
        "missing"


def test_it_answers_what_the_agent_page_shows(client, owner, compliance):
    agent = assessed(owner, compliance).agent
    body = read(owner, of_agent(agent)).json()
    page = client_for(client, owner).get(f"/risk/agents/{agent.slug}/coverage/")
    html = page.content.decode()
    for code, row in clauses(body).items():
        assert f'data-clause="{code}" data-status="{row["status"]}"' in html
    counts = body["counts"]
    assert (f"{counts['evidenced']} of {body['total']} clauses evidenced, {counts['partial']} "
            f"partly, {counts['missing']} without evidence") in html
    assert [group["label"] for group in body["frameworks"]] == [
        label for label, _ in page.context["groups"]]


def test_someone_who_may_not_see_the_agent_gets_404(owner, other_owner, compliance):
    agent = assessed(owner, compliance).agent
    assert read(other_owner, of_agent(agent)).status_code == 404
    assert read(owner, "/api/v1/risk/agents/no-such-agent/coverage/").status_code == 404


def test_the_portfolio_counts_agents_with_evidence_as_the_page(client, owner, compliance,
                                                               auditor):
    assessed(owner, compliance)
    make_agent(owner, name="Unassessed helper")
    make_agent(owner, Stage.RETIRED, name="Retired helper")
    response = read(auditor, PORTFOLIO)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["agent"] is None and body["agent_count"] == 2
    oversight = clauses(body)["eu-ai-act-art-14"]
    assert oversight["status"] == "partial"
    assert (oversight["evidenced_agents"], oversight["applicable_agents"]) == (1, 2)
    page = client_for(client, auditor).get("/risk/coverage/")
    assert page.context["agent_count"] == body["agent_count"]
    assert page.context["counts"] == body["counts"]
    assert page.context["total"] == body["total"]


@pytest.mark.parametrize("persona", ["compliance", "security", "admin_user"])
def test_the_portfolio_is_for_compliance_security_and_admins(request, persona):
    assert read(request.getfixturevalue(persona), PORTFOLIO).status_code == 200


def test_the_portfolio_is_not_for_owners_as_on_the_page(client, owner):
    response = read(owner, PORTFOLIO)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("The portfolio's framework coverage is for")
    assert client_for(client, owner).get("/risk/coverage/").status_code == 403
