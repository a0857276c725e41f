"""Every change to agents and their components. Pages, API, admin, tasks and commands
call these functions and nothing else writes inventory rows."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Case, DateTimeField, Max, Q, Value, When
from django.utils import timezone
from django.utils.text import slugify

from ..accounts.models import User
from ..accounts.permissions import can, require
from ..accounts.roles import Role
from ..core.errors import Conflict, DomainError, NotPermitted, clean_or_refuse
from ..core.lifecycle import attribute_change, lock, record
from . import grants, signals
from .choices import Stage
from .models import (
    COMPONENT_MODELS,
    Agent,
    ComponentVersion,
    Credential,
)
from .rules import (
    SERVICE_RIGHTS,
    agent_stages,
    change_refusal,
    closed_refusal,
    grant_refusal,
    triage_refusal,
)

OWNER_PERMISSIONS = ("view_agent", "change_agent")

# Fields an owner edits on the agent record; ownership, stage and tier have their own services.
AGENT_EDITABLE_FIELDS = (
    "name", "purpose", "why_agent", "sponsor", "technical_owner", "business_unit",
    "intended_users", "audience", "success_metrics", "autonomy_level", "data_classification",
    "action_reach", "regulated_domain", "tags",
)
MAX_KPIS = 20
MAX_TAGS = 20
# Slugs the inventory pages use for themselves (/agents/new/, /agents/intake-queue/).
RESERVED_SLUGS = frozenset({"new", "intake-queue"})


def _clean_success_metrics(value: Any) -> list[dict]:
    if not isinstance(value, list) or len(value) > MAX_KPIS:
        raise DomainError(f"Give a list of at most {MAX_KPIS} KPIs.", field="success_metrics")
    cleaned = []
    for item in value:
        if not isinstance(item, Mapping):
            raise DomainError("Each KPI needs a name and a target.", field="success_metrics")
        name, target = str(item.get("name", "")).strip(), str(item.get("target", "")).strip()
        if not name or not target or len(name) > 120 or len(target) > 120:
            raise DomainError("Each KPI needs a name and a target (120 characters at most).",
                              field="success_metrics")
        cleaned.append({"name": name, "target": target})
    return cleaned


def _clean_tags(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise DomainError(f"Give a list of at most {MAX_TAGS} tags.", field="tags")
    tags = sorted({str(tag).strip().lower() for tag in value if str(tag).strip()})
    if any(len(tag) > 40 for tag in tags):
        raise DomainError("A tag has at most 40 characters.", field="tags")
    return tags


def _apply_agent_fields(agent: Agent, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(AGENT_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(errors={f: ["This field cannot be set here."] for f in sorted(unknown)})
    for field, value in data.items():
        if field == "success_metrics":
            value = _clean_success_metrics(value)
        elif field == "tags":
            value = _clean_tags(value)
        setattr(agent, field, value)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "agent"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Agent.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _require_open(agent: Agent) -> None:
    refusal = closed_refusal(agent)
    if refusal is not None:
        raise refusal


def require_agent_change(actor: User, agent: Agent) -> None:
    refusal = change_refusal(actor, agent)
    if refusal is not None:
        raise refusal


@transaction.atomic
def agent_create(*, actor: User, data: Mapping[str, Any], owner: User | None = None,
                 reason: str = "Intake drafted") -> Agent:
    """Draft an intake. The actor becomes the business owner unless an admin names another."""
    require(actor, "inventory.add_agent", message="Your role may not file intakes.")
    owner = owner or actor
    if owner != actor and not can(actor, "inventory.change_agent"):
        raise NotPermitted("Only an admin may file an intake on someone else's behalf.")
    agent = Agent(business_owner=owner, created_by=actor, stage=Stage.DRAFT)
    _apply_agent_fields(agent, data)
    agent.slug = _unique_slug(agent.name)
    clean_or_refuse(agent)
    record(agent, actor=actor, reason=reason)
    _grant(agent, owner, actor=actor, reason="Business owner")
    return agent


@transaction.atomic
def agent_update(*, actor: User, agent: Agent, data: Mapping[str, Any], reason: str = "") -> Agent:
    agent = lock(Agent, agent.pk)
    require_agent_change(actor, agent)
    before = {field: getattr(agent, field) for field in data if field in AGENT_EDITABLE_FIELDS}
    _apply_agent_fields(agent, data)
    clean_or_refuse(agent)
    record(agent, actor=actor, reason=reason or "Agent record edited")
    changed = {field for field, value in before.items() if getattr(agent, field) != value}
    if changed:
        signals.agent_changed.send(sender=Agent, agent=agent, actor=actor, changed_fields=changed)
    return agent


def agents_seen(seen: Mapping[int, datetime]) -> None:
    """Activity seen (metrics arriving, a gateway polling, a deployment): each agent's
    last_active_at moves forward to the time seen, never back, in one statement for any number
    of agents. A reading, so no history is written."""
    if not seen:
        return
    at = Case(*(When(pk=pk, then=Value(time)) for pk, time in seen.items()),
              output_field=DateTimeField())
    (Agent.objects.filter(pk__in=list(seen))
     .filter(Q(last_active_at__isnull=True) | Q(last_active_at__lt=at))
     .update(last_active_at=at))


def _move(agent: Agent, target: str, *, actor: User, reason: str) -> Agent:
    agent_stages.check(agent.stage, target)
    agent.stage = target
    if target == Stage.LIVE:  # going live is activity: dormancy counts from here at the earliest
        agent.last_active_at = timezone.now()
    record(agent, actor=actor, reason=reason)
    return agent


@transaction.atomic
def agent_submit_intake(*, actor: User, agent: Agent, reason: str = "") -> Agent:
    agent = lock(Agent, agent.pk)
    require_agent_change(actor, agent)
    return _move(agent, Stage.PROPOSED, actor=actor, reason=reason or "Intake submitted")


@transaction.atomic
def agent_withdraw_intake(*, actor: User, agent: Agent, reason: str = "") -> Agent:
    """Back to draft: a proposed intake withdrawn, or a declined one being revised."""
    agent = lock(Agent, agent.pk)
    require_agent_change(actor, agent)
    if agent.stage not in (Stage.PROPOSED, Stage.DECLINED):
        raise Conflict("Only a proposed or declined intake can go back to draft.")
    return _move(agent, Stage.DRAFT, actor=actor, reason=reason or "Intake reopened as draft")


def _require_triage(actor: User, agent: Agent) -> None:
    refusal = triage_refusal(actor, agent)
    if refusal is not None:
        raise refusal


@transaction.atomic
def agent_accept(*, actor: User, agent: Agent, reason: str = "") -> Agent:
    agent = lock(Agent, agent.pk)
    _require_triage(actor, agent)
    accept_guard.check(agent)
    return _move(agent, Stage.IN_DEVELOPMENT, actor=actor,
                 reason=reason or "Intake accepted for development")


@transaction.atomic
def agent_decline(*, actor: User, agent: Agent, reason: str) -> Agent:
    if not reason or not reason.strip():
        raise DomainError("Say why the intake is declined.", field="reason")
    agent = lock(Agent, agent.pk)
    _require_triage(actor, agent)
    return _move(agent, Stage.DECLINED, actor=actor, reason=reason.strip())


class _Guard:
    """A hook for higher layers (risk) to veto a move without inventory importing them."""

    def __init__(self) -> None:
        self.checks: list = []

    def register(self, check) -> None:
        if check not in self.checks:
            self.checks.append(check)

    def check(self, subject) -> None:
        for check in self.checks:
            check(subject)


accept_guard = _Guard()   # called with the agent before an intake is accepted


@transaction.atomic
def agent_set_risk_tier(*, actor: User, agent: Agent, tier: str, reason: str) -> Agent:
    """Record the tier a completed risk assessment gave (called by risk.services only,
    which has already checked the assessor's permission)."""
    agent = lock(Agent, agent.pk)
    _require_open(agent)
    if agent.risk_tier != tier:
        agent.risk_tier = tier
        clean_or_refuse(agent)
        record(agent, actor=actor, reason=reason)
        signals.agent_changed.send(sender=Agent, agent=agent, actor=actor,
                                   changed_fields={"risk_tier"})
    return agent


def _agent_permissions(codenames: Iterable[str]):
    return Permission.objects.filter(content_type__app_label="inventory",
                                     content_type__model="agent", codename__in=list(codenames))


def _grant(agent: Agent, user: User, *, actor: User, reason: str,
           codenames: Iterable[str] = OWNER_PERMISSIONS) -> None:
    codenames = list(codenames)
    refusal = grant_refusal(user, codenames)
    if refusal is not None:
        raise refusal
    held = set(grants.rights_of(agent, user, codenames))
    for permission in _agent_permissions(codenames):
        if permission.codename not in held:
            record(grants.unsaved_grant(agent, user, permission), actor=actor, reason=reason)


def _ungrant(agent: Agent, user: User, *, actor: User, reason: str,
             codenames: Iterable[str] = OWNER_PERMISSIONS) -> None:
    for row in grants.grants_of(agent, user).filter(permission__codename__in=list(codenames)):
        attribute_change(row, actor=actor, reason=reason)
        row.delete()


@transaction.atomic
def agent_add_delegate(*, actor: User, agent: Agent, user: User, reason: str = "") -> None:
    require_agent_change(actor, agent)
    if not user.is_active or user.is_service_account:
        raise DomainError("Delegates must be active people.", field="user")
    _grant(agent, user, actor=actor, reason=reason or f"{user} made a delegate")


@transaction.atomic
def agent_remove_delegate(*, actor: User, agent: Agent, user: User, reason: str = "") -> None:
    require_agent_change(actor, agent)
    if user.pk == agent.business_owner_id:
        raise DomainError("The business owner keeps access; transfer ownership first.",
                          field="user")
    _ungrant(agent, user, actor=actor, reason=reason or f"{user} no longer a delegate")


def service_rights_of(agent: Agent, account: User) -> list[str]:
    return grants.rights_of(agent, account, SERVICE_RIGHTS)


@transaction.atomic
def service_account_set_rights(*, actor: User, agent: Agent, account: User, rights: list[str],
                               reason: str = "") -> list[str]:
    """Give a service account exactly these narrow rights on one agent (with sight of it), or
    take them all away with an empty list. Admins only: the account's tokens are theirs to
    mint, so no owner can post as CI on their own agent."""
    if not actor.has_role(Role.ADMIN):
        raise NotPermitted("Only admins grant service accounts rights on agents.")
    if not account.is_service_account:
        raise DomainError("Choose a service account.", field="account")
    if not isinstance(rights, list) or set(rights) - set(SERVICE_RIGHTS):
        raise DomainError("Choose among: " + ", ".join(SERVICE_RIGHTS) + ".", field="rights")
    agent = lock(Agent, agent.pk)
    reason = reason.strip() or f"Service account rights set: {', '.join(rights) or 'none'}"
    dropped = set(SERVICE_RIGHTS) - set(rights) | (set() if rights else {"view_agent"})
    _ungrant(agent, account, actor=actor, reason=reason, codenames=dropped)
    if rights:
        _grant(agent, account, actor=actor, reason=reason, codenames=["view_agent", *rights])
    return service_rights_of(agent, account)


@transaction.atomic
def agent_transfer_ownership(*, actor: User, agent: Agent, new_owner: User, reason: str) -> Agent:
    """Hand an agent to a new business owner (admins, and compliance for ownerless agents)."""
    if not reason.strip():
        raise DomainError("Say why ownership changes.", field="reason")
    agent = lock(Agent, agent.pk)
    if not (actor.has_role(Role.ADMIN) or actor.has_role(Role.COMPLIANCE)):
        raise NotPermitted("Only admins and compliance officers reassign agents.")
    _require_open(agent)
    if not new_owner.is_active or new_owner.is_service_account:
        raise DomainError("The new owner must be an active person.", field="new_owner")
    refusal = grant_refusal(new_owner, OWNER_PERMISSIONS)
    if refusal is not None:
        raise DomainError(refusal.message, field="new_owner")
    previous = agent.business_owner
    agent.business_owner = new_owner
    record(agent, actor=actor, reason=reason.strip())
    if previous is not None and previous != new_owner:
        _ungrant(agent, previous, actor=actor, reason="Ownership transferred")
    _grant(agent, new_owner, actor=actor, reason="Business owner")
    return agent


@transaction.atomic
def component_add_version(*, actor: User, agent: Agent, kind: str,
                          data: Mapping[str, Any], reason: str = "") -> ComponentVersion:
    """Add the next version of a named component (version 1 when the name is new)."""
    model = COMPONENT_MODELS.get(kind)
    if model is None:
        raise DomainError(f"Unknown component kind {kind!r}.", field="kind")
    agent = lock(Agent, agent.pk)
    require_agent_change(actor, agent)
    fields = {f.name for f in model._meta.concrete_fields if f.editable} - {
        "id", "agent", "version", "created_by", "created_at", "revoked_at", "revoked_by"}
    unknown = set(data) - fields
    if unknown:
        raise DomainError(errors={f: ["This field cannot be set here."] for f in sorted(unknown)})
    component = model(agent=agent, created_by=actor, **data)
    latest = (model._default_manager.filter(agent=agent, name=component.name)
              .aggregate(v=Max("version")))
    component.version = (latest["v"] or 0) + 1
    clean_or_refuse(component)
    record(component, actor=actor,
           reason=reason or f"{model._meta.verbose_name} {component.name} v{component.version}")
    signals.component_version_added.send(sender=model, component=component, actor=actor)
    return component


@transaction.atomic
def credential_revoke(*, actor: User, credential: Credential, reason: str) -> Credential:
    credential = lock(Credential, credential.pk)
    if not (can(actor, "inventory.revoke_credential")
            or can(actor, "inventory.change_agent", credential.agent)):
        raise NotPermitted(
            "Only the agent's owner, a delegate, security or an admin may revoke grants.")
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.revoked_by = actor
        record(credential, actor=actor, reason=reason or "Grant revoked")
    return credential


@transaction.atomic
def agent_set_stage(*, actor: User, agent: Agent, stage: str, reason: str) -> Agent:
    """Move an agent along STAGE_TRANSITIONS under a row lock (called by the operations services
    — first production deployment, kill switch — which have already checked the actor's rights)."""
    agent = lock(Agent, agent.pk)
    return _move(agent, stage, actor=actor, reason=reason)
