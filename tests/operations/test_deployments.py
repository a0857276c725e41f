import pytest

from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.operations import selectors, services
from almportal.operations.models import Deployment
from almportal.operations.selectors import runtime_status
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState

from ..factories import make_release
from .helpers import env

RouteSpec = services.RouteSpec


def weights(agent, environment="production"):
    routes = runtime_status(agent, env(environment)).document["routes"]
    return {r["release"]: r["weight"] for r in routes}


def serving(agent, environment="production"):
    return selectors.active_deployment(agent, env(environment))


def state_of(release):
    release.refresh_from_db()
    return release.state


def test_it_moves_a_canary_5_25_100_and_rolls_back_to_the_previous_release(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    assert weights(agent) == {first.number: 100}

    canary = services.deployment_start(
        actor=owner, agent=agent, environment=env("production"), strategy="canary",
        routes=[RouteSpec(second)], canary_weight=5, reason="Try the new prompt on 5%")
    assert weights(agent) == {first.number: 95, second.number: 5}
    assert state_of(second) == ReleaseState.DEPLOYED

    services.canary_promote(actor=owner, deployment=canary, weight=25, reason="Error rate flat")
    assert weights(agent) == {first.number: 75, second.number: 25}
    services.canary_promote(actor=owner, deployment=canary, weight=100, reason="All good")
    assert weights(agent) == {second.number: 100}
    assert state_of(first) == ReleaseState.SUPERSEDED

    services.deployment_rollback(actor=owner, deployment=serving(agent),
                                 reason="Complaints about tone")
    assert weights(agent) == {first.number: 100}
    assert state_of(first) == ReleaseState.DEPLOYED
    assert state_of(second) == ReleaseState.ROLLED_BACK

    steps = list(Deployment.history.filter(id=canary.pk).order_by("history_date")
                 .values_list("canary_weight", "history_user__username",
                              "history_change_reason"))
    assert [s[0] for s in steps] == [5, 25, 100, 100]
    assert all(user == owner.username and reason for _, user, reason in steps)
    assert "Complaints about tone" in steps[-1][2]


def test_it_refuses_an_unapproved_release_in_production_with_the_gates_reasons(team, owner):
    agent, _ = team.live()
    draft = make_release(agent, actor=team.delegate)
    submitted = release_services.release_submit(actor=team.delegate, release=draft)
    with pytest.raises(DomainError) as refused:
        services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                  strategy="all_at_once", routes=[RouteSpec(submitted)],
                                  reason="Ship it")
    reasons = refused.value.errors["release"]
    assert "does not pass the release gate" in reasons[0]
    assert any("sign-off" in r.lower() for r in reasons[1:])
    assert any("checklist" in r.lower() or "evidence" in r.lower() for r in reasons[1:])
    assert Deployment.objects.filter(agent=agent).count() == 1


def test_it_deploys_a_submitted_release_outside_production_without_the_gate(team, owner):
    agent = team.agent()
    release = release_services.release_submit(actor=team.delegate,
                                       release=make_release(agent, actor=team.delegate))
    services.deployment_start(actor=owner, agent=agent, environment=env("staging"),
                              strategy="all_at_once", routes=[RouteSpec(release)],
                              reason="Try in staging")
    agent.refresh_from_db()
    assert agent.stage == Stage.IN_DEVELOPMENT  # live only once in production
    assert state_of(release) == ReleaseState.SUBMITTED  # release states follow production
    assert weights(agent, "staging") == {release.number: 100}


def test_it_refuses_a_draft_release_anywhere(team, owner):
    agent = team.agent()
    draft = make_release(agent, actor=team.delegate)
    with pytest.raises(DomainError):
        services.deployment_start(actor=owner, agent=agent, environment=env("development"),
                                  strategy="all_at_once", routes=[RouteSpec(draft)],
                                  reason="Try")


