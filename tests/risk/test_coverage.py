import pytest

from almportal.risk.selectors import clause_coverage

from ..conftest import client_for
from ..factories import make_agent
from .helpers import assessed

pytestmark = pytest.mark.django_db


def _by_code(rows):
    return {row.clause.code: row for row in rows}


def test_a_current_assessment_evidences_the_clauses_of_its_questions(owner, compliance):
    agent = assessed(owner, compliance).agent
    rows = _by_code(clause_coverage([agent]))
    assert rows["eu-ai-act-art-14"].status == "evidenced"   # the oversight question
    assert rows["eu-ai-act-art-5"].status == "evidenced"    # the prohibited-practice question
    assert rows["eu-ai-act-art-12"].status == "missing"     # the low tier's checklist only


def test_a_stale_assessment_is_no_evidence(owner, compliance):
    from almportal.inventory import services as inventory

    agent = assessed(owner, compliance).agent
    agent = inventory.agent_update(actor=owner, agent=agent, data={"audience": "public"})
    rows = _by_code(clause_coverage([agent]))
    assert rows["eu-ai-act-art-14"].status == "missing"


def test_the_agent_coverage_page_lists_each_clause_with_its_status(client, owner, compliance):
    agent = assessed(owner, compliance).agent
    client_for(client, owner)
    page = client.get(f"/risk/agents/{agent.slug}/coverage/").content.decode()
    assert 'data-clause="eu-ai-act-art-14" data-status="evidenced"' in page
    assert 'data-clause="eu-ai-act-art-12" data-status="missing"' in page
    assert "Art. 14" in page and "Human oversight" in page


def test_the_portfolio_page_counts_agents_with_evidence(client, owner, compliance, auditor):
    assessed(owner, compliance)
    make_agent(owner, name="Unassessed helper")
    client_for(client, auditor)
    response = client.get("/risk/coverage/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-clause="eu-ai-act-art-14" data-status="partial"' in page
    assert "1 of 2" in page


def test_the_portfolio_page_is_not_for_owners(client, owner):
    client_for(client, owner)
    assert client.get("/risk/coverage/").status_code == 403
