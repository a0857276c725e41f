"""The kill switch: suspend an agent at once, resume it (compliance for high and critical
tiers), and drills that measure the time from the suspension to the first gateway poll that
was served the suspended state (or, where policy gateways enforce the agent, until the last of
them enforces the forbid-all policy)."""

from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ...accounts.models import User
from ...accounts.notifications import notify
from ...core.errors import Conflict, DomainError, require_that
from ...core.lifecycle import lock, record
from ...inventory import services as inventory
from ...inventory.choices import Stage
from ...inventory.models import Agent
from ..choices import EventLogKind
from ..models import Suspension
from ..rules import may_resume, may_suspend, resume_needs_compliance
from .eventlog import event_log_record


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"Say why the agent is {what}.", field="reason")
    return reason[:1000]


def open_suspension(agent: Agent) -> Suspension | None:
    return Suspension.objects.filter(agent=agent, resumed_at__isnull=True).first()


@transaction.atomic
def agent_suspend(*, actor: User, agent: Agent, reason: str, drill: bool = False,
                  check_rights: bool = True) -> Suspension:
    """Stop a live agent: the next runtime-status request says suspended.
    (`check_rights=False` only for the automatic suspension on an exhausted budget.)"""
    agent = lock(Agent, agent.pk)
    if check_rights:
        require_that(may_suspend(actor, agent), "Only the agent's owner, a delegate, compliance, "
                                                "security or an admin may suspend it.")
    reason = _reason(reason, "suspended")
    if agent.stage != Stage.LIVE:
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}: only a live agent is "
                       "suspended.")
    label = "Kill-switch drill" if drill else "Suspended"
    inventory.agent_set_stage(actor=actor, agent=agent, stage=Stage.SUSPENDED,
                              reason=f"{label}: {reason}")
    suspension = Suspension(agent=agent, is_drill=drill, reason=reason, suspended_by=actor,
                            suspended_at=timezone.now())
    try:
        with transaction.atomic():
            record(suspension, actor=actor, reason=f"{label}: {reason}")
    except IntegrityError as exc:
        raise Conflict("The agent is already suspended.") from exc
    event_log_record(agent=agent, kind=EventLogKind.DRILL if drill else EventLogKind.SUSPENDED,
                     at=suspension.suspended_at, actor=actor, summary=f"{label}: {reason}")
    notify(users=[u for u in (agent.business_owner, agent.technical_owner)
                  if u is not None and u != actor],
           kind="agent-suspended", subject=f"{agent} was suspended", body=reason,
           url=reverse("operations:kill-switch", kwargs={"slug": agent.slug}))
    return suspension


@transaction.atomic
def agent_resume(*, actor: User, agent: Agent, reason: str) -> Agent:
    agent = lock(Agent, agent.pk)
    if resume_needs_compliance(agent):
        require_that(may_resume(actor, agent),
                     f"A {agent.get_risk_tier_display().lower()}-tier agent is resumed only by a "
                     "compliance officer who does not own it.")
    else:
        require_that(may_resume(actor, agent), "Only the agent's owner, a delegate, compliance, "
                                               "security or an admin may resume it.")
    reason = _reason(reason, "resumed")
    if agent.stage != Stage.SUSPENDED:
        raise Conflict(f"{agent} is not suspended.")
    agent = inventory.agent_set_stage(actor=actor, agent=agent, stage=Stage.LIVE,
                                      reason=f"Resumed: {reason}")
    suspension = open_suspension(agent)
    if suspension is not None:
        suspension = lock(Suspension, suspension.pk)
        suspension.resumed_at = timezone.now()
        suspension.resumed_by = actor
        suspension.resume_reason = reason
        record(suspension, actor=actor, reason=f"Resumed: {reason}")
    event_log_record(agent=agent, kind=EventLogKind.RESUMED, actor=actor,
                     summary=f"Resumed: {reason}")
    return agent


# A higher area whose gateways must also confirm a halt registers a check here (enforcement:
# the gateways that report the policy revision they enforce). While a check says a suspension
# awaits its gateways, a runtime poll does not end the time-to-halt; that area ends it, with
# `confirmed=True`, when the last of its gateways confirms.
HaltAwaiter = Callable[[Suspension], bool]
_halt_awaiters: list[HaltAwaiter] = []

POLL_HALT_REASON = "First gateway poll served the suspended state"


def register_halt_awaiter(awaiter: HaltAwaiter) -> None:
    if awaiter not in _halt_awaiters:
        _halt_awaiters.append(awaiter)


@transaction.atomic
def suspension_record_halt(*, actor: User, agent: Agent, at: datetime, confirmed: bool = False,
                           reason: str = POLL_HALT_REASON) -> Suspension | None:
    """A gateway was served the suspended state: the first such poll ends the time-to-halt,
    unless a registered area still awaits its gateways (then only its confirmation does)."""
    pending = (Suspension.objects.select_for_update()
               .filter(agent=agent, resumed_at__isnull=True, first_halted_poll_at__isnull=True)
               .first())
    if pending is None:
        return None
    if not confirmed and any(awaits(pending) for awaits in _halt_awaiters):
        return None
    pending.first_halted_poll_at = max(at, pending.suspended_at)
    record(pending, actor=actor, reason=reason)
    return pending
