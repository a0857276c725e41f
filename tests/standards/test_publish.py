"""An approved release published as a signed A2A AgentCard (checked with the official SDK and
a JOSE library against the published JWKS), an MCP server.json and an OASF record, each
valid against its schema; nothing is published for a release not approved."""

import base64
import json

import pytest
import rfc8785
from a2a.types import AgentCard
from a2a.utils.signing import create_signature_verifier
from google.protobuf.json_format import ParseDict
from joserfc import jws
from joserfc.jwk import KeySet
from jwt import PyJWK

from almportal.inventory import services as inventory
from almportal.inventory.choices import ToolKind
from almportal.releases import services as release_services
from almportal.releases.choices import ReleaseState
from almportal.standards import exports

from ..factories import make_release
from .conftest import approved_release, imported_agent_configuration, server_json
from .test_import import schema

pytestmark = pytest.mark.django_db


def card_url(release):
    return f"/standards/cards/{release.agent.slug}/{release.number}/agent-card.json"


def test_the_published_card_parses_with_the_sdk_and_its_signature_verifies(client, owner):
    release = approved_release(owner)
    response = client.get(card_url(release))
    assert response.status_code == 200
    card_json = response.json()
    card = ParseDict(card_json, AgentCard(), ignore_unknown_fields=False)
    assert card.name == "Travel booker" and card.version == "1.2.0"
    assert [s.id for s in card.skills] == ["book-hotel", "search-flights"]
    assert card.supported_interfaces[0].url == "https://agents.example.test/travel/a2a"
    assert "apiKey" in card.security_schemes

    keys = client.get("/.well-known/jwks.json").json()
    signature = card_json["signatures"][0]
    header = json.loads(base64.urlsafe_b64decode(signature["protected"] + "=="))
    assert header["alg"] == "EdDSA" and header["kid"] == keys["keys"][0]["kid"]
    payload = rfc8785.dumps({k: v for k, v in card_json.items() if k != "signatures"})
    token = f"{signature['protected']}..{signature['signature']}"
    verified = jws.deserialize_compact(token, KeySet.import_key_set(keys), payload=payload,
                                       algorithms=["EdDSA"])
    assert verified.payload == payload

    # The SDK's own verifier agrees (its canonical form of the card is the one signed).
    jwk = {k["kid"]: PyJWK(k) for k in keys["keys"]}
    create_signature_verifier(lambda kid, jku: jwk[kid], ["EdDSA"])(card)


def test_a_changed_card_fails_verification(client, owner):
    release = approved_release(owner)
    card_json = client.get(card_url(release)).json()
    card_json["skills"].append({"id": "x", "name": "x", "description": "x", "tags": ["x"]})
    keys = client.get("/.well-known/jwks.json").json()
    jwk = {k["kid"]: PyJWK(k) for k in keys["keys"]}
    card = ParseDict(card_json, AgentCard())
    from a2a.utils.signing import InvalidSignaturesError

    with pytest.raises(InvalidSignaturesError):
        create_signature_verifier(lambda kid, jku: jwk[kid], ["EdDSA"])(card)


def test_the_card_says_only_what_the_manifest_holds(owner):
    configuration = imported_agent_configuration()
    configuration["a2a"]["skills"].append({"id": "cancel-trip", "name": "Cancel",
                                           "description": "Not approved", "tags": ["x"]})
    release = approved_release(owner, configuration=configuration)
    card = exports.card_content(release)
    assert [s["id"] for s in card["skills"]] == ["book-hotel", "search-flights"]


