"""Importing agent definitions: A2A cards made by the official SDK, MCP server.json and OASF
records become intake drafts with their tools; bad documents get per-field errors and nothing
is written."""

import json

import pytest
from jsonschema import Draft7Validator, FormatChecker

from almportal.core.errors import DomainError
from almportal.inventory.choices import Stage, ToolKind
from almportal.inventory.models import Agent, Credential, Tool
from almportal.standards import services
from almportal.standards.models import ImportRecord

from ..conftest import client_for
from .conftest import INTAKE, INTERFACE, imported_agent, oasf_record, sdk_card, server_json

pytestmark = pytest.mark.django_db

SCHEMAS = __import__("pathlib").Path(__file__).parent / "schemas"


def schema(name):
    return Draft7Validator(json.loads((SCHEMAS / name).read_text()),
                           format_checker=FormatChecker())


def test_a_card_made_by_the_a2a_sdk_imports_as_a_draft_with_its_skills_as_tools(owner):
    imported = imported_agent(owner)
    agent = imported.agent
    assert agent.stage == Stage.DRAFT and agent.name == "Travel booker"
    assert agent.business_owner == owner and agent.business_unit == "Travel office"
    tools = {t.name: t for t in Tool.objects.filter(agent=agent)}
    assert set(tools) == {"search-flights", "book-hotel"}
    assert tools["book-hotel"].endpoint == INTERFACE
    assert tools["book-hotel"].tool_kind == ToolKind.REST_API
    assert [p["name"] for p in imported.pending_tools] == ["search-flights", "book-hotel"]
    a2a = imported.interface["a2a"]
    assert a2a["securitySchemes"]["apiKey"]["apiKeySecurityScheme"]["name"] == "X-API-Key"
    assert a2a["provider"]["organization"] == "Example Corp"
    assert a2a["capabilities"] == {"streaming": True}
    assert imported.history.first().history_user == owner


def test_a_card_signed_by_the_sdk_imports_too(owner):
    from a2a.types import AgentCard
    from a2a.utils.signing import create_agent_card_signer
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from google.protobuf.json_format import MessageToDict, ParseDict

    from almportal.audit.signing import private_key_pem

    signer = create_agent_card_signer(private_key_pem(Ed25519PrivateKey.generate()),
                                      {"alg": "EdDSA", "kid": "vendor-key", "typ": "JOSE"})
    signed = MessageToDict(signer(ParseDict(sdk_card(), AgentCard())))
    assert signed["signatures"]
    imported = imported_agent(owner, signed)
    assert Tool.objects.filter(agent=imported.agent).count() == 2
    assert imported.document["signatures"] == signed["signatures"]  # kept as received


def test_server_json_imports_its_tools_with_flags_from_annotations_and_secrets(owner):
    document = server_json()
    assert not list(schema("server.schema.json").iter_errors(document))
    imported = services.import_document(actor=owner, document_format="mcp_server",
                                        document=document, intake=INTAKE)
    tool = Tool.objects.get(agent=imported.agent)
    assert tool.name == "io.example/calendar" and tool.tool_kind == ToolKind.MCP_SERVER
    assert tool.endpoint == "https://mcp.example.test/calendar"
    assert tool.operations == ["list_rooms", "book_room"]
    assert tool.writes is True and tool.needs_human_approval is False  # book_room not destructive
    assert imported.pending_tools == [{"name": "io.example/calendar", "writes": True,
                                       "needs_human_approval": False,
                                       "basis": "readOnlyHint/destructiveHint annotations"}]
    secret = Credential.objects.get(agent=imported.agent)
    assert secret.name == "CALENDAR_TOKEN"  # CALENDAR_REGION is not secret
    assert imported.agent.action_reach == "writes_internal"


def test_a_server_without_annotations_is_taken_to_write_destructively(owner):
    meta = {"io.modelcontextprotocol.registry/publisher-provided": {"tools": [
        {"name": "run"}]}}
    imported = services.import_document(actor=owner, document_format="mcp_server",
                                        document=server_json(_meta=meta), intake=INTAKE)
    tool = Tool.objects.get(agent=imported.agent)
    assert tool.writes and tool.needs_human_approval
    assert "defaults" in imported.pending_tools[0]["basis"]


