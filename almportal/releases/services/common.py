"""What every releases service shares: where a release's page is, its tier policy, who manages
it, and the one move along RELEASE_TRANSITIONS."""


from django.db import transaction
from django.utils import timezone

from ...accounts.models import User
from ...accounts.permissions import can, require
from ...core.lifecycle import Transitions, lock, record
from ...inventory import services as inventory
from ...risk.models import TierPolicy
from ...risk.selectors import tier_policy
from ..choices import RELEASE_TRANSITIONS, ReleaseState
from ..models import Release

release_states = Transitions(ReleaseState, RELEASE_TRANSITIONS)

SUBMISSION_SIGNOFF = "Signed by submitting the release for sign-off."


def policy_for(release: Release) -> TierPolicy | None:
    return tier_policy(release.agent.risk_tier)


def may_manage(user: User, release: Release) -> bool:
    return can(user, "inventory.change_agent", release.agent)


def may_record_runs(user: User, release: Release) -> bool:
    return may_manage(user, release) or can(user, "inventory.record_evaluations", release.agent)


def require_manage(actor: User, release: Release) -> None:
    require(actor, "inventory.change_agent", release.agent,
            message="Only the agent's owner, a delegate or an admin may do this.")


@transaction.atomic
def release_set_state(*, actor: User, release: Release, state: str, reason: str) -> Release:
    """Move a release along RELEASE_TRANSITIONS under a row lock (called by the releases and
    operations services, which have already checked the actor's rights)."""
    release = lock(Release, release.pk)
    release_states.check(release.state, state)
    release.state = state
    record(release, actor=actor, reason=reason)
    if state == ReleaseState.DEPLOYED:  # a deployment is activity, for dormancy
        inventory.agents_seen({release.agent_id: timezone.now()})
    return release
