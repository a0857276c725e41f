"""Who is independent of a release, and what each person may do on it: one definition, asked by
the services before they write, by the pages and the API before they offer an action, and by
the inbox, My work and the sign-off reminders before they call on someone.

Pure decisions over facts the selectors fetched (`Involvement`, the release's sign-offs, the
tier policy): nothing here queries or writes. A refusal is returned as the domain error the
service raises, so a page and the API show the same words.

A person is *involved* in a release when they are the agent's business owner, a delegate of
the agent (now or when the release was submitted), its technical owner, the release's author
or submitter, or the author of any component version in its manifest.

Evaluation runs (the one rule): a run counts towards the gate when it was posted by a service
account (CI, with its own token) or recorded by someone not involved in the release. What an
involved person types in is kept and shown, but never counts.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ..accounts.roles import Role, is_read_only
from ..core.errors import Conflict, DomainError, NotPermitted
from ..inventory.choices import RiskTier
from .choices import ReleaseState

if TYPE_CHECKING:  # for annotations only: the decisions here read what the selectors fetched
    from ..risk.models import TierPolicy
    from .models import Release

# --- Involvement ---------------------------------------------------------------------------

OWNER = "the agent's business owner"
DELEGATE = "a delegate of the agent"
FORMER_DELEGATE = "a delegate of the agent when the release was submitted"
TECHNICAL_OWNER = "the agent's technical owner"
AUTHOR = "the release's author"
SUBMITTER = "the release's submitter"
COMPONENT_AUTHOR = "the author of a component version in its manifest"


@dataclass(frozen=True)
class Involvement:
    """The people involved in one release, each with why."""

    reasons: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    def includes(self, user) -> bool:
        return getattr(user, "pk", user) in self.reasons

    def why(self, user) -> str:
        return " and ".join(self.reasons.get(getattr(user, "pk", user), ()))

    @property
    def people(self) -> frozenset[int]:
        return frozenset(self.reasons)


def involvement_of(*, business_owner_id: int | None, technical_owner_id: int | None = None,
                   author_id: int | None = None, submitted_by_id: int | None = None,
                   delegate_ids: Iterable[int] = (), former_delegate_ids: Iterable[int] = (),
                   component_author_ids: Iterable[int] = ()) -> Involvement:
    """Build the involvement of a release from its facts (see the module docstring)."""
    reasons: dict[int, list[str]] = {}

    def add(user_id: int | None, why: str) -> None:
        if user_id is not None and why not in reasons.setdefault(user_id, []):
            reasons[user_id].append(why)

    add(business_owner_id, OWNER)
    for user_id in delegate_ids:
        if user_id != business_owner_id:
            add(user_id, DELEGATE)
    for user_id in former_delegate_ids:
        if user_id != business_owner_id and DELEGATE not in reasons.get(user_id, ()):
            add(user_id, FORMER_DELEGATE)
    add(technical_owner_id, TECHNICAL_OWNER)
    add(author_id, AUTHOR)
    add(submitted_by_id, SUBMITTER)
    for user_id in component_author_ids:
        add(user_id, COMPONENT_AUTHOR)
    return Involvement({user_id: tuple(why) for user_id, why in reasons.items()})


def _involved(involvement: Involvement, user, what: str = "this release") -> str:
    return f"You are involved in {what} ({involvement.why(user)})"


def role_label(role: str) -> str:
    return Role(role).label if role in Role.values else role


# --- What a release holds ------------------------------------------------------------------

def content_refusal(components: Mapping[str, Iterable]) -> str | None:
    """Why a release with these components (by kind) may not go up for sign-off, or None.
    Asked by submission and by the release form, so an empty release is refused at once."""
    if not list(components.get("models", ())):
        return "A release needs at least one model."
    return None


# --- Sign-offs -----------------------------------------------------------------------------

def _holds(user, role: str, business_owner_id: int | None) -> bool:
    if role == Role.BUSINESS_OWNER:
        return user.pk == business_owner_id
    return user.has_role(role)


def quorum_counts(policy, approvals: Iterable) -> dict[str, tuple[int, int]]:
    """{role: (approvals that count, quorum)} in the order the policy signs them."""
    roles = dict(policy.signoff_roles) if policy else {}
    ordered = [r for r in (policy.signoff_order if policy else []) if r in roles]
    ordered += [r for r in roles if r not in ordered]
    approvals = list(approvals)
    return {role: (sum(1 for s in approvals if s.role == role), roles[role]) for role in ordered}


def _waiting_for(counts: Mapping[str, tuple[int, int]], policy, role: str) -> Conflict | None:
    order = list(policy.signoff_order)
    if role not in order:
        return None
    for before in order[:order.index(role)]:
        done, needed = counts.get(before, (0, 0))
        if done < needed:
            return Conflict(f"{role_label(before)} sign-offs come first "
                            f"({done} of {needed} so far).")
    return None


@dataclass(frozen=True)
class SigningFacts:
    """What a sign-off decision rests on: the release, its tier policy, the sign-offs not
    voided, the approvals that count, and who is involved."""

    release: "Release"
    policy: "TierPolicy | None"
    active: list  # sign-offs not voided
    approvals: list  # approvals bound to the current manifest
    involvement: Involvement

    @property
    def counts(self) -> dict[str, tuple[int, int]]:
        return quorum_counts(self.policy, self.approvals)


def signing_refusal(user, role: str, facts: SigningFacts,
                    approving: bool = True) -> DomainError | None:
    """Why `user` may not sign `role` on the release now, or None when they may."""
    release, policy = facts.release, facts.policy
    if release.state != ReleaseState.SUBMITTED:
        return Conflict(f"Release {release.display_version} is "
                        f"{release.get_state_display().lower()}: only a submitted release is "
                        "signed.")
    if policy is None:
        return Conflict("No tier policy says who signs: the agent's risk must be assessed first.")
    if role not in policy.signoff_roles:
        asked = ", ".join(role_label(r).lower() for r in policy.signoff_roles) or "nobody"
        return DomainError(f"The {policy.tier} tier asks for sign-offs from: {asked}.",
                           field="role")
    earlier = next((s for s in facts.active if s.user_id == user.pk), None)
    if earlier is not None:
        return NotPermitted(f"You already signed this release as "
                            f"{role_label(earlier.role).lower()}: one person fills one role.")
    if role == Role.BUSINESS_OWNER and not _holds(user, role, release.agent.business_owner_id):
        return NotPermitted("Only the agent's business owner signs as business owner.")
    if role != Role.BUSINESS_OWNER:
        if not _holds(user, role, release.agent.business_owner_id):
            return NotPermitted(f"You do not hold the {role_label(role).lower()} role, so you "
                                "may not sign for it.")
        if facts.involvement.includes(user):
            return NotPermitted(f"{_involved(facts.involvement, user)}, so you may not sign as "
                                f"{role_label(role).lower()}: that sign-off comes from someone "
                                "independent of it.")
    if not approving:
        return None
    count, quorum = facts.counts[role]
    if count >= quorum:
        return Conflict(f"The {role_label(role).lower()} quorum of {quorum} is already reached.")
    return _waiting_for(facts.counts, policy, role)


@dataclass(frozen=True)
class SigningOptions:
    """What the sign-off form offers a person: the roles they may sign now, or why none."""

    roles: list[str]
    reasons: list[str]

    @property
    def any(self) -> bool:
        return bool(self.roles)


def signing_options(user, facts: SigningFacts) -> SigningOptions:
    """The roles of the tier `user` may approve now; when none, why (each reason once). Only
    the roles they hold are explained, unless they hold none of the tier's."""
    if facts.policy is None or not user.is_authenticated:
        return SigningOptions([], [])
    owner_id = facts.release.agent.business_owner_id
    held = [role for role in facts.counts if _holds(user, role, owner_id)]
    roles, reasons = [], []
    for role in held or facts.counts:
        refusal = signing_refusal(user, role, facts)
        if refusal is None:
            roles.append(role)
        elif refusal.message not in reasons:
            reasons.append(refusal.message)
    return SigningOptions(roles, [] if roles else reasons)


