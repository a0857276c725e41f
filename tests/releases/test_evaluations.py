"""Evaluation runs: CI posts them with a token; the tier's thresholds decide; a drop beyond the
margin against the release in production fails, naming the metric and the margin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.accounts.services import token_create
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState
from almportal.releases.models import EvaluationRun

from ..conftest import client_for
from ..factories import make_release
from .helpers import GOOD_METRICS, high_release, passing_run, suite_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, compliance, delegate):
    return high_release(owner, compliance, delegate)


def bearer(user, scopes):
    _, key = token_create(actor=user, name="ci", scopes=scopes,
                          expires_at=timezone.now() + timedelta(days=30))
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post_run(client, release, metrics, **headers):
    return client.post("/api/v1/evaluation-runs/",
                       {"release": release.pk, "suite": suite_for(release).pk,
                        "metrics": metrics, "notes": "nightly"},
                       content_type="application/json", **headers)


def test_ci_posts_a_passing_run_with_a_write_token(client, release, owner):
    response = post_run(client, release, GOOD_METRICS, **bearer(owner, ["write"]))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["passed"] is True and body["failures"] == []
    assert body["source"] == "api"
    run = EvaluationRun.objects.get()
    assert run.created_by == owner and run.manifest_hash == release.manifest_hash


def test_the_tier_thresholds_decide_and_the_answer_names_the_failures(client, release, owner):
    metrics = {**GOOD_METRICS, "groundedness": 0.8, "latency_p95_ms": 9000}
    response = post_run(client, release, metrics, **bearer(owner, ["write"]))
    assert response.status_code == 201
    assert response.json()["passed"] is False
    assert response.json()["failures"] == [
        "Groundedness 0.8 is below the minimum 0.9.",
        "p95 latency (ms) 9000 is above the maximum 8000."]


def test_a_regression_against_production_fails_naming_metric_and_margin(client, owner, delegate,
                                                                        release):
    passing_run(release, task_success_rate=0.99)
    for state in (ReleaseState.APPROVED, ReleaseState.DEPLOYED):
        release_services.release_set_state(actor=owner, release=release, state=state, reason="test")
    candidate = make_release(release.agent, label="2.0")
    response = post_run(client, candidate, {**GOOD_METRICS, "task_success_rate": 0.94},
                        **bearer(owner, ["write"]))
    body = response.json()
    assert body["passed"] is False
    assert body["baseline_release"] == release.pk
    assert body["failures"] == [
        "Regression in Task success rate: 0.94 against 0.99 on release "
        "#1 in production (5.1% worse; the allowed margin is 2.0%)."]


def test_a_drop_within_the_margin_passes(client, owner, release):
    passing_run(release, task_success_rate=0.95)
    for state in (ReleaseState.APPROVED, ReleaseState.DEPLOYED):
        release_services.release_set_state(actor=owner, release=release, state=state, reason="test")
    candidate = make_release(release.agent, label="2.0")
    run = passing_run(candidate, task_success_rate=0.94)
    assert run.passed and run.baseline_release == release


def test_a_read_token_cannot_post(client, release, owner):
    response = post_run(client, release, GOOD_METRICS, **bearer(owner, ["read"]))
    assert response.status_code == 403
    assert not EvaluationRun.objects.exists()


def test_an_auditor_cannot_post(client, release, auditor):
    client_for(client, auditor)
    assert post_run(client, release, GOOD_METRICS).status_code == 403
    assert not EvaluationRun.objects.exists()


def test_another_owner_cannot_see_the_release(client, release, other_owner):
    client_for(client, other_owner)
    response = post_run(client, release, GOOD_METRICS)
    assert response.status_code == 400
    assert "release" in response.json()["errors"]
    assert client.get(f"/api/v1/evaluation-runs/?release={release.pk}").json()["results"] == []


@pytest.mark.parametrize("metrics, message", [
    ({"task_success_rate": 1.5}, "Task success rate is a rate between 0 and 1."),
    ({"made_up": 1}, "Unknown metric 'made_up'"),
    ({"task_success_rate": "high"}, "Task success rate must be a number"),
    ({}, "Give the metrics"),
])
def test_bad_metrics_are_field_errors_and_nothing_is_written(client, release, owner, metrics,
                                                             message):
    client_for(client, owner)
    response = post_run(client, release, metrics)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"]["metrics"])
    assert not EvaluationRun.objects.exists()


def test_the_page_records_a_run_and_shows_the_table_and_trend(client, release, owner):
    suite = suite_for(release)
    client_for(client, owner)
    data = {"suite": suite.pk, f"run{suite.pk}-notes": "manual",
            **{f"run{suite.pk}-{key}": value for key, value in GOOD_METRICS.items()}}
    response = client.post(f"{release.get_absolute_url()}runs/new/", data, follow=True)
    assert response.status_code == 200
    run = EvaluationRun.objects.get()
    assert run.passed and run.source == "page"
    page = response.content.decode()
    assert f'data-run="{run.pk}"' in page
    assert '<svg class="trend"' in page


def test_a_retired_agent_takes_no_new_evaluation_suite(owner, client):
    from almportal.core.errors import Conflict
    from almportal.inventory.choices import Stage
    from almportal.inventory.models import Agent
    from almportal.releases import services
    from almportal.releases.models import EvaluationSuite

    from ..factories import make_agent

    agent = make_agent(owner, Stage.LIVE, name="Retired FAQ")
    Agent.objects.filter(pk=agent.pk).update(stage=Stage.RETIRED)
    with pytest.raises(Conflict, match="retired: it takes no new evaluation suites"):
        services.evaluation_suite_create(actor=owner, agent=agent, name="late",
                                         dataset_ref="s3://x", dataset_version="1",
                                         metrics=list(GOOD_METRICS))
    api = client_for(client, owner)
    answer = api.post("/api/v1/evaluation-suites/", {
        "agent": agent.slug, "name": "late", "dataset_ref": "s3://x", "dataset_version": "1",
        "metrics": list(GOOD_METRICS)}, content_type="application/json")
    assert answer.status_code == 409 and "retired" in answer.json()["detail"]
    assert not EvaluationSuite.objects.filter(agent=agent).exists()
