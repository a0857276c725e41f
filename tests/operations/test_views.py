import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.operations import services
from almportal.operations.models import Alert, Deployment, Incident
from almportal.releases import services as release_services

from ..conftest import client_for
from ..factories import make_release
from .helpers import env, ingest_client
from .test_thresholds import traffic


@pytest.fixture
def world(team, owner, compliance, post_judged):
    agent, release = team.live()
    post_judged(ingest_client(owner), "b", traffic(agent, release, errors=40))
    alert = Alert.objects.get()
    incident = services.incident_open(actor=compliance, agent=agent, title="Bad", severity="low")
    return {"agent": agent, "release": release, "alert": alert, "incident": incident,
            "deployment": Deployment.objects.get(agent=agent)}


def pages(w):
    slug = w["agent"].slug
    return [reverse("operations:dashboard", args=[slug]),
            reverse("operations:deployments", args=[slug]),
            reverse("operations:kill-switch", args=[slug]),
            reverse("operations:monitoring", args=[slug]),
            reverse("operations:deployment-detail", args=[w["deployment"].pk]),
            reverse("operations:alert-detail", args=[w["alert"].pk]),
            reverse("operations:incident-detail", args=[w["incident"].pk])]


def writes(w):
    slug, dep, inc = w["agent"].slug, w["deployment"].pk, w["incident"].pk
    reason = {"reason": "x"}
    return [
        (reverse("operations:deployments", args=[slug]),
         {"environment": env("staging").pk, "strategy": "all_at_once",
          "release": w["release"].pk, **reason}),
        (reverse("operations:deployment-promote", args=[dep]), {"weight": 25, **reason}),
        (reverse("operations:deployment-rollback", args=[dep]), reason),
        (reverse("operations:agent-suspend", args=[slug]), reason),
        (reverse("operations:agent-resume", args=[slug]), reason),
        (reverse("operations:monitoring", args=[slug]), {"error_rate": 0.5, **reason}),
        (reverse("operations:incident-create", args=[slug]), {"title": "x", "severity": "low"}),
        (reverse("operations:alert-incident", args=[w["alert"].pk]),
         {"title": "x", "severity": "low"}),
        (reverse("operations:incident-status", args=[inc]), {"status": "mitigated", **reason}),
        (reverse("operations:incident-note", args=[inc]), {"text": "x"}),
        (reverse("operations:incident-review", args=[inc]), {"review": "x"}),
        (reverse("operations:incident-serious", args=[inc]), {"kind": "death", **reason}),
        (reverse("operations:incident-reported", args=[inc]), reason),
    ]


def test_it_shows_every_page_to_the_owner_and_the_auditor(world, client, owner, auditor):
    for user in (owner, auditor):
        client_for(client, user)
        for url in pages(world):
            assert client.get(url).status_code == 200, url


def test_it_hides_everything_from_another_owner(world, client, other_owner):
    client_for(client, other_owner)
    for url in pages(world):
        assert client.get(url).status_code == 404, url
    for url, data in writes(world):
        assert client.post(url, data).status_code == 404, url


def test_it_refuses_every_write_to_an_auditor(world, client, auditor):
    client_for(client, auditor)
    for url, data in writes(world):
        assert client.post(url, data).status_code == 403, url
    assert Deployment.objects.count() == 1 and Incident.objects.count() == 1


def test_it_shows_the_gates_reasons_on_the_deploy_form(world, client, owner, team):
    agent = world["agent"]
    submitted = release_services.release_submit(actor=team.delegate,
                                         release=make_release(agent, actor=team.delegate))
    response = client_for(client, owner).post(
        reverse("operations:deployments", args=[agent.slug]),
        {"environment": env("production").pk, "strategy": "all_at_once",
         "release": submitted.pk, "reason": "Ship"})
    assert response.status_code == 200
    assert b"does not pass the release gate" in response.content
    assert Deployment.objects.count() == 1


def test_it_suspends_from_the_page(world, client, security):
    agent = world["agent"]
    response = client_for(client, security).post(
        reverse("operations:agent-suspend", args=[agent.slug]), {"reason": "Leak"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.stage == "suspended"


def test_it_links_operations_from_the_agent_page(world, client, owner):
    response = client_for(client, owner).get(world["agent"].get_absolute_url())
    assert reverse("operations:dashboard", args=[world["agent"].slug]).encode() in response.content


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["operations:alert-list", "operations:incident-list"])
def test_its_lists_do_not_query_per_row(world, client, compliance, name):
    client_for(client, compliance)
    url = reverse(name) + ("?open=0" if "alert" in name else "")
    before = _count(client, url)
    agent = world["agent"]
    for n in range(5):
        services.incident_open(actor=compliance, agent=agent, title=f"More {n}", severity="low")
        Alert.objects.create(agent=agent, environment=env("production"), metric="daily_cost",
                             subject_key=f"agent-{n}", threshold={"max": 1}, value=2,
                             last_value=2, opened_at=world["alert"].opened_at)
    assert _count(client, url) == before


def test_its_deployments_page_does_not_query_per_deployment(world, client, owner):
    client_for(client, owner)
    url = reverse("operations:deployments", args=[world["agent"].slug])
    services.deployment_start(actor=owner, agent=world["agent"], environment=env("staging"),
                              strategy="all_at_once",
                              routes=[services.RouteSpec(world["release"])], reason="first")
    before = _count(client, url)
    for n in range(4):
        services.deployment_start(actor=owner, agent=world["agent"], environment=env("staging"),
                                  strategy="all_at_once",
                                  routes=[services.RouteSpec(world["release"])], reason=f"{n}")
    assert _count(client, url) == before


def test_the_dashboard_draws_stored_samples(world, client, owner):
    response = client_for(client, owner).get(
        reverse("operations:dashboard", args=[world["agent"].slug]))
    html = response.content.decode()
    assert 'role="img"' in html and "Requests per day" in html
    assert 'data-value="100.0"' in html  # the requests sample
    assert 'data-value="0.4"' in html    # its error rate


def test_the_incident_list_sorts_filters_by_chips_and_pages_by_keyset(world, client, compliance,
                                                                       monkeypatch):
    from almportal.operations import views

    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    agent = world["agent"]
    for n, severity in enumerate(["critical", "low", "high", "medium", "high"]):
        services.incident_open(actor=compliance, agent=agent, title=f"Case {n}",
                               severity=severity)
    client_for(client, compliance)
    seen, page = [], client.get(reverse("operations:incident-list"),
                                {"sort": "-severity", "status": ["open"]}).context["page"]
    while True:
        seen += page.object_list
        if not page.next_url:
            break
        page = client.get(reverse("operations:incident-list") + page.next_url.replace(
            "&amp;", "&")).context["page"]
    order = ["low", "medium", "high", "critical"]
    assert len(seen) == len({i.pk for i in seen}) == Incident.objects.filter(
        status="open").count() == 6
    assert [order.index(i.severity) for i in seen] == sorted(
        (order.index(i.severity) for i in seen), reverse=True)
    content = client.get(reverse("operations:incident-list"), {"status": "open"}).content
    assert b'type="checkbox" name="status" value="open" id="status_open" checked' in content
