"""Every API error is JSON — an unknown URL, an uncaught exception — and an unreachable
database answers 503 with Retry-After, in the API and on the pages."""

from unittest import mock

import pytest
from django.db import OperationalError, connection
from rest_framework.test import APIClient

from almportal.core.http_errors import RETRY_AFTER_SECONDS, UNAVAILABLE
from almportal.inventory.api import AgentViewSet

from .test_token_scopes import client_with

pytestmark = pytest.mark.django_db


def database_down():
    return mock.patch.object(connection, "ensure_connection",
                             side_effect=OperationalError("connection refused"))


@pytest.fixture
def api(owner) -> APIClient:
    client = client_with(owner, "read", "write")
    client.raise_request_exception = False  # answer as the server would, not re-raise
    return client


def test_it_answers_an_unknown_api_url_in_json(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_answers_a_mismatched_url_parameter_in_json(api):
    response = api.get("/api/v1/releases/not-a-number/gate/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_it_answers_a_server_error_in_json(api):
    with mock.patch.object(AgentViewSet, "get_queryset", side_effect=RuntimeError("bug")):
        response = api.get("/api/v1/agents/")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("A server error occurred.")


def test_it_keeps_the_page_for_a_server_error_off_the_api(client, owner):
    client.force_login(owner)
    client.raise_request_exception = False
    with mock.patch("almportal.portal.views.selectors.owner_home", side_effect=RuntimeError):
        response = client.get("/")
    assert response.status_code == 500 and b"Something went wrong" in response.content


def test_it_answers_503_with_retry_after_when_the_database_is_unreachable(api):
    with database_down():
        response = api.get("/api/v1/agents/")
    assert response.status_code == 503
    assert response.json() == {"detail": UNAVAILABLE}
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_it_answers_503_on_a_page_when_the_database_is_unreachable(client, owner):
    client.force_login(owner)
    client.raise_request_exception = False
    with database_down():
        response = client.get("/")
    assert response.status_code == 503 and response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert UNAVAILABLE.encode() in response.content
