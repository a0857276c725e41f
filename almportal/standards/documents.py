"""Reading agent definitions in the ecosystem's formats: an A2A AgentCard (through the official
SDK's types), an MCP registry server.json and an OASF record (each checked against its JSON
Schema). Each reader returns a Definition, or raises DomainError with one message list per
field of the document ("skills[0].name"), before anything is written."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from a2a.types import AgentCard
from a2a.utils.errors import InvalidParamsError
from a2a.utils.proto_utils import validate_proto_required_fields
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from jsonschema import Draft7Validator, FormatChecker

from ..core.errors import DomainError
from ..inventory.choices import ToolKind
from .models import DocumentFormat

SCHEMAS = Path(__file__).resolve().parent / "schemas"
MCP_PUBLISHER_META = "io.modelcontextprotocol.registry/publisher-provided"
NAME_PATTERN = re.compile(r"^[\w .:/@+-]+$")  # inventory's component names
NAME_MAX = 120
NOT_STATED = "not stated by the document"


@dataclass
class ToolSpec:
    name: str
    tool_kind: str
    endpoint: str
    operations: list[str]
    writes: bool
    needs_human_approval: bool = False
    basis: str = NOT_STATED
    notes: str = ""


@dataclass
class CredentialSpec:
    name: str
    notes: str = ""


@dataclass
class Definition:
    document_format: str
    name: str
    description: str
    version: str
    tools: list[ToolSpec] = field(default_factory=list)
    credentials: list[CredentialSpec] = field(default_factory=list)
    interface: dict = field(default_factory=dict)


def document_errors(errors: dict[str, list[str]]) -> DomainError:
    return DomainError("The document has errors; nothing was imported.", errors=errors)


def load_json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError(f"Not JSON: {exc}", field="document") from exc


def read(document_format: str, document: Any) -> Definition:
    if not isinstance(document, dict):
        raise document_errors({"document": ["The document must be a JSON object."]})
    readers: dict[str, Callable[[dict], Definition]] = {
        DocumentFormat.A2A_CARD: read_a2a_card, DocumentFormat.MCP_SERVER: read_mcp_server,
        DocumentFormat.OASF_RECORD: read_oasf_record}
    reader = readers.get(document_format)
    if reader is None:
        raise DomainError("Choose a known format.", field="document_format")
    definition = reader(document)
    _check_names(definition)
    return definition


def guess_format(document: Any) -> str:
    """The format a document is in, from the keys only one of them has."""
    if isinstance(document, dict):
        if "supportedInterfaces" in document or "skills" in document and "locators" not in document:
            return DocumentFormat.A2A_CARD
        if "schema_version" in document or "locators" in document:
            return DocumentFormat.OASF_RECORD
        if "packages" in document or "remotes" in document or "$schema" in document:
            return DocumentFormat.MCP_SERVER
    raise DomainError("Say which format the document is in.", field="document_format")


# --- JSON Schema ---------------------------------------------------------------------------

@cache
def validator(name: str) -> Draft7Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=FormatChecker())


def json_path(parts) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "document"


def schema_errors(name: str, document: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in validator(name).iter_errors(document):
        leaf = min([error, *(error.context or [])], key=lambda e: -len(e.absolute_path))
        parts = list(leaf.absolute_path)
        if leaf.validator == "required" and isinstance(leaf.validator_value, list):
            missing = [k for k in leaf.validator_value
                       if isinstance(leaf.instance, dict) and k not in leaf.instance]
            for key in missing:
                errors.setdefault(json_path([*parts, key]), []).append("This field is required.")
            continue
        errors.setdefault(json_path(parts), []).append(leaf.message)
    return errors


# --- A2A AgentCard -------------------------------------------------------------------------

def _camel(path: str) -> str:
    """The SDK names fields as in the proto (skills[0].input_modes); the card says inputModes."""
    return re.sub(r"_([a-z])(?![^\[]*\])", lambda m: m.group(1).upper(), path)


def parse_card(document: dict) -> AgentCard:
    """The card as the official SDK reads it, or the fields it refuses."""
    try:
        card = ParseDict(document, AgentCard(), ignore_unknown_fields=True)
    except ParseError as exc:
        raise document_errors({"document": [str(exc)]}) from exc
    try:
        validate_proto_required_fields(card)
    except InvalidParamsError as exc:
        errors: dict[str, list[str]] = {}
        for detail in (exc.data or {}).get("errors", []):
            errors.setdefault(_camel(detail["field"]), []).append(detail["message"])
        raise document_errors(errors) from exc
    return card


def card_dict(card: AgentCard) -> dict:
    return MessageToDict(card)


def read_a2a_card(document: dict) -> Definition:
    card = card_dict(parse_card(document))
    interfaces = card.get("supportedInterfaces", [])
    endpoint = interfaces[0]["url"] if interfaces else ""
    tools = [ToolSpec(name=skill["id"], tool_kind=ToolKind.REST_API, endpoint=endpoint,
                      operations=[skill["id"]], writes=False,
                      notes=_short(f"{skill.get('name', '')}: {skill.get('description', '')}"))
             for skill in card.get("skills", [])]
    keep = ("supportedInterfaces", "securitySchemes", "securityRequirements", "provider",
            "capabilities", "defaultInputModes", "defaultOutputModes", "skills", "version",
            "documentationUrl")
    return Definition(DocumentFormat.A2A_CARD, card["name"], card.get("description", ""),
                      card.get("version", ""), tools,
                      interface={"a2a": {k: card[k] for k in keep if k in card}})


# --- MCP server.json -------------------------------------------------------------------------

def mcp_tools(document: dict) -> list[dict]:
    """The server's tools where the document lists them: in the publisher-provided metadata
    (the registry schema's place for extensions), or at the top level."""
    meta = document.get("_meta", {}).get(MCP_PUBLISHER_META, {})
    tools = meta.get("tools", document.get("tools", []))
    return [t for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)]


