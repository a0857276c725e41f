"""Every change to access reviews and revocation tasks. Pages, API and Celery tasks call these.

Services take `now=` (default: the current time) so that tests can move the clock forward."""

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

from ..accounts.models import User
from ..accounts.notifications import notify
from ..accounts.permissions import can
from ..accounts.roles import READ_ONLY_ROLES, Role
from ..core.errors import Conflict, DomainError, NotPermitted
from ..core.lifecycle import Transitions, lock, record
from ..inventory import services as inventory
from ..inventory.models import Agent
from . import rules, selectors
from .models import (
    DECISION_TRANSITIONS,
    REVIEW_TRANSITIONS,
    TASK_TRANSITIONS,
    AccessReview,
    Decision,
    GrantKind,
    ReviewItem,
    ReviewState,
    RevocationTask,
    TaskState,
)

log = logging.getLogger(__name__)

review_states = Transitions(ReviewState, REVIEW_TRANSITIONS)
decisions = Transitions(Decision, DECISION_TRANSITIONS)
task_states = Transitions(TaskState, TASK_TRANSITIONS)


# --- Opening reviews in bulk -----------------------------------------------------------------

def _claim(agent_ids: list[int]) -> list[int]:
    """Lock the agents this scan will open reviews for. On PostgreSQL, rows another scan holds
    are skipped (SELECT … FOR UPDATE SKIP LOCKED): that scan is opening their reviews. SQLite
    runs write transactions one at a time (IMMEDIATE), so there is nothing to skip."""
    agents = Agent.objects.filter(pk__in=agent_ids).order_by()
    if connection.features.has_select_for_update_skip_locked:
        agents = agents.select_for_update(skip_locked=True, of=("self",))
    return list(agents.values_list("pk", flat=True))


def _append_to_ledger(models_and_ids: Sequence[tuple[type[Model], list[int]]]) -> None:
    """Bulk-written history sends no per-row signal, so the audit ledger is told here, after
    commit, exactly which rows to append (its periodic catch-up is the safety net)."""
    from ..audit.services import ledger_append

    keys = []
    for model, ids in models_and_ids:
        history = get_history_manager_for_model(model).model
        label = history._meta.label_lower
        keys += [(label, hid) for hid in history.objects.filter(id__in=ids)
                 .order_by("history_id").values_list("history_id", flat=True)]

    def append() -> None:
        try:
            ledger_append(keys)
        except Exception:  # the reviews are committed; the catch-up task appends them later
            log.exception("Could not append %d access-review history rows to the ledger.",
                          len(keys))

    transaction.on_commit(append)


# A campaign opens reviews this many agents at a time, each batch in its own short
# transaction, so a suspension or an edit of one agent never waits on the whole campaign.
CAMPAIGN_BATCH = 200


def access_reviews_open_due(*, actor: User, now: datetime | None = None,
                            batch: int = CAMPAIGN_BATCH) -> list[AccessReview]:
    """Open a review for every live agent whose review falls due, listing every grant it holds.

    Safe to run twice or at once: agents are claimed under SKIP LOCKED and re-read after the
    claim, agents with an unfinished review are never due, and (agent, due_on) is unique.
    Agents are claimed `batch` at a time, one short transaction each; an agent another
    transaction holds (a suspension under way) is skipped and found due again by the next
    scan. Queries grow with the number of batches, not of agents: reviews, items and their
    history are written with bulk inserts."""
    now = now or timezone.now()
    candidates = [due.agent_id for due in selectors.agents_due_for_review(now)]
    opened: list[AccessReview] = []
    for start in range(0, len(candidates), batch):
        opened += _open_batch(actor, now, candidates[start:start + batch])
    return opened


