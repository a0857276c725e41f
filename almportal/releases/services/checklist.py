"""Readiness checklists and their evidence."""

import codecs
import datetime as dt
import hashlib
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from ...accounts.models import User
from ...accounts.permissions import can
from ...core.errors import Conflict, DomainError, NotPermitted, clean_or_refuse
from ...core.lifecycle import Transitions, lock, record
from ...inventory.selectors import agents_visible_to
from .. import rules
from ..choices import ITEM_TRANSITIONS, EvidenceKind, ItemStatus, ReleaseState
from ..models import ChecklistItem, EvaluationRun, Evidence, Release
from ..selectors import release_involvement
from .common import may_manage, policy_for, require_manage
from .gate import approve_if_ready, release_reopen

item_states = Transitions(ItemStatus, ITEM_TRANSITIONS)

# Evidence files: the extension names the type; the content must be of that type.
EVIDENCE_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "txt": "text/plain", "csv": "text/csv", "json": "application/json", "md": "text/markdown",
}
TEXT_TYPES = {"text/plain", "text/csv", "application/json", "text/markdown"}
ALLOWED_TYPES_TEXT = "PDF, PNG, JPEG, plain text, CSV, JSON or Markdown"


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
    require_manage(actor, item.release)
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
        approve_if_ready(actor=actor, release=lock(Release, item.release_id))
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
