"""What the releases app adds to the audit area (evidence packs, the as-of view, the ledger's
filing of entries under their agent) and to the risk app's framework coverage."""

from collections.abc import Iterable
from datetime import datetime

from ..audit.ledger import jsonable
from ..audit.registry import (
    AsOfItem,
    AsOfSection,
    PackFile,
    register_agent_path,
    register_as_of_section,
    register_pack_section,
)
from ..audit.sections import as_json, as_of, display_fields, record_dict
from ..inventory.models import Agent
from ..risk.models import FrameworkClause
from ..risk.selectors import Evidence as CoverageEvidence
from .choices import EvidenceKind, ItemStatus
from .models import ChecklistItem, EvaluationRun, Evidence, SignOff

MODELS = {
    "checklist": ["releases.checklistitem", "releases.evidence"],
    "evaluations": ["releases.evaluationrun", "releases.evaluationsuite"],
    "signoffs": ["releases.signoff"],
}


# --- Evidence pack -------------------------------------------------------------------------

def _evidence_dict(evidence: Evidence) -> dict:
    """An empty FieldFile (links, evaluation runs) has no URL: its stored name, or None."""
    return {f.attname: (evidence.file.name or None) if f.name == "file"
            else jsonable(getattr(evidence, f.attname)) for f in evidence._meta.concrete_fields}


def _opener(evidence: Evidence):
    return lambda: evidence.file.open("rb")


def pack_checklists(agent: Agent) -> Iterable[PackFile]:
    items = (ChecklistItem.objects.filter(release__agent=agent)
             .select_related("release").prefetch_related("evidence").order_by("release__number",
                                                                                "order", "pk"))
    rows = []
    for item in items:
        row = record_dict(item)
        row["evidence"] = [_evidence_dict(e) for e in item.evidence.all()]
        rows.append(row)
        for e in item.evidence.all():
            if e.kind == EvidenceKind.FILE and e.file:
                yield PackFile(f"release-{item.release.number}/{e.pk}-{e.original_name}",
                               opener=_opener(e))
    yield PackFile("checklists.json", as_json(rows), records="releases.checklistitem",
                   nested=(("evidence", "releases.evidence"),))


def pack_evaluations(agent: Agent) -> Iterable[PackFile]:
    suites = agent.evaluation_suites.order_by("pk")
    runs = EvaluationRun.objects.filter(release__agent=agent).order_by("pk")
    yield PackFile("suites.json", as_json([record_dict(s) for s in suites]),
                   records="releases.evaluationsuite")
    yield PackFile("runs.json", as_json([record_dict(r) for r in runs]),
                   records="releases.evaluationrun")


def pack_signoffs(agent: Agent) -> Iterable[PackFile]:
    rows = SignOff.objects.filter(release__agent=agent).select_related("user").order_by("pk")
    yield PackFile("signoffs.json", as_json(
        [{**record_dict(s), "username": s.user.get_username()} for s in rows]),
        records="releases.signoff")


# --- As of ---------------------------------------------------------------------------------

def _release_numbers(agent: Agent) -> dict[int, str]:
    return {r.pk: r.display_version for r in agent.releases.all()}


def as_of_checklists(agent: Agent, at: datetime) -> AsOfSection:
    releases = _release_numbers(agent)
    items = [AsOfItem(f"Release {releases.get(i.release_id, i.release_id)}: {i.title}",
                      display_fields(i, skip={"release", "clauses"}))
             for i in as_of(ChecklistItem, at, release_id__in=list(releases)).order_by("pk")]
    item_ids = list(ChecklistItem.objects.filter(release__agent=agent).values_list("pk",
                                                                                    flat=True))
    items += [AsOfItem(f"Evidence #{e.pk}", display_fields(e, skip={"item"}))
              for e in as_of(Evidence, at, item_id__in=item_ids).order_by("pk")]
    return AsOfSection("Readiness checklists and evidence", items)


def as_of_evaluations(agent: Agent, at: datetime) -> AsOfSection:
    releases = _release_numbers(agent)
    items = [AsOfItem(f"Release {releases.get(r.release_id, r.release_id)}: run #{r.pk}",
                      display_fields(r, skip={"release"}))
             for r in as_of(EvaluationRun, at, release_id__in=list(releases)).order_by("pk")]
    return AsOfSection("Evaluation runs", items)


def as_of_signoffs(agent: Agent, at: datetime) -> AsOfSection:
    releases = _release_numbers(agent)
    items = [AsOfItem(f"Release {releases.get(s.release_id, s.release_id)}: sign-off #{s.pk}",
                      display_fields(s, skip={"release"}))
             for s in as_of(SignOff, at, release_id__in=list(releases)).order_by("pk")]
    return AsOfSection("Sign-offs", items)


# --- Framework coverage ----------------------------------------------------------------------

def checklist_evidence(agents: list[Agent]) -> Iterable[tuple[int, CoverageEvidence]]:
    """Accepted checklist items with current evidence evidence the clauses they cite."""
    by_id = {a.pk: a for a in agents}
    ids_by_code = dict(FrameworkClause.objects.values_list("code", "pk"))
    items = (ChecklistItem.objects.filter(release__agent_id__in=list(by_id),
                                          status=ItemStatus.ACCEPTED,
                                          evidence__replaced_at__isnull=True)
             .select_related("release").distinct())
    for item in items:
        agent = item.release.agent = by_id[item.release.agent_id]  # its URL names the agent
        for code in item.clauses:
            if code in ids_by_code:
                yield ids_by_code[code], CoverageEvidence(
                    agent, f"Release {item.release.display_version} checklist", item.title,
                    item.get_absolute_url())


def register() -> None:
    register_pack_section("readiness", pack_checklists, models=MODELS["checklist"], order=50)
    register_pack_section("evaluations", pack_evaluations, models=MODELS["evaluations"],
                          order=51)
    register_pack_section("signoffs", pack_signoffs, models=MODELS["signoffs"], order=52)
    register_as_of_section("readiness", as_of_checklists, models=MODELS["checklist"], order=50)
    register_as_of_section("evaluations", as_of_evaluations, models=MODELS["evaluations"],
                           order=51)
    register_as_of_section("signoffs", as_of_signoffs, models=MODELS["signoffs"], order=52)
    register_agent_path("releases.checklistitem", "release__agent")
    register_agent_path("releases.evaluationrun", "release__agent")
    register_agent_path("releases.signoff", "release__agent")
    register_agent_path("releases.evidence", "item__release__agent")