@transaction.atomic
def _open_batch(actor: User, now: datetime, agent_ids: list[int]) -> list[AccessReview]:
    claimed = _claim(agent_ids)
    due = selectors.agents_due_for_review(now, agent_ids=claimed) if claimed else []
    if not due:
        return []
    reason = "Access review opened: due by the tier's review frequency"
    reviews = bulk_create_with_history(
        [AccessReview(agent_id=d.agent_id, due_on=d.due_on, tier=d.tier, opened_at=now,
                      due_at=selectors.review_deadline(d.due_on, now), state=ReviewState.OPEN)
         for d in due],
        AccessReview, default_user=actor, default_change_reason=reason)
    held = selectors.grants_held([d.agent_id for d in due])
    items = bulk_create_with_history(
        [ReviewItem(review_id=review.pk, agent_id=review.agent_id, **grant)
         for review in reviews for grant in held[review.agent_id]],
        ReviewItem, default_user=actor, default_change_reason="Grant listed for review")
    _append_to_ledger([(AccessReview, [r.pk for r in reviews]),
                       (ReviewItem, [i.pk for i in items])])
    return reviews


# --- Certifying -------------------------------------------------------------------------------

def require_certifier(actor: User, review: AccessReview) -> None:
    refusal = rules.certify_refusal(actor, review)
    if refusal is not None:
        raise refusal


def _clean_decisions(review: AccessReview, items: dict[int, ReviewItem],
                     entries: Iterable[Mapping]) -> list[tuple[ReviewItem, str, str]]:
    cleaned, errors = [], []
    for entry in entries:
        number = _as_int(entry.get("item"))
        item = items.get(number) if number is not None else None
        decision, comment = entry.get("decision"), str(entry.get("comment") or "").strip()
        if item is None:
            errors.append(f"Item {entry.get('item')!r} is not part of this review.")
        elif decision not in (Decision.KEEP, Decision.REVOKE):
            errors.append(f"{item}: choose keep or revoke.")
        elif not comment:
            errors.append(f"{item}: say why (a comment is required).")
        elif len(comment) > 2000:
            errors.append(f"{item}: the comment is longer than 2,000 characters.")
        elif not decisions.allows(item.decision, decision):
            raise Conflict(f"{item} was already certified ({item.get_decision_display()}).")
        else:
            cleaned.append((item, decision, comment))
    if errors:
        raise DomainError(errors={"decisions": errors})
    if not cleaned:
        raise DomainError("Certify at least one grant.", field="decisions")
    if len({item.pk for item, _, _ in cleaned}) != len(cleaned):
        raise DomainError("Each grant is certified once.", field="decisions")
    return cleaned


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def access_review_certify(*, actor: User, review: AccessReview, entries: Sequence[Mapping],
                          now: datetime | None = None) -> AccessReview:
    """Record keep or revoke, with a comment, for some or all of a review's grants. A revoke
    marks a credential revoked at once and opens a revocation task for security. The review
    completes when every grant is certified. All or nothing: bad input writes nothing."""
    now = now or timezone.now()
    review = lock(AccessReview, review.pk)
    require_certifier(actor, review)
    if review.is_finished:
        raise Conflict("This review is completed.")
    items = {i.pk: i for i in review.items.select_for_update(of=("self",)).select_related(
        "credential", "agent")}
    for item, decision, comment in _clean_decisions(review, items, entries):
        item.decision, item.comment = decision, comment
        item.decided_by, item.decided_at = actor, now
        record(item, actor=actor, reason=f"Certified: {item.get_decision_display().lower()}. "
                                         f"{comment}")
        if decision == Decision.REVOKE:
            _revoke(item, actor=actor, now=now, review=review)
    if all(item.decision != Decision.PENDING for item in items.values()):
        _complete(review, actor=actor, now=now)
    return review


def _revoke(item: ReviewItem, *, actor: User, now: datetime, review: AccessReview) -> None:
    """A credential is revoked in the portal at once (no release may use it again); tools and
    data sources have no revoked state of their own: the decision stands in the review, and the
    task tells security to cut the access at the tool's server or the data source."""
    if item.kind == GrantKind.CREDENTIAL and item.credential is not None:
        inventory.credential_revoke(actor=actor, credential=item.credential,
                                    reason=f"Revoked in access review #{review.pk}: "
                                           f"{item.comment}")
    task = RevocationTask(item=item, agent=item.agent, opened_at=now)
    record(task, actor=actor, reason=f"Revocation of {item} decided in access review "
                                     f"#{review.pk}")
    notify(users=selectors.people_with_role(Role.SECURITY), kind="revocation-task",
           subject=f"Revoke {item} of {item.agent}",
           body=f"{actor} decided to revoke this grant in an access review: {item.comment}",
           url=task.get_absolute_url(), dedupe_key=f"revocation-task:{task.pk}:opened")