def test_an_oasf_record_imports_its_skills(owner):
    document = oasf_record()
    assert not list(schema("oasf-record.schema.json").iter_errors(document))
    imported = services.import_document(actor=owner, document_format="oasf_record",
                                        document=document, intake=INTAKE)
    tool = Tool.objects.get(agent=imported.agent)
    assert tool.name == "natural_language_processing/information_retrieval"
    assert tool.endpoint == "https://registry.example.test/expense"
    assert imported.interface["oasf"]["domains"][0]["id"] == 1101


def test_the_app_and_the_tests_check_against_the_same_schemas():
    from almportal.standards.documents import SCHEMAS as APP_SCHEMAS

    for name in ("server.schema.json", "oasf-record.schema.json"):
        assert (APP_SCHEMAS / name).read_bytes() == (SCHEMAS / name).read_bytes()


@pytest.mark.parametrize(("fmt", "document", "expected"), [
    ("a2a_card", {**sdk_card(), "name": "", "skills": [{"id": "x"}]},
     {"name", "skills[0].name", "skills[0].description", "skills[0].tags"}),
    ("a2a_card", {k: v for k, v in sdk_card().items() if k != "supportedInterfaces"},
     {"supportedInterfaces"}),
    ("a2a_card", {**sdk_card(), "skills": "many"}, {"document"}),
    ("a2a_card", {**sdk_card(), "skills": [{**sdk_card()["skills"][0], "id": "bad id!"}]},
     {"skills[0].id"}),
    ("mcp_server", {k: v for k, v in server_json().items() if k != "version"}, {"version"}),
    ("mcp_server", server_json(name="no-slash"), {"name"}),
    ("mcp_server", server_json(packages=[{"registryType": "npm", "identifier": "x",
                                          "version": "latest", "transport": {"type": "stdio"}}]),
     {"packages[0].version"}),
    ("oasf_record", {k: v for k, v in oasf_record().items() if k != "skills"}, {"skills"}),
    ("oasf_record", oasf_record(locators=[{"type": "ftp", "url": "x"}]),
     {"locators[0].type"}),
])
def test_a_bad_document_gets_per_field_errors_and_nothing_is_written(owner, fmt, document,
                                                                     expected):
    agents, tools = Agent.objects.count(), Tool.objects.count()
    with pytest.raises(DomainError) as caught:
        services.import_document(actor=owner, document_format=fmt, document=document,
                                 intake=INTAKE)
    assert expected <= set(caught.value.errors), caught.value.errors
    assert (Agent.objects.count(), Tool.objects.count()) == (agents, tools)
    assert not ImportRecord.objects.exists()


def test_an_auditor_may_not_import(auditor):
    with pytest.raises(DomainError):
        imported_agent(auditor)
    assert not Agent.objects.exists()


def test_importing_from_a_url(owner, served):
    served.put("/card.json", sdk_card())
    imported = services.import_from_url(actor=owner, url=served.base + "/card.json",
                                        intake=INTAKE)
    assert imported.document_format == "a2a_card"
    assert imported.source_url.endswith("/card.json")


def test_a_url_import_refuses_large_documents_missing_ones_and_other_schemes(owner, served,
                                                                            settings):
    settings.STANDARDS_FETCH_MAX_BYTES = 100
    served.put("/big.json", sdk_card())
    for url, message in [(served.base + "/big.json", "larger than"),
                         (served.base + "/missing.json", "404"),
                         ("file:///etc/passwd", "http or https")]:
        with pytest.raises(DomainError) as caught:
            services.import_from_url(actor=owner, url=url, intake=INTAKE)
        assert message in caught.value.errors["url"][0]
    assert not Agent.objects.exists()


def test_a_url_that_does_not_answer_in_time_is_refused(owner, served, settings):
    import time

    settings.STANDARDS_FETCH_TIMEOUT = 0.3
    served.put("/slow.json", sdk_card())
    started = time.monotonic()
    with pytest.raises(DomainError) as caught:
        services.import_from_url(actor=owner, url=served.base + "/slow.json", intake=INTAKE)
    assert time.monotonic() - started < 1.5
    assert "Could not fetch" in caught.value.errors["url"][0]


def test_confirming_keeps_or_corrects_the_seeded_flags(owner):
    imported = imported_agent(owner)
    imported = services.import_confirm_tool(actor=owner, imported=imported,
                                            tool="search-flights", writes=False,
                                            needs_human_approval=False)
    assert Tool.objects.filter(name="search-flights").count() == 1  # confirmed as seeded
    imported = services.import_confirm_tool(actor=owner, imported=imported, tool="book-hotel",
                                            writes=True, needs_human_approval=True)
    latest = Tool.objects.filter(name="book-hotel").order_by("-version").first()
    assert latest.version == 2 and latest.writes and latest.needs_human_approval
    assert imported.pending_tools == []
    with pytest.raises(DomainError) as caught:
        services.import_confirm_tool(actor=owner, imported=imported, tool="book-hotel",
                                     writes=True, needs_human_approval=True)
    assert "tool" in caught.value.errors