def may_sign_now(user, facts: SigningFacts) -> bool:
    return signing_options(user, facts).any


def short_roles(facts: SigningFacts) -> list[str]:
    """The roles still below quorum, in the policy's order."""
    return [role for role, (count, quorum) in facts.counts.items() if count < quorum]


# --- Checklist, assessment, evaluations ----------------------------------------------------

def reviewer_refusal(reviewer, item, involvement: Involvement) -> DomainError | None:
    """Why `reviewer` may not review a checklist item: never its owner, nor anyone involved in
    the release, nor someone who may only read, nor a service account."""
    if not reviewer.is_active or reviewer.is_service_account or is_read_only(reviewer):
        return DomainError("The reviewer must be an active person who may change things.",
                           field="reviewer")
    if reviewer.pk == item.owner_id:
        return DomainError("The item's owner cannot review it.", field="reviewer")
    if involvement.includes(reviewer):
        return DomainError(f"{reviewer} is involved in this release "
                           f"({involvement.why(reviewer)}), so may not review its checklist: "
                           "a reviewer is independent of it.", field="reviewer")
    return None


def eligible_reviewers(people: Iterable, items: Iterable, involvement: Involvement) -> list:
    """The people a reviewer picker offers for `items`: those `reviewer_refusal` lets review
    every one of them (so never the auditor, an item's owner, or anyone involved)."""
    items = list(items)
    return [person for person in people
            if all(reviewer_refusal(person, item, involvement) is None for item in items)]


