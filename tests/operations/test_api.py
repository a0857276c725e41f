"""The operations API: what a CI pipeline and monitoring do over HTTP, with the same rules as
the pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.accounts.models import TokenScope
from almportal.inventory.choices import Stage
from almportal.operations.models import Deployment, Incident

from ..clients import api
from .helpers import token_client

pytestmark = pytest.mark.django_db


def deploy(client, agent, release, **extra):
    body = {"agent": agent.slug, "environment": "production", "strategy": "all_at_once",
            "routes": [{"release": release.pk}], "reason": "Pipeline 812"}
    return client.post("/api/v1/deployments/", {**body, **extra}, format="json")


def test_a_pipeline_deploys_runs_a_canary_and_rolls_back_with_a_write_token(team, owner):
    agent, first = team.live()
    second = team.approved_release(agent)
    ci = token_client(team.delegate, TokenScope.READ, TokenScope.WRITE)
    started = deploy(ci, agent, second, strategy="canary", canary_weight=5)
    assert started.status_code == 201, started.json()
    canary = started.json()
    assert {(r["release"], r["weight"]) for r in canary["routes"]} == {(first.pk, 95),
                                                                       (second.pk, 5)}
    promoted = ci.post(f"/api/v1/deployments/{canary['id']}/promote/",
                       {"weight": 25, "reason": "Step 2"}, format="json")
    assert promoted.status_code == 200
    assert {r["weight"] for r in promoted.json()["routes"]} == {75, 25}
    back = ci.post(f"/api/v1/deployments/{canary['id']}/rollback/", {"reason": "Errors up"},
                   format="json")
    assert back.status_code == 200
    serving = [r for r in back.json()["routes"] if r["weight"]]
    assert [(r["release"], r["weight"]) for r in serving] == [(first.pk, 100)]
    assert Deployment.history.filter(history_user=team.delegate).exists()
    again = ci.post(f"/api/v1/deployments/{canary['id']}/rollback/", {"reason": "Errors up"},
                    format="json")
    assert again.status_code == 409 and "already rolled back" in again.json()["detail"]


def test_an_unapproved_release_is_refused_for_production_with_the_gate_reasons(team):
    agent, _ = team.live()
    from ..factories import make_release

    draft = make_release(agent, actor=team.delegate)
    answer = deploy(api(team.owner), agent, draft)
    assert answer.status_code in (400, 409)
    assert answer.json()["detail"]
    assert Deployment.objects.filter(agent=agent).count() == 1


def test_bad_input_is_a_400_with_field_errors_and_writes_nothing(team):
    agent, release = team.live()
    client = api(team.owner)
    for body in ({"agent": agent.slug}, {"strategy": "big-bang"}, {"routes": "all"},
                 {"canary_weight": 500, "strategy": "canary"}, {"surprise": 1}):
        answer = deploy(client, agent, release, **body) if "agent" not in body else \
            client.post("/api/v1/deployments/", body, format="json")
        assert answer.status_code == 400, body
        assert answer.json()["errors"]
    assert Deployment.objects.filter(agent=agent).count() == 1


def test_a_read_token_cannot_deploy_and_others_cannot_see(team, other_owner, auditor):
    agent, release = team.live()
    reader = token_client(team.owner, TokenScope.READ)
    assert deploy(reader, agent, release).status_code == 403
    assert api(other_owner).get("/api/v1/deployments/", {"agent": agent.slug}).json()[
        "results"] == []
    deployment = Deployment.objects.get(agent=agent)
    assert api(other_owner).get(f"/api/v1/deployments/{deployment.pk}/").status_code == 404
    assert deploy(api(other_owner), agent, release).status_code == 404
    assert api(auditor).get(f"/api/v1/deployments/{deployment.pk}/").status_code == 200
    assert deploy(api(auditor), agent, release).status_code == 403
    assert api(auditor).post(f"/api/v1/deployments/{deployment.pk}/end/",
                             {"reason": "x"}, format="json").status_code == 403


def test_the_kill_switch_over_the_api(team, owner, compliance, auditor):
    agent, _ = team.live()
    assert api(auditor).post(f"/api/v1/agents/{agent.slug}/suspend/",
                             {"reason": "x"}, format="json").status_code == 403
    answer = api(owner).post(f"/api/v1/agents/{agent.slug}/suspend/",
                             {"reason": "Wrong refunds promised", "drill": True}, format="json")
    assert answer.status_code == 201 and answer.json()["is_drill"]
    agent.refresh_from_db()
    assert agent.stage == Stage.SUSPENDED
    resumed = api(owner).post(f"/api/v1/agents/{agent.slug}/resume/", {"reason": "Fixed"},
                              format="json")
    assert resumed.status_code == 200 and resumed.json()["stage"] == Stage.LIVE


def test_incidents_over_the_api(team, owner, compliance, other_owner):
    agent, release = team.live()
    opened = api(owner).post("/api/v1/incidents/", {
        "agent": agent.slug, "title": "Hallucinated refund policy", "severity": "high",
        "affected_release": release.pk}, format="json")
    assert opened.status_code == 201, opened.json()
    incident = opened.json()["id"]
    assert api(owner).post(f"/api/v1/incidents/{incident}/notes/", {"text": "Rolled back"},
                           format="json").status_code == 201
    mitigated = api(compliance).post(f"/api/v1/incidents/{incident}/status/",
                                     {"status": "mitigated", "reason": "Canary rolled back"},
                                     format="json")
    assert mitigated.status_code == 200 and mitigated.json()["status"] == "mitigated"
    assert api(other_owner).get(f"/api/v1/incidents/{incident}/").status_code == 404
    assert api(owner).post("/api/v1/incidents/", {"agent": agent.slug, "title": "x",
                                                  "severity": "apocalyptic"},
                           format="json").status_code == 400
    assert Incident.objects.count() == 1


def test_the_lists_do_not_grow_in_queries_with_rows(team, owner):
    agent, release = team.live()
    client = api(owner)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries("/api/v1/deployments/")
    for n in range(4):
        assert deploy(client, agent, release, environment="staging",
                      reason=f"Staging {n}").status_code == 201
    assert Deployment.objects.filter(agent=agent).count() == 5
    assert queries("/api/v1/deployments/") == few
