"""Every change to readiness checklists, evidence, evaluations and sign-offs, and the release gate.

Pages, API, admin and the inventory signal receivers call these functions; nothing else writes
releases rows. The release itself moves only through inventory.services.release_set_state."""

import codecs
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
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
from ..accounts.roles import Role
from ..core.errors import Conflict, DomainError, NotPermitted, clean_or_refuse
from ..core.lifecycle import Transitions, lock, record
from ..inventory import services as inventory
from ..inventory.choices import CLOSED_STAGES, ReleaseState, RiskTier
from ..inventory.models import Agent, ComponentVersion, Release
from ..inventory.selectors import agents_visible_to
from ..risk.models import TierPolicy
from ..risk.selectors import tier_policy
from ..risk.services import assessment_status
from . import rules
from .choices import (
    ITEM_TRANSITIONS,
    METRICS,
    Decision,
    EvidenceKind,
    ItemStatus,
    RunSource,
)
from .models import ChecklistItem, EvaluationRun, EvaluationSuite, Evidence, SignOff
from .rules import role_label
from .selectors import UNDER_APPROVAL, release_involvement, signing_facts, standing_facts

item_states = Transitions(ItemStatus, ITEM_TRANSITIONS)

SUBMISSION_SIGNOFF = "Signed by submitting the release for sign-off."

# Evidence files: the extension names the type; the content must be of that type.
EVIDENCE_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "txt": "text/plain", "csv": "text/csv", "json": "application/json", "md": "text/markdown",
}
TEXT_TYPES = {"text/plain", "text/csv", "application/json", "text/markdown"}
ALLOWED_TYPES_TEXT = "PDF, PNG, JPEG, plain text, CSV, JSON or Markdown"


def readiness_url(release: Release) -> str:
    return reverse("releases:release-detail", kwargs={"pk": release.pk})


def policy_for(release: Release) -> TierPolicy | None:
    return tier_policy(release.agent.risk_tier)


def may_manage(user: User, release: Release) -> bool:
    return can(user, "inventory.change_agent", release.agent)


def may_record_runs(user: User, release: Release) -> bool:
    return may_manage(user, release) or can(user, "inventory.record_evaluations", release.agent)


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
    done: list[str] = field(default_factory=list)  # what already holds, where worth showing


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


def _condition(key: str, title: str, missing: list[str]) -> Condition:
    return Condition(key, title, not missing, missing)


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
    return signing_facts(release, policy_for(release),
                         involvement=rules.Involvement()).approvals


def quorum_counts(release: Release, policy: TierPolicy | None) -> dict[str, tuple[int, int]]:
    """{role: (approvals that count, quorum)} in the order the policy signs them."""
    return rules.quorum_counts(policy, valid_approvals(release))


def _gate_signoffs(release: Release, policy: TierPolicy | None) -> Condition:
    title = "Sign-offs to quorum, bound to this manifest"
    if release.state in (ReleaseState.DRAFT, ReleaseState.REJECTED):
        return _condition("signoffs", title, ["Submit the release for sign-off."])
    if release.state == ReleaseState.VOIDED:
        return _condition("signoffs", title,
                          ["The sign-off request was voided: submit a new release."])
    if policy is None:
        return _condition("signoffs", title, ["No tier policy says who signs."])
    facts = signing_facts(release, policy, involvement=rules.Involvement())
    missing = [f"{role_label(role)}: {count} of {quorum} sign-offs."
               for role, (count, quorum) in facts.counts.items() if count < quorum]
    condition = _condition("signoffs", title, missing)
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


def _tell_signers(release: Release, signers: Sequence[User | None], *, subject: str,
                  reason: str) -> None:
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
    """A release went up for sign-off: make its checklist, void the requests it supersedes,
    carry over the work done on an earlier request for the same manifest, and, when the
    agent's business owner submitted it, record their sign-off."""
    checklist_sync(actor=actor, release=release)
    for older in _pending_releases(release.agent).exclude(pk=release.pk):
        release_void(actor=actor, release=older,
                     reason=f"Superseded by release {release.display_version} submitted for "
                            "sign-off")
    release = lock(Release, release.pk)
    carry_over(actor=actor, release=release)
    if release.submitted_by_id == release.agent.business_owner_id:
        _sign_as_submitting_owner(actor=actor, release=release)
    _approve_if_ready(actor=actor, release=release)


def _sign_as_submitting_owner(*, actor: User, release: Release) -> SignOff | None:
    """The owner's submission is their business-owner sign-off on this manifest; the tier's
    order does not hold it back, since submitting comes before any review."""
    policy = policy_for(release)
    if policy is None or Role.BUSINESS_OWNER not in policy.signoff_roles:
        return None
    signoff = SignOff(release=release, role=Role.BUSINESS_OWNER, user=actor,
                      decision=Decision.APPROVE, manifest_hash=release.manifest_hash,
                      comment=SUBMISSION_SIGNOFF)
    record(signoff, actor=actor, reason="Approved as business owner by submitting the release")
    return signoff


# --- Carrying work over to a re-submitted manifest -----------------------------------------

def _earlier_request(release: Release) -> Release | None:
    """The latest other request for the same manifest that was voided or rejected."""
    return (Release.objects.filter(agent_id=release.agent_id,
                                   manifest_hash=release.manifest_hash,
                                   submitted_at__isnull=False,
                                   state__in=(ReleaseState.VOIDED, ReleaseState.REJECTED,
                                              ReleaseState.DRAFT))
            .exclude(pk=release.pk).order_by("-submitted_at", "-pk").first())


