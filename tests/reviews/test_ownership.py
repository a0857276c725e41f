"""Done when 6: deactivating a user makes their agents ownerless and queued for reassignment."""

import pytest
from django.urls import reverse

from almportal.accounts.models import User
from almportal.accounts.roles import Role
from almportal.accounts.services import user_deactivate
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory.choices import Stage
from almportal.reviews import services
from almportal.reviews.selectors import ownerless_agents

from ..factories import make_agent, make_user

pytestmark = pytest.mark.django_db


def test_deactivating_an_owner_makes_their_agents_ownerless(owner, other_owner, admin_user):
    mine = [make_agent(owner, name="A"), make_agent(owner, stage=Stage.LIVE, name="B")]
    make_agent(other_owner, name="C")
    assert list(ownerless_agents()) == []
    user_deactivate(actor=admin_user, user=owner, reason="Left the company")
    owner.refresh_from_db()
    assert not owner.is_active
    assert list(ownerless_agents()) == mine
    assert all(a.business_owner == owner for a in ownerless_agents())  # kept for the record
    assert owner.history.first().history_change_reason.startswith("Account deactivated")


@pytest.mark.parametrize("persona", ["compliance", "auditor", "other_owner"])
def test_only_admins_deactivate(owner, persona, request):
    with pytest.raises(NotPermitted):
        user_deactivate(actor=request.getfixturevalue(persona), user=owner, reason="x")
    owner.refresh_from_db()
    assert owner.is_active


def test_an_admin_cannot_deactivate_themselves_or_without_a_reason(admin_user, owner):
    with pytest.raises(DomainError):
        user_deactivate(actor=admin_user, user=admin_user, reason="x")
    with pytest.raises(DomainError):
        user_deactivate(actor=admin_user, user=owner, reason=" ")


def test_the_admin_deactivates_through_the_service(client, admin_user, owner):
    agent = make_agent(owner)
    client.force_login(admin_user)
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "deactivate", "_selected_action": [owner.pk]})
    assert response.status_code == 302
    assert list(ownerless_agents()) == [agent]
    assert User.history.filter(id=owner.pk).first().history_user == admin_user


def test_unticking_active_in_the_admin_form_goes_through_the_service(client, admin_user, owner):
    make_agent(owner)
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[owner.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update({"username": owner.username, "is_active": "",
                 "groups": [g.pk for g in owner.groups.all()],
                 "date_joined_0": owner.date_joined.strftime("%Y-%m-%d"),
                 "date_joined_1": owner.date_joined.strftime("%H:%M:%S"),
                 "user_permissions": []})
    data.pop("is_active")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    owner.refresh_from_db()
    assert not owner.is_active
    assert "Account deactivated" in owner.history.first().history_change_reason
    assert ownerless_agents().count() == 1


def test_compliance_reassigns_from_the_queue(client, owner, other_owner, compliance, admin_user):
    agent = make_agent(owner)
    user_deactivate(actor=admin_user, user=owner, reason="Left")
    client.force_login(compliance)
    page = client.get(reverse("reviews:ownerless"))
    assert page.status_code == 200 and agent.name.encode() in page.content
    url = reverse("reviews:reassign", args=[agent.slug])
    assert client.post(url, {"new_owner": other_owner.pk, "reason": ""}).status_code == 400
    response = client.post(url, {"new_owner": other_owner.pk, "reason": "Took over the team"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.business_owner == other_owner
    assert list(ownerless_agents()) == []
    assert client.post(url, {"new_owner": other_owner.pk, "reason": "again"}).status_code == 404


def test_the_queue_refuses_owners_and_auditors_writes(client, owner, other_owner, auditor,
                                                       admin_user):
    agent = make_agent(owner)
    user_deactivate(actor=admin_user, user=owner, reason="Left")
    url = reverse("reviews:reassign", args=[agent.slug])
    client.force_login(other_owner)
    assert client.get(reverse("reviews:ownerless")).status_code == 403
    assert client.post(url, {"new_owner": other_owner.pk, "reason": "mine"}).status_code == 403
    client.force_login(auditor)
    assert client.get(reverse("reviews:ownerless")).status_code == 200
    assert client.post(url, {"new_owner": other_owner.pk, "reason": "x"}).status_code == 403
    agent.refresh_from_db()
    assert agent.business_owner == owner


def test_an_agent_with_an_active_owner_is_not_reassigned_here(owner, other_owner, compliance):
    agent = make_agent(owner)
    with pytest.raises(Conflict):
        services.ownerless_reassign(actor=compliance, agent=agent, new_owner=other_owner,
                                    reason="x")


def test_the_queue_query_count_does_not_grow_with_rows(client, owner, compliance, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_agent(owner, name="First")
    user_deactivate(actor=admin_user, user=owner, reason="Left")
    client.force_login(compliance)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("reviews:ownerless")).status_code == 200
        return len(captured)

    one = queries()
    for n in range(6):
        someone = make_user(Role.BUSINESS_OWNER)
        make_agent(someone, name=f"More {n}")
        user_deactivate(actor=admin_user, user=someone, reason="Left")
    assert ownerless_agents().count() == 7
    assert queries() == one
