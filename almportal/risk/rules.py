"""Risk decisions, with no writes and no queries of their own: how answers score to a tier,
whether an assessment still holds, who may draft or complete one; and the risk register and
impact assessment — how a risk is rated, who may accept a residual risk or sign an impact
assessment. Services ask these before they write; pages, API, templates and other apps ask them
what to show."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import models

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import Role, is_read_only
from ..core.errors import Conflict, DomainError, NotPermitted
from ..core.hashing import content_hash
from ..core.lifecycle import Transitions
from ..inventory.choices import CLOSED_STAGES, DataClassification, RiskTier
from ..inventory.models import Agent
from .choices import RiskRating, RiskStatus, TreatmentStatus, highest_tier, tier_rank
from .models import Assessment, Questionnaire, TierPolicy

AGENT_RISK_FIELDS = ("autonomy_level", "action_reach", "data_classification", "audience",
                     "regulated_domain")


def tier_label(tier: str) -> str:
    return RiskTier(tier).label if tier in RiskTier.values else tier


# --- Scoring ------------------------------------------------------------------------------

@dataclass
class Result:
    score: int
    computed_tier: str
    drivers: list[dict]


def tier_for_score(score: int, thresholds: Mapping[str, int]) -> str:
    tier = RiskTier.LOW
    for candidate in (RiskTier.MEDIUM, RiskTier.HIGH, RiskTier.CRITICAL):
        if candidate in thresholds and score >= thresholds[candidate]:
            tier = candidate
    return tier


def _rule_applies(rule: Mapping, answers: Mapping[str, str]) -> bool:
    return all(answers.get(key) in options for key, options in rule["when"].items())


def compute_result(questionnaire: Questionnaire, answers: Mapping[str, str]) -> Result:
    """Score is the sum of the chosen answers' weights; the tier is the highest of the score's
    tier, each answer's minimum tier and each rule that applies; a prohibited practice makes it
    unacceptable. The drivers say which answers and rules did it."""
    score, minimums = 0, []
    drivers: list[dict[str, Any]] = []
    for question in questionnaire.questions.all():
        option = next((o for o in question.options.all() if o.key == answers.get(question.key)),
                      None)
        if option is None:
            continue
        score += option.weight
        forced = RiskTier.UNACCEPTABLE if option.prohibited else option.minimum_tier
        minimums.append(forced)
        if option.weight or forced:
            drivers.append({"kind": "answer", "question": question.key,
                            "question_text": question.text, "option": option.key,
                            "answer": option.label, "weight": option.weight,
                            "minimum_tier": forced, "prohibited": option.prohibited})
    for rule in questionnaire.rules:
        if _rule_applies(rule, answers):
            minimums.append(rule["minimum_tier"])
            drivers.append({"kind": "rule", "explanation": rule.get("explanation", ""),
                            "minimum_tier": rule["minimum_tier"], "weight": 0})
    score_tier = tier_for_score(score, questionnaire.tier_thresholds)
    computed = highest_tier(score_tier, *minimums)
    for driver in drivers:
        driver["decisive"] = bool(driver["minimum_tier"]) and driver["minimum_tier"] == computed
    drivers.insert(0, {"kind": "score", "score": score, "minimum_tier": score_tier, "weight": 0,
                       "decisive": score_tier == computed,
                       "explanation": f"Score {score} gives {tier_label(score_tier)}"})
    drivers.sort(key=lambda d: (not d["decisive"], -tier_rank(d["minimum_tier"]), -d["weight"]))
    return Result(score, computed, drivers)


# --- Staleness ----------------------------------------------------------------------------

def fingerprint(attributes: Mapping) -> str:
    return content_hash(dict(attributes))


def _agent_field(name: str) -> models.Field:
    """One of the agent's own columns (every risk-relevant attribute is one)."""
    field_ = Agent._meta.get_field(name)
    assert isinstance(field_, models.Field)
    return field_


def _choice_label(field_name: str, value) -> str:
    field_ = _agent_field(field_name)
    return str(dict(field_.flatchoices).get(value, value or "none"))


