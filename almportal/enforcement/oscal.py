"""The agent's OSCAL Assessment Results (OSCAL 1.1.2, JSON), for GRC tools.

One result per submitted release: its readiness checklist items are observations (with their
evidence as relevant evidence), and each framework clause its items cite is a finding,
satisfied when every item citing it is accepted. One more result holds the agent's framework
coverage (risk.selectors.clause_coverage): a finding per clause, with the evidence behind it as
observations. The back-matter holds every piece of checklist evidence with its SHA-256 and the
audit ledger's head (sequence and hash) at the time of the export. Identifiers are UUIDv5 of
the records they describe, so two exports name the same record alike."""

import uuid
from collections import defaultdict
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from ..accounts.models import User
from ..audit.models import ExportKind, LedgerEntry
from ..audit.selectors import ledger_head
from ..audit.services import export_record
from ..inventory.models import Agent
from ..releases.choices import EvidenceKind, ItemStatus, ReleaseState
from ..releases.models import ChecklistItem, Evidence, Release
from ..risk.models import FrameworkClause
from ..risk.selectors import clause_coverage

OSCAL_VERSION = "1.1.2"
NS = "urn:almportal:oscal"
_UUIDS = uuid.UUID("3b0e4c1a-5a8e-4c61-9a53-6d1f0c2b7e44")


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_UUIDS, ":".join(str(p) for p in parts)))


def _prop(name: str, value: object) -> dict:
    return {"name": name, "ns": NS, "value": str(value).strip() or "-"}


def _time(value: datetime | None) -> str:
    return (value or timezone.now()).isoformat()


def _releases(agent: Agent) -> list[Release]:
    items = (ChecklistItem.objects.order_by("order", "pk")
             .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("pk"))))
    return list(agent.releases.exclude(state=ReleaseState.DRAFT)
                .filter(checklist_items__isnull=False).distinct()
                .prefetch_related(Prefetch("checklist_items", queryset=items)))


def _evidence_ref(evidence: Evidence) -> dict:
    return {"href": f"#{_uuid('evidence', evidence.pk)}", "description": str(evidence),
            "props": [_prop("evidence-current", "yes" if evidence.is_current else "no")]}


def _observation(item: ChecklistItem, release: Release) -> dict:
    observation = {
        "uuid": _uuid("checklist-item", item.pk), "title": item.title,
        "description": f"Readiness item “{item.title}” ({item.pillar}) of {release}: "
                       f"{item.get_status_display().lower()}.",
        "props": [_prop("checklist-key", item.key), _prop("pillar", item.pillar),
                  _prop("status", item.status)],
        "methods": ["EXAMINE"], "types": ["control-objective"],
        "collected": _time(item.reviewed_at or item.created_at),
    }
    evidence = [_evidence_ref(e) for e in item.evidence.all()]
    if evidence:
        observation["relevant-evidence"] = evidence
    if item.review_comment:
        observation["remarks"] = item.review_comment
    return observation


def _target(clause: FrameworkClause, satisfied: bool, reason: str) -> dict:
    return {"type": "objective-id", "target-id": clause.code,
            "title": f"{clause.get_framework_display()} {clause.ref}",
            "status": {"state": "satisfied" if satisfied else "not-satisfied",
                       "remarks": reason}}


def _clause_finding(clause: FrameworkClause, items: list[ChecklistItem]) -> dict:
    accepted = [i for i in items if i.status == ItemStatus.ACCEPTED]
    satisfied = len(accepted) == len(items)
    return {
        "uuid": _uuid("release-clause", items[0].release_id, clause.code),
        "title": f"{clause.get_framework_display()} {clause.ref}: {clause.title}",
        "description": f"{len(accepted)} of {len(items)} readiness items citing this clause "
                       "are accepted.",
        "target": _target(clause, satisfied, "Every citing item is accepted." if satisfied
                          else "Not every citing item is accepted."),
        "related-observations": [{"observation-uuid": _uuid("checklist-item", i.pk)}
                                 for i in items],
    }


def _release_result(release: Release, clauses: dict[str, FrameworkClause]) -> dict:
    items = list(release.checklist_items.all())
    citing: dict[str, list[ChecklistItem]] = defaultdict(list)
    for item in items:
        for code in item.clauses:
            if code in clauses:
                citing[code].append(item)
    result = {
        "uuid": _uuid("release", release.pk),
        "title": f"Readiness of {release}",
        "description": f"The readiness checklist of release {release.display_version} "
                       f"({release.get_state_display().lower()}).",
        "start": _time(release.submitted_at or release.created_at),
        "props": [_prop("manifest-hash", release.manifest_hash),
                  _prop("release-state", release.state)],
        "reviewed-controls": {"control-selections": [{"include-all": {}}]},
        "observations": [_observation(i, release) for i in items],
    }
    findings = [_clause_finding(clauses[code], citing[code]) for code in sorted(citing)]
    if findings:
        result["findings"] = findings
    return result


