"""A local HTTP server standing in for where agents serve their cards, documents made with the
official A2A SDK, and agents with approved releases to publish."""

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    APIKeySecurityScheme,
    SecurityScheme,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.json_format import MessageToDict

from almportal.audit import signing
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage, ToolKind
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState
from almportal.standards import services

from ..factories import make_agent, make_model, make_prompt

INTERFACE = "https://agents.example.test/travel/a2a"


class Served:
    """Documents by path; each answers with its ETag and 304 when If-None-Match matches."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.hits: list[str] = []

    def put(self, path: str, document) -> None:
        self.documents[path] = (document if isinstance(document, bytes)
                                else json.dumps(document).encode())


@pytest.fixture
def served(settings):
    settings.STANDARDS_FETCH_ALLOW_PRIVATE = True  # the test server listens on loopback
    store = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            store.hits.append(self.path)
            if self.path.startswith("/slow"):
                time.sleep(2)
            body = store.documents.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that gave up waiting (the timeout test) is expected

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    store.base = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield store
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _signing_key(settings):
    key = Ed25519PrivateKey.generate()
    settings.AUDIT_SIGNING_KEY = signing.private_key_pem(key).decode()
    settings.SITE_URL = "https://portal.example.test"


def sdk_card(**overrides) -> dict:
    """An AgentCard built with the official A2A SDK's types, as JSON."""
    card = AgentCard(
        name="Travel booker", description="Books staff travel within policy.", version="1.2.0",
        supported_interfaces=[AgentInterface(url=INTERFACE, protocol_binding="JSONRPC",
                                             protocol_version="1.0")],
        provider=AgentProvider(organization="Example Corp", url="https://example.test"),
        capabilities=AgentCapabilities(streaming=True),
        security_schemes={"apiKey": SecurityScheme(api_key_security_scheme=APIKeySecurityScheme(
            location="header", name="X-API-Key"))},
        default_input_modes=["text/plain"], default_output_modes=["text/plain"],
        skills=[AgentSkill(id="search-flights", name="Search flights",
                           description="Finds flights within the travel policy.",
                           tags=["travel"]),
                AgentSkill(id="book-hotel", name="Book hotel",
                           description="Books a hotel room at the negotiated rate.",
                           tags=["travel", "booking"])])
    document = MessageToDict(card)
    document.update(overrides)
    return document


def server_json(**overrides) -> dict:
    document = {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json",
        "name": "io.example/calendar", "description": "Reads and books meeting rooms.",
        "version": "2.0.1",
        "packages": [{"registryType": "npm", "identifier": "@example/calendar-mcp",
                      "version": "2.0.1", "transport": {"type": "stdio"},
                      "environmentVariables": [
                          {"name": "CALENDAR_TOKEN", "isSecret": True,
                           "description": "API token for the calendar"},
                          {"name": "CALENDAR_REGION", "isSecret": False}]}],
        "remotes": [{"type": "streamable-http", "url": "https://mcp.example.test/calendar"}],
        "_meta": {"io.modelcontextprotocol.registry/publisher-provided": {"tools": [
            {"name": "list_rooms", "description": "Lists rooms",
             "annotations": {"readOnlyHint": True}},
            {"name": "book_room", "description": "Books a room",
             "annotations": {"readOnlyHint": False, "destructiveHint": False}}]}},
    }
    document.update(overrides)
    return document


def oasf_record(**overrides) -> dict:
    document = {
        "name": "Expense checker", "version": "0.3.0", "schema_version": "0.8.0",
        "description": "Checks expense claims against policy.", "authors": ["Finance team"],
        "created_at": "2026-05-01T10:00:00Z",
        "skills": [{"name": "natural_language_processing/information_retrieval", "id": 10201}],
        "domains": [{"name": "finance_and_business/finance", "id": 1101}],
        "locators": [{"type": "docker_image", "url": "https://registry.example.test/expense"}],
    }
    document.update(overrides)
    return document


INTAKE = {"business_unit": "Travel office"}


def imported_agent(owner, document=None):
    return services.import_document(actor=owner, document_format="a2a_card",
                                    document=document or sdk_card(), intake=INTAKE)


def approved_release(owner, *, agent=None, configuration=None):
    """An agent in development with the travel card's skills as tools, and a release of them
    approved (set as the releases area's services set it once its gate holds)."""
    agent = agent or make_agent(owner, Stage.IN_DEVELOPMENT, name="Travel booker")
    tools = [inventory.component_add_version(
        actor=owner, agent=agent, kind="tools",
        data={"name": skill, "tool_kind": ToolKind.REST_API, "endpoint": INTERFACE,
              "operations": [skill], "notes": f"{skill} notes"})
        for skill in ("search-flights", "book-hotel")]
    release = release_services.release_create(
        actor=owner, agent=agent, label="1.2.0",
        configuration=configuration or imported_agent_configuration(),
        components={"models": [make_model(agent).pk], "prompts": [make_prompt(agent).pk],
                    "tools": [t.pk for t in tools]})
    release = release_services.release_submit(actor=owner, release=release)
    return release_services.release_set_state(actor=owner, release=release,
                                       state=ReleaseState.APPROVED, reason="Gate holds")


def imported_agent_configuration() -> dict:
    card = sdk_card()
    keep = ("supportedInterfaces", "securitySchemes", "provider", "capabilities", "skills",
            "defaultInputModes", "defaultOutputModes")
    return {"a2a": {k: card[k] for k in keep}}
