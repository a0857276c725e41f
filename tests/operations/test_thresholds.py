from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from almportal.inventory.choices import Stage
from almportal.operations import services
from almportal.operations.figures import percentile
from almportal.operations.models import Alert, Deployment, MetricSample
from almportal.releases.choices import ReleaseState

from .helpers import env, ingest_client
from .test_ingest import post, samples


def traffic(agent, release, *, requests=100, errors=0):
    return (samples(agent, release, 1, metric="requests", value=requests)
            + samples(agent, release, 1, metric="errors", value=errors))


def test_it_raises_exactly_one_alert_for_a_breach_until_it_clears(team, owner, post_judged):
    agent, release = team.live()  # low tier: error rate at most 0.1
    client = ingest_client(owner)
    for n in range(3):
        post_judged(client, f"bad-{n}", traffic(agent, release, errors=30))
    alert = Alert.objects.get()
    assert alert.metric == "error_rate" and alert.release == release and alert.is_open
    assert alert.threshold == {"max": 0.1}
    post_judged(client, "good", traffic(agent, release, requests=10_000, errors=0))
    alert.refresh_from_db()
    assert not alert.is_open
    post_judged(client, "bad-again", traffic(agent, release, requests=100_000, errors=40_000))
    assert Alert.objects.count() == 2 and Alert.objects.filter(cleared_at__isnull=True).count() == 1
    assert [h.history_type for h in alert.history.order_by("history_date")] == ["+", "~"]


def test_it_rolls_a_breaching_canary_back_when_the_switch_is_on(team, owner, post_judged):
    agent, first = team.live()
    second = team.approved_release(agent)
    services.monitoring_settings_update(actor=owner, agent=agent, reason="Protect users",
                                        data={"auto_rollback": True})
    canary = services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                       strategy="canary", routes=[services.RouteSpec(second)],
                                       canary_weight=5, reason="Canary")
    client = ingest_client(owner)
    post_judged(client, "stable", traffic(agent, first, errors=1))
    canary.refresh_from_db()
    assert canary.canary_in_progress
    post_judged(client, "canary", traffic(agent, second, errors=50))
    canary.refresh_from_db()
    second.refresh_from_db()
    assert canary.canary_state == "rolled_back" and canary.canary_weight == 0
    assert second.state == ReleaseState.ROLLED_BACK
    alert = Alert.objects.get()
    assert alert.release == second
    reasons = list(Deployment.history.filter(id=canary.pk)
                   .values_list("history_change_reason", flat=True))
    assert any(f"alert #{alert.pk}" in r for r in reasons)
    assert alert.history.exists()


def test_it_leaves_the_canary_alone_when_the_switch_is_off(team, owner, post_judged):
    agent, first = team.live()
    second = team.approved_release(agent)
    canary = services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                       strategy="canary", routes=[services.RouteSpec(second)],
                                       canary_weight=5, reason="Canary")
    post_judged(ingest_client(owner), "canary", traffic(agent, second, errors=50))
    canary.refresh_from_db()
    assert canary.canary_in_progress and Alert.objects.count() == 1


def test_it_suspends_an_agent_that_exhausts_its_budget(team, owner, post_judged):
    agent, release = team.live()
    services.monitoring_settings_update(actor=owner, agent=agent, reason="Cap spend",
                                        data={"daily_budget": 50, "suspend_on_budget": True})
    client = ingest_client(owner)
    post_judged(client, "spend-1", samples(agent, release, 4, metric="cost", value=10))
    agent.refresh_from_db()
    assert agent.stage == Stage.LIVE
    post_judged(client, "spend-2", samples(agent, release, 2, metric="cost", value=10))
    agent.refresh_from_db()
    assert agent.stage == Stage.SUSPENDED
    assert Alert.objects.get().metric == "daily_cost"


def test_it_applies_the_agents_overrides_over_the_tier_policy(team, owner, post_judged):
    agent, release = team.live()
    services.monitoring_settings_update(actor=owner, agent=agent, reason="Stricter",
                                        data={"thresholds": {"error_rate": {"max": 0.01}}})
    post_judged(ingest_client(owner), "b", traffic(agent, release, errors=5))
    assert Alert.objects.get().threshold == {"max": 0.01}


def test_it_refuses_unknown_or_malformed_overrides(team, owner):
    agent, _ = team.live()
    for thresholds in ({"vibes": {"max": 1}}, {"error_rate": {"max": "x"}},
                       {"error_rate": {"between": 1}}, {"daily_cost": {"max": 1}}):
        try:
            services.monitoring_settings_update(actor=owner, agent=agent, reason="x",
                                                data={"thresholds": thresholds})
        except Exception as error:
            assert error.errors.get("thresholds")
        else:
            raise AssertionError(thresholds)


def test_it_judges_after_the_batch_commits_not_inside_the_request(
        team, owner, django_capture_on_commit_callbacks, inline_worker):
    agent, release = team.live()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert post(ingest_client(owner), "b", traffic(agent, release, errors=50)
                          ).status_code == 200
    assert not Alert.objects.exists()
    for callback in callbacks:
        callback()
    assert Alert.objects.get().metric == "error_rate"


def test_it_judges_many_agents_in_a_fixed_number_of_queries(team, owner, post_judged):
    client = ingest_client(owner)
    fleet = [team.live() for _ in range(3)]
    post_judged(client, "first", traffic(*fleet[0], errors=1))

    def judged(agents) -> int:
        with CaptureQueriesContext(connection) as captured:
            services.thresholds_evaluate(agent_ids=[a.pk for a, _ in agents])
        # Each agent is judged in its own transaction: savepoints are not reads.
        return len([q for q in captured if "SAVEPOINT" not in q["sql"]])

    for n, (agent, release) in enumerate(fleet):
        post_judged(client, f"all-{n}", traffic(agent, release, errors=1)
             + samples(agent, release, 5, metric="latency_ms", value=300))
    assert judged(fleet[:1]) == judged(fleet)


def test_it_takes_the_nearest_rank_p95_latency_in_the_database(team, owner, post_judged):
    agent, release = team.live()
    services.monitoring_settings_update(actor=owner, agent=agent, reason="Fast answers",
                                        data={"thresholds": {"latency_p95_ms": {"max": 90}}})
    values = list(range(1, 101))  # p95 by nearest rank: 95
    items = samples(agent, release, 1, metric="requests", value=100)
    for n, value in enumerate(values):
        items += samples(agent, release, 1, metric="latency_ms", value=value,
                         at=timezone.now() - timedelta(seconds=n + 2))
    post_judged(ingest_client(owner), "latency", items)
    alert = Alert.objects.get()
    assert alert.metric == "latency_p95_ms" and alert.value == 95 == percentile(values, 0.95)
    assert MetricSample.objects.filter(metric="latency_ms").count() == 100
