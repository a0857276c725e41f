"""The risk register: risks rated and owned, treated, and their residual risk accepted by an
accountable person, bound to what was accepted; the API and pages that keep it."""

import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.utils import timezone

from almportal.accounts.roles import Role
from almportal.audit.selectors import agent_as_of
from almportal.audit.services import ledger_catch_up
from almportal.audit.signing import private_key_pem
from almportal.audit.verify import verify_pack
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory.choices import Stage
from almportal.risk import register, rules, selectors
from almportal.risk.choices import RiskRating, RiskStatus, TreatmentStatus
from almportal.risk.models import ImpactAssessment, ResidualRiskAcceptance, RiskEntry

from ..audit.test_pack_and_as_of import pack_of
from ..audit.test_signing_and_packs import _set, forge
from ..conftest import client_for
from ..factories import make_agent, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1/risk/agents/{slug}/"


def a_risk(actor, agent, reason="", **data):
    return register.risk_entry_create(actor=actor, agent=agent, reason=reason, data={
        "title": "Wrong answer about leave rights", "likelihood": 3, "impact": 3, **data})


def treat(actor, entry, *, status=TreatmentStatus.DONE, likelihood=1, impact=2, **data):
    return register.treatment_create(actor=actor, entry=entry, data={
        "kind": "mitigate", "description": "Cite the handbook in every answer",
        "status": status, "residual_likelihood": likelihood, "residual_impact": impact,
        **data})


def accept(actor, entry, statement="Residual risk is within appetite"):
    return register.acceptance_sign(actor=actor, entry=entry, statement=statement)


# --- Rules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("likelihood, impact, expected", [
    (1, 4, RiskRating.LOW), (1, 5, RiskRating.MEDIUM), (3, 3, RiskRating.MEDIUM),
    (2, 5, RiskRating.HIGH), (4, 4, RiskRating.HIGH), (4, 5, RiskRating.CRITICAL),
    (5, 5, RiskRating.CRITICAL)])
def test_it_rates_likelihood_times_impact(likelihood, impact, expected):
    assert rules.rating(likelihood, impact) == expected


def test_the_residual_comes_from_done_treatments_only(owner, agent):
    entry = a_risk(owner, agent, likelihood=4, impact=4)
    treat(owner, entry, status=TreatmentStatus.PLANNED, likelihood=1, impact=1)
    assert selectors.register_rows(agent)[0].residual_rating == RiskRating.HIGH
    treat(owner, entry, likelihood=2, impact=2)
    assert selectors.register_rows(agent)[0].residual_rating == RiskRating.LOW


# --- Services --------------------------------------------------------------------------------

def test_the_owner_records_a_risk_rated_and_owned_with_history(owner, agent):
    entry = a_risk(owner, agent, likelihood=4, impact=5, reason="Found in testing")
    assert (entry.inherent_rating, entry.status, entry.owner, entry.recorded_by) == (
        RiskRating.CRITICAL, RiskStatus.OPEN, owner, owner)
    row = entry.history.get()
    assert (row.history_user, row.history_change_reason) == (owner, "Found in testing")


@pytest.mark.parametrize("data, field", [
    ({"likelihood": 6}, "likelihood"), ({"impact": 0}, "impact"), ({"title": ""}, "title"),
    ({"colour": "red"}, "colour")])
def test_bad_input_is_a_field_error(owner, agent, data, field):
    with pytest.raises(DomainError) as refused:
        a_risk(owner, agent, **data)
    assert field in refused.value.errors
    assert not RiskEntry.objects.exists()


def test_the_owner_must_see_the_agent(owner, other_owner, agent):
    with pytest.raises(DomainError) as refused:
        a_risk(owner, agent, owner=other_owner)
    assert "owner" in refused.value.errors


def test_outsiders_and_auditors_may_not_keep_the_register(other_owner, auditor, agent):
    for person in (other_owner, auditor):
        with pytest.raises(NotPermitted):
            a_risk(person, agent)


def test_a_retired_agents_register_is_frozen(owner, agent, compliance):
    entry = a_risk(owner, agent)
    agent.stage = Stage.RETIRED
    agent.save()
    with pytest.raises(Conflict):
        a_risk(compliance, agent)
    with pytest.raises(Conflict):
        accept(owner, entry)