def review_refusal(actor, item, involvement: Involvement) -> DomainError | None:
    """Why `actor` may not accept or send back a checklist item now."""
    if actor.pk != item.reviewer_id:
        return NotPermitted("Only the item's reviewer accepts it or sends it back.")
    refusal = reviewer_refusal(actor, item, involvement)
    if refusal is not None:
        return NotPermitted(refusal.message)
    return None


def assessment_refusal(user, involvement: Involvement) -> NotPermitted | None:
    """Why `user` may not complete the risk assessment an agent's releases rest on
    (`involvement`: the agent's own people and those of its releases in the making)."""
    if involvement.includes(user):
        return NotPermitted(f"{_involved(involvement, user, 'this agent or its releases')}, "
                            "so you may not complete the risk assessment they rest on: "
                            "someone independent of them must.")
    return None


def assessment_missing(completed_by, involvement: Involvement) -> list[str]:
    """What the gate misses when the current assessment was completed by someone involved."""
    if completed_by is None or not involvement.includes(completed_by):
        return []
    message = (f"The risk assessment was completed by {completed_by}, who is "
               f"{involvement.why(completed_by)}: someone independent must complete one.")
    return [message]


def run_counts(run, involvement: Involvement) -> bool:
    """An evaluation run counts when a service account (CI) posted it or someone not involved
    recorded it."""
    return run.created_by.is_service_account or not involvement.includes(run.created_by_id)


def run_not_counted(run, involvement: Involvement) -> str:
    return (f"{run.suite.name} run #{run.pk} was recorded by {run.created_by}, who is "
            f"{involvement.why(run.created_by_id)}: it counts only when CI posts it with a "
            "service-account token or someone independent records it.")


# --- Whether a release still stands -------------------------------------------------------
#
# A frozen release never changes, but what its approval or its sign-offs rest on can: the
# agent's risk assessment (its attributes change, or it passes its tier's period), the agent's
# risk tier (a reassessment moves it), and the terms of the tier's policy. One decision, asked by
# the agent-change path, the tier-policy-change path, the daily sweep, the release gate (and so
# the production deployment) and the release pages:
#   - approved (not yet deployed): voided when the assessment is no longer current, or when the
#     terms it was approved under changed after its approval;
#   - submitted: the request stays open, but the sign-offs given stop counting (voided, kept on
#     record) when the assessment is no longer current, or when they were given before the terms
#     changed;
#   - deployed, superseded, rolled back: never voided here; a later release takes its place;
#   - voided: stays voided, with the reason it was voided for.

# The fields of a tier policy an approval rests on. A change of any other field (description,
# review, reassessment and dormancy periods, monitoring thresholds) leaves approvals standing;
# a shorter reassessment period acts through the assessment's currency instead.
APPROVAL_TERMS = ("signoff_roles", "signoff_order", "checklist_template",
                  "evaluation_thresholds", "regression_margin")

KEEP, VOID, REOPEN, VOIDED = "keep", "void", "reopen", "voided"


@dataclass(frozen=True)
class TermsChange:
    """The latest change of the terms an agent's releases are approved under: its tier policy
    changed (`fields`, with the policy's recorded `note`) or the agent moved to another tier."""

    at: datetime
    tier: str
    fields: tuple[str, ...] = ()
    note: str = ""
    previous_tier: str = ""

    @property
    def why(self) -> str:
        tier = _tier_label(self.tier)
        if self.previous_tier:
            return (f"the agent's risk tier changed from {_tier_label(self.previous_tier)} to "
                    f"{tier} on {self.at:%Y-%m-%d}")
        said = (f"the {tier} tier policy changed on {self.at:%Y-%m-%d} "
                f"({', '.join(f.replace('_', ' ') for f in self.fields)})")
        return f"{said}: {self.note}" if self.note else said


def _tier_label(tier: str) -> str:
    return RiskTier(tier).label.lower() if tier in RiskTier.values else tier