def _carry_runs(*, actor: User, release: Release, earlier: Release
                ) -> dict[int, EvaluationRun]:
    copies = {}
    for run in earlier.evaluation_runs.filter(manifest_hash=release.manifest_hash
                                              ).order_by("created_at", "pk"):
        copy = EvaluationRun(release=release, suite_id=run.suite_id,
                             manifest_hash=run.manifest_hash, metrics=run.metrics,
                             passed=run.passed, failures=run.failures,
                             baseline_release_id=run.baseline_release_id, source=run.source,
                             notes=f"Carried over from run #{run.pk} of release "
                                   f"{earlier.display_version}. {run.notes}".strip()[:1000],
                             created_by=run.created_by)
        record(copy, actor=actor, reason=f"Evaluation run #{run.pk} carried over from release "
                                         f"{earlier.display_version} (same manifest)")
        copies[run.pk] = copy
    return copies


def _carry_item(*, actor: User, item: ChecklistItem, old: ChecklistItem,
                runs: dict[int, EvaluationRun], involvement: rules.Involvement) -> int:
    carried = 0
    for evidence in old.evidence.filter(replaced_at__isnull=True).order_by("uploaded_at", "pk"):
        run_id = evidence.evaluation_run_id
        copy = Evidence(item=item, kind=evidence.kind, file=evidence.file.name,
                        original_name=evidence.original_name, sha256=evidence.sha256,
                        size=evidence.size, content_type=evidence.content_type, url=evidence.url,
                        evaluation_run=runs.get(run_id) if run_id is not None else None,
                        note=evidence.note, effective_date=evidence.effective_date,
                        uploaded_by=evidence.uploaded_by)
        record(copy, actor=actor, reason=f"Evidence #{evidence.pk} carried over from release "
                                         f"{old.release.display_version} (same manifest)")
        carried += 1
    item.owner_id = old.owner_id
    reviewer = old.reviewer
    if reviewer is not None and rules.reviewer_refusal(reviewer, item, involvement) is None:
        item.reviewer = reviewer
        if old.status == ItemStatus.ACCEPTED and carried:
            item.status, item.reviewed_by_id = ItemStatus.ACCEPTED, old.reviewed_by_id
            item.reviewed_at, item.review_comment = old.reviewed_at, old.review_comment
    record(item, actor=actor, reason=f"Carried over from release {old.release.display_version}"
                                     " (same manifest)")
    return carried


@transaction.atomic
def carry_over(*, actor: User, release: Release) -> Release | None:
    """A manifest submitted again after its request was voided or rejected: its checklist
    evidence, reviews and evaluation runs carry over (never its sign-offs). Returns the
    earlier release, or None when there is nothing to carry."""
    earlier = _earlier_request(release)
    if earlier is None:
        return None
    runs = _carry_runs(actor=actor, release=release, earlier=earlier)
    old_items = {i.key: i for i in earlier.checklist_items.select_related("reviewer", "release")}
    involvement = release_involvement(release)
    evidence = 0
    for item in release.checklist_items.all():
        if item.key in old_items:
            evidence += _carry_item(actor=actor, item=item, old=old_items[item.key], runs=runs,
                                    involvement=involvement)
    said = (f"Carried over from release {earlier.display_version}, which had the same manifest: "
            f"{evidence} pieces of checklist evidence and {len(runs)} evaluation runs; its "
            "sign-offs do not carry over.")
    record(release, actor=actor, reason=said)
    notify(users=[release.submitted_by], kind="release-carried-over",
           subject=f"{release}: work carried over from release {earlier.display_version}",
           body=said, url=readiness_url(release))
    return earlier


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
    releases_uphold(actor=actor, releases=_pending_releases(agent))


# --- Checklist -----------------------------------------------------------------------------

@transaction.atomic
def checklist_sync(*, actor: User, release: Release) -> list[ChecklistItem]:
    """Make the items the tier's template asks for that the release does not have yet."""
    release = lock(Release, release.pk)
    policy = policy_for(release)
    have = set(release.checklist_items.values_list("key", flat=True))
    owner = release.agent.business_owner or release.submitted_by or actor
    made: list[ChecklistItem] = []
    if policy is None:
        return made
    for order, entry in enumerate(policy.checklist_template):
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
    refusal = rules.reviewer_refusal(reviewer, item, release_involvement(item.release))
    if refusal is not None:
        raise refusal
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
        refusal = rules.review_refusal(actor, item, release_involvement(item.release))
        if refusal is not None:
            raise refusal
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
    assert baseline_release is not None  # production_baseline gives a run with its release
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
    if not may_record_runs(actor, release):
        raise NotPermitted("Only the agent's owner, a delegate, an admin or a CI service account "
                           "granted the right records its evaluation runs.")
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

def _check_signoff(actor: User, release: Release, role: str, decision: str,
                   comment: str) -> None:
    if decision not in Decision.values:
        raise DomainError("Approve or reject.", field="decision")
    refusal = rules.signing_refusal(actor, role, signing_facts(release),
                                    approving=decision == Decision.APPROVE)
    if refusal is not None:
        raise refusal
    if decision == Decision.REJECT and not comment.strip():
        raise DomainError("Say why you reject the release.", field="comment")


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
