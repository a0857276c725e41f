"""Every change to readiness checklists, evidence, evaluations and sign-offs, and the release gate.

Pages, API, admin and the inventory signal receivers call these functions; nothing else writes
releases rows. The release itself moves only through inventory.services.release_set_state."""

import codecs
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ..accounts.models import User
from ..accounts.notifications import notify
from ..accounts.permissions import can, require
from ..accounts.roles import READ_ONLY_ROLES, Role
from ..core.errors import Conflict, DomainError, NotPermitted, clean_or_refuse
from ..core.lifecycle import Transitions, lock, record
from ..inventory import services as inventory
from ..inventory.choices import CLOSED_STAGES, ReleaseState, RiskTier
from ..inventory.models import Agent, ComponentVersion, Release
from ..inventory.selectors import agents_visible_to
from ..risk.models import TierPolicy
from ..risk.selectors import tier_policy
from ..risk.services import assessment_status
from .choices import (
    ITEM_TRANSITIONS,
    METRICS,
    Decision,
    EvidenceKind,
    ItemStatus,
    RunSource,
)
from .models import ChecklistItem, EvaluationRun, EvaluationSuite, Evidence, SignOff

item_states = Transitions(ItemStatus, ITEM_TRANSITIONS)

# Releases whose sign-off request is open or whose approval still stands.
UNDER_APPROVAL = (ReleaseState.SUBMITTED, ReleaseState.APPROVED)

# Evidence files: the extension names the type; the content must be of that type.
EVIDENCE_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "txt": "text/plain", "csv": "text/csv", "json": "application/json", "md": "text/markdown",
}
TEXT_TYPES = {"text/plain", "text/csv", "application/json", "text/markdown"}
ALLOWED_TYPES_TEXT = "PDF, PNG, JPEG, plain text, CSV, JSON or Markdown"


def role_label(role: str) -> str:
    return Role(role).label if role in Role.values else role


def readiness_url(release: Release) -> str:
    return reverse("releases:release-detail", kwargs={"pk": release.pk})


def policy_for(release: Release) -> TierPolicy | None:
    return tier_policy(release.agent.risk_tier)


def may_manage(user: User, release: Release) -> bool:
    return can(user, "inventory.change_agent", release.agent)


def _require_manage(actor: User, release: Release) -> None:
    require(actor, "inventory.change_agent", release.agent,
            message="Only the agent's owner, a delegate or an admin may do this.")


# --- The release gate ----------------------------------------------------------------------

@dataclass
class Condition:
    key: str
    title: str
    passed: bool
    missing: list[str] = field(default_factory=list)


@dataclass
class Gate:
    release: Release
    conditions: list[Condition]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.conditions)

    @property
    def missing(self) -> list[str]:
        return [m for c in self.conditions for m in c.missing]

    def condition(self, key: str) -> Condition:
        return next(c for c in self.conditions if c.key == key)


def _condition(key: str, title: str, missing: list[str]) -> Condition:
    return Condition(key, title, not missing, missing)


def _gate_assessment(release: Release) -> Condition:
    status = assessment_status(release.agent)
    missing = [] if status.is_current else list(status.reasons)
    if status.is_current and status.tier == RiskTier.UNACCEPTABLE:
        missing.append("The agent is assessed as unacceptable (a prohibited practice).")
    if status.is_current and policy_for(release) is None:
        missing.append(f"No tier policy for the {status.tier} tier.")
    return _condition("risk_assessment", "Current risk assessment", missing)


def _gate_checklist(release: Release, policy: TierPolicy | None) -> Condition:
    if release.state in (ReleaseState.DRAFT, ReleaseState.REJECTED):
        return _condition("checklist", "Readiness checklist",
                          ["Submit the release: its checklist is made from the tier's template."])
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
    return _condition("checklist", "Readiness checklist complete with evidence", missing)


def _latest_runs(release: Release) -> list[EvaluationRun]:
    latest: dict[int, EvaluationRun] = {}
    runs = (release.evaluation_runs.filter(manifest_hash=release.manifest_hash)
            .select_related("suite").order_by("-created_at", "-pk"))
    for run in runs:
        latest.setdefault(run.suite_id, run)
    return list(latest.values())