def material_changes(before: Mapping, now: Mapping) -> list[str]:
    """What changed since the assessment that widens the agent's risk. Narrowing (a write tool
    gone, a scope dropped) leaves the assessment conservative, so it stays current."""
    reasons = []
    for name in AGENT_RISK_FIELDS:
        if before.get(name) != now.get(name):
            label = str(_agent_field(name).verbose_name).capitalize()
            reasons.append(f"{label} changed from {_choice_label(name, before.get(name))} "
                           f"to {_choice_label(name, now.get(name))}.")
    added = sorted(set(now["write_tools"]) - set(before.get("write_tools", [])))
    if added:
        reasons.append(f"Write tool added: {', '.join(added)}.")
    was, is_ = before.get("highest_data_source_classification"), \
        now["highest_data_source_classification"]
    if is_ and (was is None or DataClassification.rank(is_) > DataClassification.rank(was)):
        reasons.append(f"A data source of higher classification: "
                       f"{_choice_label('data_classification', is_)} "
                       f"(was {_choice_label('data_classification', was)}).")
    scopes = sorted(set(now["credential_scopes"]) - set(before.get("credential_scopes", [])))
    if scopes:
        reasons.append(f"Credential scope broadened: {', '.join(scopes)}.")
    drift = sorted(set(now.get("open_drift", [])) - set(before.get("open_drift", [])))
    if drift:
        reasons.append(f"The live agent differs from its approved manifest: {'; '.join(drift)}.")
    return reasons


@dataclass
class AssessmentStatus:
    agent: Agent
    state: str  # current, stale or missing
    assessment: Assessment | None = None
    draft: Assessment | None = None
    due_at: datetime | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def is_current(self) -> bool:
        return self.state == "current"

    @property
    def is_stale(self) -> bool:
        return self.state == "stale"

    @property
    def is_missing(self) -> bool:
        return self.state == "missing"

    @property
    def tier(self) -> str:
        return self.assessment.tier if self.assessment else RiskTier.UNASSESSED


def judge_assessment(agent: Agent, *, latest: Assessment | None, draft: Assessment | None,
                     attributes: Mapping, policy: TierPolicy | None,
                     now: datetime) -> AssessmentStatus:
    """Whether the agent's latest completed assessment still holds: made on today's
    risk-relevant `attributes` and within its tier's reassessment period (`policy`)."""
    if latest is None:
        return AssessmentStatus(agent, "missing", draft=draft,
                                reasons=["The agent has no completed risk assessment."])
    reasons = []
    if fingerprint(attributes) != latest.fingerprint:
        reasons += material_changes(latest.attributes, attributes)
    due_at = (latest.completed_at + timedelta(days=policy.reassessment_days)
              if policy and latest.completed_at else None)
    if policy and due_at and now >= due_at:
        reasons.append(f"Older than the {tier_label(latest.tier).lower()} tier's reassessment "
                       f"period of {policy.reassessment_days} days (due {due_at:%Y-%m-%d}).")
    return AssessmentStatus(agent, "stale" if reasons else "current", latest, draft, due_at,
                            reasons)


# --- Who may draft and complete --------------------------------------------------------------

def is_assessor(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and (user.has_role(Role.COMPLIANCE) or user.has_role(Role.ADMIN)))


def may_draft(user: User, agent: Agent) -> bool:
    return is_assessor(user) or can(user, "inventory.change_agent", agent)


# Higher layers name who may not complete an agent's assessment without risk importing them:
# releases registers its independence rule (people involved in the agent or its releases).
# Each check takes (user, agent) and returns the refusal, or None.
completion_vetoes: list[Callable[[User, Agent], DomainError | None]] = []


def register_completion_veto(check: Callable[[User, Agent], DomainError | None]) -> None:
    if check not in completion_vetoes:
        completion_vetoes.append(check)


def completion_refusal(user: User, agent: Agent) -> DomainError | None:
    for check in completion_vetoes:
        refusal = check(user, agent)
        if refusal is not None:
            return refusal
    return None


def may_complete(user: User, agent: Agent) -> bool:
    return is_assessor(user) and completion_refusal(user, agent) is None


