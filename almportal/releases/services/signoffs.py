"""Sign-offs: approving or rejecting a submitted release for one role."""


from django.db import IntegrityError, transaction

from ...accounts.models import User
from ...accounts.notifications import notify
from ...core.errors import DomainError, NotPermitted
from ...core.lifecycle import lock, record
from .. import rules
from ..choices import Decision, ReleaseState
from ..models import Release, SignOff
from ..rules import role_label
from ..selectors import signing_facts
from .common import release_set_state
from .gate import approve_if_ready, void_signoffs


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
    signers = [u for u in void_signoffs(release, actor=actor, reason=reason) if u != actor]
    release = release_set_state(actor=actor, release=release,
                                          state=ReleaseState.REJECTED, reason=reason)
    release = release_set_state(actor=actor, release=release, state=ReleaseState.DRAFT,
                                          reason=f"Back to draft after rejection. {reason}")
    notify(users=[release.agent.business_owner, release.submitted_by, *signers],
           kind="release-rejected", subject=f"{release} was rejected", body=reason,
           url=release.get_absolute_url())
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
        approve_if_ready(actor=actor, release=release)
    return signoff