def _gate_evaluations(release: Release, policy: TierPolicy | None) -> Condition:
    thresholds = policy.evaluation_thresholds if policy else {}
    runs = _latest_runs(release)
    missing = []
    if thresholds and not runs:
        missing.append("No evaluation run on this release's manifest.")
    for run in runs:
        baseline_release, baseline = production_baseline(release, run.suite)
        for failure in judge_metrics(run.metrics, policy, baseline, baseline_release):
            missing.append(f"{run.suite.name}: {failure}")
    measured = {key for run in runs for key in run.metrics}
    if runs:
        missing += [f"{_metric_label(key)}: no evaluation run measured it."
                    for key in thresholds if key not in measured]
    return _condition("evaluations", "Evaluations meet the tier's thresholds, no regression",
                      missing)


def valid_approvals(release: Release) -> list[SignOff]:
    """The sign-offs that count: not voided, approving, bound to the current manifest."""
    return [s for s in release.signoffs.all()
            if s.voided_at is None and s.decision == Decision.APPROVE
            and s.manifest_hash == release.manifest_hash]


def quorum_counts(release: Release, policy: TierPolicy | None) -> dict[str, tuple[int, int]]:
    """{role: (approvals that count, quorum)} in the order the policy signs them."""
    roles = dict(policy.signoff_roles) if policy else {}
    ordered = [r for r in (policy.signoff_order if policy else []) if r in roles]
    ordered += [r for r in roles if r not in ordered]
    approvals = valid_approvals(release)
    return {role: (sum(1 for s in approvals if s.role == role), roles[role]) for role in ordered}


def _gate_signoffs(release: Release, policy: TierPolicy | None) -> Condition:
    title = "Sign-offs to quorum, bound to this manifest"
    if release.state in (ReleaseState.DRAFT, ReleaseState.REJECTED):
        return _condition("signoffs", title, ["Submit the release for sign-off."])
    if release.state == ReleaseState.VOIDED:
        return _condition("signoffs", title,
                          ["The sign-off request was voided: submit a new release."])
    if policy is None:
        return _condition("signoffs", title, ["No tier policy says who signs."])
    missing = [f"{role_label(role)}: {count} of {quorum} sign-offs."
               for role, (count, quorum) in quorum_counts(release, policy).items()
               if count < quorum]
    return _condition("signoffs", title, missing)


def release_gate(release: Release) -> Gate:
    """Every condition for approval to deploy to production, each with what is missing."""
    policy = policy_for(release)
    return Gate(release, [
        _gate_assessment(release),
        _gate_checklist(release, policy),
        _gate_evaluations(release, policy),
        _gate_signoffs(release, policy),
    ])


def _approve_if_ready(*, actor: User, release: Release) -> Release:
    """Approve a submitted release once the whole gate holds (the caller holds its lock)."""
    if release.state != ReleaseState.SUBMITTED or not release_gate(release).passed:
        return release
    release = inventory.release_set_state(
        actor=actor, release=release, state=ReleaseState.APPROVED,
        reason="Approved: the risk assessment is current, the checklist complete, the "
               "evaluations pass and every required role has signed")
    notify(users=[release.agent.business_owner, release.submitted_by], kind="release-approved",
           subject=f"{release} is approved", url=readiness_url(release))
    return release


# --- Voiding -------------------------------------------------------------------------------

def _void_signoffs(release: Release, *, actor: User, reason: str) -> list[User]:
    signers = []
    for signoff in release.signoffs.filter(voided_at__isnull=True).select_related("user"):
        signoff.voided_at = timezone.now()
        signoff.void_reason = reason[:1000]
        record(signoff, actor=actor, reason=f"Sign-off voided: {reason}")
        signers.append(signoff.user)
    return signers


def _tell_signers(release: Release, signers: list[User], *, subject: str, reason: str) -> None:
    if signers:
        notify(users=signers, kind="signoff-voided", subject=subject, body=reason,
               url=readiness_url(release))