def test_it_routes_a_rainbow_to_two_audiences(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    services.deployment_start(
        actor=owner, agent=agent, environment=env("production"), strategy="rainbow",
        routes=[RouteSpec(first, "Finance"), RouteSpec(second, "People Operations")],
        reason="New prompt for HR only")
    routes = runtime_status(agent, env("production")).document["routes"]
    assert {(r["release"], r["audience"]) for r in routes} == {
        (first.number, "Finance"), (second.number, "People Operations")}
    assert all(r["manifest_hash"] and r["weight"] is None for r in routes)
    assert state_of(first) == state_of(second) == ReleaseState.DEPLOYED


def test_it_refuses_a_rainbow_with_repeated_or_missing_audiences(team, owner):
    agent, first = team.live()
    for routes in ([RouteSpec(first, "hr"), RouteSpec(first, "HR")],
                   [RouteSpec(first, "hr"), RouteSpec(first, "")], [RouteSpec(first, "hr")]):
        with pytest.raises(DomainError):
            services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                      strategy="rainbow", routes=routes, reason="x")


def test_it_rolls_a_canary_in_progress_back_in_one_action(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                              strategy="canary", routes=[RouteSpec(second)], canary_weight=25,
                              reason="Canary")
    services.deployment_rollback(actor=owner, deployment=serving(agent),
                                 reason="Latency up")
    assert weights(agent) == {first.number: 100}
    assert state_of(second) == ReleaseState.ROLLED_BACK


def test_it_needs_a_stable_release_for_a_canary(team, owner):
    agent = team.agent()
    release = team.approved_release(agent)
    with pytest.raises(Conflict):
        services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                  strategy="canary", routes=[RouteSpec(release)],
                                  canary_weight=5, reason="Canary")


def test_it_refuses_a_lower_canary_step(team, owner):
    agent, _ = team.live()
    second = team.approved_release(agent)
    canary = services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                       strategy="canary", routes=[RouteSpec(second)],
                                       canary_weight=25, reason="Canary")
    with pytest.raises(DomainError):
        services.canary_promote(actor=owner, deployment=canary, weight=5, reason="Back down")


def test_it_keeps_one_active_deployment_per_environment(team, owner):
    agent, first = team.live()
    services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                              strategy="all_at_once", routes=[RouteSpec(first)],
                              reason="Redeploy")
    assert Deployment.objects.filter(agent=agent, state="active").count() == 1
    assert Deployment.objects.filter(agent=agent).count() == 2


def test_it_lets_only_the_owners_team_deploy(team, owner, other_owner, auditor, compliance):
    agent, first = team.live()
    for outsider in (other_owner, auditor, compliance):
        with pytest.raises(NotPermitted):
            services.deployment_start(actor=outsider, agent=agent,
                                      environment=env("staging"), strategy="all_at_once",
                                      routes=[RouteSpec(first)], reason="x")
    services.deployment_start(actor=team.delegate, agent=agent, environment=env("staging"),
                              strategy="all_at_once", routes=[RouteSpec(first)], reason="x")


def test_it_ends_a_deployment_with_nothing_in_its_place(team, owner, other_owner, auditor,
                                                        security):
    agent, release = team.live()
    deployment = agent.deployments.get(state="active")
    for outsider in (other_owner, auditor):
        with pytest.raises(NotPermitted):
            services.deployment_end(actor=outsider, deployment=deployment, reason="no")
    services.deployment_end(actor=security, deployment=deployment, reason="Taken down")
    deployment.refresh_from_db()
    assert deployment.state == "ended" and deployment.ended_by == security
    assert weights(agent) == {}
    assert state_of(release) == ReleaseState.SUPERSEDED
    with pytest.raises(Conflict):
        services.deployment_end(actor=owner, deployment=deployment, reason="again")


def test_a_sunsetting_agent_cannot_be_rolled_back_into_service(team, owner):
    agent, _ = team.live()
    services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                              strategy="all_at_once",
                              routes=[RouteSpec(team.approved_release(agent))], reason="v2")
    inventory.agent_set_stage(actor=owner, agent=agent, stage=Stage.SUNSETTING,
                              reason="Being retired")
    with pytest.raises(Conflict):
        services.deployment_rollback(actor=owner, deployment=serving(agent),
                                     reason="bring back v1")


# --- Rollback names its deployment -----------------------------------------------------------

