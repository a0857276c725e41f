"""The impact assessment (EU AI Act Art. 27, ISO/IEC 42001 6.1.4): drafted, signed by an
accountable person and frozen with its content hash; a change is a new version."""

import pytest

from almportal.accounts.roles import Role
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory.choices import Stage
from almportal.risk import register, rules
from almportal.risk.choices import ImpactState
from almportal.risk.models import ImpactAssessment

from ..conftest import client_for
from ..factories import make_user

pytestmark = pytest.mark.django_db

COMPLETE = {
    "affected_people": "About 2,000 staff asking about leave and benefits.",
    "affected_groups": "New joiners; staff on parental leave.",
    "fundamental_rights_risks": "A wrong answer could deny someone leave they are owed.",
    "mitigations": "Answers cite the handbook; HR answers complaints within two days.",
    "oversight_measures": "HR reviews a weekly sample; staff can always ask a person.",
}


def save(actor, agent, **data):
    version, _ = register.impact_assessment_save(actor=actor, agent=agent,
                                                 data={**COMPLETE, **data})
    return version


def test_the_owner_drafts_and_signs_a_version_frozen_by_its_hash(owner, agent):
    draft = save(owner, agent)
    assert (draft.number, draft.state, draft.drafted_by) == (1, ImpactState.DRAFT, owner)
    again, made = register.impact_assessment_save(actor=owner, agent=agent,
                                                  data={"mitigations": "Better ones"})
    assert not made and again.pk == draft.pk  # the open draft is edited in place
    signed = register.impact_assessment_sign(actor=owner, assessment=draft)
    assert (signed.state, signed.signed_by) == (ImpactState.SIGNED, owner)
    assert signed.content_hash == rules.impact_hash(signed)
    assert signed.history.first().history_change_reason == "Impact assessment version 1 signed"


def test_a_change_after_signing_is_a_new_version_from_the_latest(owner, agent, compliance):
    first = register.impact_assessment_sign(actor=compliance, assessment=save(owner, agent))
    second, made = register.impact_assessment_save(actor=owner, agent=agent,
                                                   data={"oversight_measures": "Daily review"})
    assert made and second.number == 2 and second.state == ImpactState.DRAFT
    assert second.affected_people == COMPLETE["affected_people"]  # carried over
    first.refresh_from_db()
    assert first.oversight_measures == COMPLETE["oversight_measures"]  # frozen
    assert first.content_hash == rules.impact_hash(first)


def test_signing_needs_every_part(owner, agent):
    draft = save(owner, agent, mitigations="", oversight_measures=" ")
    with pytest.raises(DomainError) as refused:
        register.impact_assessment_sign(actor=owner, assessment=draft)
    assert set(refused.value.errors) == {"mitigations", "oversight_measures"}


def test_only_accountable_people_sign_and_only_once(owner, agent, security, auditor,
                                                   admin_user):
    draft = save(owner, agent)
    for person in (security, auditor, admin_user):
        with pytest.raises(NotPermitted):
            register.impact_assessment_sign(actor=person, assessment=draft)
    register.impact_assessment_sign(actor=owner, assessment=draft)
    with pytest.raises(Conflict, match="already signed"):
        register.impact_assessment_sign(actor=make_user(Role.COMPLIANCE), assessment=draft)


def test_outsiders_auditors_and_retired_agents_get_no_draft(owner, other_owner, auditor,
                                                            agent):
    for person in (other_owner, auditor):
        with pytest.raises(NotPermitted):
            save(person, agent)
    agent.stage = Stage.RETIRED
    agent.save()
    with pytest.raises(Conflict):
        save(owner, agent)


def test_bad_input_is_a_field_error(owner, agent):
    with pytest.raises(DomainError) as refused:
        save(owner, agent, mitigations="x" * 4001)
    assert "mitigations" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        save(owner, agent, state="signed")
    assert "state" in refused.value.errors
    assert not ImpactAssessment.objects.exists()


# --- API -------------------------------------------------------------------------------------

def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_the_api_creates_versions_and_signs(client, owner, agent):
    url = f"/api/v1/risk/agents/{agent.slug}/impact-assessments/"
    client_for(client, owner)
    response = _post(client, url, COMPLETE)
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == 1
    assert _post(client, url, {"mitigations": "More"}).status_code == 200
    response = _post(client, f"{url}1/sign/", {})
    assert response.status_code == 200 and response.json()["state"] == "signed"
    assert _post(client, f"{url}1/sign/", {}).status_code == 409
    assert _post(client, url, {"mitigations": "Even more"}).json()["number"] == 2
    assert [v["number"] for v in client.get(url).json()] == [2, 1]
    assert client.get(f"{url}9/").status_code == 404


def test_the_api_answers_400_403_and_404(client, owner, other_owner, auditor, agent):
    url = f"/api/v1/risk/agents/{agent.slug}/impact-assessments/"
    client_for(client, owner)
    response = _post(client, url, {"mitigations": 12, "signed_by": "olivia"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"signed_by"}
    assert _post(client, url, {"affected_people": "Staff"}).status_code == 201
    response = _post(client, f"{url}1/sign/", {})
    assert response.status_code == 400 and "mitigations" in response.json()["errors"]
    client_for(client, auditor)
    assert client.get(url).status_code == 200
    assert _post(client, url, COMPLETE).status_code == 403
    assert _post(client, f"{url}1/sign/", {}).status_code == 403
    client_for(client, other_owner)
    assert client.get(url).status_code == 404
    assert _post(client, f"{url}1/sign/", {}).status_code == 404


# --- Pages -----------------------------------------------------------------------------------

def test_the_owner_drafts_and_signs_through_the_pages(client, owner, agent):
    client_for(client, owner)
    url = f"/risk/agents/{agent.slug}/impact/"
    response = client.post(url, COMPLETE)
    version = ImpactAssessment.objects.get()
    assert response.status_code == 302 and response.url == version.get_absolute_url()
    page = client.get(version.get_absolute_url())
    assert page.context["may_sign"] and b"Sign version 1" in page.content
    response = client.post(f"{url}1/sign/")
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.is_signed
    page = client.get(version.get_absolute_url()).content.decode()
    assert version.content_hash in page and "data-hash-mismatch" not in page


def test_another_user_gets_404_and_the_auditor_reads_only(client, owner, other_owner, auditor,
                                                         agent):
    version = save(owner, agent)
    client_for(client, other_owner)
    assert client.get(f"/risk/agents/{agent.slug}/impact/").status_code == 404
    assert client.get(version.get_absolute_url()).status_code == 404
    client_for(client, auditor)
    page = client.get(f"/risk/agents/{agent.slug}/impact/")
    assert page.status_code == 200 and page.context["form"] is None
    assert not client.get(version.get_absolute_url()).context["may_sign"]
    assert client.post(f"/risk/agents/{agent.slug}/impact/1/sign/").status_code == 403
    assert client.post(f"/risk/agents/{agent.slug}/impact/", COMPLETE).status_code == 403
