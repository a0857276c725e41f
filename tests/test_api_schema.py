import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_generates_a_valid_schema_without_warnings(tmp_path):
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    for route in ("/api/v1/agents/", "/api/v1/agents/{slug}/submit/", "/api/v1/models/",
                  "/api/v1/data-sources/", "/api/v1/credentials/{id}/revoke/",
                  "/api/v1/releases/{id}/", "/api/v1/tokens/"):
        assert route in schema["paths"]
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_it_serves_the_schema_and_the_docs(client, owner):
    client.force_login(owner)
    secure = {"HTTP_X_FORWARDED_PROTO": "https"}
    assert client.get("/api/schema/", **secure).status_code == 200
    response = client.get("/api/docs/", **secure)
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
