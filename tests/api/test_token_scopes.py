"""A token acts only within its scopes, on every API route, whatever permission classes the
view declares (the audit ledger's own once dropped the check)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.accounts import services
from almportal.accounts.authentication import SCOPE_REFUSED
from almportal.accounts.models import TokenScope

from .routes import api_routes

pytestmark = pytest.mark.django_db

ROUTES = api_routes()


def client_with(user, *scopes: str) -> APIClient:
    _, key = services.token_create(actor=user, name="gateway", scopes=list(scopes),
                                   expires_at=timezone.now() + timedelta(days=1))
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def call(client: APIClient, route) -> int:
    response = getattr(client, route.method)(route.path, {}, format="json")
    if response.status_code == 403 and response["Content-Type"] == "application/json":
        assert response.json() == {"detail": SCOPE_REFUSED}, route
    return response.status_code


def needs(route) -> str:
    named = getattr(route.view, "required_scope", None)
    return named or (TokenScope.READ if route.method == "get" else TokenScope.WRITE)


def test_it_enumerates_every_api_route_including_the_ledger_and_the_gateway():
    paths = {route.path for route in ROUTES}
    assert {"/api/v1/audit/ledger/", "/api/v1/audit/ledger/verify/",
            "/api/v1/audit/ledger/export/csv/", "/api/v1/runtime/agents/1/",
            "/api/v1/ingest/samples/", "/api/schema/"} <= paths
    assert len(ROUTES) > 100


@pytest.mark.parametrize("scope", [TokenScope.RUNTIME, TokenScope.INGEST])
def test_it_refuses_a_gateway_token_on_every_route_but_its_own(admin_user, scope):
    client = client_with(admin_user, scope)
    refused = {str(route) for route in ROUTES if call(client, route) == 403}
    expected = {str(route) for route in ROUTES if needs(route) != scope}
    assert refused == expected


def test_it_refuses_a_read_only_token_every_write(admin_user):
    client = client_with(admin_user, TokenScope.READ)
    writes = [route for route in ROUTES if route.method != "get"]
    assert writes and all(call(client, route) == 403 for route in writes)


def test_it_lets_a_ledger_reader_verify_it_only_with_a_read_token(compliance):
    ledger = "/api/v1/audit/ledger/verify/"
    assert client_with(compliance, TokenScope.RUNTIME).get(ledger).status_code == 403
    assert client_with(compliance, TokenScope.INGEST).get(ledger).status_code == 403
    assert client_with(compliance, TokenScope.READ).get(ledger).status_code == 200
