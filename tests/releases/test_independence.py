"""The independence rule (releases.rules): each way of breaking it is refused with its message,
at the service, in the page and in the API."""

import pytest

from almportal.accounts.roles import Role
from almportal.core.errors import DomainError, NotPermitted
from almportal.inventory import services as inventory
from almportal.inventory.models import AgentGroupObjectPermission, AgentUserObjectPermission
from almportal.releases import rules, selectors, services
from almportal.releases import services as release_services
from almportal.releases.choices import Decision, ItemStatus
from almportal.releases.models import ChecklistItem, SignOff
from almportal.risk import rules as risk_rules
from almportal.risk import services as risk
from almportal.risk.models import Assessment

from ..conftest import client_for
from ..factories import make_prompt, make_release, make_user
from ..risk.helpers import FAQ_ANSWERS
from .helpers import add_link, high_release, sign

pytestmark = pytest.mark.django_db

INVOLVED_SIGNER = ("You are involved in this release (a delegate of the agent), so you may not "
                   "sign as compliance officer: that sign-off comes from someone independent "
                   "of it.")
AUTHOR_SIGNER = ("You are involved in this release (the author of a component version in its "
                 "manifest), so you may not sign as security reviewer")


@pytest.fixture
def release(owner, compliance, delegate):
    return high_release(owner, compliance, delegate)


@pytest.fixture
def delegate_compliance(release, owner):
    """A compliance officer the owner made a delegate of the agent."""
    person = make_user(Role.COMPLIANCE, username="dcomp")
    inventory.agent_add_delegate(actor=owner, agent=release.agent, user=person)
    return person


def _first_security_signoff(release):
    sign(release, make_user(Role.SECURITY, username="sec-independent"), Role.SECURITY)


def _post_page_sign(client, user, release, role):
    client_for(client, user)
    return client.post(f"{release.get_absolute_url()}sign/",
                       {"role": role, "decision": Decision.APPROVE, "comment": ""})


def _post_api_sign(client, user, release, role):
    client_for(client, user)
    return client.post("/api/v1/signoffs/", {"release": release.pk, "role": role,
                                             "decision": "approve"},
                       content_type="application/json")


def _page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


# --- A delegate who is a compliance officer signs -------------------------------------------

def test_it_refuses_a_delegate_compliance_officer_at_the_service(release, delegate_compliance):
    _first_security_signoff(release)
    with pytest.raises(NotPermitted) as refused:
        sign(release, delegate_compliance, Role.COMPLIANCE)
    assert refused.value.message == INVOLVED_SIGNER


@pytest.mark.parametrize("where", ["page", "api"])
def test_it_refuses_a_delegate_compliance_officer_in_the_page_and_the_api(
        where, client, release, delegate_compliance):
    _first_security_signoff(release)
    before = SignOff.objects.count()
    post = _post_page_sign if where == "page" else _post_api_sign
    response = post(client, delegate_compliance, release, Role.COMPLIANCE)
    assert response.status_code == 403
    said = _page_text(response) if where == "page" else response.json()["detail"]
    assert INVOLVED_SIGNER in said
    assert SignOff.objects.count() == before


def test_a_delegate_at_submission_stays_involved_after_removal(release, owner,
                                                                delegate_compliance):
    """Removing the delegate after the submission does not make them independent."""
    resubmitted = make_release(release.agent, actor=owner)
    resubmitted = release_services.release_submit(actor=owner, release=resubmitted)
    inventory.agent_remove_delegate(actor=owner, agent=release.agent, user=delegate_compliance)
    _first_security_signoff(resubmitted)
    with pytest.raises(NotPermitted) as refused:
        sign(resubmitted, delegate_compliance, Role.COMPLIANCE)
    assert "a delegate of the agent when the release was submitted" in refused.value.message


def test_a_former_delegate_removed_before_submission_may_sign(owner, compliance, delegate):
    person = make_user(Role.COMPLIANCE, username="formerly")
    agent = high_release(owner, compliance, delegate).agent
    inventory.agent_add_delegate(actor=owner, agent=agent, user=person)
    inventory.agent_remove_delegate(actor=owner, agent=agent, user=person)
    release = release_services.release_submit(actor=delegate, release=make_release(agent))
    _first_security_signoff(release)
    assert sign(release, person, Role.COMPLIANCE).decision == Decision.APPROVE


