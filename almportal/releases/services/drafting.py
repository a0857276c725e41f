"""Drafting a release, submitting it for sign-off, and what submission sets going: its
checklist, superseding earlier requests, work carried over, the submitting owner's sign-off."""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ...accounts.models import User
from ...accounts.notifications import notify
from ...accounts.roles import Role
from ...core.errors import Conflict, DomainError, clean_or_refuse
from ...core.lifecycle import lock, record
from ...inventory import services as inventory
from ...inventory.choices import Stage
from ...inventory.models import COMPONENT_MODELS, Agent, ComponentVersion
from ...risk.services import refuse_unacceptable_agent
from .. import rules
from ..choices import Decision, ItemStatus, ReleaseState
from ..models import (
    ChecklistItem,
    EvaluationRun,
    Evidence,
    Release,
    SignOff,
    build_manifest,
    manifest_hash,
)
from ..selectors import release_involvement
from .checklist import checklist_sync
from .common import SUBMISSION_SIGNOFF, policy_for, release_states
from .gate import approve_if_ready, pending_releases, release_void


def _resolve_components(agent: Agent, components: Mapping[str, Iterable[int]]) -> dict:
    resolved: dict[str, list[ComponentVersion]] = {}
    for kind, ids in components.items():
        model = COMPONENT_MODELS.get(kind)
        if model is None:
            raise DomainError(f"Unknown component kind {kind!r}.", field="components")
        ids = set(ids)
        found = list(model._default_manager.filter(agent=agent, pk__in=ids))
        if len(found) != len(ids):
            raise DomainError(f"Some {kind.replace('_', ' ')} do not belong to this agent.",
                              field=kind)
        if any(getattr(c, "is_revoked", False) for c in found):
            raise DomainError("A revoked credential cannot go into a release.", field=kind)
        names = [c.name for c in found]
        if len(names) != len(set(names)):
            raise DomainError(f"Choose one version of each of the {kind.replace('_', ' ')}.",
                              field=kind)
        resolved[kind] = found
    return resolved


def _set_release_content(release: Release, *, configuration: dict | None,
                         components: Mapping[str, Iterable[int]] | None) -> dict:
    if configuration is not None:
        if not isinstance(configuration, dict):
            raise DomainError("Configuration must be a JSON object.", field="configuration")
        release.configuration = configuration
    current = {kind: list(getattr(release, rel).all())
               for kind, rel in Release.COMPONENT_RELATIONS.items()} if release.pk else {}
    chosen = {**current, **_resolve_components(release.agent, components or {})}
    release.manifest = build_manifest(agent_slug=release.agent.slug,
                                      configuration=release.configuration, components=chosen)
    release.manifest_hash = manifest_hash(release.manifest)
    return chosen


def _save_release(release: Release, chosen: dict, *, actor: User, reason: str) -> Release:
    clean_or_refuse(release, exclude=["manifest", "manifest_hash"])
    record(release, actor=actor, reason=reason)
    for kind, rel in Release.COMPONENT_RELATIONS.items():
        getattr(release, rel).set(chosen.get(kind, []))
    return release


@transaction.atomic
def release_create(*, actor: User, agent: Agent, label: str = "", notes: str = "",
                   configuration: dict | None = None,
                   components: Mapping[str, Iterable[int]] | None = None) -> Release:
    agent = lock(Agent, agent.pk)
    inventory.require_agent_change(actor, agent)
    if agent.stage not in (Stage.IN_DEVELOPMENT, Stage.LIVE, Stage.SUSPENDED):
        raise Conflict("Releases are made once the intake is accepted.")
    number = (agent.releases.aggregate(n=Max("number"))["n"] or 0) + 1
    release = Release(agent=agent, number=number, label=label, notes=notes, created_by=actor)
    chosen = _set_release_content(release, configuration=configuration or {},
                                  components=components)
    return _save_release(release, chosen, actor=actor, reason=f"Release #{number} drafted")


@transaction.atomic
def release_update(*, actor: User, release: Release, label: str | None = None,
                   notes: str | None = None, configuration: dict | None = None,
                   components: Mapping[str, Iterable[int]] | None = None,
                   reason: str = "") -> Release:
    release = lock(Release, release.pk)
    inventory.require_agent_change(actor, release.agent)
    if release.is_frozen:
        raise Conflict(f"Release {release.display_version} is {release.get_state_display().lower()}"
                       " and frozen: put changes into a new release.")
    if label is not None:
        release.label = label
    if notes is not None:
        release.notes = notes
    chosen = _set_release_content(release, configuration=configuration, components=components)
    return _save_release(release, chosen, actor=actor, reason=reason or "Draft release edited")


@transaction.atomic
def release_submit(*, actor: User, release: Release, reason: str = "") -> Release:
    """Freeze the manifest and put the release up for sign-off."""
    release = lock(Release, release.pk)
    inventory.require_agent_change(actor, release.agent)
    if refusal := rules.content_refusal(release.manifest["components"]):
        raise DomainError(refusal, field="models")
    refuse_unacceptable_agent(release.agent)
    release_states.check(release.state, ReleaseState.SUBMITTED)
    release.state = ReleaseState.SUBMITTED
    release.submitted_by = actor
    release.submitted_at = timezone.now()
    record(release, actor=actor, reason=reason or "Release submitted for sign-off")
    release_on_submitted(actor=actor, release=release)
    return release


@transaction.atomic
def release_on_submitted(*, actor: User, release: Release) -> None:
    """A release went up for sign-off: make its checklist, void the requests it supersedes,
    carry over the work done on an earlier request for the same manifest, and, when the
    agent's business owner submitted it, record their sign-off."""
    checklist_sync(actor=actor, release=release)
    for older in pending_releases(release.agent).exclude(pk=release.pk):
        release_void(actor=actor, release=older,
                     reason=f"Superseded by release {release.display_version} submitted for "
                            "sign-off")
    release = lock(Release, release.pk)
    carry_over(actor=actor, release=release)
    if release.submitted_by_id == release.agent.business_owner_id:
        _sign_as_submitting_owner(actor=actor, release=release)
    approve_if_ready(actor=actor, release=release)


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
           body=said, url=release.get_absolute_url())
    return earlier