def snapshot(agent):
    return (list(Deployment.objects.filter(agent=agent).order_by("pk")
                 .values_list("pk", "state", "canary_state", "canary_weight")),
            weights(agent), Deployment.history.count())


def test_a_second_rollback_of_the_same_deployment_is_refused_and_changes_nothing(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    v2 = services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                                   strategy="all_at_once", routes=[RouteSpec(second)],
                                   reason="v2")
    third = team.approved_release(agent)
    services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                              strategy="all_at_once", routes=[RouteSpec(third)], reason="v3")
    v3 = serving(agent)
    services.deployment_rollback(actor=owner, deployment=v3, reason="v3 misbehaves")
    assert weights(agent) == {second.number: 100}
    before = snapshot(agent)
    with pytest.raises(Conflict, match="no longer the active one"):
        services.deployment_rollback(actor=owner, deployment=v3, reason="double click")
    assert snapshot(agent) == before  # not back to the first release
    with pytest.raises(Conflict, match="no longer the active one"):
        services.deployment_rollback(actor=owner, deployment=v2, reason="an old page")
    assert snapshot(agent) == before and state_of(first) == ReleaseState.SUPERSEDED


def test_a_canary_rollback_sent_twice_changes_nothing_the_second_time(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    canary = services.deployment_start(actor=owner, agent=agent,
                                       environment=env("production"), strategy="canary",
                                       routes=[RouteSpec(second)], canary_weight=25,
                                       reason="Canary")
    services.deployment_rollback(actor=owner, deployment=canary, reason="Latency up")
    before = snapshot(agent)
    with pytest.raises(Conflict, match="already rolled back"):
        services.deployment_rollback(actor=owner, deployment=canary, reason="Latency up")
    assert snapshot(agent) == before and weights(agent) == {first.number: 100}
    assert serving(agent).pk == canary.pk


def test_the_page_says_why_a_rolled_back_canary_offers_no_rollback(team, owner, client):
    agent, _ = team.live()
    canary = services.deployment_start(actor=owner, agent=agent,
                                       environment=env("production"), strategy="canary",
                                       routes=[RouteSpec(team.approved_release(agent))],
                                       canary_weight=25, reason="Canary")
    client.force_login(owner)
    url = f"/operations/deployments/{canary.pk}/"
    assert f"{url}rollback/" in client.get(url).content.decode()
    services.deployment_rollback(actor=owner, deployment=canary, reason="Latency up")
    page = client.get(url).content.decode()
    assert "data-rollback-refused" in page and f"{url}rollback/" not in page


def test_a_first_deployment_has_nothing_to_roll_back_to(team, owner):
    agent, _ = team.live()
    with pytest.raises(Conflict, match="no earlier deployment"):
        services.deployment_rollback(actor=owner, deployment=serving(agent), reason="undo")


def test_only_the_owners_team_rolls_back(team, owner, other_owner, auditor):
    agent, _ = team.live()
    for outsider in (other_owner, auditor):
        with pytest.raises(NotPermitted):
            services.deployment_rollback(actor=outsider, deployment=serving(agent),
                                         reason="undo")


def test_the_page_refuses_a_double_clicked_rollback_and_hides_the_button(team, owner, client):
    agent, first = team.live()
    second = team.approved_release(agent)
    services.deployment_start(actor=owner, agent=agent, environment=env("production"),
                              strategy="all_at_once", routes=[RouteSpec(second)], reason="v2")
    v2 = serving(agent)
    client.force_login(owner)
    url = f"/operations/deployments/{v2.pk}/rollback/"
    assert "data-submit-once" in client.get(f"/operations/deployments/{v2.pk}/").content.decode()
    assert client.post(url, {"reason": "v2 misbehaves"}).status_code == 302
    before = snapshot(agent)
    page = client.post(url, {"reason": "v2 misbehaves"}, follow=True).content.decode()
    assert "no longer the active one" in page
    assert snapshot(agent) == before and weights(agent) == {first.number: 100}
    page = client.get(f"/operations/deployments/{v2.pk}/").content.decode()
    assert url not in page  # an ended deployment offers no rollback
