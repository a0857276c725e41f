"""An approved release in the ecosystem's formats: its A2A AgentCard (signed as the A2A
specification says), its MCP servers' server.json and an OASF record. Each is built from the
release's frozen manifest alone (the component versions it pins are immutable rows), so a card
never says more than was approved.

Card signature (A2A §8.4): the card without `signatures`, as the SDK serialises it with empty
values left out, in RFC 8785 canonical JSON, signed as a detached JWS (EdDSA, `kid` in the
protected header) with the portal's audit signing key; `signatures` carries the protected header
and the signature. The public key is published as a JWKS (jwks())."""

import hashlib
from typing import Any

import rfc8785
from a2a.types import AgentCard
from django.conf import settings
from django.urls import reverse
from google.protobuf.json_format import MessageToDict, ParseDict
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey

from ..audit import signing
from ..inventory.choices import ToolKind
from ..inventory.models import Tool
from ..releases.models import Release
from .documents import MCP_PUBLISHER_META
from .rules import manifest_skills, manifest_tools

ALGORITHM = "EdDSA"
A2A_PROTOCOL_VERSION = "1.0"
MCP_SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json"
OASF_SCHEMA_VERSION = "0.8.0"


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _tool_notes(release: Release) -> dict[str, str]:
    ids = [entry["id"] for entry in manifest_tools(release.manifest)]
    return dict(Tool.objects.filter(pk__in=ids).values_list("name", "notes"))


def clean_empty(value: Any) -> Any:
    """Empty strings, lists and objects left out, as the A2A SDK does before canonicalising."""
    if isinstance(value, dict):
        kept = {k: c for k, v in value.items() if (c := clean_empty(v)) is not None}
        return kept or None
    if isinstance(value, list):
        kept_list = [c for v in value if (c := clean_empty(v)) is not None]
        return kept_list or None
    return None if value == "" else value


def _interfaces(release: Release, a2a: dict) -> list[dict]:
    if a2a.get("supportedInterfaces"):
        return a2a["supportedInterfaces"]
    urls = sorted({t["endpoint"] for t in manifest_tools(release.manifest)
                   if t["tool_kind"] == ToolKind.REST_API and t["endpoint"]})
    return [{"url": url, "protocolBinding": "JSONRPC", "protocolVersion": A2A_PROTOCOL_VERSION}
            for url in urls]


def card_content(release: Release) -> dict:
    """The unsigned card, normalised through the SDK's AgentCard type."""
    a2a = release.manifest.get("configuration", {}).get("a2a", {})
    skills = manifest_skills(release.manifest, _tool_notes(release))
    document = {
        "name": release.agent.name,
        "description": release.agent.purpose,
        "version": release.label or str(release.number),
        "supportedInterfaces": _interfaces(release, a2a),
        "provider": a2a.get("provider") or {"organization": release.agent.business_unit,
                                            "url": site_url(release.agent.get_absolute_url())},
        "capabilities": a2a.get("capabilities", {}),
        "securitySchemes": a2a.get("securitySchemes", {}),
        "securityRequirements": a2a.get("securityRequirements", []),
        "defaultInputModes": a2a.get("defaultInputModes", ["text/plain"]),
        "defaultOutputModes": a2a.get("defaultOutputModes", ["text/plain"]),
        "skills": [skills[key] for key in sorted(skills)],
    }
    card = ParseDict(document, AgentCard(), ignore_unknown_fields=True)
    return clean_empty(MessageToDict(card)) or {}


def canonical(card: dict) -> bytes:
    return rfc8785.dumps({k: v for k, v in card.items() if k != "signatures"})


def _private_jwk() -> OKPKey:
    return OKPKey.import_key(signing.private_key_pem(signing.private_key()),
                             {"kid": signing.key_id(), "use": "sig", "alg": ALGORITHM})


def sign(card: dict) -> dict:
    header = {"alg": ALGORITHM, "kid": signing.key_id(), "typ": "JOSE",
              "jku": site_url(reverse("jwks"))}
    token = jws.serialize_compact(header, canonical(card), _private_jwk(), algorithms=[ALGORITHM])
    protected, _, signature = token.split(".")
    return {**card, "signatures": [{"protected": protected, "signature": signature}]}


def signed_card(release: Release) -> dict:
    return sign(card_content(release))


def jwks() -> dict:
    key = OKPKey.import_key(signing.public_key_pem(),
                            {"kid": signing.key_id(), "use": "sig", "alg": ALGORITHM})
    return dict(KeySet([key]).as_dict(private=False))


def etag_of(document: dict) -> str:
    return '"' + hashlib.sha256(rfc8785.dumps(document)).hexdigest()[:32] + '"'


# --- MCP server.json -----------------------------------------------------------------------

def mcp_servers(release: Release) -> dict[str, dict]:
    """{tool name: manifest entry} of the release's MCP servers."""
    return {t["name"]: t for t in manifest_tools(release.manifest)
            if t["tool_kind"] == ToolKind.MCP_SERVER}


def _server_name(name: str) -> str:
    if "/" in name and all(name.split("/", 1)):
        return name
    return f"{settings.STANDARDS_MCP_NAMESPACE}/{name.replace('/', '-').replace(' ', '-')}"


def server_json(release: Release, name: str) -> dict:
    entry = mcp_servers(release)[name]
    mcp = release.manifest.get("configuration", {}).get("mcp", {})
    described = {t["name"]: t for t in mcp.get("tools", [])} if mcp.get("name") == name else {}
    tools = [{**described.get(op, {"name": op}),
              "annotations": {**described.get(op, {}).get("annotations", {}),
                              "readOnlyHint": not entry["writes"]}}
             for op in entry["operations"]]
    description = (_tool_notes(release).get(name) or f"MCP server {name}")[:100]
    document: dict[str, Any] = {
        "$schema": MCP_SCHEMA_URL, "name": _server_name(name), "description": description,
        "version": mcp.get("version") if described else release.label or str(release.number),
        "_meta": {MCP_PUBLISHER_META: {
            "tools": tools, "manifestHash": release.manifest_hash,
            "card": site_url(reverse("standards:card", args=[release.agent.slug,
                                                             release.number]))}},
    }
    if entry["endpoint"].startswith(("http://", "https://")):
        document["remotes"] = [{"type": "streamable-http", "url": entry["endpoint"]}]
    elif described and mcp.get("packages"):
        document["packages"] = mcp["packages"]
    return document


# --- OASF record ---------------------------------------------------------------------------

def oasf_record(release: Release) -> dict:
    oasf = release.manifest.get("configuration", {}).get("oasf", {})
    card_url = site_url(reverse("standards:card", args=[release.agent.slug, release.number]))
    skills = manifest_skills(release.manifest, {})
    approved_at = release.submitted_at or release.created_at
    owner = release.agent.business_owner
    return {
        "name": release.agent.name,
        "version": release.label or str(release.number),
        "schema_version": oasf.get("schema_version", OASF_SCHEMA_VERSION),
        "description": release.agent.purpose,
        "authors": [owner.get_full_name() or owner.username] if owner else
        [release.agent.business_unit],
        "created_at": approved_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "skills": [s for s in oasf.get("skills", []) if str(s.get("name") or s.get("id"))
                   in skills] or [{"name": key} for key in sorted(skills)],
        "domains": oasf.get("domains", []),
        "locators": oasf.get("locators") or [{"type": "unspecified", "url": card_url}],
        "annotations": {"manifest_hash": release.manifest_hash, "a2a_card": card_url},
    }