def _coverage_result(agent: Agent, now: datetime) -> dict | None:
    observations: list[dict] = []
    findings: list[dict] = []
    for coverage in clause_coverage([agent]):
        if agent.pk not in coverage.applicable and agent.pk not in coverage.evidenced:
            continue
        clause, related = coverage.clause, list[dict]()
        for n, evidence in enumerate(e for e in coverage.evidence if e.agent.pk == agent.pk):
            observation: dict = {"uuid": _uuid("coverage", agent.pk, clause.code, n),
                                 "title": evidence.source,
                                 "description": evidence.description,
                                 "methods": ["EXAMINE"], "collected": _time(now)}
            if evidence.url:
                observation["links"] = [{"href": evidence.url}]
            observations.append(observation)
            related.append({"observation-uuid": observation["uuid"]})
        finding = {"uuid": _uuid("coverage-finding", agent.pk, clause.code),
                   "title": f"{clause.get_framework_display()} {clause.ref}: {clause.title}",
                   "description": f"{len(related)} piece(s) of evidence for this clause.",
                   "target": _target(clause, bool(related), "Evidenced." if related
                                     else "No evidence yet.")}
        if related:
            finding["related-observations"] = related
        findings.append(finding)
    if not findings:
        return None
    result = {"uuid": _uuid("coverage", agent.pk), "title": f"Framework coverage of {agent}",
              "description": "The framework clauses that apply to the agent (its questionnaire "
                             "and its tier's checklist) and the evidence for each.",
              "start": _time(now), "reviewed-controls": {
                  "control-selections": [{"include-all": {}}]},
              "findings": findings}
    if observations:
        result["observations"] = observations
    return result


def _evidence_resource(evidence: Evidence) -> dict:
    resource = {"uuid": _uuid("evidence", evidence.pk), "title": str(evidence),
                "props": [_prop("evidence-kind", evidence.kind),
                          _prop("checklist-item", evidence.item_id),
                          _prop("effective-date", evidence.effective_date.isoformat())]}
    if evidence.kind == EvidenceKind.FILE and evidence.sha256:
        resource["rlinks"] = [{"href": evidence.get_download_url(),
                               "media-type": evidence.content_type or "application/octet-stream",
                               "hashes": [{"algorithm": "SHA-256", "value": evidence.sha256}]}]
    elif evidence.url:
        resource["rlinks"] = [{"href": evidence.url}]
    elif evidence.evaluation_run_id:
        resource["description"] = f"Evaluation run #{evidence.evaluation_run_id}."
    return resource


def _ledger_resource(seq: int, head_hash: str) -> dict:
    return {"uuid": _uuid("ledger-head", seq, head_hash), "title": "Audit ledger head",
            "description": "The last entry of the hash-chained audit ledger when this export "
                           "was made: verify the ledger up to it to trust this document.",
            "props": [_prop("ledger-seq", seq)],
            "rlinks": [{"href": "/api/v1/audit/ledger/",
                        "hashes": [{"algorithm": "SHA-256", "value": head_hash}]}]}


def assessment_results(agent: Agent, *, now: datetime | None = None) -> dict:
    """The document, wrapped as OSCAL JSON files are: {"assessment-results": …}."""
    now = now or timezone.now()
    releases = _releases(agent)
    codes = {c for r in releases for i in r.checklist_items.all() for c in i.clauses}
    clauses = {c.code: c for c in FrameworkClause.objects.filter(code__in=codes)}
    results = [_release_result(r, clauses) for r in releases]
    coverage = _coverage_result(agent, now)
    if coverage:
        results.append(coverage)
    if not results:  # OSCAL needs one result: say that nothing was assessed yet
        results = [{"uuid": _uuid("empty", agent.pk), "title": f"No assessment of {agent} yet",
                    "description": "No release of this agent has been submitted.",
                    "start": _time(now),
                    "reviewed-controls": {"control-selections": [{"include-all": {}}]}}]
    head = ledger_head()
    ledger = _ledger_resource(head.seq, head.hash)
    evidence = [e for r in releases for i in r.checklist_items.all() for e in i.evidence.all()]
    return {"assessment-results": {
        "uuid": str(uuid.uuid4()),
        "metadata": {"title": f"Assessment results: {agent}", "last-modified": _time(now),
                     "version": f"ledger-{head.seq}", "oscal-version": OSCAL_VERSION,
                     "props": [_prop("agent", agent.slug), _prop("risk-tier", agent.risk_tier)]},
        "import-ap": {"href": f"#{ledger['uuid']}",
                      "remarks": "No separate assessment plan: the portal's tier policy and "
                                 "checklist are the plan; the ledger holds their history."},
        "results": results,
        "back-matter": {"resources": [_evidence_resource(e) for e in evidence] + [ledger]},
    }}


def assessment_results_export(*, actor: User, agent: Agent) -> dict:
    """Recorded before it is sent, like every audit export (audit.export_record checks the
    right to export)."""
    head = ledger_head()
    export_record(actor=actor, kind=ExportKind.OSCAL, agent=agent,
                  last=LedgerEntry.objects.filter(seq=head.seq).first())
    return assessment_results(agent)
