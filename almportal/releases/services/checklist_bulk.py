"""One action on many checklist items of a release at once: name the owner or the reviewer,
attach the same evidence, or move them (send for review, accept, send back).

Each item goes through the same service as on its own page, so the same permission and rules
apply to each, and each item's history names the actor and the reason. The whole action is one
transaction: when any item is refused, nothing is written, and the refusal lists every item
that was refused with why (people fix the choice and try again rather than hunt for which half
went through)."""

from collections.abc import Sequence

from django.db import transaction

from ...accounts.models import User
from ...core.errors import Conflict, DomainError, NotPermitted
from ..choices import EvidenceKind, ItemStatus
from ..models import ChecklistItem, Release
from .checklist import checklist_item_assign, checklist_item_set_status, evidence_add

ASSIGN, EVIDENCE, STATUS = "assign", "evidence", "status"
BULK_ACTIONS = {ASSIGN: "Name owner or reviewer", EVIDENCE: "Attach evidence",
                STATUS: "Change status"}


class BulkRefused(DomainError):
    """Some items refused the action: nothing was written. Its status is the strongest of
    the items' refusals (403 when any was not permitted, 409 for a state, else 400)."""

    def __init__(self, refusals: list[tuple[ChecklistItem, DomainError]]) -> None:
        lines = [f"{item.title}: {error.message}" for item, error in refusals]
        summary = f"Nothing was changed: {len(refusals)} of the chosen items refused."
        super().__init__(errors={"__all__": [summary], "items": lines})
        kinds = [type(error) for _, error in refusals]
        self.status_code = (403 if any(issubclass(k, NotPermitted) for k in kinds)
                            else 409 if any(issubclass(k, Conflict) for k in kinds) else 400)


def _one(actor: User, item: ChecklistItem, action: str, options: dict) -> ChecklistItem:
    reason = options.get("reason", "")
    if action == ASSIGN:
        return checklist_item_assign(actor=actor, item=item, owner=options.get("owner"),
                                     reviewer=options.get("reviewer"), reason=reason)
    if action == EVIDENCE:
        upload = options.get("upload")
        evidence_add(actor=actor, item=item,
                     kind=EvidenceKind.FILE if upload is not None else EvidenceKind.LINK,
                     upload=upload, url=options.get("url", ""), note=reason)
        return item
    return checklist_item_set_status(actor=actor, item=item, status=options.get("status", ""),
                                     comment=reason)


def _check_request(release: Release, items: Sequence[ChecklistItem], action: str,
                   options: dict) -> None:
    if action not in BULK_ACTIONS:
        raise DomainError("Choose what to do with the items.", field="action")
    if not items:
        raise DomainError("Choose at least one checklist item.", field="items")
    if any(item.release_id != release.pk for item in items):
        raise DomainError("Choose items of this release only.", field="items")
    if action == ASSIGN and options.get("owner") is None and options.get("reviewer") is None:
        raise DomainError("Choose an owner or a reviewer.", field="reviewer")
    if action == STATUS and options.get("status") not in ItemStatus.values:
        raise DomainError("Choose open, in review or accepted.", field="status")


@transaction.atomic
def checklist_bulk(*, actor: User, release: Release, items: Sequence[ChecklistItem],
                   action: str, **options) -> list[ChecklistItem]:
    """Do `action` (assign, evidence, status) on every item, or on none (BulkRefused).
    Options: owner, reviewer (assign); url or upload (evidence); status (status); reason,
    kept in each item's history (and as the review comment when a reviewer moves them)."""
    _check_request(release, items, action, options)
    done, refusals = [], []
    for item in sorted(items, key=lambda i: (i.order, i.pk)):
        try:
            with transaction.atomic():
                done.append(_one(actor, item, action, options))
        except DomainError as error:
            refusals.append((item, error))
    if refusals:
        raise BulkRefused(refusals)
    return done
