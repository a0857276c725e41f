"""The release gate: every condition for approval to deploy to production, whether a release
still stands, and voiding what no longer does."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ...accounts.models import User
from ...accounts.notifications import notify
from ...core.lifecycle import lock, record
from ...inventory.choices import RiskTier
from ...inventory.models import Agent, ComponentVersion
from ...risk.models import TierPolicy
from ...risk.selectors import assessment_status
from .. import rules
from ..choices import METRICS, ItemStatus, ReleaseState
from ..models import EvaluationRun, EvaluationSuite, Release, SignOff
from ..rules import role_label
from ..selectors import UNDER_APPROVAL, release_involvement, signing_facts, standing_facts
from .common import SUBMISSION_SIGNOFF, policy_for, release_set_state


@dataclass
class Condition:
    key: str
    title: str
    passed: bool
    missing: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # what already holds, where worth showing
    summary: str = ""  # one line with a count: "Checklist: 9 of 13 accepted"
    waiting: list[str] = field(default_factory=list)  # what is still to come, by name


@dataclass
class Gate:
    release: Release
    conditions: list[Condition]
    standing: rules.Standing = field(default_factory=lambda: rules.Standing(rules.KEEP))

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.conditions) and self.standing.holds

    @property
    def missing(self) -> list[str]:
        missing = [m for c in self.conditions for m in c.missing]
        return missing if self.standing.holds else [self.standing.summary, *missing]

    def condition(self, key: str) -> Condition:
        return next(c for c in self.conditions if c.key == key)


def _condition(key: str, title: str, missing: list[str], summary: str = "") -> Condition:
    return Condition(key, title, not missing, missing, summary=summary or title)


def _gate_assessment(release: Release, involvement: rules.Involvement) -> Condition:
    status = assessment_status(release.agent)
    missing = [] if status.is_current else list(status.reasons)
    if status.is_current:
        assert status.assessment is not None  # a current status is that of an assessment
        missing += rules.assessment_missing(status.assessment.completed_by, involvement)
    if status.is_current and status.tier == RiskTier.UNACCEPTABLE:
        missing.append("The agent is assessed as unacceptable (a prohibited practice).")
    if status.is_current and policy_for(release) is None:
        missing.append(f"No tier policy for the {status.tier} tier.")
    said = "current" if not missing else "not current" if not status.is_current else "not enough"
    return _condition("risk_assessment", "Current risk assessment", missing,
                      f"Risk assessment: {said}")


def _gate_checklist(release: Release, policy: TierPolicy | None) -> Condition:
    if release.state in (ReleaseState.DRAFT, ReleaseState.REJECTED):
        return _condition("checklist", "Readiness checklist",
                          ["Submit the release: its checklist is made from the tier's template."],
                          "Checklist: made when the release is submitted")
    items = list(release.checklist_items.prefetch_related("evidence"))
    have = {item.key for item in items}
    missing = [f"{entry.get('title', entry.get('key'))}: not on the checklist yet."
               for entry in (policy.checklist_template if policy else [])
               if entry.get("key") not in have]
    for item in items:
        if not any(e.is_current for e in item.evidence.all()):
            missing.append(f"{item.title}: no evidence.")
        if item.status != ItemStatus.ACCEPTED:
            missing.append(f"{item.title}: not accepted by a reviewer "
                           f"({item.get_status_display().lower()}).")
    total = len(items) + sum(1 for e in (policy.checklist_template if policy else [])
                             if e.get("key") not in have)
    accepted = sum(1 for item in items if item.status == ItemStatus.ACCEPTED)
    return _condition("checklist", "Readiness checklist complete with evidence", missing,
                      f"Checklist: {accepted} of {total} accepted")


def _latest_runs(release: Release, involvement: rules.Involvement
                 ) -> tuple[list[EvaluationRun], list[EvaluationRun]]:
    """The latest run of each suite that counts, and the later ones that do not."""
    latest: dict[int, EvaluationRun] = {}
    ignored = []
    runs = (release.evaluation_runs.filter(manifest_hash=release.manifest_hash)
            .select_related("suite", "created_by").order_by("-created_at", "-pk"))
    for run in runs:
        if not rules.run_counts(run, involvement):
            if run.suite_id not in latest:
                ignored.append(run)
        else:
            latest.setdefault(run.suite_id, run)
    return list(latest.values()), ignored


def _gate_evaluations(release: Release, policy: TierPolicy | None,
                      involvement: rules.Involvement) -> Condition:
    thresholds = policy.evaluation_thresholds if policy else {}
    runs, ignored = _latest_runs(release, involvement)
    missing = []
    if thresholds and not runs and not ignored:
        missing.append("No evaluation run on this release's manifest.")
    elif thresholds and not runs:
        missing.append("No evaluation run on this release's manifest that counts.")
        missing += [rules.run_not_counted(run, involvement) for run in ignored[:3]]
    failing: set[str] = set()
    for run in runs:
        baseline_release, baseline = production_baseline(release, run.suite)
        for key, value in run.metrics.items():
            failures = metric_failures(key, value, policy, baseline, baseline_release)
            failing.update([key] if failures else [])
            missing += [f"{run.suite.name}: {failure}" for failure in failures]
    measured = {key for run in runs for key in run.metrics}
    if runs:
        missing += [f"{_metric_label(key)}: no evaluation run measured it."
                    for key in thresholds if key not in measured]
    passing = sum(1 for key in thresholds if key in measured and key not in failing)
    summary = (f"Evaluations: {passing} of {len(thresholds)} required metrics passing"
               if thresholds else "Evaluations: the tier sets no thresholds")
    condition = _condition("evaluations", "Evaluations meet the tier's thresholds, "
                           "no regression", missing, summary)
    condition.waiting = [_metric_label(key) for key in thresholds
                         if key not in measured or key in failing]
    return condition


def valid_approvals(release: Release) -> list[SignOff]:
    """The sign-offs that count: not voided, approving, bound to the current manifest."""
    return signing_facts(release, policy_for(release),
                         involvement=rules.Involvement()).approvals


def quorum_counts(release: Release, policy: TierPolicy | None) -> dict[str, tuple[int, int]]:
    """{role: (approvals that count, quorum)} in the order the policy signs them."""
    return rules.quorum_counts(policy, valid_approvals(release))


def _gate_signoffs(release: Release, policy: TierPolicy | None) -> Condition:
    title = "Sign-offs to quorum, bound to this manifest"
    if release.state in (ReleaseState.DRAFT, ReleaseState.REJECTED):
        return _condition("signoffs", title, ["Submit the release for sign-off."],
                          "Sign-offs: asked for when the release is submitted")
    if release.state == ReleaseState.VOIDED:
        return _condition("signoffs", title,
                          ["The sign-off request was voided: submit a new release."])
    if policy is None:
        return _condition("signoffs", title, ["No tier policy says who signs."])
    facts = signing_facts(release, policy, involvement=rules.Involvement())
    missing = [f"{role_label(role)}: {count} of {quorum} sign-offs."
               for role, (count, quorum) in facts.counts.items() if count < quorum]
    roles = len(facts.counts)
    condition = _condition("signoffs", title, missing,
                           f"Sign-offs: {roles - len(missing)} of {roles} roles")
    condition.done = [f"{role_label(s.role)}: {s.user}"
                      + (" (by submitting the release)" if _signed_by_submitting(s) else "")
                      for s in facts.approvals]
    return condition


def _signed_by_submitting(signoff: SignOff) -> bool:
    return signoff.comment == SUBMISSION_SIGNOFF


def release_gate(release: Release) -> Gate:
    """Every condition for approval to deploy to production, each with what is missing."""
    policy = policy_for(release)
    involvement = release_involvement(release)
    return Gate(release, [
        _gate_assessment(release, involvement),
        _gate_checklist(release, policy),
        _gate_evaluations(release, policy, involvement),
        _gate_signoffs(release, policy),
    ], release_standing(release))


def release_standing(release: Release, *, now: dt.datetime | None = None) -> rules.Standing:
    """Whether the release still stands as it is (rules.release_standing decides)."""
    status = assessment_status(release.agent, now=now)
    return rules.release_standing(standing_facts(release, status))


def _metric_label(key: str) -> str:
    return METRICS[key].label if key in METRICS else key


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def judge_metrics(metrics: Mapping[str, float], policy: TierPolicy | None,
                  baseline: EvaluationRun | None = None,
                  baseline_release: Release | None = None) -> list[str]:
    """What fails: a threshold of the tier missed, or a drop beyond the tier's regression margin
    from the same suite's run on the release in production."""
    by_key = [metric_failures(key, value, policy, baseline, baseline_release)
              for key, value in metrics.items()]
    # thresholds first, then regressions, as the runs have always listed them
    return ([f for found in by_key for f in found if not f.startswith("Regression")]
            + [f for found in by_key for f in found if f.startswith("Regression")])


