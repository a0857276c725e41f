"""Audits, management reviews, findings and corrective actions in the agent's evidence pack:
the findings about the agent, each with its corrective actions, and the audits they came from."""

from collections.abc import Iterable

from ..inventory.models import Agent
from .models import InternalAudit
from .registry import PackFile, register_agent_path, register_pack_section
from .sections import as_json, record_dict

MODELS = ["audit.internalaudit", "audit.finding", "audit.correctiveaction"]


def pack_audits(agent: Agent) -> Iterable[PackFile]:
    findings = agent.audit_findings.prefetch_related("actions").order_by("pk")
    yield PackFile("findings.json", as_json(
        [{**record_dict(f), "corrective_actions": [record_dict(a) for a in f.actions.all()]}
         for f in findings]), records="audit.finding",
        nested=(("corrective_actions", "audit.correctiveaction"),))
    # An audit belongs to no one agent, so its history is not in the agent's history.jsonl:
    # the file is covered by the MANIFEST, not checked record by record.
    audits = InternalAudit.objects.filter(findings__agent=agent).distinct().order_by("pk")
    yield PackFile("audits.json", as_json([record_dict(a) for a in audits]))


def register() -> None:
    register_pack_section("audits", pack_audits, models=MODELS, order=80)
    register_agent_path("audit.correctiveaction", "finding__agent")
