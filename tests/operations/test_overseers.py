"""Named human overseers (EU AI Act Art. 14, 26(2)): the owner names them with their training,
auditors read them, and a high-tier agent in production without a trained, active overseer
says so on its pages."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts.roles import Role
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.core.lifecycle import record
from almportal.inventory import services as inventory
from almportal.inventory.choices import RiskTier, Stage
from almportal.operations import rules, selectors, services
from almportal.operations.models import Overseer

from ..conftest import client_for
from ..factories import make_agent, make_user

pytestmark = pytest.mark.django_db
TODAY = date(2025, 6, 1)


@pytest.fixture
def live_high(owner, admin_user):
    agent = make_agent(owner, Stage.LIVE)
    agent.risk_tier = RiskTier.HIGH
    record(agent, actor=admin_user, reason="Assessed high")
    return agent


@pytest.fixture
def operator(db):
    return make_user(Role.BUSINESS_OWNER)


def assign(actor, agent, user, **overrides):
    data = {"role": "operator", "training": "AI oversight course",
            "trained_on": timezone.localdate() - timedelta(days=10),
            "training_expires_on": timezone.localdate() + timedelta(days=300)}
    data.update(overrides)
    return services.overseer_assign(actor=actor, agent=agent, user=user, **data)


# --- Services ------------------------------------------------------------------------------

def test_the_owner_names_an_overseer_with_history(live_high, owner, operator):
    overseer = assign(owner, live_high, operator, evidence_url="https://lms.example/c/1")
    row = overseer.history.get()
    assert row.history_user == owner and "Named overseer" in row.history_change_reason
    assert overseer.assigned_by == owner and overseer.active_from == timezone.localdate()


@pytest.mark.parametrize("persona", ["other_owner", "compliance", "security", "auditor"])
def test_only_the_owner_side_names_overseers(persona, request, live_high, operator):
    with pytest.raises(NotPermitted):
        assign(request.getfixturevalue(persona), live_high, operator)
    assert not Overseer.objects.exists()


def test_an_admin_names_overseers(live_high, admin_user, operator):
    assert assign(admin_user, live_high, operator).pk


def test_bad_records_are_refused_with_field_errors(live_high, owner, operator):
    with pytest.raises(DomainError) as bad_dates:
        assign(owner, live_high, operator, training_expires_on=date(2000, 1, 1))
    assert "training_expires_on" in bad_dates.value.errors
    with pytest.raises(DomainError) as bad_url:
        assign(owner, live_high, operator, evidence_url="not a link")
    assert "evidence_url" in bad_url.value.errors
    operator.is_service_account = True
    with pytest.raises(DomainError) as bot:
        assign(owner, live_high, operator)
    assert "user" in bot.value.errors


def test_the_same_role_is_held_once_until_it_ends(live_high, owner, operator):
    first = assign(owner, live_high, operator)
    with pytest.raises(Conflict):
        assign(owner, live_high, operator)
    services.overseer_end(actor=owner, overseer=first, reason="Moved team")
    assert assign(owner, live_high, operator).pk != first.pk


def test_training_is_renewed_and_unknown_fields_refused(live_high, owner, operator):
    overseer = assign(owner, live_high, operator)
    renewed = services.overseer_update_training(
        actor=owner, overseer=overseer, reason="Renewed",
        data={"trained_on": timezone.localdate(), "training_expires_on": None,
              "training": "Refresher"})
    assert renewed.training == "Refresher" and renewed.history.count() == 2
    with pytest.raises(DomainError) as unknown:
        services.overseer_update_training(actor=owner, overseer=overseer, data={"user": 1})
    assert "user" in unknown.value.errors


# --- The rule ------------------------------------------------------------------------------

def overseer_row(**fields):
    base = {"active_from": TODAY - timedelta(days=30), "active_to": None,
            "trained_on": TODAY - timedelta(days=60), "training_expires_on": None}
    base.update(fields)
    row = Overseer(**base)
    row.user = make_user()
    return row


def test_a_high_tier_live_agent_needs_a_trained_active_overseer(live_high):
    assert rules.oversight_gap(live_high, [], TODAY)
    assert rules.oversight_gap(live_high, [overseer_row()], TODAY) is None


@pytest.mark.parametrize("broken", [
    {"training_expires_on": TODAY - timedelta(days=1)},   # training lapsed
    {"trained_on": TODAY + timedelta(days=1)},            # not trained yet
    {"active_to": TODAY - timedelta(days=1)},             # term ended
    {"active_from": TODAY + timedelta(days=1)},           # term not begun
])
def test_each_way_the_oversight_rule_is_broken(live_high, broken):
    assert rules.oversight_gap(live_high, [overseer_row(**broken)], TODAY)


def test_an_inactive_person_does_not_count(live_high):
    row = overseer_row()
    row.user.is_active = False
    assert rules.oversight_gap(live_high, [row], TODAY)


@pytest.mark.parametrize("tier,stage", [(RiskTier.LOW, Stage.LIVE),
                                        (RiskTier.MEDIUM, Stage.LIVE),
                                        (RiskTier.CRITICAL, Stage.IN_DEVELOPMENT)])
def test_other_tiers_and_stages_need_none(live_high, tier, stage):
    live_high.risk_tier, live_high.stage = tier, stage
    assert rules.oversight_gap(live_high, [], TODAY) is None


def test_the_gap_shows_on_the_agent_and_monitoring_pages(live_high, client, owner, operator):
    client_for(client, owner)
    pages = [live_high.get_absolute_url(),
             reverse("operations:monitoring", args=[live_high.slug]),
             reverse("operations:overseers", args=[live_high.slug])]
    for url in pages:
        assert "Human oversight missing" in client.get(url).content.decode(), url
    assign(owner, live_high, operator)
    assert selectors.oversight_gap_of(live_high) is None
    for url in pages:
        assert "Human oversight missing" not in client.get(url).content.decode(), url


# --- API -----------------------------------------------------------------------------------

def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


URL = "/api/v1/overseers/"


def body(agent, user, **overrides):
    data = {"agent": agent.slug, "user": user.username, "role": "can_halt",
            "training": "Kill-switch drill", "trained_on": "2025-01-10"}
    data.update(overrides)
    return data


def test_the_api_names_and_ends_an_overseer(live_high, owner, operator, auditor):
    created = api(owner).post(URL, body(live_high, operator), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["user"] == operator.username
    pk = created.json()["id"]
    assert api(auditor).get(f"{URL}{pk}/").status_code == 200
    ended = api(owner).post(f"{URL}{pk}/end/", {"reason": "Left"}, format="json")
    assert ended.status_code == 200 and ended.json()["active_to"]


def test_the_api_answers_400_403_404(live_high, owner, other_owner, compliance, auditor,
                                     operator):
    bad = api(owner).post(URL, body(live_high, operator, role="boss", trained_on="soon"),
                          format="json")
    assert bad.status_code == 400 and {"role", "trained_on"} <= set(bad.json()["errors"])
    unknown = api(owner).post(URL, body(live_high, operator, evidence_url="x"), format="json")
    assert unknown.status_code == 400 and "evidence_url" in unknown.json()["errors"]
    assert api(compliance).post(URL, body(live_high, operator), format="json").status_code == 403
    assert api(auditor).post(URL, body(live_high, operator), format="json").status_code == 403
    assert api(other_owner).post(URL, body(live_high, operator),
                                 format="json").status_code == 404
    overseer = assign(owner, live_high, operator)
    assert api(other_owner).get(f"{URL}{overseer.pk}/").status_code == 404
    assert api(other_owner).get(URL).json()["results"] == []


# --- Pages ---------------------------------------------------------------------------------

def test_the_page_names_an_overseer(live_high, client, owner, operator):
    client_for(client, owner)
    url = reverse("operations:overseers", args=[live_high.slug])
    response = client.post(url, {"user": operator.username, "role": "operator",
                                 "training": "Course", "trained_on": "2025-01-01"})
    assert response.status_code == 302
    assert Overseer.objects.get().user == operator
    refused = client.post(url, {"user": operator.username, "role": "operator",
                                "training": "Course", "trained_on": "2025-01-01",
                                "training_expires_on": "2024-01-01"})
    assert refused.status_code == 200 and "cannot expire" in refused.content.decode()
    headers = re.findall(r"<th scope=\"col\">(.*?)</th>", client.get(url).content.decode())
    assert all(headers), headers  # the End column too: each cell has a named header


def test_another_user_gets_404_and_an_auditor_reads(live_high, client, owner, other_owner,
                                                    auditor, operator):
    overseer = assign(owner, live_high, operator)
    url = reverse("operations:overseers", args=[live_high.slug])
    assert client_for(client, other_owner).get(url).status_code == 404
    assert client.post(reverse("operations:overseer-end", args=[overseer.pk]),
                       {"reason": "x"}).status_code == 404
    page = client_for(client, auditor).get(url)
    assert page.status_code == 200 and "AI oversight course" in page.content.decode()
    assert client.post(url, {"user": operator.username}).status_code == 403


def test_the_page_query_count_does_not_grow_with_overseers(live_high, client, owner):
    client_for(client, owner)
    url = reverse("operations:overseers", args=[live_high.slug])
    assign(owner, live_high, make_user())
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(4):
        assign(owner, live_high, make_user())
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    assert len(five.captured_queries) == len(one.captured_queries)


def test_an_owner_s_delegate_names_overseers_too(live_high, owner, operator):
    delegate = make_user(Role.BUSINESS_OWNER)
    inventory.agent_add_delegate(actor=owner, agent=live_high, user=delegate)
    assert assign(delegate, live_high, operator).assigned_by == delegate