def metric_failures(key: str, value: float, policy: TierPolicy | None,
                    baseline: EvaluationRun | None = None,
                    baseline_release: Release | None = None) -> list[str]:
    """What fails for one metric: its tier threshold, or a regression from production."""
    failures = []
    bound = (policy.evaluation_thresholds if policy else {}).get(key, {})
    if "min" in bound and value < bound["min"]:
        failures.append(f"{_metric_label(key)} {_number(value)} is below the minimum "
                        f"{_number(bound['min'])}.")
    if "max" in bound and value > bound["max"]:
        failures.append(f"{_metric_label(key)} {_number(value)} is above the maximum "
                        f"{_number(bound['max'])}.")
    before = baseline.metrics.get(key) if baseline is not None and policy is not None else None
    if key not in METRICS or not isinstance(before, int | float) or before == 0:
        return failures
    assert policy is not None and baseline_release is not None
    margin = policy.regression_margin
    change = (value - before) / abs(before)
    worse = -change if METRICS[key].higher_is_better else change
    if worse > margin:
        failures.append(
            f"Regression in {_metric_label(key)}: {_number(value)} against "
            f"{_number(before)} on release {baseline_release.display_version} in production"
            f" ({worse:.1%} worse; the allowed margin is {margin:.1%}).")
    return failures


