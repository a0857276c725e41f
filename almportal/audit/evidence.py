"""The fourteen evidence items auditors ask for (EU AI Act conformity, ISO/IEC 42001
certification), and where each comes from in a pack.

Every pack carries `index/evidence-index.json`: each item with the records it comes from (their
model and the pack folder that holds them) and whether the portal keeps such records yet. An
item whose records no app provides is listed as "missing", never left out, so the index says
plainly what a pack cannot prove.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .registry import PackFile, Section

HISTORY_FILE = "history.jsonl"


@dataclass(frozen=True)
class EvidenceItem:
    key: str
    title: str
    models: tuple[str, ...]  # app_label.model of the records it is made of
    in_history: bool = False  # the ledger's history itself is the evidence


EVIDENCE_ITEMS: tuple[EvidenceItem, ...] = (
    EvidenceItem("inventory", "Inventory record",
                 ("inventory.agent", "inventory.modelcomponent", "inventory.prompt",
                  "inventory.tool", "inventory.datasource", "inventory.credential")),
    EvidenceItem("risk_register", "Risk register: risks, treatments and residual-risk "
                 "acceptance signed by an accountable person",
                 ("risk.assessment", "risk.riskentry", "risk.treatment",
                  "risk.residualriskacceptance")),
    EvidenceItem("impact_assessment", "Impact assessment, versioned and signed "
                 "(EU AI Act Art. 27, ISO/IEC 42001 6.1.4)", ("risk.impactassessment",)),
    EvidenceItem("technical_file", "Technical file per version", ("inventory.release",)),
    EvidenceItem("release_signoffs", "Release sign-offs with checklist and evaluations",
                 ("releases.signoff", "releases.checklistitem", "releases.evidence",
                  "releases.evaluationrun")),
    EvidenceItem("event_logs", "Event logs kept at least six months (usage periods, tool-call "
                 "failures, stop and override events)",
                 ("operations.eventlog",)),
    EvidenceItem("overseers", "Named human overseers with their competence or training "
                 "(EU AI Act Art. 14, 26(2))", ("operations.overseer",)),
    EvidenceItem("monitoring", "Monitoring plan, thresholds in force, alerts and actions",
                 ("operations.monitoringsettings", "operations.alert")),
    EvidenceItem("incidents", "Incident register with awareness time and deadlines",
                 ("operations.incident", "operations.incidentevent")),
    EvidenceItem("kill_switch", "Kill-switch tests and deactivations",
                 ("operations.suspension",)),
    EvidenceItem("access_reviews", "Access reviews",
                 ("reviews.accessreview", "reviews.reviewitem", "reviews.revocationtask")),
    EvidenceItem("decommission", "Decommission record",
                 ("retirement.decommissionplan", "retirement.decommissiontask",
                  "retirement.retirementsignoff", "retirement.archive")),
    EvidenceItem("audits", "Audits, management reviews, findings and corrective actions with "
                 "verified closure", ("audit.internalaudit", "audit.finding",
                                      "audit.correctiveaction")),
    EvidenceItem("field_history", "Field-level history of every record", (), in_history=True),
)


def evidence_index(sections: Iterable[Section], installed: set[str]) -> list[dict]:
    """Each item, the pack folders and models it comes from, and whether it is present: some
    model of it is installed and a pack section writes its records."""
    folders: dict[str, list[str]] = {}
    for section in sections:
        for label in section.models:
            folders.setdefault(label, []).append(f"{section.name}/")
    index = []
    for item in EVIDENCE_ITEMS:
        sources = [{"model": label, "files": folders[label]} for label in item.models
                   if label in installed and label in folders]
        if item.in_history:
            sources.append({"model": "audit.ledgerentry", "files": [HISTORY_FILE]})
        index.append({"key": item.key, "title": item.title, "sources": sources,
                      "status": "present" if sources else "missing"})
    return index


def pack_file(sections: Iterable[Section], installed: set[str], as_json) -> PackFile:
    return PackFile("evidence-index.json", as_json(evidence_index(sections, installed)))