def draft_refusal(user: User, agent: Agent) -> DomainError | None:
    if not may_draft(user, agent):
        return NotPermitted("Only the agent's owner, a delegate, a compliance officer or an "
                            "admin may draft its risk assessment.")
    return closed_refusal(agent)


def complete_refusal(user: User, agent: Agent) -> DomainError | None:
    if not is_assessor(user):
        return NotPermitted("Only compliance officers and admins complete risk assessments.")
    return completion_refusal(user, agent) or closed_refusal(agent)


def portfolio_coverage_refusal(user: User) -> NotPermitted | None:
    """The framework coverage of the whole portfolio is for those who read every assessment:
    compliance, security, auditors and admins (an agent's own coverage follows the agent)."""
    if can(user, "risk.view_assessment"):
        return None
    return NotPermitted("The portfolio's framework coverage is for compliance, security, "
                        "auditors and admins.")


def closed_refusal(agent: Agent) -> Conflict | None:
    if agent.stage in CLOSED_STAGES:
        return Conflict(f"{agent} is {agent.get_stage_display().lower()} and is not assessed.")
    return None


# --- Risk register and impact assessment -----------------------------------------------------
#
# Who may accept a residual risk (decided here, ISO/IEC 42001 6.1.3 e–f): the person accountable
# for the agent — its business owner — or a compliance officer. Above medium, acceptance needs
# independence: only a compliance officer who neither owns the agent nor recorded the risk may
# sign it. A critical residual risk is never accepted: it needs more treatment. Auditors and
# other read-only roles never sign. The same accountable people sign impact assessments.

# The lowest likelihood × impact score of each rating (scores run 1–25).
RATING_FLOORS = ((20, RiskRating.CRITICAL), (10, RiskRating.HIGH), (5, RiskRating.MEDIUM))
RATING_ORDER = [RiskRating.LOW, RiskRating.MEDIUM, RiskRating.HIGH, RiskRating.CRITICAL]
INDEPENDENT_ABOVE = RiskRating.MEDIUM
OPEN_TREATMENTS = {TreatmentStatus.PLANNED, TreatmentStatus.IN_PROGRESS}

# Status moves a person asks for (close, reopen); treated and accepted follow from treatments
# and acceptances (see register_status).
RISK_MOVES = Transitions(RiskStatus, {
    RiskStatus.OPEN: {RiskStatus.CLOSED},
    RiskStatus.TREATED: {RiskStatus.CLOSED},
    RiskStatus.ACCEPTED: {RiskStatus.CLOSED},
    RiskStatus.CLOSED: {RiskStatus.OPEN},
})

ENTRY_FIELDS = ("agent_id", "title", "description", "likelihood", "impact", "owner_id")
TREATMENT_FIELDS = ("kind", "description", "owner_id", "due_date", "status",
                    "residual_likelihood", "residual_impact")
IMPACT_FIELDS = ("affected_people", "affected_groups", "fundamental_rights_risks",
                 "mitigations", "oversight_measures")
IMPACT_REQUIRED = ("affected_people", "fundamental_rights_risks", "mitigations",
                   "oversight_measures")


def rating(likelihood: int, impact: int) -> str:
    score = likelihood * impact
    return next((r for floor, r in RATING_FLOORS if score >= floor), RiskRating.LOW)


def rating_rank(value: str) -> int:
    return RATING_ORDER.index(RiskRating(value)) if value in RATING_ORDER else -1


def residual(entry, treatments: Iterable) -> tuple[int, int]:
    """Likelihood and impact left once the done treatments work: the lowest each reaches, or
    the inherent ones while nothing is done."""
    done = [t for t in treatments if t.status == TreatmentStatus.DONE]
    if not done:
        return entry.likelihood, entry.impact
    return (min(t.residual_likelihood for t in done), min(t.residual_impact for t in done))


def residual_rating(entry, treatments: Iterable) -> str:
    return rating(*residual(entry, treatments))