def production_baseline(release: Release, suite: EvaluationSuite
                        ) -> tuple[Release | None, EvaluationRun | None]:
    """The agent's release in production (state deployed) and its latest passing run of the
    suite."""
    live = (Release.objects.filter(agent_id=release.agent_id, state=ReleaseState.DEPLOYED)
            .exclude(pk=release.pk).order_by("-number").first())
    if live is None:
        return None, None
    run = (EvaluationRun.objects.filter(release=live, suite=suite, passed=True)
           .order_by("-created_at", "-pk").first())
    return (live, run) if run else (None, None)




def approve_if_ready(*, actor: User, release: Release) -> Release:
    """Approve a submitted release once the whole gate holds (the caller holds its lock)."""
    if release.state != ReleaseState.SUBMITTED or not release_gate(release).passed:
        return release
    release = release_set_state(
        actor=actor, release=release, state=ReleaseState.APPROVED,
        reason="Approved: the risk assessment is current, the checklist complete, the "
               "evaluations pass and every required role has signed")
    notify(users=[release.agent.business_owner, release.submitted_by], kind="release-approved",
           subject=f"{release} is approved", url=release.get_absolute_url())
    return release




def pending_releases(agent: Agent):
    return Release.objects.filter(agent=agent, state__in=UNDER_APPROVAL).order_by("number")


# --- Voiding -------------------------------------------------------------------------------

def void_signoffs(release: Release, *, actor: User, reason: str) -> list[User]:
    signers = []
    for signoff in release.signoffs.filter(voided_at__isnull=True).select_related("user"):
        signoff.voided_at = timezone.now()
        signoff.void_reason = reason[:1000]
        record(signoff, actor=actor, reason=f"Sign-off voided: {reason}")
        signers.append(signoff.user)
    return signers


def _tell_signers(release: Release, signers: Sequence[User | None], *, subject: str,
                  reason: str) -> None:
    if signers:
        notify(users=signers, kind="signoff-voided", subject=subject, body=reason,
               url=release.get_absolute_url())


@transaction.atomic
def release_void(*, actor: User, release: Release, reason: str) -> Release:
    """Void a submitted or approved release: what it was approved on changed."""
    release = lock(Release, release.pk)
    if release.state not in UNDER_APPROVAL:
        return release
    release = release_set_state(actor=actor, release=release,
                                          state=ReleaseState.VOIDED, reason=f"Voided: {reason}")
    signers = void_signoffs(release, actor=actor, reason=reason)
    _tell_signers(release, [*signers, release.agent.business_owner, release.submitted_by],
                  subject=f"{release} was voided", reason=reason)
    return release


@transaction.atomic
def release_reopen(*, actor: User, release: Release, reason: str) -> Release:
    """Something outside the manifest changed: an approval is voided; a request still under
    review keeps going, but the sign-offs given so far stop counting."""
    release = lock(Release, release.pk)
    if release.state == ReleaseState.APPROVED:
        return release_void(actor=actor, release=release, reason=reason)
    if release.state != ReleaseState.SUBMITTED:
        return release
    signers = void_signoffs(release, actor=actor, reason=reason)
    if signers:
        record(release, actor=actor, reason=f"Sign-offs voided: {reason}")
        _tell_signers(release, signers, subject=f"Your sign-off of {release} no longer counts",
                      reason=reason)
    return release


def _uses_older_version(release: Release, component: ComponentVersion) -> int | None:
    for entry in release.manifest.get("components", {}).get(component.kind, []):
        if entry["name"] == component.name and entry["version"] < component.version:
            return entry["version"]
    return None


@transaction.atomic
def releases_on_component_added(*, actor: User, component: ComponentVersion) -> None:
    """A new version of a component a pending release pins: that release is out of date."""
    label = component._meta.verbose_name
    for release in pending_releases(component.agent):
        old = _uses_older_version(release, component)
        if old is not None:
            release_void(actor=actor, release=release,
                         reason=f"A new version of {label} {component.name} was added "
                                f"(v{component.version}); this release pins v{old}")
    releases_check_assessment(actor=actor, agent=component.agent)


@transaction.atomic
def releases_uphold(*, actor: User, releases, now: dt.datetime | None = None) -> list[Release]:
    """Void what no longer stands among `releases`, as rules.release_standing decides: an
    approval falls (voided), a request under review loses the sign-offs given. Returns the
    releases acted on; a second run finds nothing more to do."""
    acted = []
    for pk in [r.pk for r in releases]:
        release = lock(Release, pk)
        standing = release_standing(release, now=now)
        if standing.acts:
            acted.append(release_reopen(actor=actor, release=release, reason=standing.reason))
    return acted


def releases_check_assessment(*, actor: User, agent: Agent) -> None:
    """The agent changed (its record, a component, its tier): its pending releases are judged
    again."""
    releases_uphold(actor=actor, releases=pending_releases(agent))