@dataclass(frozen=True)
class StandingFacts:
    """What the standing of one release rests on, fetched by selectors.standing_facts."""

    state: str
    assessment_current: bool
    assessment_reasons: tuple[str, ...] = ()
    terms_change: TermsChange | None = None
    approved_at: datetime | None = None  # when it was approved, if it was
    signed_at: tuple[datetime, ...] = ()  # when each sign-off not voided was given
    voided_because: str = ""  # the recorded reason, for a voided release


@dataclass(frozen=True)
class Standing:
    action: str  # KEEP, VOID (an approval falls), REOPEN (sign-offs fall) or VOIDED (already)
    reason: str = ""

    @property
    def holds(self) -> bool:
        return self.action == KEEP

    @property
    def acts(self) -> bool:
        """Something must be voided now."""
        return self.action in (VOID, REOPEN)

    @property
    def summary(self) -> str:
        """What a page shows while the release does not stand as it is."""
        if self.action == VOID:
            return f"This approval no longer stands. {self.reason}"
        if self.action == REOPEN:
            return f"The sign-offs given so far no longer count. {self.reason}"
        return self.reason


def _stale(facts: StandingFacts) -> str:
    return "The risk assessment is no longer current: " + " ".join(facts.assessment_reasons)


def release_standing(facts: StandingFacts) -> Standing:
    """Whether a release still stands as it is, and if not, what falls and why (see above)."""
    change = facts.terms_change
    if facts.state == ReleaseState.VOIDED:
        return Standing(VOIDED, facts.voided_because)
    if facts.state == ReleaseState.APPROVED:
        if not facts.assessment_current:
            return Standing(VOID, _stale(facts))
        if change is not None and facts.approved_at is not None and facts.approved_at < change.at:
            return Standing(VOID, f"Approved under earlier terms: {change.why}")
    if facts.state == ReleaseState.SUBMITTED and facts.signed_at:
        if not facts.assessment_current:
            return Standing(REOPEN, _stale(facts))
        if change is not None and min(facts.signed_at) < change.at:
            return Standing(REOPEN, f"Signed under earlier terms: {change.why}")
    return Standing(KEEP)


# --- The next step for the person looking at a release ------------------------------------

@dataclass(frozen=True)
class StepFacts:
    """What the next step of one person on one release rests on (gate_summary gathers it)."""

    state: str
    standing_holds: bool
    open_conditions: tuple[str, ...]  # the gate's conditions not met, as their summary lines
    may_manage: bool = False  # the agent's owner, a delegate or an admin
    items_to_review: int = 0  # items in review with this person as reviewer
    items_to_prepare: int = 0  # items not yet sent for review (owners and managers act)
    sign_roles: tuple[str, ...] = ()  # the roles they may sign now
    may_record_runs: bool = False
    evaluations_met: bool = True


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _settled(facts: StepFacts) -> str | None:
    """The next step when the release is not under review."""
    if facts.state == ReleaseState.DRAFT:
        return ("Submit the release for sign-off." if facts.may_manage
                else "Nothing for you yet: the owner has not submitted it.")
    if facts.state == ReleaseState.REJECTED:
        return ("Rework it as a draft, or put the changes into a new release."
                if facts.may_manage else "Nothing for you: it was rejected.")
    if facts.state == ReleaseState.APPROVED:
        return ("It is approved: deploy it to production from the agent's page."
                if facts.standing_holds else "Its approval no longer stands: see why above.")
    if facts.state != ReleaseState.SUBMITTED:
        return (f"Nothing to do: it is {ReleaseState(facts.state).label.lower()}."
                if facts.state in ReleaseState.values else "Nothing to do.")
    return None


def next_step(facts: StepFacts) -> str:
    """What the person looking at a release does next, in one sentence."""
    settled = _settled(facts)
    if settled is not None:
        return settled
    steps = []
    if facts.items_to_review:
        steps.append(f"review the {_plural(facts.items_to_review, 'checklist item')} "
                     "waiting for you")
    if facts.may_manage and facts.items_to_prepare:
        steps.append(f"add evidence and a reviewer to {_plural(facts.items_to_prepare, 'item')}"
                     " and send them for review")
    if facts.may_record_runs and not facts.evaluations_met:
        steps.append("record an evaluation run (or let CI post one)")
    if facts.sign_roles:
        steps.append("sign as " + " or ".join(role_label(r).lower() for r in facts.sign_roles))
    if steps:
        text = "; ".join(steps)
        return text[0].upper() + text[1:] + "."
    if not facts.open_conditions:
        return "Nothing waits for you: the gate holds."
    return "Nothing waits for you here. Still open: " + "; ".join(facts.open_conditions) + "."
