from almportal.inventory.choices import ReleaseState, Stage
from almportal.operations import services
from almportal.operations.models import Alert, Deployment

from .helpers import env, ingest_client
from .test_ingest import post, samples


def traffic(agent, release, *, requests=100, errors=0):
    return (samples(agent, release, 1, metric="requests", value=requests)
            + samples(agent, release, 1, metric="errors", value=errors))


def test_it_raises_exactly_one_alert_for_a_breach_until_it_clears(team, owner):
    agent, release = team.live()  # low tier: error rate at most 0.1
    client = ingest_client(owner)
    for n in range(3):
        post(client, f"bad-{n}", traffic(agent, release, errors=30))
    alert = Alert.objects.get()
    assert alert.metric == "error_rate" and alert.release == release and alert.is_open
    assert alert.threshold == {"max": 0.1}
    post(client, "good", traffic(agent, release, requests=10_000, errors=0))
    alert.refresh_from_db()
    assert not alert.is_open
    post(client, "bad-again", traffic(agent, release, requests=100_000, errors=40_000))
    assert Alert.objects.count() == 2 and Alert.objects.filter(cleared_at__isnull=True).count() == 1
    assert [h.history_type for h in alert.history.order_by("history_date")] == ["+", "~"]


def test_it_rolls_a_breaching_canary_back_when_the_switch_is_on(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    services.monitoring_settings_update(actor=owner, agent=agent, reason="Protect users",
                                        data={"auto_rollback": True})
    canary = services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                       strategy="canary", routes=[services.RouteSpec(second)],
                                       canary_weight=5, reason="Canary")
    client = ingest_client(owner)
    post(client, "stable", traffic(agent, first, errors=1))
    canary.refresh_from_db()
    assert canary.canary_in_progress
    post(client, "canary", traffic(agent, second, errors=50))
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


def test_it_leaves_the_canary_alone_when_the_switch_is_off(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    canary = services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                       strategy="canary", routes=[services.RouteSpec(second)],
                                       canary_weight=5, reason="Canary")
    post(ingest_client(owner), "canary", traffic(agent, second, errors=50))
    canary.refresh_from_db()
    assert canary.canary_in_progress and Alert.objects.count() == 1


def test_it_suspends_an_agent_that_exhausts_its_budget(team, owner):
    agent, release = team.live()
    services.monitoring_settings_update(actor=owner, agent=agent, reason="Cap spend",
                                        data={"daily_budget": 50, "suspend_on_budget": True})
    client = ingest_client(owner)
    post(client, "spend-1", samples(agent, release, 4, metric="cost", value=10))
    agent.refresh_from_db()
    assert agent.stage == Stage.LIVE
    post(client, "spend-2", samples(agent, release, 2, metric="cost", value=10))
    agent.refresh_from_db()
    assert agent.stage == Stage.SUSPENDED
    assert Alert.objects.get().metric == "daily_cost"


def test_it_applies_the_agents_overrides_over_the_tier_policy(team, owner):
    agent, release = team.live()
    services.monitoring_settings_update(actor=owner, agent=agent, reason="Stricter",
                                        data={"thresholds": {"error_rate": {"max": 0.01}}})
    post(ingest_client(owner), "b", traffic(agent, release, errors=5))
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
