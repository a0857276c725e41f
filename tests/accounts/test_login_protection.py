"""Failed sign-ins lock the account and the address; admins unlock; the API is throttled."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts.roles import Role
from almportal.accounts.services import token_create
from almportal.accounts.throttling import TokenRateThrottle, UserRateThrottle

from ..factories import make_user
from ..operations.helpers import Team, runtime_client

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _three_tries(settings):
    settings.AXES_FAILURE_LIMIT = 3


def _login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_locks_an_account_after_the_failure_limit(client, owner):
    for _ in range(3):
        _login(client, "olivia", "wrong")
    response = _login(client, "olivia", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not _signed_in(client)


def test_it_locks_the_account_whatever_the_address(client, owner):
    for n in range(3):
        _login(client, "olivia", "wrong", address=f"10.0.0.{n + 1}")
    assert _login(client, "olivia", PASSWORD, address="10.0.0.99").status_code == 429


def test_it_locks_an_address_trying_many_accounts(client, owner, other_owner):
    for name in ("nobody", "someone", "anyone"):
        _login(client, name, "wrong")
    assert _login(client, "oscar", PASSWORD).status_code == 429
    assert _login(client, "oscar", PASSWORD, address="10.0.0.2").status_code == 302


def test_it_lets_the_right_password_in_below_the_limit(client, owner):
    _login(client, "olivia", "wrong")
    assert _login(client, "olivia", PASSWORD).status_code == 302
    assert _signed_in(client)


def test_it_lets_the_right_password_in_once_the_lock_ends(client, owner, settings):
    for _ in range(3):
        _login(client, "olivia", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(hours=1))
    assert _login(client, "olivia", PASSWORD).status_code == 302


def test_an_admin_unlocks_an_account_in_the_admin(client, owner, admin_user):
    for n in range(3):
        _login(client, "olivia", "wrong", address=f"10.0.1.{n}")
    admin = APIClient()
    admin.force_login(admin_user)
    admin.post(reverse("admin:accounts_user_changelist"),
               {"action": "unlock_sign_in", "_selected_action": [owner.pk]}, format="multipart")
    assert _login(client, "olivia", PASSWORD, address="10.0.2.1").status_code == 302
    unlocked = owner.history.get(history_change_reason__startswith="Sign-in unlocked")
    assert unlocked.history_user == admin_user


def test_an_admin_unlocks_an_account_over_the_api(client, owner, admin_user):
    for n in range(3):
        _login(client, "olivia", "wrong", address=f"10.0.1.{n}")
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post("/api/v1/identity/unlock/", {"username": "olivia"})
    assert response.status_code == 200 and response.json()["cleared"] >= 1
    assert _login(client, "olivia", PASSWORD, address="10.0.2.1").status_code == 302


@pytest.mark.parametrize("persona", ["owner", "compliance", "auditor"])
@pytest.mark.django_db  # its persona asks for the database only when it runs
def test_only_admins_unlock(persona, request):
    api = APIClient()
    api.force_authenticate(request.getfixturevalue(persona))
    assert api.post("/api/v1/identity/unlock/", {"username": "olivia"}).status_code == 403


def test_the_lockout_counts_behind_a_trusted_proxy_by_the_forwarded_address(client, owner,
                                                                            settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(3):
        client.post(reverse("login"), {"username": f"x{n}", "password": "wrong"},
                    HTTP_X_FORWARDED_FOR=f"1.2.3.4, 10.9.9.{n}", REMOTE_ADDR="10.0.0.1")
    # Three different forwarded clients behind one proxy: no address reached the limit.
    assert client.post(reverse("login"), {"username": "olivia", "password": PASSWORD},
                       HTTP_X_FORWARDED_FOR="10.9.9.7").status_code == 302


# --- API throttling ----------------------------------------------------------------------------

@pytest.fixture
def low_rates(monkeypatch):
    cache.clear()
    rates = {"token": "3/min", "user": "5/min", "gateway": "8/min"}
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    yield
    cache.clear()


def _token_client(user) -> APIClient:
    _, key = token_create(actor=user, name="ci", scopes=["read"],
                          expires_at=timezone.now() + timezone.timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_it_throttles_each_token_with_retry_after(low_rates, db):
    user = make_user(Role.COMPLIANCE)
    first, second = _token_client(user), _token_client(user)
    for _ in range(3):
        assert first.get("/api/v1/agents/").status_code == 200
    refused = first.get("/api/v1/agents/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert second.get("/api/v1/agents/").status_code == 200  # another token, its own budget


def test_it_throttles_each_user_across_tokens_and_session(low_rates, db):
    user, other = make_user(Role.COMPLIANCE), make_user(Role.COMPLIANCE)
    tokens = [_token_client(user) for _ in range(3)]
    for client in tokens[:2]:
        for _ in range(2):
            assert client.get("/api/v1/agents/").status_code == 200
    assert tokens[2].get("/api/v1/agents/").status_code == 200
    session = APIClient()
    session.force_login(user)
    refused = session.get("/api/v1/agents/")
    assert refused.status_code == 429 and "Retry-After" in refused
    assert _token_client(other).get("/api/v1/agents/").status_code == 200


def test_a_gateway_polls_on_a_budget_of_its_own(low_rates, owner, compliance):
    """The runtime status is polled hard: its own, larger budget per token, which neither the
    API's token or user rates refuse, nor spends the token's budget for the rest."""
    agent, _ = Team(owner, compliance).live()
    gateway = runtime_client(owner)
    url = f"/api/v1/runtime/agents/{agent.slug}/"
    for _ in range(8):
        assert gateway.get(url).status_code == 200
    refused = gateway.get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert _token_client(owner).get("/api/v1/agents/").status_code == 200
