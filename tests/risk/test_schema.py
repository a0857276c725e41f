import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_risk_api_is_in_the_schema_without_warnings(tmp_path):
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    paths = yaml.safe_load(path.read_text())["paths"]
    for route in ("/api/v1/risk/assessments/", "/api/v1/risk/assessments/{id}/complete/",
                  "/api/v1/risk/assessments/{id}/tier/", "/api/v1/risk/questionnaires/current/",
                  "/api/v1/risk/tier-policies/{tier}/"):
        assert route in paths
