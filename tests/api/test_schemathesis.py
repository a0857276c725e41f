"""The OpenAPI schema tells the truth: schemathesis generates requests for every operation from
the schema and checks each answer — no server error, a documented status code and content type,
and a body that matches the documented schema. As an admin and as a business owner."""

from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from almportal.accounts import services as accounts
from almportal.accounts.models import TokenScope
from almportal.accounts.throttling import TokenRateThrottle, UserRateThrottle
from almportal.inventory.choices import Stage

from ..factories import make_agent, make_release

pytestmark = pytest.mark.django_db

EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture
def served(settings, monkeypatch):
    """The WSGI application, on the test's own database connection: as Django's test client
    does, requests must not close it. Rates high enough that no generated request is throttled
    (429 is documented; throttling has its own tests)."""
    unthrottled = {"token": "1000000/min", "user": "1000000/min", "gateway": "1000000/min"}
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", unthrottled)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", unthrottled)
    settings.ALLOWED_HOSTS = ["localhost"]
    SCHEMA.app = WSGIHandler()  # after the test settings, which its middleware reads once
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def bearer(user) -> dict:
    _, key = accounts.token_create(actor=user, name="fuzz",
                                   scopes=[TokenScope.READ, TokenScope.WRITE],
                                   expires_at=timezone.now() + timedelta(days=1))
    return {"Authorization": f"Bearer {key}", "X-Forwarded-Proto": "https"}


def first_failure(operation, headers: dict) -> str | None:
    """Runs the operation's examples, each in a savepoint rolled back after it, so one example's
    writes or refused query never bear on the next."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def example(case):
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS)

    try:
        example()
    except (AssertionError, FailureGroup) as failure:
        return f"{operation.label}: {failure}"
    return None


def run_all(headers: dict) -> list[str]:
    failures = []
    for result in SCHEMA.get_all_operations():
        operation = result.ok()
        failures.append(first_failure(operation, headers))
    return [failure for failure in failures if failure]


def seed(owner) -> None:
    """Rows for the generated ids and slugs to find now and then."""
    make_release(make_agent(owner, stage=Stage.IN_DEVELOPMENT))


@pytest.mark.parametrize("persona", ["admin_user", "owner"])
def test_it_answers_every_operation_as_its_schema_says(served, request, owner, persona):
    seed(owner)
    user = request.getfixturevalue(persona)
    failures = run_all(bearer(user))
    assert not failures, "\n\n".join(failures)