def _complete(review: AccessReview, *, actor: User, now: datetime) -> None:
    review_states.check(review.state, ReviewState.COMPLETED)
    review.state = ReviewState.COMPLETED
    review.completed_by, review.completed_at = actor, now
    record(review, actor=actor, reason="Access review completed: every grant certified")


@transaction.atomic
def access_review_complete_empty(*, actor: User, review: AccessReview,
                                 now: datetime | None = None) -> AccessReview:
    """Certify a review that lists no grants: the owner confirms the agent holds none."""
    review = lock(AccessReview, review.pk)
    require_certifier(actor, review)
    if review.is_finished:
        raise Conflict("This review is completed.")
    if review.items.exists():
        raise DomainError("Certify each grant of this review.", field="decisions")
    _complete(review, actor=actor, now=now or timezone.now())
    return review


# --- Escalation --------------------------------------------------------------------------------

@transaction.atomic
def access_reviews_escalate_overdue(*, actor: User, now: datetime | None = None
                                    ) -> list[AccessReview]:
    """Move each open review past its deadline to escalated and tell compliance, once."""
    now = now or timezone.now()
    overdue = AccessReview.objects.filter(state=ReviewState.OPEN, due_at__lte=now).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        overdue = overdue.select_for_update(skip_locked=True, of=("self",))
    reviews = list(overdue.select_related("agent"))
    compliance = selectors.people_with_role(Role.COMPLIANCE)
    for review in reviews:
        review_states.check(review.state, ReviewState.ESCALATED)
        review.state, review.escalated_at = ReviewState.ESCALATED, now
        record(review, actor=actor, reason="Access review overdue: escalated to compliance")
        notify(users=compliance, kind="review-escalated",
               subject=f"Overdue access review of {review.agent}",
               body=f"The access review of {review.agent} was due by "
                    f"{review.due_at:%Y-%m-%d %H:%M} and is not completed.",
               url=review.get_absolute_url(), dedupe_key=f"review-escalated:{review.pk}")
    return reviews


# --- Revocation tasks --------------------------------------------------------------------------

@transaction.atomic
def revocation_task_complete(*, actor: User, task: RevocationTask, note: str,
                             now: datetime | None = None) -> RevocationTask:
    """Security records that the access is cut where it lives, and how."""
    task = lock(RevocationTask, task.pk)
    if actor.roles & READ_ONLY_ROLES or not can(actor, "reviews.complete_revocationtask"):
        raise NotPermitted("Only security reviewers complete revocation tasks.")
    if not note or not note.strip():
        raise DomainError("Say how the access was cut.", field="note")
    task_states.check(task.state, TaskState.DONE)
    task.state, task.note = TaskState.DONE, note.strip()[:2000]
    task.completed_by, task.completed_at = actor, now or timezone.now()
    record(task, actor=actor, reason=f"Access cut: {task.note}")
    return task


# --- Ownership hygiene -------------------------------------------------------------------------

@transaction.atomic
def ownerless_reassign(*, actor: User, agent: Agent, new_owner: User, reason: str) -> Agent:
    """Hand an ownerless agent (its owner deactivated) to a new owner."""
    refusal = rules.reassign_refusal(actor)
    if refusal is not None:
        raise refusal
    if not selectors.ownerless_agents().filter(pk=agent.pk).exists():
        raise Conflict(f"{agent} has an active owner.")
    return inventory.agent_transfer_ownership(actor=actor, agent=agent, new_owner=new_owner,
                                              reason=reason)