# --- A component author signs ---------------------------------------------------------------

@pytest.fixture
def author_release(owner, compliance, delegate):
    """A security reviewer who, as a delegate, wrote a prompt the release pins, then stopped
    being a delegate before the release was built and submitted."""
    agent = high_release(owner, compliance, delegate).agent
    author = make_user(Role.SECURITY, username="prompt-author")
    inventory.agent_add_delegate(actor=owner, agent=agent, user=author)
    prompt = make_prompt(agent, actor=author, name="author-prompt")
    inventory.agent_remove_delegate(actor=owner, agent=agent, user=author)
    release = make_release(agent, actor=delegate, components={"prompts": [prompt.pk]})
    return release_services.release_submit(actor=delegate, release=release), author


def test_it_refuses_a_component_author_at_the_service(author_release):
    release, author = author_release
    with pytest.raises(NotPermitted) as refused:
        sign(release, author, Role.SECURITY)
    assert AUTHOR_SIGNER in refused.value.message


def test_it_refuses_a_component_author_in_the_page_and_the_api(client, author_release):
    release, author = author_release
    page = _post_page_sign(client, author, release, Role.SECURITY)
    api = _post_api_sign(client, author, release, Role.SECURITY)
    assert page.status_code == api.status_code == 403
    assert AUTHOR_SIGNER in _page_text(page)
    assert AUTHOR_SIGNER in api.json()["detail"]
    assert not SignOff.objects.filter(release=release).exclude(role=Role.BUSINESS_OWNER).exists()


# --- A delegate completes the risk assessment -----------------------------------------------

ASSESSOR_INVOLVED = ("You are involved in this agent or its releases (a delegate of the "
                     "agent), so you may not complete the risk assessment they rest on")


@pytest.fixture
def draft(release, owner, delegate_compliance):
    return risk.assessment_draft(actor=owner, agent=release.agent, answers=FAQ_ANSWERS)


def test_it_refuses_a_delegate_completing_the_assessment_at_the_service(draft,
                                                                        delegate_compliance):
    with pytest.raises(NotPermitted) as refused:
        risk.assessment_complete(actor=delegate_compliance, assessment=draft, tier="high",
                                 justification="HR records")
    assert ASSESSOR_INVOLVED in refused.value.message
    assert not risk_rules.may_complete(delegate_compliance, draft.agent)
    draft.refresh_from_db()
    assert not draft.is_completed


def test_it_refuses_a_delegate_completing_the_assessment_in_the_api(client, draft,
                                                                    delegate_compliance):
    client_for(client, delegate_compliance)
    response = client.post(f"/api/v1/risk/assessments/{draft.pk}/complete/",
                           {"tier": "high", "justification": "HR records"},
                           content_type="application/json")
    assert response.status_code == 403
    assert ASSESSOR_INVOLVED in response.json()["detail"]
    assert not Assessment.objects.get(pk=draft.pk).is_completed


def test_it_refuses_a_delegate_completing_the_assessment_in_the_page(client, draft,
                                                                     delegate_compliance):
    client_for(client, delegate_compliance)
    page = client.get(f"/risk/assessments/{draft.pk}/edit/")
    assert page.status_code == 200
    assert 'value="complete"' not in page.content.decode()  # the page offers no completion
    assert ASSESSOR_INVOLVED in _page_text(page)  # and says why
    response = client.post(f"/risk/assessments/{draft.pk}/edit/",
                           {**FAQ_ANSWERS, "action": "complete", "tier": "high",
                            "justification": "HR records"})
    assert response.status_code in (200, 400, 403)
    assert not Assessment.objects.get(pk=draft.pk).is_completed


def test_an_assessment_completed_by_someone_since_involved_holds_the_gate_back(
        release, owner, compliance):
    """The assessor (compliance) later becomes a delegate: the gate names it."""
    inventory.agent_add_delegate(actor=owner, agent=release.agent, user=compliance)
    missing = services.release_gate(release).condition("risk_assessment").missing
    assert any("who is a delegate of the agent: someone independent must" in m
               for m in missing)