def write_flags(tools: list[dict]) -> tuple[bool, bool, str]:
    """(writes, needs human approval, basis) seeded from the tools' annotations. MCP's own
    defaults are readOnlyHint false and destructiveHint true, so a tool that says nothing is
    taken to write, destructively."""
    if not tools:
        return True, True, "no tools listed: MCP's defaults (may write, destructively)"
    hints = [t.get("annotations") or {} for t in tools]
    writes = any(not h.get("readOnlyHint", False) for h in hints)
    destructive = any(not h.get("readOnlyHint", False) and h.get("destructiveHint", True)
                      for h in hints)
    stated = all("readOnlyHint" in h for h in hints)
    basis = "readOnlyHint/destructiveHint annotations" if stated else \
        "annotations where given, MCP's defaults elsewhere"
    return writes, destructive, basis


def mcp_endpoint(document: dict) -> str:
    """Where the server is reached: its first remote, else its first package."""
    for remote in document.get("remotes", []):
        return str(remote.get("url", ""))
    for package in document.get("packages", []):
        return (f"{package.get('registryType', '')}:{package.get('identifier', '')}"
                f"@{package.get('version', '')}")
    return str(document.get("name", ""))


def mcp_secrets(document: dict) -> list[CredentialSpec]:
    found = []
    for package in document.get("packages", []):
        for variable in package.get("environmentVariables", []):
            if variable.get("isSecret"):
                found.append(CredentialSpec(variable["name"], _short(variable.get(
                    "description", f"Secret environment variable of {package['identifier']}"))))
    for remote in document.get("remotes", []):
        for header in remote.get("headers", []):
            if header.get("isSecret"):
                found.append(CredentialSpec(header["name"], _short(header.get(
                    "description", f"Secret header sent to {remote['url']}"))))
    return found


def read_mcp_server(document: dict) -> Definition:
    errors = schema_errors("server.schema.json", document)
    if errors:
        raise document_errors(errors)
    tools = mcp_tools(document)
    writes, destructive, basis = write_flags(tools)
    tool = ToolSpec(name=document["name"], tool_kind=ToolKind.MCP_SERVER,
                    endpoint=mcp_endpoint(document), operations=[t["name"] for t in tools],
                    writes=writes, needs_human_approval=destructive, basis=basis,
                    notes=_short(document["description"]))
    keep = ("name", "description", "version", "packages", "remotes", "repository", "websiteUrl")
    interface = {k: document[k] for k in keep if k in document}
    interface["tools"] = tools
    return Definition(DocumentFormat.MCP_SERVER, document["name"], document["description"],
                      document["version"], [tool], mcp_secrets(document), {"mcp": interface})


# --- OASF record -----------------------------------------------------------------------------

def read_oasf_record(document: dict) -> Definition:
    errors = schema_errors("oasf-record.schema.json", document)
    if errors:
        raise document_errors(errors)
    locators = document.get("locators", [])
    endpoint = locators[0]["url"] if locators else ""
    tools = []
    for skill in document["skills"]:
        name = str(skill.get("name") or skill.get("id"))
        tools.append(ToolSpec(name=name, tool_kind=ToolKind.REST_API, endpoint=endpoint,
                              operations=[name], writes=False))
    keep = ("skills", "domains", "locators", "authors", "schema_version", "version",
            "extensions", "modules")
    return Definition(DocumentFormat.OASF_RECORD, document["name"], document["description"],
                      document["version"], tools,
                      interface={"oasf": {k: document[k] for k in keep if k in document}})


# --- Names the inventory will take -----------------------------------------------------------

def _short(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _check_names(definition: Definition) -> None:
    """Component names the inventory would refuse, reported against the document's fields."""
    fields: dict[str, str] = {DocumentFormat.A2A_CARD: "skills[{i}].id",
                              DocumentFormat.MCP_SERVER: "name",
                              DocumentFormat.OASF_RECORD: "skills[{i}].name"}
    where = fields[definition.document_format]
    errors: dict[str, list[str]] = {}
    for i, tool in enumerate(definition.tools):
        if len(tool.name) > NAME_MAX or not NAME_PATTERN.match(tool.name):
            errors.setdefault(where.format(i=i), []).append(
                f"Used as a tool name: at most {NAME_MAX} letters, digits and ._:/@+- .")
    names = [t.name for t in definition.tools]
    for i, name in enumerate(names):
        if names.index(name) != i:
            errors.setdefault(where.format(i=i), []).append(f"{name} appears twice.")
    if not definition.name.strip():
        errors.setdefault("name", []).append("The agent needs a name.")
    if errors:
        raise document_errors(errors)
