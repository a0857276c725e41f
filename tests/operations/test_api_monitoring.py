"""An agent's thresholds and budget over the API: what its monitoring page shows and saves."""

import pytest
from django.urls import reverse

from almportal.operations.models import MonitoringSettings

from ..conftest import client_for
from .test_api import api

pytestmark = pytest.mark.django_db

SETTINGS = {"error_rate": 0.02, "satisfaction": 0.8, "daily_budget": 10, "auto_rollback": True,
            "reason": "Protect users"}


def url(agent) -> str:
    return f"/api/v1/agents/{agent.slug}/monitoring/"


def put(user, agent, body: dict):
    return api(user).put(url(agent), body, format="json")


def test_it_shows_the_tier_policy_before_any_override(team, owner, auditor):
    agent = team.agent()
    answer = api(auditor).get(url(agent))
    assert answer.status_code == 200
    shown = answer.json()
    assert shown["error_rate"] is None and shown["daily_budget"] is None
    assert shown["auto_rollback"] is False and shown["may_tune"] is False
    assert shown["thresholds"]
    assert api(owner).get(url(agent)).json()["may_tune"] is True


def test_it_saves_overrides_budgets_and_switches(team, owner):
    agent = team.agent()
    answer = put(owner, agent, SETTINGS)
    assert answer.status_code == 200, answer.json()
    settings = MonitoringSettings.objects.get(agent=agent)
    assert settings.thresholds == {"error_rate": {"max": 0.02}, "satisfaction": {"min": 0.8}}
    assert settings.daily_budget == 10 and settings.monthly_budget is None
    assert settings.auto_rollback and not settings.suspend_on_budget
    assert settings.history.filter(history_user=owner,
                                   history_change_reason="Protect users").exists()
    shown = answer.json()
    assert shown["error_rate"] == 0.02 and shown["satisfaction"] == 0.8
    assert shown["thresholds"]["error_rate"] == {"max": 0.02}
    assert shown["thresholds"]["satisfaction"] == {"min": 0.8}


def test_it_clears_what_a_put_leaves_out(team, owner):
    agent = team.agent()
    put(owner, agent, SETTINGS)
    answer = put(owner, agent, {"monthly_budget": 300, "reason": "Budget only"})
    assert answer.status_code == 200
    settings = MonitoringSettings.objects.get(agent=agent)
    assert settings.thresholds == {} and settings.daily_budget is None
    assert settings.monthly_budget == 300 and not settings.auto_rollback


def test_it_lets_compliance_tune_and_refuses_others(team, compliance, auditor, other_owner):
    agent = team.agent()
    assert put(auditor, agent, SETTINGS).status_code == 403
    assert put(other_owner, agent, SETTINGS).status_code == 404
    assert api(other_owner).get(url(agent)).status_code == 404
    assert not MonitoringSettings.objects.filter(agent=agent).exists()
    assert put(compliance, agent, SETTINGS).status_code == 200


@pytest.mark.parametrize("change,field", [
    ({"error_rate": -1}, "error_rate"),
    ({"latency_p95_ms": "fast"}, "latency_p95_ms"),
    ({"daily_budget": -5}, "daily_budget"),
    ({"auto_rollback": "maybe"}, "auto_rollback"),
    ({"reason": ""}, "reason"),
    ({"daily_cost": 3}, "daily_cost"),
    ({"thresholds": {"error_rate": {"max": 1}}}, "thresholds"),
])
def test_it_refuses_bad_input_and_writes_nothing(team, owner, change, field):
    agent = team.agent()
    answer = put(owner, agent, {**SETTINGS, **change})
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not MonitoringSettings.objects.filter(agent=agent).exists()


def test_it_agrees_with_the_page(team, owner, client):
    agent = team.agent()
    shown = put(owner, agent, SETTINGS).json()
    page = client_for(client, owner).get(reverse("operations:monitoring", args=[agent.slug]))
    assert page.context["thresholds"] == shown["thresholds"]
    initial = page.context["form"].initial
    for field in ("error_rate", "satisfaction", "daily_budget", "monthly_budget",
                  "auto_rollback", "suspend_on_budget"):
        assert initial[field] == shown[field], field
