"""Every change to decommissioning rows: the template, plans, tasks, sign-offs, the archive.
Pages, API, admin and the reminder scan call these functions; nothing else writes them.

The portal does what it can itself (ending deployments, revoking grants, the retention hold,
the archive, the notice to users) through the services of the apps that own those records, with
the acting user's own rights, and marks the task with what it did."""

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from ..accounts.models import User
from ..accounts.notifications import notify
from ..accounts.outbox import email_queue
from ..accounts.permissions import can, require
from ..accounts.roles import GROUP_NAMES, Role
from ..audit import services as audit
from ..audit.models import ExportKind
from ..core.errors import Conflict, DomainError, NotPermitted
from ..core.lifecycle import lock, record
from ..inventory import services as inventory
from ..inventory.choices import Stage
from ..inventory.grants import agent_caretakers
from ..inventory.models import Agent
from ..inventory.rules import agent_stages
from ..operations import services as operations
from . import archiving, rules, selectors
from .choices import (
    AUTOMATIC_ACTIONS,
    REQUIRED_TASKS,
    AssigneeRole,
    PlanState,
    SignOffRole,
    TaskAction,
    TaskStatus,
)
from .models import (
    Archive,
    DecommissionPlan,
    DecommissionTask,
    DecommissionTemplate,
    RetirementSignOff,
)

MAX_ITEMS = 40
MAX_OFFSET_DAYS = 3650
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ARCHIVE_DIR = "retirement/archives"


def _text(value: Any, field: str, *, required: bool = True, limit: int = 2000) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError("This field is required.", field=field)
    if len(text) > limit:
        raise DomainError(f"At most {limit} characters.", field=field)
    return text


def _require_manage(actor: User, agent: Agent) -> None:
    if not rules.may_manage(actor, agent):
        raise NotPermitted("Only the agent's owner, a delegate, a compliance officer or an admin "
                           "may decommission it.")


def _require_open(plan: DecommissionPlan) -> None:
    if plan.state != PlanState.OPEN:
        raise Conflict(f"This plan is {plan.get_state_display().lower()}: nothing changes now.")


# --- The template --------------------------------------------------------------------------

def _clean_item(item: Any, n: int) -> dict:
    if not isinstance(item, Mapping):
        raise DomainError(f"Item {n}: give an object.", field="items")
    key = str(item.get("key", "")).strip()
    title = str(item.get("title", "")).strip()
    action = item.get("action", TaskAction.MANUAL)
    role = item.get("assignee_role", AssigneeRole.OWNER)
    offset = item.get("due_offset_days", 14)
    if not re.fullmatch(r"[a-z0-9_-]{1,60}", key):
        raise DomainError(f"Item {n}: the key is 1–60 lower-case letters, digits, - or _.",
                          field="items")
    if not title or len(title) > 200:
        raise DomainError(f"Item {n}: give a title of at most 200 characters.", field="items")
    if action not in TaskAction.values or role not in AssigneeRole.values:
        raise DomainError(f"Item {n}: unknown action or assignee role.", field="items")
    if not isinstance(offset, int) or isinstance(offset, bool) or \
            not 0 <= offset <= MAX_OFFSET_DAYS:
        raise DomainError(f"Item {n}: the due offset is 0 to {MAX_OFFSET_DAYS} days.",
                          field="items")
    return {"key": key, "title": title, "action": action, "assignee_role": role,
            "due_offset_days": offset}


def clean_template_items(items: Any) -> list[dict]:
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        raise DomainError(f"Give a list of 1 to {MAX_ITEMS} tasks.", field="items")
    cleaned = [_clean_item(item, n) for n, item in enumerate(items, start=1)]
    keys = [item["key"] for item in cleaned]
    if len(set(keys)) != len(keys):
        raise DomainError("Each key appears once.", field="items")
    automatic = [item["action"] for item in cleaned if item["action"] in AUTOMATIC_ACTIONS]
    if len(set(automatic)) != len(automatic):
        raise DomainError("Each automatic action appears once.", field="items")
    by_key = {item["key"]: item["action"] for item in cleaned}
    lacking = [key for key, action in REQUIRED_TASKS.items() if by_key.get(key) != action]
    if lacking:
        raise DomainError("The template must hold these tasks with their actions: "
                          + ", ".join(lacking) + ".", field="items")
    return cleaned


