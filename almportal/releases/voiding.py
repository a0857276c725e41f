"""Voiding what no longer stands, outside the changes the receivers already follow: a tier
policy edited, and the daily sweep that catches an assessment passing its period (and anything
a change left behind). The decision is rules.release_standing; services.releases_uphold acts on
it, one release at a time under its row lock, recording each voiding in history (and so in the
audit ledger) with its reason and notifying the signers. Nobody asks for these writes: they
follow from a change already permitted, so no permission is checked here."""

import datetime as dt

from django.db import transaction

from ..accounts.models import User
from ..accounts.services import system_user
from ..risk.models import TierPolicy
from . import services
from .models import Release
from .selectors import releases_under_approval


@transaction.atomic
def releases_on_policy_change(*, actor: User, policy: TierPolicy) -> list[Release]:
    """A tier policy was saved: the tier's approvals given under other terms are voided and
    the sign-offs given on its open requests stop counting (deployed releases stay)."""
    return services.releases_uphold(actor=actor, releases=releases_under_approval(policy.tier))


def releases_sweep(*, now: dt.datetime | None = None) -> list[Release]:
    """Judge every release under approval as of `now` (default: now), acting as the system
    user; each release in its own transaction. Safe to run twice or at once."""
    actor = system_user()
    acted = []
    for release in releases_under_approval():
        acted += services.releases_uphold(actor=actor, releases=[release], now=now)
    return acted
