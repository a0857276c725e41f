"""The dashboard's figures over the API: per metric, one series per release over the page's
window of production, with the thresholds and the daily budget, to whoever sees the page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from almportal.operations.models import Environment

from .helpers import token_client
from .test_api import api, deploy
from .test_rollups import _ingest

pytestmark = pytest.mark.django_db


def url(agent) -> str:
    return f"/api/v1/agents/{agent.slug}/metrics/"


def by_key(answer) -> dict:
    return {chart["key"]: chart for chart in answer.json()["charts"]}


def samples(owner, agent, release, batch: str, count: int = 2) -> None:
    at = timezone.now() - timedelta(hours=1)
    _ingest(owner, agent, release, f"{batch}r", at, [100] * count)
    _ingest(owner, agent, release, f"{batch}e", at, [5] * count, metric="errors")
    _ingest(owner, agent, release, f"{batch}l", at, [200.0] * count, metric="latency_ms")


def test_it_answers_each_metric_per_release_and_day(team, owner):
    agent, release = team.live()
    samples(owner, agent, release, "a")
    answer = token_client(owner, "read").get(url(agent))
    assert answer.status_code == 200, answer.json()
    shown = answer.json()
    assert shown["agent"] == agent.slug and shown["environment"] == "production"
    assert len(shown["days"]) == 14 and shown["days"][-1] == timezone.localdate().isoformat()
    charts = by_key(answer)
    assert list(charts) == ["requests", "error_rate", "latency_p95_ms", "cost", "satisfaction"]
    [requests] = charts["requests"]["series"]
    assert requests["label"] == f"Release {release.display_version}" and requests["role"] == ""
    assert requests["points"] == [{"day": shown["days"][-1], "value": 200.0}]
    assert charts["error_rate"]["series"][0]["points"][0]["value"] == pytest.approx(0.05)
    assert charts["error_rate"]["scale"] == 100
    assert charts["latency_p95_ms"]["series"][0]["points"][0]["value"] == pytest.approx(200.0)
    assert charts["cost"]["series"] == []


def test_it_draws_the_thresholds_and_the_daily_budget(team, owner):
    agent, _ = team.live()
    api(owner).put(f"/api/v1/agents/{agent.slug}/monitoring/",
                   {"daily_budget": 12.5, "error_rate": 0.02, "reason": "Limits"}, format="json")
    charts = by_key(api(owner).get(url(agent)))
    assert charts["cost"]["lines"] == [{"value": 12.5, "label": "daily budget"}]
    assert charts["error_rate"]["lines"] == [{"value": 2.0, "label": "threshold (at most)"}]


def test_it_names_the_canary_and_the_stable_release_as_the_page_compares_them(team, owner):
    agent, stable = team.live()
    canary = team.approved_release(agent)
    assert deploy(api(owner), agent, canary, strategy="canary", canary_weight=5).status_code == 201
    samples(owner, agent, stable, "s")
    samples(owner, agent, canary, "c")
    [requests] = [c for c in api(owner).get(url(agent)).json()["charts"] if c["key"] == "requests"]
    roles = {s["role"]: s["label"] for s in requests["series"]}
    assert roles == {"stable": f"Release {stable.display_version} (stable)",
                     "canary": f"Release {canary.display_version} (canary)"}


def test_it_agrees_with_the_dashboard(team, client, owner):
    agent, release = team.live()
    samples(owner, agent, release, "a")
    client.force_login(owner)
    page = client.get(reverse("operations:dashboard", args=[agent.slug]))
    drawn = {chart.key: [(s.label, s.role, [(p.day.isoformat(), p.value) for p in s.points])
                         for s in chart.series] for chart in page.context["charts"]}
    charts = by_key(api(owner).get(url(agent)))
    shown = {key: [(s["label"], s["role"], [(p["day"], p["value"]) for p in s["points"]])
                   for s in chart["series"]] for key, chart in charts.items()}
    assert shown == drawn


def test_it_hides_the_agent_from_who_may_not_see_it(team, other_owner):
    agent, _ = team.live()
    assert api(other_owner).get(url(agent)).status_code == 404


@pytest.mark.parametrize("persona", ["compliance", "security", "auditor", "admin_user"])
def test_it_answers_whoever_the_page_answers(team, client, request, persona):
    agent, _ = team.live()
    user = request.getfixturevalue(persona)
    client.force_login(user)
    page = client.get(reverse("operations:dashboard", args=[agent.slug]))
    assert page.status_code == api(user).get(url(agent)).status_code == 200


def test_it_answers_404_without_a_production_environment(team, owner):
    agent, _ = team.live()
    Environment.objects.filter(is_production=True).update(is_production=False)
    answer = api(owner).get(url(agent))
    assert answer.status_code == 404 and "production" in answer.json()["detail"]


def test_it_runs_the_same_queries_for_more_samples(team, owner):
    agent, release = team.live()
    samples(owner, agent, release, "a", count=1)
    client = api(owner)
    client.get(url(agent))
    with CaptureQueriesContext(connection) as few:
        client.get(url(agent))
    samples(owner, agent, release, "b", count=40)
    with CaptureQueriesContext(connection) as many:
        client.get(url(agent))
    assert len(few) == len(many)