@transaction.atomic
def template_publish(*, actor: User, items: Any, notes: str = "") -> DecommissionTemplate:
    """A new version of the template; plans already started keep theirs."""
    require(actor, "retirement.add_decommissiontemplate",
            message="Only admins edit the decommissioning template.")
    cleaned = clean_template_items(items)
    last = DecommissionTemplate.objects.select_for_update().order_by("-version").first()
    template = DecommissionTemplate(version=(last.version if last else 0) + 1, items=cleaned,
                                    notes=_text(notes, "notes", required=False, limit=500),
                                    created_by=actor)
    record(template, actor=actor, reason=f"Decommission template v{template.version} published")
    return template


# --- Starting ------------------------------------------------------------------------------

def _holder_of(role: str, agent: Agent, starter: User) -> User | None:
    if starter.has_role(role) and starter.pk != agent.business_owner_id:
        return starter
    holders = User.objects.filter(is_active=True, is_service_account=False,
                                  groups__in=Group.objects.filter(name=GROUP_NAMES[role]))
    if agent.business_owner_id is not None:
        holders = holders.exclude(pk=agent.business_owner_id)
    return holders.order_by("pk").first()


def _assignee(role: str, agent: Agent, starter: User) -> User | None:
    if role == AssigneeRole.TECHNICAL_OWNER and agent.technical_owner_id:
        return agent.technical_owner
    if role == AssigneeRole.COMPLIANCE:
        return _holder_of(Role.COMPLIANCE, agent, starter) or agent.business_owner
    if role == AssigneeRole.SECURITY:
        return _holder_of(Role.SECURITY, agent, starter) or agent.business_owner
    return agent.business_owner


def _clean_dates(planned_date: date | None, retention_until: date | None) -> tuple[date, date]:
    today = timezone.localdate()
    if not isinstance(planned_date, date):
        raise DomainError("Give the planned retirement date.", field="planned_date")
    if planned_date < today:
        raise DomainError("The planned date cannot be in the past.", field="planned_date")
    minimum = today + timedelta(days=settings.DECOMMISSION_LOG_RETENTION_DAYS)
    retention_until = retention_until or max(minimum, planned_date)
    if retention_until < minimum:
        raise DomainError(f"Logs are kept at least until {minimum:%Y-%m-%d} "
                          f"({settings.DECOMMISSION_LOG_RETENTION_DAYS} days).",
                          field="retention_until")
    return planned_date, retention_until


def _clean_contacts(users: Iterable[User], emails: str) -> tuple[list[User], str]:
    users = list(users or [])
    if any(not u.is_active or u.is_service_account for u in users):
        raise DomainError("Contacts must be active people.", field="contact_users")
    addresses = DecommissionPlan(contact_emails=_text(emails, "contact_emails", required=False,
                                                      limit=4000)).email_list()
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError as exc:
            raise DomainError(f"{address} is not an email address.",
                              field="contact_emails") from exc
    return users, "\n".join(addresses)


@transaction.atomic
def plan_start(*, actor: User, agent: Agent, reason: str, planned_date: date,
               retention_until: date | None = None, contact_users: Iterable[User] = (),
               contact_emails: str = "", dependents: str = "") -> DecommissionPlan:
    """Move the agent to sunsetting and make its plan, every task from the current template."""
    agent = lock(Agent, agent.pk)
    _require_manage(actor, agent)
    reason = _text(reason, "reason")
    planned_date, retention_until = _clean_dates(planned_date, retention_until)
    users, emails = _clean_contacts(contact_users, contact_emails)
    if selectors.open_plan(agent) is not None:
        raise Conflict(f"{agent} is already being decommissioned.")
    if not agent_stages.allows(agent.stage, Stage.SUNSETTING):
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}: only an agent in "
                       "development, live or suspended is sunset.")
    template = selectors.current_template()
    if template is None:
        raise Conflict("No decommissioning template is published yet.")
    inventory.agent_set_stage(actor=actor, agent=agent, stage=Stage.SUNSETTING,
                              reason=f"Sunsetting started: {reason}")
    plan = DecommissionPlan(agent=agent, template=template, reason=reason,
                            planned_date=planned_date, retention_until=retention_until,
                            contact_emails=emails, started_by=actor,
                            dependents=_text(dependents, "dependents", required=False, limit=4000))
    record(plan, actor=actor, reason=f"Sunsetting started: {reason}")
    plan.contact_users.set(users)
    today = timezone.localdate()
    for position, item in enumerate(template.items):
        task = DecommissionTask(plan=plan, key=item["key"], title=item["title"],
                                action=item["action"], position=position,
                                assignee=_assignee(item["assignee_role"], agent, actor),
                                due_date=min(today + timedelta(days=item["due_offset_days"]),
                                             max(planned_date, today)))
        record(task, actor=actor, reason="Task planned from the template")
    return plan