@transaction.atomic
def release_void(*, actor: User, release: Release, reason: str) -> Release:
    """Void a submitted or approved release: what it was approved on changed."""
    release = lock(Release, release.pk)
    if release.state not in UNDER_APPROVAL:
        return release
    release = inventory.release_set_state(actor=actor, release=release,
                                          state=ReleaseState.VOIDED, reason=f"Voided: {reason}")
    signers = _void_signoffs(release, actor=actor, reason=reason)
    _tell_signers(release, signers + [release.agent.business_owner, release.submitted_by],
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
    signers = _void_signoffs(release, actor=actor, reason=reason)
    if signers:
        record(release, actor=actor, reason=f"Sign-offs voided: {reason}")
        _tell_signers(release, signers, subject=f"Your sign-off of {release} no longer counts",
                      reason=reason)
    return release


def _pending_releases(agent: Agent):
    return Release.objects.filter(agent=agent, state__in=UNDER_APPROVAL).order_by("number")


@transaction.atomic
def release_on_submitted(*, actor: User, release: Release) -> None:
    """A release went up for sign-off: make its checklist, and void the requests it
    supersedes."""
    checklist_sync(actor=actor, release=release)
    for older in _pending_releases(release.agent).exclude(pk=release.pk):
        release_void(actor=actor, release=older,
                     reason=f"Superseded by release {release.display_version} submitted for "
                            "sign-off")


def _uses_older_version(release: Release, component: ComponentVersion) -> int | None:
    for entry in release.manifest.get("components", {}).get(component.kind, []):
        if entry["name"] == component.name and entry["version"] < component.version:
            return entry["version"]
    return None


@transaction.atomic
def releases_on_component_added(*, actor: User, component: ComponentVersion) -> None:
    """A new version of a component a pending release pins: that release is out of date."""
    label = component._meta.verbose_name
    for release in _pending_releases(component.agent):
        old = _uses_older_version(release, component)
        if old is not None:
            release_void(actor=actor, release=release,
                         reason=f"A new version of {label} {component.name} was added "
                                f"(v{component.version}); this release pins v{old}")
    releases_check_assessment(actor=actor, agent=component.agent)


@transaction.atomic
def releases_check_assessment(*, actor: User, agent: Agent) -> None:
    """When the agent's assessment is no longer current, approvals resting on it fall."""
    pending = list(_pending_releases(agent))
    if not pending:
        return
    status = assessment_status(agent)
    if status.is_current:
        return
    reason = "The risk assessment is no longer current: " + " ".join(status.reasons)
    for release in pending:
        release_reopen(actor=actor, release=release, reason=reason)


# --- Checklist -----------------------------------------------------------------------------

@transaction.atomic
def checklist_sync(*, actor: User, release: Release) -> list[ChecklistItem]:
    """Make the items the tier's template asks for that the release does not have yet."""
    release = lock(Release, release.pk)
    policy = policy_for(release)
    have = set(release.checklist_items.values_list("key", flat=True))
    owner = release.agent.business_owner or release.submitted_by or actor
    made = []
    for order, entry in enumerate(policy.checklist_template if policy else []):
        if entry.get("key") in have:
            continue
        item = ChecklistItem(release=release, key=entry["key"], pillar=entry.get("pillar", ""),
                             title=entry.get("title", entry["key"]),
                             clauses=list(entry.get("clauses", [])), order=order, owner=owner)
        record(item, actor=actor, reason=f"Checklist item from the {policy.tier} tier template")
        made.append(item)
    return made


def _require_open_checklist(release: Release) -> None:
    if release.state != ReleaseState.SUBMITTED:
        raise Conflict(f"Release {release.display_version} is "
                       f"{release.get_state_display().lower()}: its checklist is closed.")


def _lock_item(item: ChecklistItem) -> ChecklistItem:
    item = lock(ChecklistItem, item.pk)
    item.release = Release.objects.select_related("agent").get(pk=item.release_id)
    return item


def _check_reviewer(reviewer: User, item: ChecklistItem) -> None:
    if not reviewer.is_active or reviewer.is_service_account or (
            reviewer.roles and reviewer.roles <= READ_ONLY_ROLES):
        raise DomainError("The reviewer must be an active person who may change things.",
                          field="reviewer")
    if reviewer.pk == item.owner_id:
        raise DomainError("The item's owner cannot review it.", field="reviewer")
    if not agents_visible_to(reviewer).filter(pk=item.release.agent_id).exists():
        raise DomainError(f"{reviewer} may not see this agent.", field="reviewer")


@transaction.atomic
def checklist_item_assign(*, actor: User, item: ChecklistItem, owner: User | None = None,
                          reviewer: User | None = None, reason: str = "") -> ChecklistItem:
    """Name an item's owner (someone who may change the agent) and its reviewer."""
    item = _lock_item(item)
    _require_manage(actor, item.release)
    _require_open_checklist(item.release)
    if owner is not None:
        if not can(owner, "inventory.change_agent", item.release.agent):
            raise DomainError("The owner must be the agent's owner or a delegate.", field="owner")
        item.owner = owner
    if reviewer is not None:
        item.reviewer = reviewer
    if item.reviewer is not None:
        _check_reviewer(item.reviewer, item)
    record(item, actor=actor, reason=reason or "Checklist item owner and reviewer set")
    return item


def _may_work_on(actor: User, item: ChecklistItem) -> bool:
    return actor.pk == item.owner_id or may_manage(actor, item.release)


@transaction.atomic
def checklist_item_set_status(*, actor: User, item: ChecklistItem, status: str,
                              comment: str = "") -> ChecklistItem:
    """Owners send an item for review; its reviewer accepts it or sends it back."""
    item = _lock_item(item)
    _require_open_checklist(item.release)
    if status not in ItemStatus.values:
        raise DomainError("Choose open, in review or accepted.", field="status")
    item_states.check(item.status, status)
    if status == ItemStatus.IN_REVIEW:
        if not _may_work_on(actor, item):
            raise NotPermitted("Only the item's owner, the agent's owner or a delegate sends it "
                               "for review.")
        if item.reviewer_id is None:
            raise DomainError("Name a reviewer first.", field="reviewer")
        if not item.evidence.filter(replaced_at__isnull=True).exists():
            raise DomainError("Add evidence first: a file, a link or an evaluation run.",
                              field="evidence")
    else:
        if actor.pk != item.reviewer_id:
            raise NotPermitted("Only the item's reviewer accepts it or sends it back.")
        if status == ItemStatus.OPEN and not comment.strip():
            raise DomainError("Say what is missing.", field="comment")
        item.reviewed_by, item.reviewed_at = actor, timezone.now()
        item.review_comment = comment.strip()[:1000]
    item.status = status
    record(item, actor=actor, reason=comment.strip() or f"Item {item.get_status_display().lower()}")
    if status == ItemStatus.ACCEPTED:
        _approve_if_ready(actor=actor, release=lock(Release, item.release_id))
    return item


# --- Evidence ------------------------------------------------------------------------------

def _is_utf8_text(upload) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    try:
        for chunk in upload.chunks():
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _limit_text(size: int) -> str:
    for unit, scale in (("MiB", 1_048_576), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def inspect_upload(upload) -> tuple[str, str, int]:
    """(content type, SHA-256, size) of an acceptable evidence file, judged by its content;
    a DomainError on the file field otherwise."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise DomainError(f"The file is {_limit_text(upload.size)}; evidence files may be at "
                          f"most {_limit_text(limit)}.", field="file")
    if not upload.size:
        raise DomainError("The file is empty.", field="file")
    extension = PurePath(upload.name or "").suffix.lower().lstrip(".")
    expected = EVIDENCE_TYPES.get(extension)
    if expected is None:
        raise DomainError(f"Files named .{extension or '(none)'} are not accepted: upload "
                          f"{ALLOWED_TYPES_TEXT}.", field="file")
    upload.seek(0)
    guessed = filetype.guess(upload.read(8192))
    detected = guessed.mime if guessed else ("text" if _is_utf8_text(upload) else None)
    if detected is None:
        raise DomainError(f"The file's content is not {ALLOWED_TYPES_TEXT}.", field="file")
    if not (detected == expected or (detected == "text" and expected in TEXT_TYPES)):
        shown = "text" if detected == "text" else detected
        raise DomainError(f"The file is named .{extension} but its content is {shown}: upload "
                          f"{ALLOWED_TYPES_TEXT}.", field="file")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return expected, digest.hexdigest(), upload.size


def _clean_effective_date(value: dt.date | None) -> dt.date:
    today = timezone.localdate()
    if value is None:
        return today
    if value > today:
        raise DomainError("The effective date cannot be in the future.", field="effective_date")
    return value


def _evidence_content(evidence: Evidence, item: ChecklistItem, *, upload, url: str,
                      run: EvaluationRun | None) -> None:
    if evidence.kind == EvidenceKind.FILE:
        if upload is None:
            raise DomainError("Choose a file.", field="file")
        evidence.content_type, evidence.sha256, evidence.size = inspect_upload(upload)
        evidence.original_name = PurePath(upload.name).name[:255]
    elif evidence.kind == EvidenceKind.LINK:
        try:
            URLValidator(schemes=["https", "http"])(url or "")
        except ValidationError as exc:
            raise DomainError("Give an http(s) link.", field="url") from exc
        evidence.url = url
    elif evidence.kind == EvidenceKind.EVALUATION:
        if run is None or run.release_id != item.release_id:
            raise DomainError("Choose an evaluation run of this release.",
                              field="evaluation_run")
        evidence.evaluation_run = run
    else:
        raise DomainError("Choose a file, a link or an evaluation run.", field="kind")


@transaction.atomic
def evidence_add(*, actor: User, item: ChecklistItem, kind: str, upload=None, url: str = "",
                 run: EvaluationRun | None = None, effective_date: dt.date | None = None,
                 note: str = "", replaces: Evidence | None = None) -> Evidence:
    """Add evidence to an item, or replace one piece (kept, marked replaced). Replacing
    evidence reopens the item's review and voids the sign-offs that rested on it."""
    item = _lock_item(item)
    if not _may_work_on(actor, item):
        raise NotPermitted("Only the item's owner, the agent's owner or a delegate adds evidence.")
    _require_open_checklist(item.release)
    if replaces is not None and (replaces.item_id != item.pk or not replaces.is_current):
        raise DomainError("Only current evidence of this item can be replaced.", field="replaces")
    evidence = Evidence(item=item, kind=kind, effective_date=_clean_effective_date(effective_date),
                        note=(note or "").strip()[:1000], uploaded_by=actor)
    _evidence_content(evidence, item, upload=upload, url=url, run=run)
    clean_or_refuse(evidence, exclude=["file"])
    if upload is not None and evidence.kind == EvidenceKind.FILE:
        evidence.file.save(upload.name, upload, save=False)
    record(evidence, actor=actor, reason=f"Evidence added to {item.title}")
    if replaces is not None:
        _replace(actor=actor, item=item, old=lock(Evidence, replaces.pk), new=evidence)
    return evidence


def _replace(*, actor: User, item: ChecklistItem, old: Evidence, new: Evidence) -> None:
    old.superseded_by, old.replaced_at = new, timezone.now()
    record(old, actor=actor, reason=f"Evidence replaced by #{new.pk}")
    reason = f"Checklist evidence for “{item.title}” was replaced"
    if item.status == ItemStatus.ACCEPTED:
        item.status = ItemStatus.IN_REVIEW
        record(item, actor=actor, reason=f"{reason}: back to review")
    release_reopen(actor=actor, release=item.release, reason=reason)


# --- Evaluations ---------------------------------------------------------------------------

def _metric_label(key: str) -> str:
    return f"{METRICS[key].label} ({key})" if key in METRICS else key


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def judge_metrics(metrics: Mapping[str, float], policy: TierPolicy | None,
                  baseline: EvaluationRun | None = None,
                  baseline_release: Release | None = None) -> list[str]:
    """What fails: a threshold of the tier missed, or a drop beyond the tier's regression margin
    from the same suite's run on the release in production."""
    failures = []
    thresholds = policy.evaluation_thresholds if policy else {}
    for key, value in metrics.items():
        bound = thresholds.get(key, {})
        if "min" in bound and value < bound["min"]:
            failures.append(f"{_metric_label(key)} {_number(value)} is below the minimum "
                            f"{_number(bound['min'])}.")
        if "max" in bound and value > bound["max"]:
            failures.append(f"{_metric_label(key)} {_number(value)} is above the maximum "
                            f"{_number(bound['max'])}.")
    if baseline is None or policy is None:
        return failures
    margin = policy.regression_margin
    for key, value in metrics.items():
        before = baseline.metrics.get(key)
        if key not in METRICS or not isinstance(before, int | float) or before == 0:
            continue
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


def clean_metrics(value: Any, suite: EvaluationSuite) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise DomainError("Give the metrics as {metric: number}.", field="metrics")
    errors = []
    cleaned = {}
    for key, number in value.items():
        if key not in METRICS:
            errors.append(f"Unknown metric {key!r}: use {', '.join(METRICS)}.")
        elif key not in suite.metrics:
            errors.append(f"The suite {suite.name} does not measure {key}.")
        elif isinstance(number, bool) or not isinstance(number, int | float) or number < 0 \
                or number != number or number in (float("inf"),):
            errors.append(f"{key} must be a number of at least 0.")
        elif METRICS[key].is_rate and number > 1:
            errors.append(f"{key} is a rate between 0 and 1.")
        else:
            cleaned[key] = float(number)
    if errors:
        raise DomainError("Some metrics are not valid.", errors={"metrics": errors})
    return cleaned


@transaction.atomic
def evaluation_suite_create(*, actor: User, agent: Agent, name: str, dataset_ref: str,
                            dataset_version: str, metrics: list[str]) -> EvaluationSuite:
    agent = lock(Agent, agent.pk)
    require(actor, "inventory.change_agent", agent,
            message="Only the agent's owner, a delegate or an admin defines its evaluations.")
    if agent.stage in CLOSED_STAGES:
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}: it takes no new "
                       "evaluation suites.")
    if not isinstance(metrics, list) or not metrics or set(metrics) - set(METRICS):
        raise DomainError(f"Choose metrics among {', '.join(METRICS)}.", field="metrics")
    name = (name or "").strip()
    if EvaluationSuite.objects.filter(agent=agent, name=name).exists():
        raise DomainError("This agent already has a suite of that name.", field="name")
    suite = EvaluationSuite(agent=agent, name=name, dataset_ref=(dataset_ref or "").strip(),
                            dataset_version=(dataset_version or "").strip(),
                            metrics=sorted(set(metrics), key=list(METRICS).index),
                            created_by=actor)
    clean_or_refuse(suite)
    record(suite, actor=actor, reason=f"Evaluation suite {name} defined")
    return suite