def test_only_those_who_may_change_the_agent_confirm(owner, other_owner, compliance):
    imported = imported_agent(owner)
    for user in (other_owner, compliance):
        with pytest.raises(DomainError):
            services.import_confirm_tool(actor=user, imported=imported, tool="book-hotel",
                                         writes=True, needs_human_approval=False)


# --- Pages and API -------------------------------------------------------------------------

def test_the_import_page_drafts_from_an_upload(client, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(client, owner)
    upload = SimpleUploadedFile("card.json", json.dumps(sdk_card()).encode(),
                                content_type="application/json")
    response = client.post("/standards/import/", {"file": upload, **INTAKE,
                                                  "audience": "internal",
                                                  "autonomy_level": "human_approves",
                                                  "data_classification": "internal",
                                                  "regulated_domain": "none"})
    imported = ImportRecord.objects.get()
    assert response.status_code == 302 and response.url == imported.get_absolute_url()
    page = client.get(imported.get_absolute_url())
    assert b"book-hotel" in page.content and b"Confirm" in page.content
    agent_page = client.get(imported.agent.get_absolute_url()).content.decode()
    assert "2 tools imported from the A2A AgentCard" in agent_page


def test_the_import_page_shows_the_documents_errors_on_the_form(client, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(client, owner)
    bad = {**sdk_card(), "skills": [{"id": "x"}]}
    upload = SimpleUploadedFile("card.json", json.dumps(bad).encode())
    response = client.post("/standards/import/", {"file": upload, **INTAKE,
                                                  "audience": "internal",
                                                  "autonomy_level": "human_approves",
                                                  "data_classification": "internal",
                                                  "regulated_domain": "none"})
    assert response.status_code == 200
    assert "skills[0].description" in response.content.decode()
    assert not Agent.objects.exists()


def test_the_api_imports_and_answers_field_errors(client, owner):
    client = client_for(client, owner)
    response = client.post("/api/v1/agent-imports/", {"document": sdk_card(), **INTAKE},
                           content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["agent"] == "travel-booker"
    bad = {"document": server_json(version=""), "document_format": "mcp_server", **INTAKE}
    bad["document"].pop("version")
    response = client.post("/api/v1/agent-imports/", bad, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"version": ["This field is required."]}
    assert Agent.objects.count() == 1


def test_the_api_confirms_a_tool(client, owner):
    imported = imported_agent(owner)
    client = client_for(client, owner)
    response = client.post(f"/api/v1/agent-imports/{imported.pk}/confirm-tool/",
                           {"tool": "book-hotel", "writes": True, "needs_human_approval": False},
                           content_type="application/json")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["pending_tools"]] == ["search-flights"]


def test_the_api_takes_an_upload_or_a_url_but_one_source_only(client, owner, served):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(client, owner)
    upload = SimpleUploadedFile("server.json", json.dumps(server_json()).encode())
    response = client.post("/api/v1/agent-imports/", {"file": upload, **INTAKE})
    assert response.status_code == 201, response.json()
    assert response.json()["document_format"] == "mcp_server"
    served.put("/record.json", oasf_record())
    response = client.post("/api/v1/agent-imports/", {"url": served.base + "/record.json",
                                                      **INTAKE},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["document_format"] == "oasf_record"
    response = client.post("/api/v1/agent-imports/", {"url": served.base + "/record.json",
                                                      "document": oasf_record(), **INTAKE},
                           content_type="application/json")
    assert response.status_code == 400 and "document" in response.json()["errors"]
    assert Agent.objects.count() == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.8", "169.254.169.254",
                                  "[::1]"])
def test_a_url_on_a_private_address_is_refused_unless_allowed(owner, served, settings, host):
    served.put("/card.json", sdk_card())
    settings.STANDARDS_FETCH_ALLOW_PRIVATE = False
    with pytest.raises(DomainError) as caught:
        services.import_from_url(actor=owner, url=f"http://{host}:9/card.json", intake=INTAKE)
    assert "private, loopback or link-local" in caught.value.errors["url"][0]
    assert not Agent.objects.exists()
