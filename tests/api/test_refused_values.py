"""A NUL byte, an over-long string or an out-of-range number is the client's error: every write
endpoint answers 400 (or refuses earlier, 403/404/409) and never 500. The endpoints and their
fields come from the OpenAPI schema; the objects they act on are the first their list shows."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from almportal.accounts.models import TokenScope
from almportal.core.parsers import NUL_REFUSED
from almportal.inventory.choices import Stage

from ..factories import make_agent, make_release
from .test_token_scopes import client_with

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS = SCHEMA["components"]["schemas"]
WRITES = {"post", "put", "patch"}
BAD_VALUES = {"nul": "a\x00b", "long": "x" * 70_000, "huge": 10**30}


def body_fields(operation: dict) -> dict:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return {}
    ref = content["schema"].get("$ref", "")
    return COMPONENTS.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})


def write_operations() -> list[tuple[str, str, dict]]:
    return [(path, method, body_fields(operation))
            for path, item in SCHEMA["paths"].items()
            for method, operation in item.items() if method in WRITES and body_fields(operation)]


def listed_rows(client, collection: str) -> list:
    listed = client.get(collection).json()
    return listed.get("results", listed) if isinstance(listed, dict) else listed


def concrete(client, path: str) -> str:
    """The path with its first parameter named by the first object its list answers."""
    if "{" not in path:
        return path
    collection, rest = path.split("{", 1)
    if rest.startswith("slug}") and client.get(collection).status_code == 404:
        collection_of_agents = "/api/v1/agents/"  # nested under an agent with no list of its own
        rows = listed_rows(client, collection_of_agents)
    else:
        rows = listed_rows(client, collection)
    key = (rows[0].get("slug") or rows[0].get("id")) if rows else 1
    return f"{collection}{key}{rest.split('}', 1)[1]}".replace("{username}", "nobody")


def valid_sample(schema: dict):
    if schema.get("type") == "integer":
        return 1
    return "ok"


@pytest.fixture
def admin_api(admin_user, owner):
    make_release(make_agent(owner, stage=Stage.IN_DEVELOPMENT))
    client = client_with(admin_user, TokenScope.READ, TokenScope.WRITE)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(("path", "method", "fields"), write_operations(),
                         ids=[f"{m} {p}" for p, m, _ in write_operations()])
def test_it_never_answers_500_to_values_the_database_refuses(admin_api, path, method, fields):
    url = concrete(admin_api, path)
    for name in fields:
        for kind, bad in BAD_VALUES.items():
            body = {other: valid_sample(spec) for other, spec in fields.items()} | {name: bad}
            response = getattr(admin_api, method)(url, body, format="json")
            assert response.status_code < 500, (name, kind, response.content[:300])
            assert response["Content-Type"] == "application/json", (name, kind)
            if kind == "nul" and response.status_code not in (403, 404):  # refused earlier
                assert response.status_code == 400, (name, kind)
                assert response.json()["errors"][name] == [NUL_REFUSED]


def test_it_names_the_nested_field_that_holds_a_nul(admin_api):
    response = admin_api.post("/api/v1/agents/", {"name": "ok", "kpis": [{"name": "a\x00"}]},
                              format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"kpis.0.name": [NUL_REFUSED]}


def test_it_refuses_a_nul_in_an_ingested_batch(admin_user):
    client = client_with(admin_user, TokenScope.INGEST)
    response = client.post("/api/v1/ingest/samples/",
                           {"batch_id": "b\x00", "samples": [{"metric": "x\x00"}]},
                           format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"batch_id": [NUL_REFUSED],
                                         "samples.0.metric": [NUL_REFUSED]}


def test_it_refuses_a_nul_in_a_url_or_a_filter_without_a_server_error(admin_api):
    assert admin_api.get("/api/v1/agents/a%00b/").status_code in (400, 404)
    response = admin_api.get("/api/v1/agents/", {"stage": "a\x00"})
    assert response.status_code == 400
