"""Cedar policies compiled from release manifests: pure text, no queries.

Schema (see README): principal `Agent::"<slug>"`, action `Action::"call"`, resource
`Tool::"<tool name>"`, context `{release: String, operation: String, approved?: Bool}`, where
`release` is the manifest hash of the release serving the request and `approved` says a person
approved this one call."""

from collections.abc import Iterable

SCHEMA = """entity Agent;
entity Tool;
action "call" appliesTo {
  principal: [Agent],
  resource: [Tool],
  context: { release: String, operation: String, approved?: Bool }
};
"""

FORBID_ALL = '@id("forbid-all")\nforbid (principal, action, resource);\n'


def literal(text: str) -> str:
    """A Cedar string literal."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def _scope(agent: str, tool: str) -> str:
    return (f"  principal == Agent::{literal(agent)},\n"
            f'  action == Action::"call",\n'
            f"  resource == Tool::{literal(tool)}\n")


def _id(kind: str, manifest_hash: str, tool: dict) -> str:
    return f"@id({literal(kind + ':' + manifest_hash[:12] + ':' + tool['name'])})\n"


def _permit(agent: str, manifest_hash: str, tool: dict) -> str:
    condition = f"context.release == {literal(manifest_hash)}"
    operations = [str(op) for op in tool.get("operations") or []]
    if operations:  # a tool that lists no operations is approved as a whole
        listed = ", ".join(literal(op) for op in sorted(set(operations)))
        condition += f" && [{listed}].contains(context.operation)"
    return (_id("permit", manifest_hash, tool) +
            f"permit (\n{_scope(agent, tool['name'])})\nwhen {{ {condition} }};\n")


def _approval(agent: str, manifest_hash: str, tool: dict) -> str:
    # `has` first: a request that does not say it was approved is not approved.
    return (_id("approval", manifest_hash, tool) +
            f"forbid (\n{_scope(agent, tool['name'])})\n"
            f"when {{ context.release == {literal(manifest_hash)} }}\n"
            "unless { context has approved && context.approved };\n")


def release_policies(agent: str, manifest_hash: str, manifest: dict) -> str:
    """One release's policies: each approved tool permitted for its listed operations, and
    each tool that needs a person's approval per call forbidden without that approval."""
    tools = sorted(manifest.get("components", {}).get("tools", []), key=lambda t: t["name"])
    parts = [_permit(agent, manifest_hash, tool) for tool in tools]
    parts += [_approval(agent, manifest_hash, tool) for tool in tools
              if tool.get("needs_human_approval")]
    return "\n".join(parts)


def policy_set(agent: str, releases: Iterable[tuple[str, dict]], *, forbid_all: bool) -> str:
    """The policies a gateway enforces for one agent: a forbid-all alone when the agent must
    not run, otherwise the policies of every release that serves (nothing else is permitted:
    Cedar denies what no policy permits)."""
    if forbid_all:
        return FORBID_ALL
    return "\n".join(release_policies(agent, manifest_hash, manifest)
                     for manifest_hash, manifest in releases)
