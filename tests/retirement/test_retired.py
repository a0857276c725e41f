"""Done when 2: after retirement the runtime status says retired, every grant is revoked, and
every write to the agent through pages or API is refused with nothing changed."""

import pytest
from django.contrib.messages import get_messages

from almportal.accounts.models import TokenScope
from almportal.inventory.choices import Stage
from almportal.inventory.models import Credential
from almportal.operations.choices import DeploymentState
from almportal.retirement import services
from almportal.retirement.choices import PlanState

from ..conftest import client_for
from ..factories import intake_data, make_user
from ..operations.helpers import Team, runtime_client, token_client
from .conftest import do_every_task, sign_both, start, task

pytestmark = pytest.mark.django_db

def runtime_of(user, agent, environment="production"):
    response = runtime_client(user).get(f"/api/v1/runtime/agents/{agent.slug}/",
                                        {"environment": environment})
    assert response.status_code == 200
    return response.json()


def test_the_runtime_status_says_retired(retired, owner):
    body = runtime_of(owner, retired.agent)
    assert (body["state"], body["may_run"], body["routes"]) == ("retired", False, [])


def test_every_grant_is_revoked(retired):
    credentials = Credential.objects.filter(agent=retired.agent)
    assert credentials.count() == 2
    assert not credentials.filter(revoked_at__isnull=True).exists()


def test_a_live_agent_is_retired_end_to_end(owner, compliance):
    team = Team(owner, compliance)
    agent, _ = team.live()
    plan = start(agent)
    do_every_task(plan, owner, compliance)
    sign_both(plan, owner, compliance)
    services.plan_retire(actor=owner, plan=plan)
    assert not agent.deployments.filter(state=DeploymentState.ACTIVE).exists()
    assert task(plan, "disable_endpoints").proof["ended"]
    assert runtime_of(owner, agent)["state"] == "retired"


# --- Every write refused -----------------------------------------------------------------

REFUSALS = ("can no longer change", "cannot be deployed", "already being decommissioned",
            "only an agent in development")


def _refused(response) -> bool:
    """A page refuses with 403/409, or sends the user back with the service's error (a form
    page shows it on the form)."""
    if response.status_code in (403, 409):
        return True
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    if response.status_code == 200:
        shown += response.content.decode()
    return any(refusal in shown for refusal in REFUSALS)


def _edit_data(agent) -> dict:
    return {**intake_data(), "name": "Renamed", "success_metrics": "Deflected tickets: 30%",
            "tags": "", "technical_owner": "", "reason": "x"}


def _snapshot(agent):
    agent.refresh_from_db()
    return (agent.name, agent.stage, agent.releases.count(), agent.deployments.count(),
            agent.assessments.count() if hasattr(agent, "assessments") else 0,
            agent.user_perms.count(), Credential.objects.filter(agent=agent).count(),
            agent.prompts.count())


def test_every_page_write_is_refused(retired, client, owner):
    agent = retired.agent
    before = _snapshot(agent)
    client = client_for(client, owner)
    delegate = make_user("business_owner")
    base = f"/agents/{agent.slug}"
    for url, data in [
        (f"{base}/edit/", _edit_data(agent)),
        (f"{base}/components/prompts/new/", {"name": "system", "text": "New text"}),
        (f"{base}/releases/new/", {"label": "again"}),
        (f"{base}/delegates/add/", {"user": delegate.pk}),
        (f"/operations/agents/{agent.slug}/deployments/", {"environment": 1,
                                                          "strategy": "all_at_once",
                                                          "reason": "again"}),
        (f"/risk/agents/{agent.slug}/assess/", {}),
        (f"/retirement/agents/{agent.slug}/start/", {"reason": "again",
                                                    "planned_date": "2099-01-01"}),
    ]:
        response = client.post(url, data)
        assert _refused(response), (url, response.status_code)
    assert _snapshot(agent) == before


def test_every_api_write_is_refused(retired, owner):
    agent = retired.agent
    before = _snapshot(agent)
    api = token_client(owner, TokenScope.READ, TokenScope.WRITE)
    delegate = make_user("business_owner")
    calls = [
        ("patch", f"/api/v1/agents/{agent.slug}/", {"name": "Renamed"}),
        ("post", f"/api/v1/agents/{agent.slug}/delegates/", {"user": delegate.username}),
        ("post", "/api/v1/prompts/", {"agent": agent.slug, "name": "system", "text": "New"}),
        ("post", "/api/v1/credentials/", {"agent": agent.slug, "name": "new-grant",
                                          "identity": "svc", "scopes": [],
                                          "granted_by": "IT"}),
        ("post", "/api/v1/releases/", {"agent": agent.slug, "label": "again"}),
        ("post", "/api/v1/decommission-plans/", {"agent": agent.slug, "reason": "again",
                                                 "planned_date": "2099-01-01"}),
    ]
    for method, url, data in calls:
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code in (403, 409), (url, response.status_code, response.data)
    assert _snapshot(agent) == before
    assert agent.stage == Stage.RETIRED and retired.state == PlanState.RETIRED


def test_the_form_pages_of_a_retired_agent_answer_409(retired, client, owner):
    client = client_for(client, owner)
    base = f"/agents/{retired.agent.slug}"
    for url in (f"{base}/edit/", f"{base}/components/prompts/new/", f"{base}/releases/new/"):
        response = client.get(url)
        assert response.status_code == 409, url
        assert b"can no longer change" in response.content