def test_a_treatment_makes_the_risk_treated_and_closing_follows_the_moves(owner, agent):
    entry = a_risk(owner, agent)
    treat(owner, entry)
    entry.refresh_from_db()
    assert entry.status == RiskStatus.TREATED
    entry = register.risk_entry_update(actor=owner, entry=entry, data={"status": "closed"})
    assert entry.status == RiskStatus.CLOSED
    with pytest.raises(Conflict):
        register.risk_entry_update(actor=owner, entry=entry, data={"title": "Changed"})
    with pytest.raises(Conflict):
        treat(owner, entry)
    entry = register.risk_entry_update(actor=owner, entry=entry, data={"status": "open"})
    assert entry.status == RiskStatus.TREATED  # its treatment still stands
    with pytest.raises(Conflict):
        register.risk_entry_update(actor=owner, entry=entry, data={"status": "accepted"})


# --- Acceptance ------------------------------------------------------------------------------

def test_the_business_owner_accepts_a_medium_residual_risk(owner, agent):
    entry = a_risk(owner, agent, likelihood=4, impact=4)
    treat(owner, entry, likelihood=2, impact=3)
    acceptance = accept(owner, entry)
    entry.refresh_from_db()
    assert entry.status == RiskStatus.ACCEPTED
    assert acceptance.residual_rating == RiskRating.MEDIUM
    assert acceptance.content_hash == rules.register_hash(entry, entry.treatments.all())
    row = selectors.register_rows(agent)[0]
    assert row.acceptance == acceptance and row.acceptance_matches


def test_a_later_edit_shows_the_acceptance_no_longer_matches(owner, agent):
    entry = a_risk(owner, agent)
    treatment = treat(owner, entry)
    accept(owner, entry)
    register.treatment_update(actor=owner, treatment=treatment, data={"residual_impact": 3})
    row = selectors.register_rows(agent)[0]
    assert row.acceptance is not None and not row.acceptance_matches
    assert row.entry.status == RiskStatus.TREATED
    accept(owner, entry, "Accepted again after the change")  # a new acceptance matches again
    assert selectors.register_rows(agent)[0].acceptance_matches


def test_it_refuses_an_acceptance_from_someone_not_accountable(owner, agent, security,
                                                               auditor, admin_user):
    entry = a_risk(owner, agent)
    treat(owner, entry)
    for person in (security, auditor, admin_user):
        with pytest.raises(NotPermitted):
            accept(person, entry)


def test_it_refuses_acceptance_without_a_settled_treatment(owner, agent):
    entry = a_risk(owner, agent)
    with pytest.raises(Conflict, match="treated"):
        accept(owner, entry)
    treatment = treat(owner, entry, status=TreatmentStatus.IN_PROGRESS)
    with pytest.raises(Conflict, match="in progress"):
        accept(owner, entry)
    register.treatment_update(actor=owner, treatment=treatment, data={"status": "cancelled"})
    with pytest.raises(Conflict, match="treated"):
        accept(owner, entry)


def test_it_never_accepts_a_critical_residual_risk(owner, agent, compliance):
    entry = a_risk(compliance, agent, likelihood=5, impact=5)
    treat(owner, entry, likelihood=4, impact=5)
    with pytest.raises(Conflict, match="critical"):
        accept(make_user(Role.COMPLIANCE), entry)


def test_a_high_residual_risk_needs_an_independent_compliance_officer(owner, agent,
                                                                      compliance):
    entry = a_risk(compliance, agent, likelihood=4, impact=4)
    treat(owner, entry, likelihood=3, impact=4)  # high
    with pytest.raises(NotPermitted, match="independent|neither"):
        accept(owner, entry)  # the business owner
    with pytest.raises(NotPermitted):
        accept(compliance, entry)  # recorded the risk
    compliance_owner = make_user(Role.COMPLIANCE)
    owned = make_agent(owner)
    owned.business_owner = compliance_owner  # a compliance officer who owns an agent
    owned.save()
    owned_entry = a_risk(compliance, owned, likelihood=4, impact=4)
    treat(compliance, owned_entry, likelihood=3, impact=4)
    with pytest.raises(NotPermitted):
        accept(compliance_owner, owned_entry)  # owns the agent
    independent = make_user(Role.COMPLIANCE)
    assert accept(independent, entry).accepted_by == independent


def test_it_needs_a_statement_and_refuses_accepting_twice(owner, agent):
    entry = a_risk(owner, agent)
    treat(owner, entry)
    with pytest.raises(DomainError) as refused:
        accept(owner, entry, statement="  ")
    assert "statement" in refused.value.errors
    accept(owner, entry)
    with pytest.raises(Conflict, match="already"):
        accept(owner, entry)
    assert ResidualRiskAcceptance.objects.count() == 1


def test_it_refuses_accepting_a_closed_risk(owner, agent):
    entry = a_risk(owner, agent)
    treat(owner, entry)
    register.risk_entry_update(actor=owner, entry=entry, data={"status": "closed"})
    with pytest.raises(Conflict, match="closed"):
        accept(owner, entry)


