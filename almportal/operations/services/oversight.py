"""Named human overseers of an agent (EU AI Act Art. 14, 26(2)): assigned, their training
updated and their term ended by the agent's owner, a delegate or an admin."""

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ...accounts.models import User
from ...core.errors import Conflict, DomainError, clean_or_refuse, require_that
from ...core.lifecycle import lock, record
from ...inventory.models import Agent
from ..choices import OversightRole
from ..models import Overseer
from ..rules import may_assign_overseers, overseer_refusal

REFUSED = "Only the agent's owner, a delegate or an admin name its overseers."
TRAINING_FIELDS = ("training", "trained_on", "training_expires_on", "evidence_url")


def _reason(reason: str, default: str) -> str:
    return (reason or "").strip()[:1000] or default


def _check(overseer: Overseer) -> None:
    refusal = overseer_refusal(
        user=overseer.user, role=overseer.role, trained_on=overseer.trained_on,
        expires_on=overseer.training_expires_on, active_from=overseer.active_from,
        active_to=overseer.active_to, roles=OversightRole.values)
    if refusal:
        raise refusal
    clean_or_refuse(overseer, exclude=["agent", "user", "assigned_by"])


@transaction.atomic
def overseer_assign(*, actor: User, agent: Agent, user: User, role: str, training: str,
                    trained_on: date, training_expires_on: date | None = None,
                    evidence_url: str = "", active_from: date | None = None,
                    active_to: date | None = None, reason: str = "") -> Overseer:
    agent = lock(Agent, agent.pk)
    require_that(may_assign_overseers(actor, agent), REFUSED)
    overseer = Overseer(agent=agent, user=user, role=role, training=(training or "").strip(),
                        trained_on=trained_on, training_expires_on=training_expires_on,
                        evidence_url=(evidence_url or "").strip(),
                        active_from=active_from or timezone.localdate(), active_to=active_to,
                        assigned_by=actor)
    _check(overseer)
    try:
        with transaction.atomic():
            record(overseer, actor=actor, reason=_reason(
                reason, f"Named overseer ({overseer.get_role_display().lower()})"))
    except IntegrityError as exc:
        raise Conflict(f"{user} already holds this oversight role for {agent}.") from exc
    return overseer


@transaction.atomic
def overseer_update_training(*, actor: User, overseer: Overseer, data: dict[str, Any],
                             reason: str = "") -> Overseer:
    """Record a renewed or corrected training record (course, dates, evidence link)."""
    overseer = lock(Overseer, overseer.pk)
    require_that(may_assign_overseers(actor, overseer.agent), REFUSED)
    unknown = set(data) - set(TRAINING_FIELDS)
    if unknown:
        raise DomainError(errors={name: ["This field cannot be set here."] for name in unknown})
    for name, value in data.items():
        setattr(overseer, name, value.strip() if isinstance(value, str) else value)
    _check(overseer)
    record(overseer, actor=actor, reason=_reason(reason, "Training record updated"))
    return overseer


@transaction.atomic
def overseer_end(*, actor: User, overseer: Overseer, reason: str,
                 active_to: date | None = None) -> Overseer:
    """The person no longer oversees the agent (from `active_to`, today by default)."""
    overseer = lock(Overseer, overseer.pk)
    require_that(may_assign_overseers(actor, overseer.agent), REFUSED)
    if not (reason or "").strip():
        raise DomainError("Say why the oversight ends.", field="reason")
    if overseer.active_to is not None and overseer.active_to <= timezone.localdate():
        raise Conflict("This overseer's term has already ended.")
    overseer.active_to = active_to or timezone.localdate()
    _check(overseer)
    record(overseer, actor=actor, reason=_reason(reason, ""))
    return overseer
