"""Writes to an agent's risk register (risks, treatments, residual-risk acceptances) and to its
impact assessment versions. Each checks who acts (risk.rules), runs in one transaction under a
row lock and saves with its actor and reason, so history says who changed what and why."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..accounts.models import User
from ..core.errors import Conflict, DomainError, NotPermitted, clean_or_refuse
from ..core.lifecycle import lock, record
from ..inventory.choices import CLOSED_STAGES
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import rules
from .choices import ImpactState, RiskStatus
from .models import ImpactAssessment, ResidualRiskAcceptance, RiskEntry, Treatment

ENTRY_INPUT = ("title", "description", "likelihood", "impact", "owner")
TREATMENT_INPUT = ("kind", "description", "owner", "due_date", "status", "residual_likelihood",
                   "residual_impact")


def _require_active(agent: Agent) -> None:
    if agent.stage in CLOSED_STAGES:
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}: its register is kept "
                       "as it stands.")


def _require_keeper(actor: User, agent: Agent) -> None:
    _require_active(agent)
    if not rules.may_keep_register(actor, agent):
        raise NotPermitted("Only the agent's owner, a delegate, a compliance officer or an admin "
                           "may change its risk register and impact assessment.")


def _apply(instance, data: Mapping[str, Any], names: Iterable[str]) -> None:
    unknown = set(data) - set(names)
    if unknown:
        raise DomainError(errors={name: ["This field cannot be set here."]
                                  for name in sorted(unknown)})
    for name in names:
        if name in data:
            setattr(instance, name, data[name])


def _check_owner(owner: User | None, agent: Agent) -> None:
    """A risk or treatment owner is an active person who can see the agent."""
    if owner is None or not agents_visible_to(owner).filter(pk=agent.pk).exists():
        raise DomainError("Choose an active person who can see the agent.", field="owner")


def _clean(instance) -> None:
    clean_or_refuse(instance, exclude=["inherent_rating", "content_hash"])


# --- Risks and treatments --------------------------------------------------------------------

def _latest_acceptance(entry: RiskEntry) -> ResidualRiskAcceptance | None:
    return entry.acceptances.order_by("-signed_at", "-pk").first()


def _follow(entry: RiskEntry, *, actor: User, reason: str) -> RiskEntry:
    """Rate the entry and set the status its treatments and acceptance give it, then save."""
    treatments = list(entry.treatments.all())
    acceptance = _latest_acceptance(entry)
    matches = (acceptance is not None
               and acceptance.content_hash == rules.register_hash(entry, treatments))
    entry.inherent_rating = rules.rating(entry.likelihood, entry.impact)
    entry.status = rules.register_status(entry, treatments, accepted=matches)
    record(entry, actor=actor, reason=reason)
    return entry


@transaction.atomic
def risk_entry_create(*, actor: User, agent: Agent, data: Mapping[str, Any],
                      reason: str = "") -> RiskEntry:
    agent = lock(Agent, agent.pk)
    _require_keeper(actor, agent)
    entry = RiskEntry(agent=agent, recorded_by=actor, owner=agent.business_owner)
    _apply(entry, data, ENTRY_INPUT)
    _clean(entry)
    _check_owner(entry.owner, agent)
    entry.inherent_rating = rules.rating(entry.likelihood, entry.impact)
    record(entry, actor=actor, reason=reason or f"Risk recorded: {entry.title}")
    return entry


@transaction.atomic
def risk_entry_update(*, actor: User, entry: RiskEntry, data: Mapping[str, Any],
                      reason: str = "") -> RiskEntry:
    """Edit a risk, close it or reopen it (`status`). An edit of an accepted risk leaves its
    acceptance behind: the acceptance no longer matches and the risk is accepted again."""
    entry = lock(RiskEntry, entry.pk)
    _require_keeper(actor, entry.agent)
    data = dict(data)
    status = data.pop("status", None)
    if status and status != entry.status:
        rules.RISK_MOVES.check(entry.status, status)
        entry.status = status
    elif entry.status == RiskStatus.CLOSED and data:
        raise Conflict("The risk is closed: reopen it to change it.")
    _apply(entry, data, ENTRY_INPUT)
    _clean(entry)
    _check_owner(entry.owner, entry.agent)
    if entry.status == RiskStatus.CLOSED:
        entry.inherent_rating = rules.rating(entry.likelihood, entry.impact)
        record(entry, actor=actor, reason=reason or "Risk closed")
        return entry
    return _follow(entry, actor=actor, reason=reason or "Risk edited")


def _open_entry(entry: RiskEntry, actor: User) -> RiskEntry:
    entry = lock(RiskEntry, entry.pk)
    _require_keeper(actor, entry.agent)
    if entry.status == RiskStatus.CLOSED:
        raise Conflict("The risk is closed: reopen it to change its treatments.")
    return entry


@transaction.atomic
def treatment_create(*, actor: User, entry: RiskEntry, data: Mapping[str, Any],
                     reason: str = "") -> Treatment:
    entry = _open_entry(entry, actor)
    treatment = Treatment(risk_entry=entry, recorded_by=actor, owner=entry.owner)
    return _save_treatment(treatment, entry, data, actor=actor, reason=reason, done="recorded")


@transaction.atomic
def treatment_update(*, actor: User, treatment: Treatment, data: Mapping[str, Any],
                     reason: str = "") -> Treatment:
    treatment = lock(Treatment, treatment.pk)
    entry = _open_entry(treatment.risk_entry, actor)
    return _save_treatment(treatment, entry, data, actor=actor, reason=reason, done="edited")


def _save_treatment(treatment: Treatment, entry: RiskEntry, data: Mapping[str, Any], *,
                    actor: User, reason: str, done: str) -> Treatment:
    """Save the treatment and let its risk follow."""
    _apply(treatment, data, TREATMENT_INPUT)
    _clean(treatment)
    _check_owner(treatment.owner, entry.agent)
    why = reason or f"{treatment.get_kind_display()} treatment {done}"
    record(treatment, actor=actor, reason=why)
    _follow(entry, actor=actor, reason=why)
    return treatment


@transaction.atomic
def acceptance_sign(*, actor: User, entry: RiskEntry, statement: str,
                    reason: str = "") -> ResidualRiskAcceptance:
    """An accountable person accepts the residual risk as the entry and its treatments stand
    now (risk.rules.acceptance_refusal says who and when)."""
    entry = lock(RiskEntry, entry.pk)
    _require_active(entry.agent)
    treatments = list(entry.treatments.all())
    refusal = rules.acceptance_refusal(actor, entry, treatments)
    if refusal is not None:
        raise refusal
    statement = (statement or "").strip()
    if not statement:
        raise DomainError("Say what residual risk you accept and why.", field="statement")
    signed = rules.register_hash(entry, treatments)
    latest = _latest_acceptance(entry)
    if latest is not None and latest.content_hash == signed:
        raise Conflict("The residual risk is already accepted as it stands.")
    level = rules.residual_rating(entry, treatments)
    acceptance = ResidualRiskAcceptance(risk_entry=entry, accepted_by=actor, statement=statement,
                                        residual_rating=level, content_hash=signed,
                                        signed_at=timezone.now())
    clean_or_refuse(acceptance)
    why = reason or f"Residual risk ({level}) accepted by {actor}"
    record(acceptance, actor=actor, reason=why)
    entry.status = RiskStatus.ACCEPTED
    record(entry, actor=actor, reason=why)
    return acceptance


# --- Impact assessment -----------------------------------------------------------------------

@transaction.atomic
def impact_assessment_save(*, actor: User, agent: Agent, data: Mapping[str, Any],
                           reason: str = "") -> tuple[ImpactAssessment, bool]:
    """Change the agent's impact assessment: the open draft, or else a new version that starts
    from the latest one (a signed version never changes). True when a version was made."""
    agent = lock(Agent, agent.pk)
    _require_keeper(actor, agent)
    versions = ImpactAssessment.objects.select_for_update().filter(agent=agent)
    draft = versions.filter(state=ImpactState.DRAFT).order_by("-number").first()
    made = draft is None
    if draft is None:
        latest = versions.order_by("-number").first()
        draft = ImpactAssessment(agent=agent, drafted_by=actor,
                                 number=latest.number + 1 if latest else 1,
                                 **{name: getattr(latest, name) if latest else ""
                                    for name in rules.IMPACT_FIELDS})
    _apply(draft, data, rules.IMPACT_FIELDS)
    _clean(draft)
    record(draft, actor=actor, reason=reason or (
        f"Impact assessment version {draft.number} " + ("drafted" if made else "edited")))
    return draft, made


@transaction.atomic
def impact_assessment_sign(*, actor: User, assessment: ImpactAssessment,
                           reason: str = "") -> ImpactAssessment:
    """An accountable person signs the version: it is frozen with its content hash."""
    assessment = lock(ImpactAssessment, assessment.pk)
    _require_active(assessment.agent)
    refusal = rules.impact_sign_refusal(actor, assessment)
    if refusal is not None:
        raise refusal
    missing = rules.impact_missing(assessment)
    if missing:
        raise DomainError("Complete the impact assessment before signing it.", errors=missing)
    assessment.content_hash = rules.impact_hash(assessment)
    assessment.state = ImpactState.SIGNED
    assessment.signed_by, assessment.signed_at = actor, timezone.now()
    record(assessment, actor=actor,
           reason=reason or f"Impact assessment version {assessment.number} signed")
    return assessment