# --- API -------------------------------------------------------------------------------------

def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_the_api_records_treats_and_accepts(client, owner, agent):
    client_for(client, owner)
    base = API.format(slug=agent.slug)
    response = _post(client, f"{base}risks/", {"title": "Leaks salary data", "likelihood": 2,
                                               "impact": 5})
    assert response.status_code == 201, response.json()
    risk_id = response.json()["risk"]["id"]
    assert response.json()["risk"]["owner"] == owner.username
    response = _post(client, f"{base}risks/{risk_id}/treatments/", {
        "kind": "mitigate", "description": "Mask salaries", "status": "done",
        "residual_likelihood": 1, "residual_impact": 4})
    assert response.status_code == 201, response.json()
    response = _post(client, f"{base}risks/{risk_id}/accept/", {"statement": "Acceptable"})
    assert response.status_code == 201, response.json()
    body = client.get(f"{base}risks/{risk_id}/").json()
    assert body["acceptance_matches"] and body["risk"]["status"] == "accepted"
    response = client.patch(f"{base}risks/{risk_id}/", {"impact": 4},
                            content_type="application/json")
    assert response.status_code == 200 and not response.json()["acceptance_matches"]
    assert len(client.get(f"{base}risks/").json()) == 1


@pytest.mark.parametrize("data, field", [
    ({"title": "x", "likelihood": 9, "impact": 1}, "likelihood"),
    ({"likelihood": 1, "impact": 1}, "title"),
    ({"title": "x", "likelihood": 1, "impact": 1, "owner": "nobody"}, "owner"),
    ({"title": "x", "likelihood": 1, "impact": 1, "inherent_rating": "low"}, "inherent_rating"),
])
def test_the_api_answers_bad_input_with_field_errors(client, owner, agent, data, field):
    client_for(client, owner)
    response = _post(client, f"{API.format(slug=agent.slug)}risks/", data)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_api_refuses_others(client, owner, other_owner, auditor, agent):
    entry = a_risk(owner, agent)
    base = API.format(slug=agent.slug)
    client_for(client, other_owner)
    assert client.get(f"{base}risks/").status_code == 404
    assert _post(client, f"{base}risks/", {"title": "x", "likelihood": 1,
                                           "impact": 1}).status_code == 404
    client_for(client, auditor)
    assert client.get(f"{base}risks/{entry.pk}/").status_code == 200
    assert _post(client, f"{base}risks/", {"title": "x", "likelihood": 1,
                                           "impact": 1}).status_code == 403
    assert _post(client, f"{base}risks/{entry.pk}/accept/",
                 {"statement": "ok"}).status_code == 403


def test_the_api_refuses_an_unsettled_acceptance_with_409(client, owner, agent):
    entry = a_risk(owner, agent)
    client_for(client, owner)
    response = _post(client, f"{API.format(slug=agent.slug)}risks/{entry.pk}/accept/",
                     {"statement": "ok"})
    assert response.status_code == 409


# --- Pages -----------------------------------------------------------------------------------

def test_the_owner_records_a_risk_through_the_page(client, owner, agent):
    client_for(client, owner)
    url = f"/risk/agents/{agent.slug}/register/"
    response = client.post(url, {"title": "", "likelihood": "3", "impact": "3"})
    assert response.status_code == 200 and "title" in response.context["form"].errors
    response = client.post(url, {"title": "Hallucinated policy", "likelihood": "3",
                                 "impact": "3"})
    entry = RiskEntry.objects.get()
    assert response.status_code == 302 and response.url == entry.get_absolute_url()
    client.post(f"/risk/agents/{agent.slug}/register/{entry.pk}/treatments/", {
        "kind": "mitigate", "description": "Ground answers", "status": "done",
        "residual_likelihood": "1", "residual_impact": "2"})
    response = client.post(f"/risk/agents/{agent.slug}/register/{entry.pk}/accept/",
                           {"statement": "Low enough"})
    assert response.status_code == 302
    page = client.get(entry.get_absolute_url()).content.decode()
    assert "Accepted" in page and "Low enough" in page


def test_the_page_shows_an_acceptance_that_no_longer_matches(client, owner, agent):
    entry = a_risk(owner, agent)
    treat(owner, entry)
    accept(owner, entry)
    register.risk_entry_update(actor=owner, entry=entry, data={"impact": 5})
    client_for(client, owner)
    page = client.get(f"/risk/agents/{agent.slug}/register/").content.decode()
    assert "data-acceptance-stale" in page