# --- Tasks ---------------------------------------------------------------------------------

def _lock_task(task: DecommissionTask) -> DecommissionTask:
    task = lock(DecommissionTask, task.pk)
    _require_open(task.plan)
    if task.status == TaskStatus.DONE:
        raise Conflict(f"“{task.title}” is already done.")
    return task


def _finish(task: DecommissionTask, *, actor: User, reason: str) -> DecommissionTask:
    task.status = TaskStatus.DONE
    task.completed_by, task.completed_at = actor, timezone.now()
    record(task, actor=actor, reason=reason)
    return task


@transaction.atomic
def task_assign(*, actor: User, task: DecommissionTask, assignee: User,
                due_date: date | None = None) -> DecommissionTask:
    task = _lock_task(task)
    _require_manage(actor, task.plan.agent)
    if not assignee.is_active or assignee.is_service_account:
        raise DomainError("Tasks go to active people.", field="assignee")
    task.assignee = assignee
    if due_date is not None:
        task.due_date = due_date
    record(task, actor=actor, reason=f"Assigned to {assignee}, due {task.due_date:%Y-%m-%d}")
    return task


@transaction.atomic
def task_complete(*, actor: User, task: DecommissionTask, comment: str = "",
                  evidence_url: str = "", evidence_sha256: str = "") -> DecommissionTask:
    """Mark a manual task done; it needs a comment or evidence. Automatic tasks are run."""
    task = _lock_task(task)
    if not rules.may_work(actor, task):
        raise NotPermitted("Only the task's assignee, the agent's owner, a delegate, compliance "
                           "or an admin may complete it.")
    if task.is_automatic:
        raise Conflict("The portal does this task itself: run it.")
    comment = _text(comment, "comment", required=False, limit=4000)
    evidence_url = _text(evidence_url, "evidence_url", required=False, limit=500)
    evidence_sha256 = _text(evidence_sha256, "evidence_sha256", required=False).lower()
    if evidence_url:
        try:
            URLValidator(schemes=["http", "https"])(evidence_url)
        except ValidationError as exc:
            raise DomainError("Give an http(s) link.", field="evidence_url") from exc
    if evidence_sha256 and not SHA256.match(evidence_sha256):
        raise DomainError("A SHA-256 is 64 hexadecimal characters.", field="evidence_sha256")
    if not (comment or evidence_url or evidence_sha256):
        raise DomainError("Say what was done, or give evidence.", field="comment")
    task.comment, task.evidence_url, task.evidence_sha256 = comment, evidence_url, evidence_sha256
    return _finish(task, actor=actor, reason=f"Task done: {task.title}")


@transaction.atomic
def task_run(*, actor: User, task: DecommissionTask) -> DecommissionTask:
    """Do an automatic task and mark it done with the proof of what was done."""
    task = _lock_task(task)
    if not rules.may_work(actor, task):
        raise NotPermitted("Only the task's assignee, the agent's owner, a delegate, compliance "
                           "or an admin may run it.")
    if not task.is_automatic:
        raise Conflict("The portal cannot do this task: complete it with evidence.")
    plan = task.plan
    agent = lock(Agent, plan.agent_id)
    if agent.stage != Stage.SUNSETTING:
        raise Conflict(f"{agent} is {agent.get_stage_display().lower()}, not sunsetting.")
    task.proof = ACTIONS[task.action](actor=actor, plan=plan, agent=agent)
    return _finish(task, actor=actor, reason=f"Task done by the portal: {task.title}")


