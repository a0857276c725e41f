"""Pure decisions of the standards area: what an approved manifest says in the ecosystem's
terms, what a live card says, which differences between them are material (acted on like any
material change) and which cosmetic (shown only), and who may do what."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..accounts.roles import Role
from ..core.errors import DomainError, NotPermitted
from ..core.hashing import content_hash
from ..inventory.choices import ToolKind
from ..inventory.rules import change_refusal
from ..releases.choices import ReleaseState
from .documents import mcp_endpoint, mcp_tools
from .models import CardKind

# The releases whose card, server.json and OASF record are published: those approved and not
# since replaced or voided. Published cards are meant for peers, so they are public.
PUBLISHED_STATES = (ReleaseState.APPROVED, ReleaseState.DEPLOYED)
# Compared against a live card: the release in production, else the latest approved one.
COMPARED_STATES = PUBLISHED_STATES

MATERIAL = "material"
COSMETIC = "cosmetic"


# --- The manifest in the ecosystem's terms ---------------------------------------------------

def manifest_tools(manifest: Mapping) -> list[dict]:
    return list(manifest.get("components", {}).get("tools", []))


def manifest_skills(manifest: Mapping, notes: Mapping[str, str]) -> dict[str, dict]:
    """{skill id: A2A skill} of the release: its REST/A2A tools, described as the configuration's
    `a2a.skills` describes them (when it does), else from the tool itself."""
    described = {s.get("id"): s for s in
                 manifest.get("configuration", {}).get("a2a", {}).get("skills", [])}
    skills = {}
    for tool in manifest_tools(manifest):
        if tool["tool_kind"] != ToolKind.REST_API:
            continue
        skills[tool["name"]] = described.get(tool["name"]) or {
            "id": tool["name"], "name": tool["name"],
            "description": notes.get(tool["name"]) or f"Calls {tool['endpoint']}.",
            "tags": [tool["tool_kind"]]}
    return skills


@dataclass
class View:
    """What a card or server card says, reduced to what is compared."""

    capabilities: dict[str, str] = field(default_factory=dict)  # skill or tool: description
    endpoints: set[str] = field(default_factory=set)
    auth: dict[str, str] = field(default_factory=dict)  # scheme name: its kind and detail
    description: str = ""


def _scheme(value: Mapping) -> str:
    return content_hash(dict(value))[:12] + ":" + ",".join(sorted(value))


def approved_view(kind: str, manifest: Mapping, agent_description: str,
                  server_name: str = "") -> View:
    """The manifest's view; for an MCP server card, of the approved server by that name (or
    of all its MCP servers when none has it)."""
    configuration = manifest.get("configuration", {})
    tools = manifest_tools(manifest)
    if kind == CardKind.MCP_SERVER:
        mcp = configuration.get("mcp", {})
        described = {t["name"]: t.get("description", "") for t in mcp.get("tools", [])}
        servers = [t for t in tools if t["tool_kind"] == ToolKind.MCP_SERVER]
        servers = [t for t in servers if t["name"] == server_name] or servers
        return View({op: described.get(op, "") for t in servers for op in t["operations"]},
                    {t["endpoint"] for t in servers}, {}, mcp.get("description", ""))
    a2a = configuration.get("a2a", {})
    skills = manifest_skills(manifest, {})
    endpoints = {i["url"] for i in a2a.get("supportedInterfaces", [])} or {
        t["endpoint"] for t in tools if t["tool_kind"] == ToolKind.REST_API}
    return View({k: s.get("description", "") for k, s in skills.items()}, endpoints,
                {k: _scheme(v) for k, v in a2a.get("securitySchemes", {}).items()},
                agent_description)


def live_view(kind: str, document: Mapping) -> View:
    if kind == CardKind.MCP_SERVER:
        return View({t["name"]: t.get("description", "") for t in mcp_tools(dict(document))},
                    {mcp_endpoint(dict(document))}, {}, document.get("description", ""))
    return View({s.get("id", ""): s.get("description", "") for s in document.get("skills", [])},
                {i.get("url", "") for i in document.get("supportedInterfaces", [])},
                {k: _scheme(v) for k, v in document.get("securitySchemes", {}).items()},
                document.get("description", ""))


def differences(approved: View, live: View) -> list[dict]:
    """Each difference with its weight: a new skill or tool, a changed endpoint or auth scheme
    is material; a description that reads differently is cosmetic. Something the live card no
    longer offers narrows what was approved, so it is shown, not acted on."""
    found = []

    def add(weight: str, subject: str, detail: str) -> None:
        found.append({"kind": weight, "subject": subject, "detail": detail})

    for name in sorted(set(live.capabilities) - set(approved.capabilities)):
        add(MATERIAL, name, f"{name} is offered but not in the approved manifest.")
    for name in sorted(set(approved.capabilities) - set(live.capabilities)):
        add(COSMETIC, name, f"{name} is approved but no longer offered.")
    if approved.endpoints and live.endpoints != approved.endpoints:
        add(MATERIAL, "endpoint", "Served at " + ", ".join(sorted(live.endpoints)) +
            "; approved: " + ", ".join(sorted(approved.endpoints)) + ".")
    for name in sorted(set(live.auth) | set(approved.auth)):
        if live.auth.get(name) != approved.auth.get(name):
            state = ("added" if name not in approved.auth else
                     "removed" if name not in live.auth else "changed")
            add(MATERIAL, f"auth:{name}", f"Security scheme {name} {state}.")
    for name in sorted(set(live.capabilities) & set(approved.capabilities)):
        if live.capabilities[name] != approved.capabilities[name]:
            add(COSMETIC, name, f"The description of {name} differs.")
    if live.description != approved.description:
        add(COSMETIC, "description", "The description differs.")
    return found


def material(found: list[dict]) -> list[dict]:
    return [d for d in found if d["kind"] == MATERIAL]


def cosmetic(found: list[dict]) -> list[dict]:
    return [d for d in found if d["kind"] == COSMETIC]


def finding_fingerprint(watch_id: int, release_id: int | None, found: list[dict]) -> str:
    """The same material differences against the same release are one finding."""
    return content_hash({"watch": watch_id, "release": release_id, "differences": found})


def drift_label(finding) -> str:
    return f"drift finding #{finding.pk} ({', '.join(d['subject'] for d in finding.differences)})"


# --- Who may act ---------------------------------------------------------------------------

def import_refusal(user) -> DomainError | None:
    if not (user and user.is_authenticated and user.has_perm("inventory.add_agent")):
        return NotPermitted("Your role may not file intakes.")
    return None


def watch_refusal(user, agent) -> DomainError | None:
    """The agent's owner, a delegate or an admin registers and retires its watched URLs, and
    confirms the tool flags of its imports."""
    return change_refusal(user, agent)


def may_watch(user, agent) -> bool:
    return watch_refusal(user, agent) is None


def close_refusal(user, finding) -> DomainError | None:
    """A drift finding is closed by someone independent of the agent: compliance, security or
    an admin, never the agent's owner."""
    if not (user.has_role(Role.ADMIN) or user.has_role(Role.COMPLIANCE)
            or user.has_role(Role.SECURITY)):
        return NotPermitted("Only compliance officers, security reviewers and admins close "
                            "drift findings.")
    if user.pk == finding.agent.business_owner_id:
        return NotPermitted("You cannot close a drift finding on an agent you own.")
    if not finding.is_open:
        return DomainError("This finding is already closed.", field="state")
    return None


def may_close(user, finding) -> bool:
    return close_refusal(user, finding) is None