def test_another_user_gets_404_and_the_auditor_reads_only(client, owner, other_owner, auditor,
                                                         agent):
    entry = a_risk(owner, agent)
    client_for(client, other_owner)
    assert client.get(f"/risk/agents/{agent.slug}/register/").status_code == 404
    assert client.get(entry.get_absolute_url()).status_code == 404
    client_for(client, auditor)
    page = client.get(entry.get_absolute_url())
    assert page.status_code == 200 and page.context["entry_form"] is None
    assert page.context["accept_form"] is None
    assert client.post(f"/risk/agents/{agent.slug}/register/{entry.pk}/accept/",
                       {"statement": "x"}).status_code == 403


def test_the_agent_page_links_to_the_register(client, owner, agent):
    client_for(client, owner)
    page = client.get(agent.get_absolute_url()).content.decode()
    assert f"/risk/agents/{agent.slug}/register/" in page
    assert f"/risk/agents/{agent.slug}/impact/" in page


def test_the_register_page_query_count_does_not_grow_with_rows(client, owner, agent,
                                                               django_assert_max_num_queries):
    client_for(client, owner)
    url = f"/risk/agents/{agent.slug}/register/"
    treat(owner, a_risk(owner, agent))
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for _ in range(5):
        entry = a_risk(owner, agent)
        treat(owner, entry)
        accept(owner, entry)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


# --- Evidence pack ---------------------------------------------------------------------------

def test_the_pack_lists_the_register_and_impact_assessment_as_present(client, owner, agent,
                                                                      auditor, settings):
    settings.AUDIT_SIGNING_KEY = private_key_pem(Ed25519PrivateKey.generate()).decode("ascii")
    entry = a_risk(owner, agent)
    treat(owner, entry)
    accept(owner, entry)
    version, _ = register.impact_assessment_save(actor=owner, agent=agent,
                                                 data={"affected_people": "Staff"})
    ledger_catch_up()
    client_for(client, auditor)
    body = pack_of(client, f"/audit/agents/{agent.slug}/evidence-pack.zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    index = {i["key"]: i for i in json.loads(archive.read("index/evidence-index.json"))}
    for key in ("risk_register", "impact_assessment"):
        assert index[key]["status"] == "present"
    sources = {s["model"]: s["files"] for s in index["risk_register"]["sources"]}
    assert sources["risk.residualriskacceptance"] == ["risk-register/"]
    assert index["impact_assessment"]["sources"] == [
        {"model": "risk.impactassessment", "files": ["impact-assessment/"]}]
    risks = json.loads(archive.read("risk-register/risks.json"))
    acceptances = json.loads(archive.read("risk-register/acceptances.json"))
    assert [r["id"] for r in risks] == [entry.pk] and len(acceptances) == 1
    versions = json.loads(archive.read("impact-assessment/versions.json"))
    assert [v["id"] for v in versions] == [version.pk]
    assert verify_pack(io.BytesIO(body)).ok  # every record checked against its history
    path = "risk-register/acceptances.json"
    forged = verify_pack(io.BytesIO(forge(body, path, _set("accepted_by_id", auditor.pk))))
    assert any(p.startswith(f"{path}: ") and "field accepted_by_id " in p
               for p in forged.problems)


def test_the_as_of_view_shows_the_register_as_it_stood(owner, agent):
    entry = a_risk(owner, agent)
    treat(owner, entry)
    accept(owner, entry)
    before = timezone.now()
    register.risk_entry_update(actor=owner, entry=entry, data={"title": "Retitled risk"})
    sections = {s.title: s for s in agent_as_of(agent, before).sections}
    titles = [item.title for item in sections["Risk register"].items]
    assert f"Risk #{entry.pk}: Wrong answer about leave rights" in titles
    assert any(t.startswith("Acceptance #") for t in titles)
    now = {s.title: s for s in agent_as_of(agent, timezone.now()).sections}
    assert f"Risk #{entry.pk}: Retitled risk" in [i.title for i in now["Risk register"].items]


# --- Demo data -------------------------------------------------------------------------------

def test_the_demo_holds_registers_with_signed_acceptance_and_impact_assessment():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (RiskEntry.objects.count(), ResidualRiskAcceptance.objects.count(),
              ImpactAssessment.objects.filter(state="signed").count())
    assert counts[0] >= 3 and counts[1] >= 2 and counts[2] >= 2
    high = ResidualRiskAcceptance.objects.get(risk_entry__agent__slug="customer-support-assistant")
    assert high.residual_rating == RiskRating.HIGH
    assert high.accepted_by.username == "compliance2"  # independent of the owner and recorder
    assert all(row.acceptance_matches for row in selectors.register_rows(high.risk_entry.agent))
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    assert "already present" in output.getvalue()
    assert counts == (RiskEntry.objects.count(), ResidualRiskAcceptance.objects.count(),
                      ImpactAssessment.objects.filter(state="signed").count())
