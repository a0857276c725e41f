"""What the risk app adds to the audit area: its risk register (risks, treatments and signed
residual-risk acceptances) and its impact assessment versions, in every evidence pack and on the
as-of page, each record file checked against the ledger when a pack is verified."""

from collections.abc import Iterable
from datetime import datetime

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
from .models import ImpactAssessment, ResidualRiskAcceptance, RiskEntry, Treatment

REGISTER_MODELS = ["risk.riskentry", "risk.treatment", "risk.residualriskacceptance"]
IMPACT_MODELS = ["risk.impactassessment"]


def _records(rows) -> bytes:
    return as_json([record_dict(r) for r in rows])


def pack_register(agent: Agent) -> Iterable[PackFile]:
    yield PackFile("risks.json", _records(RiskEntry.objects.filter(agent=agent).order_by("pk")),
                   records="risk.riskentry")
    yield PackFile("treatments.json", _records(
        Treatment.objects.filter(risk_entry__agent=agent).order_by("pk")),
        records="risk.treatment")
    yield PackFile("acceptances.json", _records(
        ResidualRiskAcceptance.objects.filter(risk_entry__agent=agent).order_by("pk")),
        records="risk.residualriskacceptance")


def pack_impact(agent: Agent) -> Iterable[PackFile]:
    yield PackFile("versions.json", _records(
        ImpactAssessment.objects.filter(agent=agent).order_by("number")),
        records="risk.impactassessment")


def as_of_register(agent: Agent, at: datetime) -> AsOfSection:
    entries = list(as_of(RiskEntry, at, agent_id=agent.pk).order_by("pk"))
    ids = [e.pk for e in entries]
    items = [AsOfItem(str(e), display_fields(e, skip={"agent"})) for e in entries]
    items += [AsOfItem(str(t), display_fields(t, skip={"risk_entry"}))
              for t in as_of(Treatment, at, risk_entry_id__in=ids).order_by("pk")]
    items += [AsOfItem(str(a), display_fields(a, skip={"risk_entry"}))
              for a in as_of(ResidualRiskAcceptance, at, risk_entry_id__in=ids).order_by("pk")]
    return AsOfSection("Risk register", items)


def as_of_impact(agent: Agent, at: datetime) -> AsOfSection:
    items = [AsOfItem(f"Version {v.number}", display_fields(v, skip={"agent"}))
             for v in as_of(ImpactAssessment, at, agent_id=agent.pk).order_by("number")]
    return AsOfSection("Impact assessment", items)


def register() -> None:
    register_pack_section("risk-register", pack_register, models=REGISTER_MODELS, order=45)
    register_pack_section("impact-assessment", pack_impact, models=IMPACT_MODELS, order=46)
    register_as_of_section("risk-register", as_of_register, models=REGISTER_MODELS, order=45)
    register_as_of_section("impact-assessment", as_of_impact, models=IMPACT_MODELS, order=46)
    register_agent_path("risk.treatment", "risk_entry__agent")
    register_agent_path("risk.residualriskacceptance", "risk_entry__agent")
