"""Pure risk decisions: no writes, no imports of services. Pages, API and services ask here."""

from collections.abc import Iterable

from ..accounts.permissions import can
from ..accounts.roles import Role, is_read_only
from ..core.errors import Conflict, DomainError, NotPermitted
from ..core.hashing import content_hash
from ..core.lifecycle import Transitions
from ..inventory.choices import CLOSED_STAGES
from .choices import RiskRating, RiskStatus, TreatmentStatus

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
    return RATING_ORDER.index(value) if value in RATING_ORDER else -1


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
