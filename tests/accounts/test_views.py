from datetime import timedelta

import pytest
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from almportal.accounts.models import ApiToken
from almportal.accounts.services import hash_token_key, token_create

from ..factories import make_user

pytestmark = pytest.mark.django_db


def _in_days(days: int):
    return timezone.now() + timedelta(days=days)


TOKENS = reverse_lazy("accounts:tokens")
CREATE = reverse_lazy("accounts:token-create")


def test_it_shows_the_key_once_and_stores_only_its_hash(client, owner):
    client.force_login(owner)
    response = client.post(CREATE, {"name": "CI", "scopes": ["read", "write"],
                                    "expires_in_days": 30})
    assert response.status_code == 200
    key = response.context["key"]
    assert key.encode() in response.content
    assert "no-store" in response.headers.get("Cache-Control", "")
    token = ApiToken.objects.get()
    assert token.key_hash == hash_token_key(key) and token.user == owner
    assert token.scopes == ["read", "write"]
    assert not ApiToken.objects.filter(key_hash=key).exists()
    listing = client.get(TOKENS)
    assert key.encode() not in listing.content
    assert token.key_prefix.encode() in listing.content


def test_it_revokes_my_token(client, owner):
    token, _ = token_create(actor=owner, name="old", scopes=["read"],
                            expires_at=_in_days(10))
    client.force_login(owner)
    client.post(reverse("accounts:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.status == "revoked"


def test_it_hides_other_peoples_tokens(client, owner, other_owner):
    token, _ = token_create(actor=owner, name="mine", scopes=["read"], expires_at=_in_days(10))
    client.force_login(other_owner)
    assert b"mine" not in client.get(TOKENS).content
    assert client.post(reverse("accounts:token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_it_shows_a_service_error_on_the_field(client, auditor):
    client.force_login(auditor)
    response = client.post(CREATE, {"name": "x", "scopes": ["write"], "expires_in_days": 5})
    assert "read-only role" in " ".join(response.context["form"].errors["scopes"])
    assert not ApiToken.objects.exists()


def test_it_rejects_an_unknown_scope_and_a_long_expiry(client, owner):
    client.force_login(owner)
    response = client.post(CREATE, {"name": "x", "scopes": ["root"], "expires_in_days": 999})
    errors = response.context["form"].errors
    assert "scopes" in errors and "expires_in_days" in errors
    assert not ApiToken.objects.exists()


def test_an_admin_makes_a_token_for_a_service_account(client, admin_user, owner):
    robot = make_user(username="ci-bot", is_service_account=True)
    client.force_login(admin_user)
    response = client.post(CREATE, {"name": "CI", "scopes": ["read"], "expires_in_days": 30,
                                    "user": robot.pk})
    assert response.status_code == 200
    assert ApiToken.objects.get().user == robot


def test_a_non_admin_cannot_pick_an_account(client, owner):
    robot = make_user(username="ci-bot", is_service_account=True)
    client.force_login(owner)
    client.post(CREATE, {"name": "CI", "scopes": ["read"], "expires_in_days": 30,
                         "user": robot.pk})
    assert ApiToken.objects.get().user == owner  # the field is not offered, so it is ignored


def test_it_requires_login(client):
    assert client.get(TOKENS).status_code == 302
