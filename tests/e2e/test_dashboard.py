"""The agent dashboard draws its charts from samples posted over the ingestion API: a browser
opens it and finds the posted values in the charts (points and their labels) and in the data
tables."""

import importlib
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from almportal.accounts.roles import Role
from almportal.inventory.choices import Stage
from almportal.operations.models import Environment, MetricSample

from ..factories import make_agent, make_release, make_user
from ..operations.helpers import ingest_client
from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def environments(db):
    """The seeded environments (an earlier transactional test may have flushed them)."""
    seed = importlib.import_module("almportal.operations.migrations.0002_seed_environments")
    for slug, name, is_production, order in seed.ENVIRONMENTS:
        Environment.objects.get_or_create(slug=slug, defaults={
            "name": name, "is_production": is_production, "order": order})


def _samples(agent, release, day, *, requests, errors, cost):
    at = day.isoformat()
    base = {"agent": agent.slug, "release": release.number, "environment": "production",
            "timestamp": at}
    return [{**base, "metric": "requests", "value": requests},
            {**base, "metric": "errors", "value": errors},
            {**base, "metric": "latency_ms", "value": 850},
            {**base, "metric": "cost", "value": cost},
            {**base, "metric": "satisfaction", "value": 0.8}]


def test_the_dashboard_charts_show_the_posted_samples(page):
    owner = make_user(Role.BUSINESS_OWNER, username="olivia", first_name="Olivia")
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    first, second = make_release(agent), make_release(agent)
    now = timezone.now()
    yesterday, today = now - timedelta(days=1), now - timedelta(seconds=1)
    items = (_samples(agent, first, yesterday, requests=1200, errors=12, cost=4.5)
             + _samples(agent, first, today, requests=900, errors=9, cost=3.0)
             + _samples(agent, second, today, requests=300, errors=30, cost=1.25))
    response = ingest_client(owner).post("/api/v1/ingest/samples/",
                                         {"batch_id": "e2e-1", "samples": items}, format="json")
    assert response.status_code == 200, response.json()
    assert MetricSample.objects.count() == len(items)

    login(page, "olivia")
    page.goto(f"/operations/agents/{agent.slug}/")
    usage = page.locator('figure[data-chart="requests"] svg.plot-wide')
    expect(usage).to_be_visible()
    expect(usage.locator("circle")).to_have_count(3)  # two days of release 1, one of release 2
    expect(usage.locator('circle[data-value="1200.0"]')).to_have_count(1)
    expect(usage.locator("g.series")).to_have_count(2)
    assert "Release #1" in usage.get_attribute("aria-label")
    title = usage.locator('circle[data-value="300.0"] title')
    assert title.text_content().startswith("Release #2")

    errors = page.locator('figure[data-chart="error_rate"] svg.plot-wide')
    expect(errors.locator('circle[data-value="0.1"]')).to_have_count(1)  # 30 of 300
    expect(errors.locator('circle[data-value="0.01"]')).to_have_count(2)

    cost = page.locator('figure[data-chart="cost"]')
    cost.get_by_text("Data table: cost per day").click()
    expect(cost.get_by_role("cell", name="4.50")).to_be_visible()
    expect(cost.get_by_role("cell", name="1.25")).to_be_visible()
