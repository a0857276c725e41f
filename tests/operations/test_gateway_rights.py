"""A gateway's service account acts only through the narrow right granted on each agent: polling
the runtime status needs `poll_runtime` there, sending samples `ingest_metrics`. A person's own
runtime or ingest token keeps working wherever they see the agent."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts.models import TokenScope, User
from almportal.accounts.services import token_create
from almportal.operations.models import MetricSample

from ..factories import make_service_account
from .helpers import token_client


def account_client(account, scope: str) -> APIClient:
    """A token an admin minted for the service account."""
    admin = User.objects.filter(is_superuser=True).first()
    _, key = token_create(actor=admin, owner=account, name="gateway", scopes=[scope],
                          expires_at=timezone.now() + timedelta(days=30))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def runtime_url(agent) -> str:
    return f"/api/v1/runtime/agents/{agent.slug}/"


def sample(agent, release) -> dict:
    return {"agent": agent.slug, "release": release.number, "environment": "production",
            "timestamp": (timezone.now() - timedelta(minutes=1)).isoformat(),
            "metric": "requests", "value": 1.0}


def test_a_gateway_polls_only_where_it_may_poll(team):
    agent, _ = team.live()
    other, _ = team.live(team.agent())
    gateway = make_service_account(agent, rights=("poll_runtime",), username="gateway")
    client = account_client(gateway, TokenScope.RUNTIME)
    assert client.get(runtime_url(agent)).status_code == 200
    assert client.get(runtime_url(other)).status_code == 404


def test_a_ci_account_cannot_poll_with_a_runtime_token(team):
    agent, _ = team.live()
    ci = make_service_account(agent, rights=("record_evaluations",), username="ci-pipeline")
    assert account_client(ci, TokenScope.RUNTIME).get(runtime_url(agent)).status_code == 404


def test_a_gateway_sends_samples_only_where_it_may_ingest(team):
    agent, release = team.live()
    poller = make_service_account(agent, rights=("poll_runtime",), username="poller")
    sender = make_service_account(agent, rights=("ingest_metrics",), username="sender")
    refused = account_client(poller, TokenScope.INGEST).post(
        "/api/v1/ingest/samples/", {"batch_id": "b-1", "samples": [sample(agent, release)]},
        format="json")
    assert refused.status_code == 400
    assert "agent" in str(refused.json())
    taken = account_client(sender, TokenScope.INGEST).post(
        "/api/v1/ingest/samples/", {"batch_id": "b-2", "samples": [sample(agent, release)]},
        format="json")
    assert taken.status_code == 200, taken.json()
    assert MetricSample.objects.filter(agent=agent).count() == 1


def test_a_person_still_polls_the_agents_they_see(team, owner):
    agent, _ = team.live()
    assert token_client(owner, TokenScope.RUNTIME).get(runtime_url(agent)).status_code == 200