def _end_deployments(*, actor: User, plan: DecommissionPlan, agent: Agent) -> dict:
    ended = []
    for deployment in selectors.active_deployments(agent):
        operations.deployment_end(actor=actor, deployment=deployment,
                                  reason=f"Decommissioning: {plan.reason}")
        ended.append({"deployment": deployment.pk, "environment": deployment.environment.slug})
    if selectors.active_deployments(agent):
        raise Conflict("A deployment is still active.")
    return {"ended": ended, "active_after": 0}


def _revoke_credentials(*, actor: User, plan: DecommissionPlan, agent: Agent) -> dict:
    revoked = []
    for credential in selectors.live_credentials(agent):
        credential = inventory.credential_revoke(actor=actor, credential=credential,
                                                 reason=f"Decommissioning: {plan.reason}")
        revoked_at = credential.revoked_at
        assert revoked_at is not None  # credential_revoke returns it revoked
        revoked.append({"id": credential.pk, "credential": str(credential),
                        "identity": credential.identity,
                        "revoked_at": revoked_at.isoformat()})
    return {"revoked": revoked, "left": len(selectors.live_credentials(agent))}


def _preserve_logs(*, actor: User, plan: DecommissionPlan, agent: Agent) -> dict:
    hold = audit.retention_hold_place(
        actor=actor, agent=agent, retain_until=plan.retention_until,
        reason=f"Logs and evidence of the decommissioned agent: {plan.reason}")
    return {"retention_hold": hold.pk, "retain_until": plan.retention_until.isoformat()}


def _archive_evidence(*, actor: User, plan: DecommissionPlan, agent: Agent) -> dict:
    export = audit.export_record(actor=actor, kind=ExportKind.AGENT_PACK, agent=agent,
                                 filters={"agent": agent.slug, "archive": f"plan {plan.pk}"},
                                 last=archiving.agent_history(agent).last())
    archive = archiving.archive_store(actor=actor, plan=plan, export=export,
                                      retain_until=plan.retention_until,
                                      reason="Evidence archived for decommissioning")
    return {"archive": archive.pk, "file": archive.file_name, "sha256": archive.sha256,
            "size": archive.size, "export": export.pk,
            "retain_until": plan.retention_until.isoformat()}


def _audience(plan: DecommissionPlan, agent: Agent) -> list[User]:
    people = [agent.technical_owner, *agent_caretakers(agent), *plan.contact_users.all()]
    seen: dict[int, User] = {}
    for person in people:
        if person is not None and person.is_active and not person.is_service_account:
            seen.setdefault(person.pk, person)
    return sorted(seen.values(), key=lambda u: u.username)


def _notify_users(*, actor: User, plan: DecommissionPlan, agent: Agent) -> dict:
    people = _audience(plan, agent)
    subject = f"{agent} is being retired on {plan.planned_date:%Y-%m-%d}"
    body = (f"{agent} is being decommissioned: {plan.reason}\nPlanned retirement: "
            f"{plan.planned_date:%Y-%m-%d}.")
    if plan.dependents:
        body += f"\nDependent agents and systems: {plan.dependents}"
    notify(users=people, kind="agent-sunsetting", subject=subject, body=body,
           url=plan.get_absolute_url(), dedupe_key=f"decommission-notice:{plan.pk}")
    emails = plan.email_list()
    if emails:
        link = f"{settings.SITE_URL}{plan.get_absolute_url()}"
        email_queue(to=emails, subject=subject, body=f"{body}\n\n{link}\n")
    return {"users": [u.get_username() for u in people], "emails": emails}


ACTIONS: dict[str, Callable[..., dict]] = {
    TaskAction.END_DEPLOYMENTS: _end_deployments,
    TaskAction.REVOKE_CREDENTIALS: _revoke_credentials,
    TaskAction.PRESERVE_LOGS: _preserve_logs,
    TaskAction.ARCHIVE_EVIDENCE: _archive_evidence,
    TaskAction.NOTIFY_USERS: _notify_users,
}