def test_the_card_and_jwks_answer_304_to_their_etag(client, owner):
    release = approved_release(owner)
    for url in (card_url(release), "/.well-known/jwks.json"):
        first = client.get(url)
        assert first["ETag"]
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again["ETag"] == first["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


@pytest.mark.parametrize("state", [ReleaseState.DRAFT, ReleaseState.SUBMITTED])
def test_a_release_not_approved_has_no_published_documents(client, owner, state):
    release = approved_release(owner)
    other = make_release(release.agent)
    if state == ReleaseState.SUBMITTED:
        other = release_services.release_submit(actor=owner, release=other)
    base = f"/standards/cards/{release.agent.slug}/{other.number}/"
    for name in ("agent-card.json", "oasf.json", "mcp/x/server.json"):
        assert client.get(base + name).status_code == 404
    assert client.get(f"/standards/cards/{release.agent.slug}/99/agent-card.json"
                      ).status_code == 404


def test_a_voided_release_is_no_longer_published(client, owner):
    release = approved_release(owner)
    release_services.release_set_state(actor=owner, release=release, state=ReleaseState.VOIDED,
                                reason="Voided")
    assert client.get(card_url(release)).status_code == 404


def _with_mcp_server(owner, document):
    release = approved_release(owner)
    agent = release.agent
    tool = inventory.component_add_version(
        actor=owner, agent=agent, kind="tools",
        data={"name": document["name"], "tool_kind": ToolKind.MCP_SERVER,
              "endpoint": document["remotes"][0]["url"], "operations": ["list_rooms",
                                                                        "book_room"],
              "writes": True, "notes": document["description"]})
    configuration = {**imported_agent_configuration(),
                     "mcp": {**document, "tools": document["_meta"][
                         "io.modelcontextprotocol.registry/publisher-provided"]["tools"]}}
    configuration["mcp"].pop("_meta")
    next_release = make_release(agent, configuration=configuration,
                                components={"tools": [tool.pk]})
    next_release = release_services.release_submit(actor=owner, release=next_release)
    return release_services.release_set_state(actor=owner, release=next_release,
                                       state=ReleaseState.APPROVED, reason="Gate holds")


def test_server_json_export_is_valid_and_reimports(client, owner):
    release = _with_mcp_server(owner, server_json())
    url = (f"/standards/cards/{release.agent.slug}/{release.number}/mcp/"
           "io.example/calendar/server.json")
    document = client.get(url).json()
    assert not list(schema("server.schema.json").iter_errors(document))
    assert document["remotes"] == [{"type": "streamable-http",
                                    "url": "https://mcp.example.test/calendar"}]
    tools = document["_meta"]["io.modelcontextprotocol.registry/publisher-provided"]["tools"]
    assert [t["name"] for t in tools] == ["list_rooms", "book_room"]
    assert all(t["annotations"]["readOnlyHint"] is False for t in tools)  # the approved flag
    from almportal.standards.documents import read

    assert read("mcp_server", document).tools[0].operations == ["list_rooms", "book_room"]


def test_an_mcp_tool_without_a_namespace_gets_the_portals(owner):
    release = approved_release(owner)
    tool = inventory.component_add_version(
        actor=owner, agent=release.agent, kind="tools",
        data={"name": "files", "tool_kind": ToolKind.MCP_SERVER, "endpoint": "files-server",
              "operations": ["read"]})
    release = make_release(release.agent, components={"tools": [tool.pk]})
    document = exports.server_json(release, "files")
    assert document["name"] == "local.almportal/files"
    assert not list(schema("server.schema.json").iter_errors(document))


def test_the_oasf_export_is_valid_and_reimports(client, owner):
    release = approved_release(owner)
    document = client.get(f"/standards/cards/{release.agent.slug}/{release.number}/oasf.json"
                          ).json()
    assert not list(schema("oasf-record.schema.json").iter_errors(document))
    assert [s["name"] for s in document["skills"]] == ["book-hotel", "search-flights"]
    assert document["annotations"]["manifest_hash"] == release.manifest_hash
    from almportal.standards.documents import read

    assert {t.name for t in read("oasf_record", document).tools} == {"book-hotel",
                                                                     "search-flights"}


def test_without_a_signing_key_the_card_is_unavailable_not_unsigned(client, owner, settings):
    release = approved_release(owner)
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.DEBUG = False
    assert client.get(card_url(release)).status_code == 503
