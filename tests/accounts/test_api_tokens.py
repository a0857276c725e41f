from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts import services
from almportal.accounts.models import ApiToken, TokenScope
from almportal.core.hashing import sha256_hex
from almportal.inventory.models import Agent

from ..factories import intake_data, make_agent, make_user

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"
AGENTS = "/api/v1/agents/"


def api(user=None, key: str | None = None) -> APIClient:
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")  # as behind the TLS proxy
    if user is not None:
        client.force_authenticate(user)
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def in_days(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def token_for(user, *scopes: str) -> tuple[ApiToken, str]:
    return services.token_create(actor=user, name="ci", scopes=list(scopes or ["read"]),
                                 expires_at=timezone.now() + timedelta(days=30))


def test_it_shows_the_key_once_and_stores_only_its_hash(owner):
    response = api(owner).post(TOKENS, {"name": "ci", "scopes": ["read", "write"],
                                        "expires_at": in_days(30)}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    key = body["key"]
    assert key.startswith("alm_") and "key_hash" not in body
    assert response["Cache-Control"] == "no-store"
    assert (body["user"], body["scopes"], body["status"]) == ("olivia", ["read", "write"],
                                                               "active")

    row = ApiToken.objects.get(pk=body["id"])
    assert row.key_hash == sha256_hex(key)
    stored = ApiToken.objects.filter(pk=row.pk).values().get()
    assert not any(key in str(value) for value in stored.values())
    assert not any(key in str(value) for value in row.history.values().get().values())

    shown_again = api(owner).get(f"{TOKENS}{row.pk}/").json()
    assert "key" not in shown_again and "key_hash" not in shown_again
    listed = api(owner).get(TOKENS).json()["results"]
    assert [t["id"] for t in listed] == [row.pk]
    assert all("key" not in t and "key_hash" not in t for t in listed)


def test_it_authenticates_with_a_token_and_records_its_use(owner):
    token, key = token_for(owner, TokenScope.READ)
    assert token.last_used_at is None
    response = api(key=key).get(AGENTS)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_records_the_token_user_as_the_author_of_changes(owner):
    _, key = token_for(owner, TokenScope.READ, TokenScope.WRITE)
    client = api(key=key)
    response = client.post(AGENTS, intake_data(), format="json")
    assert response.status_code == 201, response.json()
    slug = response.json()["slug"]
    client.patch(f"{AGENTS}{slug}/", {"sponsor": "COO", "reason": "Sponsor named"},
                 format="json")
    client.post(f"{AGENTS}{slug}/submit/", {}, format="json")
    rows = Agent.history.filter(slug=slug).order_by("history_id")
    assert [r.history_user for r in rows] == [owner, owner, owner]
    assert [r.history_change_reason for r in rows] == ["Intake drafted", "Sponsor named",
                                                        "Intake submitted"]


def test_it_refuses_writes_with_a_read_scoped_token(owner):
    agent = make_agent(owner)
    _, key = token_for(owner, TokenScope.READ)
    client = api(key=key)
    assert client.get(f"{AGENTS}{agent.slug}/").status_code == 200
    assert client.post(AGENTS, intake_data(), format="json").status_code == 403
    assert client.patch(f"{AGENTS}{agent.slug}/", {"name": "x"},
                        format="json").status_code == 403
    assert Agent.objects.count() == 1
    assert Agent.history.count() == 1


def test_it_rejects_an_expired_token(owner):
    token, key = token_for(owner)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api(key=key).get(AGENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_rejects_a_revoked_token(owner):
    token, key = token_for(owner)
    assert api(key=key).get(AGENTS).status_code == 200
    response = api(owner).post(f"{TOKENS}{token.pk}/revoke/", {"reason": "Leaked"},
                               format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert api(key=key).get(AGENTS).status_code == 401
    row = token.history.order_by("-history_id").first()
    assert (row.history_user, row.history_change_reason) == (owner, "Leaked")


def test_it_rejects_an_unknown_token_and_no_credentials(db):
    assert api(key="alm_not-a-real-key").get(AGENTS).status_code == 401
    assert api().get(AGENTS).status_code == 401


def test_it_refuses_a_token_for_another_user_unless_admin(owner, other_owner, admin_user):
    body = {"name": "theirs", "scopes": ["read"], "expires_at": in_days(7), "user": "oscar"}
    response = api(owner).post(TOKENS, body, format="json")
    assert response.status_code == 403
    assert not ApiToken.objects.exists()

    response = api(admin_user).post(TOKENS, body, format="json")
    assert response.status_code == 400  # tokens for others are for service accounts only
    assert "user" in response.json()["errors"]

    make_user(username="ci-bot", is_service_account=True)
    response = api(admin_user).post(TOKENS, {**body, "user": "ci-bot"}, format="json")
    assert response.status_code == 201
    token = ApiToken.objects.get()
    assert (token.user.username, token.created_by) == ("ci-bot", admin_user)


def test_it_lists_own_tokens_and_admins_see_all(owner, other_owner, admin_user):
    mine, _ = token_for(owner)
    theirs, _ = token_for(other_owner)

    def ids(user) -> list[int]:
        return sorted(t["id"] for t in api(user).get(TOKENS).json()["results"])

    assert ids(owner) == [mine.pk]
    assert ids(admin_user) == sorted([mine.pk, theirs.pk])
    assert api(owner).get(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert api(owner).post(f"{TOKENS}{theirs.pk}/revoke/", {},
                           format="json").status_code == 404
    assert api(admin_user).post(f"{TOKENS}{theirs.pk}/revoke/", {},
                                format="json").status_code == 200


def test_it_gives_an_auditor_read_tokens_only(auditor):
    body = {"name": "evidence", "scopes": ["read", "write"], "expires_at": in_days(7)}
    response = api(auditor).post(TOKENS, body, format="json")
    assert response.status_code == 400
    assert "scopes" in response.json()["errors"]
    response = api(auditor).post(TOKENS, {**body, "scopes": ["read"]}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"scopes": ["everything"]}, "scopes"),
    ({"scopes": []}, "scopes"),
    ({"scopes": "read"}, "scopes"),
    ({"expires_at": "next tuesday"}, "expires_at"),
    ({"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "x" * 101}, "name"),
    ({"key_hash": "0" * 64}, "key_hash"),
    ({"user": "nobody"}, "user"),
])
def test_it_refuses_bad_token_requests(owner, body, field):
    data = {"name": "ci", "scopes": ["read"], "expires_at": in_days(7), **body}
    response = api(owner).post(TOKENS, data, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not ApiToken.objects.exists()


def test_it_refuses_to_mint_tokens_with_a_token(owner):
    token, key = token_for(owner, TokenScope.READ, TokenScope.WRITE)
    body = {"name": "successor", "scopes": ["read", "write", "ingest"], "expires_at": in_days(300)}
    response = api(key=key).post(TOKENS, body, format="json")
    assert response.status_code == 403
    assert ApiToken.objects.get() == token
    response = api(key=key).post(f"{TOKENS}{token.pk}/revoke/", {"reason": "Rotating"},
                                 format="json")
    assert response.status_code == 200


def test_it_does_not_edit_tokens(owner):
    token, _ = token_for(owner)
    client = api(owner)
    assert client.patch(f"{TOKENS}{token.pk}/", {"scopes": ["write"]},
                        format="json").status_code == 405
    assert client.delete(f"{TOKENS}{token.pk}/").status_code == 405