# --- Sign-offs and retirement -------------------------------------------------------------

@transaction.atomic
def signoff_record(*, actor: User, plan: DecommissionPlan, role: str,
                   comment: str = "") -> RetirementSignOff:
    plan = lock(DecommissionPlan, plan.pk)
    _require_open(plan)
    if role not in SignOffRole.values:
        raise DomainError("Choose owner or compliance.", field="role")
    if not rules.may_sign(actor, plan, role):
        raise NotPermitted("The agent's business owner signs as owner; a compliance officer who "
                           "does not own the agent signs as compliance.")
    open_tasks = [t.title for t in plan.tasks.all() if t.status != TaskStatus.DONE]
    if open_tasks:
        raise Conflict("Sign once every task is done. Not done: " + "; ".join(open_tasks) + ".")
    signed = {s.role: s.user_id for s in plan.signoffs.all()}
    if role in signed:
        raise Conflict(f"The {SignOffRole(role).label.lower()} sign-off is already in.")
    if actor.pk in signed.values():
        raise Conflict("One person signs one role.")
    signoff = RetirementSignOff(plan=plan, role=role, user=actor,
                                comment=_text(comment, "comment", required=False))
    record(signoff, actor=actor, reason=f"Retirement signed as {SignOffRole(role).label.lower()}")
    return signoff


@transaction.atomic
def plan_retire(*, actor: User, plan: DecommissionPlan, reason: str = "") -> DecommissionPlan:
    """Retire the agent: refused, naming everything missing, until every task is done, both
    sign-offs are in, nothing is deployed and no grant is left. Its final archive is built by
    the worker once this commits, so it holds the retired stage and the sign-offs."""
    plan = lock(DecommissionPlan, plan.pk)
    _require_open(plan)
    _require_manage(actor, plan.agent)
    missing = selectors.missing_for_retirement(plan)
    if missing:
        raise Conflict("The agent cannot be retired yet. " + " ".join(
            m if m.endswith(".") else m + "." for m in missing), errors={"__all__": missing})
    reason = _text(reason, "reason", required=False) or plan.reason
    inventory.agent_set_stage(actor=actor, agent=plan.agent, stage=Stage.RETIRED,
                              reason=f"Retired: {reason}")
    plan.state, plan.retired_by, plan.retired_at = PlanState.RETIRED, actor, timezone.now()
    record(plan, actor=actor, reason=f"Retired: {reason}")
    archiving.final_archive_queue(plan, reason=reason)
    return plan


# --- The archive's retention ------------------------------------------------------------------

@transaction.atomic
def archive_hold(*, actor: User, archive: Archive, reason: str,
                 retain_until: date | None = None, legal_hold: bool = False) -> Archive:
    """Keep the archive longer, or under a legal hold; the agent's records get the same hold in
    the audit area. A retention is only ever extended here."""
    if not can(actor, "audit.manage_retention"):
        raise NotPermitted("Only compliance officers and admins extend retention.")
    archive = lock(Archive, archive.pk)
    reason = _text(reason, "reason")
    if retain_until is None and not legal_hold:
        raise DomainError("Give a later retain-until date, or place a legal hold.",
                          field="retain_until")
    if retain_until is not None and retain_until <= archive.retain_until:
        raise DomainError(f"Give a date after {archive.retain_until:%Y-%m-%d}: retention is only "
                          "extended.", field="retain_until")
    audit.retention_hold_place(actor=actor, agent=archive.agent, reason=reason,
                               retain_until=retain_until, legal_hold=legal_hold)
    archive.retain_until = retain_until or archive.retain_until
    archive.legal_hold = archive.legal_hold or legal_hold
    record(archive, actor=actor, reason=("Legal hold placed: " if legal_hold else
                                         "Retention extended: ") + reason)
    return archive


def archive_download(*, actor: User, archive: Archive):
    """The stored archive, opened for reading, its download recorded like every other export.
    The caller found the archive among those the actor may see (selectors.archive_for)."""
    handle = selectors.archive_open(archive)
    audit.download_record(actor=actor, kind=ExportKind.ARCHIVE, agent=archive.agent,
                          filters={"archive": archive.pk, "sha256": archive.sha256})
    return handle