@transaction.atomic
def evaluation_run_record(*, actor: User, release: Release, suite: EvaluationSuite,
                          metrics: Mapping[str, Any], source: str = RunSource.PAGE,
                          notes: str = "") -> EvaluationRun:
    """Record what a run of a suite measured on a release; the tier's thresholds and the
    release in production decide whether it passed."""
    release = lock(Release, release.pk)
    _require_manage(actor, release)
    if suite.agent_id != release.agent_id:
        raise DomainError("The suite belongs to another agent.", field="suite")
    if release.state not in (ReleaseState.DRAFT, ReleaseState.SUBMITTED):
        raise Conflict(f"Release {release.display_version} is "
                       f"{release.get_state_display().lower()}: evaluations are recorded on "
                       "draft or submitted releases.")
    cleaned = clean_metrics(metrics, suite)
    policy = policy_for(release)
    baseline_release, baseline = production_baseline(release, suite)
    failures = judge_metrics(cleaned, policy, baseline, baseline_release)
    run = EvaluationRun(release=release, suite=suite, manifest_hash=release.manifest_hash,
                        metrics=cleaned, passed=not failures, failures=failures,
                        baseline_release=baseline_release, source=source,
                        notes=(notes or "").strip()[:1000], created_by=actor)
    record(run, actor=actor, reason=f"Evaluation run of {suite.name}: "
                                    f"{'passed' if run.passed else 'failed'}")
    _approve_if_ready(actor=actor, release=release)
    return run


