"""The release gate as the release page shows it: one line per condition with a count, the
detail behind it, and the next step for the person looking (releases.rules.next_step decides;
this module only gathers the facts, from what the page has already fetched or, for the API and
other pages, by `next_step_for`)."""

from dataclasses import dataclass

from ..accounts.models import User
from . import rules, selectors
from .choices import ItemStatus
from .models import ChecklistItem
from .services import Gate, may_manage, may_record_runs


@dataclass(frozen=True)
class GateSummary:
    gate: Gate
    next_step: str


def _to_prepare(checklist: list[ChecklistItem]) -> int:
    return sum(1 for item in checklist if item.status == ItemStatus.OPEN)


def _to_review(user: User, checklist: list[ChecklistItem]) -> int:
    return sum(1 for item in checklist
               if item.status == ItemStatus.IN_REVIEW and item.reviewer_id == user.pk)


def gate_summary(user: User, gate: Gate, checklist: list[ChecklistItem], *,
                 signing: rules.SigningOptions, may_manage: bool,
                 may_record_runs: bool) -> GateSummary:
    """The gate of a release with the next step for `user` (checklist: its items, fetched)."""
    facts = rules.StepFacts(
        state=gate.release.state, standing_holds=gate.standing.holds,
        open_conditions=tuple(c.summary for c in gate.conditions if not c.passed),
        may_manage=may_manage, items_to_review=_to_review(user, checklist),
        items_to_prepare=_to_prepare(checklist) if may_manage else 0,
        sign_roles=tuple(signing.roles), may_record_runs=may_record_runs,
        evaluations_met=gate.condition("evaluations").passed)
    return GateSummary(gate, rules.next_step(facts))


def gate_summary_for(user: User, gate: Gate) -> GateSummary:
    """The gate with `user`'s next step, fetching the facts (the gate API, the agent page)."""
    release = gate.release
    return gate_summary(
        user, gate, selectors.release_checklist(release),
        signing=rules.signing_options(user, selectors.signing_facts(release)),
        may_manage=may_manage(user, release), may_record_runs=may_record_runs(user, release))
