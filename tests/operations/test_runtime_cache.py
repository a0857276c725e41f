"""The runtime status as gateways poll it: served from the cache, rebuilt when something it
depends on changes, with token look-ups and poll records that do not touch the database on
every request."""

from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts import services as accounts
from almportal.operations import services
from almportal.operations.models import Environment, RuntimePoll
from almportal.operations.selectors import runtime_key

from .helpers import runtime_client

URL = "/api/v1/runtime/agents/{}/"


def _poll(client, agent, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(URL.format(agent.slug), **headers)


def test_it_answers_a_repeated_poll_without_a_query(team, owner):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    first = _poll(gateway, agent)
    with CaptureQueriesContext(connection) as queries:
        again = _poll(gateway, agent, first["ETag"])
        full = _poll(gateway, agent)
    assert again.status_code == 304 and full.status_code == 200
    assert full.json() == first.json()
    assert len(queries) == 0


def test_it_builds_the_answer_when_the_agent_changes_not_when_polled(
        team, owner, security, django_capture_on_commit_callbacks):
    agent, _ = team.live()
    production = Environment.objects.get(is_production=True)
    _poll(runtime_client(owner), agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_suspend(actor=security, agent=agent, reason="Stop")
    built = cache.get(runtime_key(agent.pk, production.pk))
    assert built is not None and built.state == "suspended"


def test_it_sees_a_suspension_on_the_very_next_request_from_a_warm_cache(team, owner, security):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    etag = _poll(gateway, agent)["ETag"]
    assert _poll(gateway, agent, etag).status_code == 304  # cached
    services.agent_suspend(actor=security, agent=agent, reason="Leaking internal notes")
    after = _poll(gateway, agent, etag)
    assert after.status_code == 200 and after.json()["state"] == "suspended"
    services.agent_resume(actor=security, agent=agent, reason="Fixed")
    assert _poll(gateway, agent, after["ETag"]).json()["state"] == "active"


def test_it_refuses_a_revoked_token_on_the_next_request(team, owner):
    agent, _ = team.live()
    token, key = accounts.token_create(actor=owner, name="gateway", scopes=["runtime"],
                                       expires_at=timezone.now() + timedelta(days=1))
    gateway = APIClient()
    gateway.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert _poll(gateway, agent).status_code == 200  # the token is now cached
    accounts.token_revoke(actor=owner, token=token, reason="Leaked")
    assert _poll(gateway, agent).status_code == 401


def test_it_refuses_a_deactivated_users_token_on_the_next_request(team, owner, admin_user):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    assert _poll(gateway, agent).status_code == 200
    accounts.user_deactivate(actor=admin_user, user=owner, reason="Left the company")
    assert _poll(gateway, agent).status_code == 401


def test_it_writes_the_last_poll_at_most_once_per_interval(team, owner):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    for _ in range(5):
        _poll(gateway, agent)
    poll = RuntimePoll.objects.get(agent=agent)
    first = poll.last_polled_at
    RuntimePoll.objects.filter(pk=poll.pk).update(last_polled_at=first - timedelta(hours=1))
    _poll(gateway, agent)
    assert RuntimePoll.objects.get(pk=poll.pk).last_polled_at == first - timedelta(hours=1)


def test_it_records_a_poll_at_once_when_what_it_serves_changes(team, owner, security):
    agent, _ = team.live()
    gateway = runtime_client(owner)
    _poll(gateway, agent)
    services.agent_suspend(actor=security, agent=agent, reason="Stop")
    _poll(gateway, agent)
    assert RuntimePoll.objects.get(agent=agent).last_state == "suspended"