# --- Sign-offs -----------------------------------------------------------------------------

def holds_role(user: User, role: str, release: Release) -> bool:
    """Signing as business owner means being this agent's business owner."""
    if role == Role.BUSINESS_OWNER:
        return user.pk == release.agent.business_owner_id
    return user.has_role(role)


def roles_to_sign(user: User, release: Release, policy: TierPolicy | None) -> list[str]:
    """The required roles this user could fill on this release, segregation of duties aside
    from what they already signed."""
    if policy is None or user.pk == release.submitted_by_id:
        return []
    roles = [r for r in policy.signoff_roles if holds_role(user, r, release)]
    if user.pk == release.agent.business_owner_id:
        roles = [r for r in roles if r == Role.BUSINESS_OWNER]
    return roles


def _check_segregation(actor: User, release: Release, role: str) -> None:
    if actor.pk == release.submitted_by_id:
        raise NotPermitted("You submitted this release, so you may not sign it "
                           "(segregation of duties).")
    if actor.pk == release.agent.business_owner_id and role != Role.BUSINESS_OWNER:
        raise NotPermitted(f"You own this agent, so you may sign it only as its business owner, "
                           f"not as {role_label(role).lower()}.")
    if not holds_role(actor, role, release):
        if role == Role.BUSINESS_OWNER:
            raise NotPermitted("Only the agent's business owner signs as business owner.")
        raise NotPermitted(f"You do not hold the {role_label(role).lower()} role, so you may "
                           "not sign for it.")
    earlier = release.signoffs.filter(user=actor, voided_at__isnull=True).first()
    if earlier is not None:
        raise NotPermitted(f"You already signed this release as {role_label(earlier.role).lower()}"
                           ": one person fills one role.")