# --- An item owner or an involved person reviews a checklist item ---------------------------

@pytest.fixture
def item(release):
    return release.checklist_items.order_by("order").first()


def test_it_refuses_the_item_owner_as_reviewer(item, owner):
    with pytest.raises(DomainError) as refused:
        services.checklist_item_assign(actor=owner, item=item, reviewer=item.owner)
    assert refused.value.errors == {"reviewer": ["The item's owner cannot review it."]}


def test_it_refuses_an_involved_reviewer_at_the_service(item, owner, delegate):
    security_delegate = make_user(Role.SECURITY, username="secdel")
    inventory.agent_add_delegate(actor=owner, agent=item.release.agent, user=security_delegate)
    with pytest.raises(DomainError) as refused:
        services.checklist_item_assign(actor=owner, item=item, reviewer=security_delegate)
    assert "is involved in this release (a delegate of the agent), so may not review" in (
        refused.value.message)
    assert ChecklistItem.objects.get(pk=item.pk).reviewer_id is None


def test_it_refuses_an_involved_reviewer_in_the_page_and_the_api(client, item, owner,
                                                                 delegate):
    message = "is involved in this release (a delegate of the agent and the release's submitter"
    client_for(client, owner)
    page = client.post(item.get_absolute_url(), {"reviewer": delegate.pk}, follow=True)
    assert message in _page_text(page)
    api = client.patch(f"/api/v1/checklist-items/{item.pk}/", {"reviewer": delegate.username},
                       content_type="application/json")
    assert api.status_code == 400
    assert message in str(api.json())
    assert ChecklistItem.objects.get(pk=item.pk).reviewer_id is None


def test_the_page_offers_only_independent_reviewers(client, item, owner, delegate, security):
    client_for(client, owner)
    form = client.get(item.get_absolute_url()).context["assign_form"]
    offered = set(form.fields["reviewer"].queryset.values_list("username", flat=True))
    assert security.username in offered
    assert not offered & {owner.username, delegate.username}


def test_a_reviewer_who_became_involved_may_not_accept(client, item, owner, security):
    add_link(item, owner)
    item = services.checklist_item_assign(actor=owner, item=item, reviewer=security)
    item = services.checklist_item_set_status(actor=owner, item=item,
                                              status=ItemStatus.IN_REVIEW)
    inventory.agent_add_delegate(actor=owner, agent=item.release.agent, user=security)
    with pytest.raises(NotPermitted) as refused:
        services.checklist_item_set_status(actor=security, item=item,
                                           status=ItemStatus.ACCEPTED)
    assert "is involved in this release (a delegate of the agent)" in refused.value.message
    client_for(client, security)
    api = client.post(f"/api/v1/checklist-items/{item.pk}/status/", {"status": "accepted"},
                      content_type="application/json")
    assert api.status_code == 403
    assert refused.value.message == api.json()["detail"]
    assert ChecklistItem.objects.get(pk=item.pk).status == ItemStatus.IN_REVIEW


# --- An auditor made a delegate -------------------------------------------------------------

AUDITOR_REFUSED = ("holds a read-only role (auditor): they read every agent but are never a "
                   "delegate nor hold any write grant.")


def _auditor_grants(agent, auditor) -> int:
    return AgentUserObjectPermission.objects.filter(content_object=agent, user=auditor).count()


def test_it_refuses_an_auditor_as_delegate_at_the_service(agent, owner, auditor):
    with pytest.raises(DomainError) as refused:
        inventory.agent_add_delegate(actor=owner, agent=agent, user=auditor)
    assert refused.value.message == f"{auditor} {AUDITOR_REFUSED}"
    assert _auditor_grants(agent, auditor) == 0


def test_it_refuses_an_auditor_as_delegate_in_the_page(client, agent, owner, auditor):
    client_for(client, owner)
    response = client.post(f"/agents/{agent.slug}/delegates/add/", {"user": auditor.pk},
                           follow=True)
    assert AUDITOR_REFUSED in _page_text(response)
    assert _auditor_grants(agent, auditor) == 0