def register_hash(entry, treatments: Iterable) -> str:
    """The content an acceptance signs: the entry and its treatments (not their status
    bookkeeping), so any later edit of either shows the acceptance no longer matches."""
    return content_hash({
        "entry": {name: getattr(entry, name) for name in ENTRY_FIELDS},
        "treatments": [{"id": t.pk, **{name: getattr(t, name) for name in TREATMENT_FIELDS}}
                       for t in sorted(treatments, key=lambda t: t.pk)],
    })


def register_status(entry, treatments: Iterable, *, accepted: bool) -> str:
    """The status an edit leaves an open risk in: accepted while a matching acceptance stands,
    treated once it has a live treatment, else open. A closed risk stays closed."""
    if entry.status == RiskStatus.CLOSED:
        return RiskStatus.CLOSED
    if accepted:
        return RiskStatus.ACCEPTED
    live = [t for t in treatments if t.status != TreatmentStatus.CANCELLED]
    return RiskStatus.TREATED if live else RiskStatus.OPEN


def _acts(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and not is_read_only(user))


def _is_compliance(user) -> bool:
    return user.has_role(Role.COMPLIANCE)


def may_keep_register(user, agent) -> bool:
    """Record and edit risks, treatments and impact assessment drafts: the agent's owner or a
    delegate, a compliance officer or an admin; nobody once the agent is retired."""
    return (_acts(user) and agent.stage not in CLOSED_STAGES
            and (_is_compliance(user) or user.has_role(Role.ADMIN)
                 or can(user, "inventory.change_agent", agent)))


def is_accountable(user, agent) -> bool:
    """Who may sign for the agent: its business owner or a compliance officer."""
    return _acts(user) and (user.pk == agent.business_owner_id or _is_compliance(user))


def acceptance_refusal(user, entry, treatments: Iterable) -> DomainError | None:
    """Why this person may not accept the entry's residual risk now (NotPermitted: not the
    right person; Conflict: not the right moment), or None."""
    treatments = list(treatments)
    agent = entry.agent
    if not is_accountable(user, agent):
        return NotPermitted("Only the agent's business owner or a compliance officer may accept "
                            "a residual risk.")
    if entry.status == RiskStatus.CLOSED:
        return Conflict("The risk is closed.")
    live = [t for t in treatments if t.status != TreatmentStatus.CANCELLED]
    if not live:
        return Conflict("Record how the risk is treated (even if the treatment is to accept "
                        "it) first.")
    if any(t.status in OPEN_TREATMENTS for t in live):
        return Conflict("Some treatments are still planned or in progress: the residual risk "
                        "is not known yet.")
    level = residual_rating(entry, treatments)
    if level == RiskRating.CRITICAL:
        return Conflict("A critical residual risk cannot be accepted: treat it further.")
    independent = (_is_compliance(user) and user.pk != agent.business_owner_id
                   and user.pk != entry.recorded_by_id)
    if rating_rank(level) > rating_rank(INDEPENDENT_ABOVE) and not independent:
        return NotPermitted("A high residual risk is accepted by a compliance officer who "
                            "neither owns the agent nor recorded the risk.")
    return None


def may_accept(user, entry, treatments: Iterable) -> bool:
    return acceptance_refusal(user, entry, treatments) is None


def impact_content(assessment) -> dict:
    return {"agent_id": assessment.agent_id, "number": assessment.number,
            **{name: getattr(assessment, name) for name in IMPACT_FIELDS}}


def impact_hash(assessment) -> str:
    return content_hash(impact_content(assessment))


def impact_sign_refusal(user, assessment) -> DomainError | None:
    """Why this person may not sign this impact assessment version now, or None."""
    if not is_accountable(user, assessment.agent):
        return NotPermitted("Only the agent's business owner or a compliance officer may sign "
                            "its impact assessment.")
    if assessment.is_signed:
        return Conflict(f"Version {assessment.number} is already signed.")
    return None


def impact_missing(assessment) -> dict[str, list[str]]:
    """The parts a version must say before it is signed."""
    return {name: ["Required before signing."] for name in IMPACT_REQUIRED
            if not str(getattr(assessment, name) or "").strip()}