def _check_order(release: Release, policy: TierPolicy, role: str) -> None:
    counts = quorum_counts(release, policy)
    count, quorum = counts[role]
    if count >= quorum:
        raise Conflict(f"The {role_label(role).lower()} quorum of {quorum} is already reached.")
    order = list(policy.signoff_order)
    if role in order:
        for before in order[:order.index(role)]:
            done, needed = counts.get(before, (0, 0))
            if done < needed:
                raise Conflict(f"{role_label(before)} sign-offs come first "
                               f"({done} of {needed} so far).")


def _check_signoff(actor: User, release: Release, role: str, decision: str,
                   comment: str) -> TierPolicy:
    if release.state != ReleaseState.SUBMITTED:
        raise Conflict(f"Release {release.display_version} is "
                       f"{release.get_state_display().lower()}: only a submitted release is "
                       "signed.")
    if decision not in Decision.values:
        raise DomainError("Approve or reject.", field="decision")
    policy = policy_for(release)
    if policy is None:
        raise Conflict("No tier policy says who signs: the agent's risk must be assessed first.")
    if role not in policy.signoff_roles:
        asked = ", ".join(role_label(r).lower() for r in policy.signoff_roles) or "nobody"
        raise DomainError(f"The {policy.tier} tier asks for sign-offs from: {asked}.",
                          field="role")
    _check_segregation(actor, release, role)
    if decision == Decision.REJECT and not comment.strip():
        raise DomainError("Say why you reject the release.", field="comment")
    if decision == Decision.APPROVE:
        _check_order(release, policy, role)
    return policy