def test_it_refuses_an_auditor_as_delegate_in_the_api(client, agent, owner, auditor):
    client_for(client, owner)
    response = client.post(f"/api/v1/agents/{agent.slug}/delegates/",
                           {"user": auditor.username}, content_type="application/json")
    assert response.status_code == 400
    assert AUDITOR_REFUSED in str(response.json())
    assert _auditor_grants(agent, auditor) == 0


def test_it_refuses_an_auditor_write_grant_in_the_admin(client, agent, admin_user, auditor):
    client_for(client, admin_user)
    url = f"/admin/inventory/agent/{agent.pk}/permissions/user-manage/{auditor.pk}/"
    response = client.post(url, {"permissions": ["change_agent"]})
    assert response.status_code == 200
    assert AUDITOR_REFUSED in _page_text(response)
    assert _auditor_grants(agent, auditor) == 0


def test_it_refuses_a_write_grant_to_the_auditors_group_in_the_admin(client, agent, admin_user,
                                                                      auditor):
    group = auditor.groups.get()
    client_for(client, admin_user)
    url = f"/admin/inventory/agent/{agent.pk}/permissions/group-manage/{group.pk}/"
    response = client.post(url, {"permissions": ["change_agent"]})
    assert response.status_code == 200
    assert "read-only role" in _page_text(response)
    assert not AgentGroupObjectPermission.objects.filter(group=group, content_object=agent).exists()


def test_a_group_may_still_be_given_read_access(client, agent, admin_user, auditor):
    group = auditor.groups.get()
    client_for(client, admin_user)
    url = f"/admin/inventory/agent/{agent.pk}/permissions/group-manage/{group.pk}/"
    assert client.post(url, {"permissions": ["view_agent"]}).status_code == 302
    assert AgentGroupObjectPermission.objects.filter(group=group, content_object=agent).exists()


def test_care_is_granted_only_with_sight_in_the_admin(client, agent, admin_user, owner):
    """A person or group in an agent's care sees it (the owner's home relies on it)."""
    person = make_user(Role.BUSINESS_OWNER, username="dana")
    group = person.groups.get()
    client_for(client, admin_user)
    base = f"/admin/inventory/agent/{agent.pk}/permissions"
    for url, held in ((f"{base}/user-manage/{person.pk}/",
                       AgentUserObjectPermission.objects.filter(user=person)),
                      (f"{base}/group-manage/{group.pk}/",
                       AgentGroupObjectPermission.objects.filter(group=group))):
        refused = client.post(url, {"permissions": ["change_agent"]})
        assert refused.status_code == 200 and "must also see it" in _page_text(refused), url
        assert not held.filter(content_object=agent).exists()
        assert client.post(url, {"permissions": ["change_agent", "view_agent"]}).status_code == 302
        assert held.filter(content_object=agent).count() == 2


def test_it_refuses_an_auditor_as_new_owner(agent, admin_user, auditor):
    with pytest.raises(DomainError) as refused:
        inventory.agent_transfer_ownership(actor=admin_user, agent=agent, new_owner=auditor,
                                           reason="Reorganisation")
    assert refused.value.message == f"{auditor} {AUDITOR_REFUSED}"


# --- The rule itself ------------------------------------------------------------------------

def test_the_involvement_names_every_reason(release, owner, delegate, security):
    involvement = selectors.release_involvement(release)
    assert involvement.reasons[owner.pk] == (rules.OWNER, rules.AUTHOR, rules.COMPONENT_AUTHOR)
    assert involvement.reasons[delegate.pk] == (rules.DELEGATE, rules.SUBMITTER)
    assert not involvement.includes(security)


def test_an_owner_holding_a_reviewer_role_signs_only_as_owner(release, owner):
    from django.contrib.auth.models import Group

    from almportal.accounts.roles import GROUP_NAMES

    owner.groups.add(Group.objects.get(name=GROUP_NAMES[Role.SECURITY]))
    owner = type(owner).objects.get(pk=owner.pk)
    with pytest.raises(NotPermitted) as refused:
        sign(release, owner, Role.SECURITY)
    assert refused.value.message.startswith(
        "You are involved in this release (the agent's business owner")
    assert sign(release, make_user(Role.SECURITY), Role.SECURITY)
    assert sign(release, owner, Role.BUSINESS_OWNER).role == Role.BUSINESS_OWNER