def _reject(*, actor: User, release: Release, signoff: SignOff) -> Release:
    reason = (f"Rejected by {actor} as {role_label(signoff.role).lower()}: "
              f"{signoff.comment.strip()}")
    signers = [u for u in _void_signoffs(release, actor=actor, reason=reason) if u != actor]
    release = inventory.release_set_state(actor=actor, release=release,
                                          state=ReleaseState.REJECTED, reason=reason)
    release = inventory.release_set_state(actor=actor, release=release, state=ReleaseState.DRAFT,
                                          reason=f"Back to draft after rejection. {reason}")
    notify(users=[release.agent.business_owner, release.submitted_by, *signers],
           kind="release-rejected", subject=f"{release} was rejected", body=reason,
           url=readiness_url(release))
    return release


@transaction.atomic
def signoff_record(*, actor: User, release: Release, role: str, decision: str,
                   comment: str = "") -> SignOff:
    """Approve or reject a submitted release for one role. The release row is locked, so
    simultaneous signers are taken one after the other; the constraints on SignOff hold even
    if they were not."""
    release = lock(Release, release.pk)
    comment = (comment or "").strip()
    _check_signoff(actor, release, role, decision, comment)
    signoff = SignOff(release=release, role=role, user=actor, decision=decision,
                      comment=comment[:4000], manifest_hash=release.manifest_hash)
    try:
        with transaction.atomic():
            record(signoff, actor=actor,
                   reason=f"{signoff.get_decision_display()} as {role_label(role).lower()}")
    except IntegrityError as exc:
        raise NotPermitted("You already signed this release: one person fills one role.") from exc
    if decision == Decision.REJECT:
        _reject(actor=actor, release=release, signoff=signoff)
    else:
        _approve_if_ready(actor=actor, release=release)
    return signoff
