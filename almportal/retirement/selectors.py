"""Read queries for the decommissioning pages, the API, reminders and "My work": what a user
may see comes from inventory.agents_visible_to, so pages and API agree."""

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import Role
from ..core.errors import Conflict
from ..inventory.models import Agent, Credential
from ..inventory.selectors import visible_through
from ..operations import selectors as operations
from ..operations.choices import DeploymentState
from ..operations.models import Deployment
from .choices import PlanState, SignOffRole, TaskStatus
from .models import (
    Archive,
    DecommissionPlan,
    DecommissionTask,
    DecommissionTemplate,
    RetirementSignOff,
)
from .rules import DOWNLOAD, may_sign

# --- Templates and plans ---------------------------------------------------------------------

def current_template() -> DecommissionTemplate | None:
    return DecommissionTemplate.objects.order_by("-version").first()


def _plans() -> QuerySet[DecommissionPlan]:
    return DecommissionPlan.objects.select_related("agent", "agent__business_owner",
                                                   "started_by", "retired_by", "template")


def plans_visible_to(user: User) -> QuerySet[DecommissionPlan]:
    return _plans().filter(visible_through(user))


def plan_for(user: User, pk: int) -> DecommissionPlan:
    return get_object_or_404(plans_visible_to(user).prefetch_related(
        Prefetch("tasks", queryset=plan_tasks_query()),
        Prefetch("signoffs", queryset=RetirementSignOff.objects.select_related("user")),
        "contact_users"), pk=pk)


def plan_tasks_query() -> QuerySet[DecommissionTask]:
    return DecommissionTask.objects.select_related("assignee", "completed_by").order_by(
        "position", "pk")


def open_plan(agent: Agent) -> DecommissionPlan | None:
    return _plans().filter(agent=agent, state=PlanState.OPEN).first()


def latest_plan(agent: Agent) -> DecommissionPlan | None:
    return _plans().filter(agent=agent).first()


def task_for(user: User, pk: int) -> DecommissionTask:
    return get_object_or_404(
        DecommissionTask.objects.select_related("plan__agent", "assignee")
        .filter(visible_through(user, "plan__agent")), pk=pk)


def tasks_visible_to(user: User) -> QuerySet[DecommissionTask]:
    return (DecommissionTask.objects.filter(visible_through(user, "plan__agent"))
            .select_related("plan__agent", "assignee", "completed_by"))


# --- What retirement still waits for (derived, never stored) ------------------------------

def active_deployments(agent: Agent) -> list[Deployment]:
    return list(operations.agent_deployments(agent).filter(state=DeploymentState.ACTIVE))


def live_credentials(agent: Agent) -> list[Credential]:
    return list(Credential.objects.filter(agent=agent, revoked_at__isnull=True)
                .order_by("name", "version"))


def missing_for_retirement(plan: DecommissionPlan) -> list[str]:
    """Everything that stands between the plan and the agent's retirement, by name."""
    missing = [f"Task not done: {task.title}" for task in plan.tasks.all()
               if task.status != TaskStatus.DONE]
    signed = {s.role for s in plan.signoffs.all()}
    missing += [f"Sign-off missing: {role.label}" for role in SignOffRole if role not in signed]
    missing += [f"Deployment still active: {d.environment} (#{d.pk})"
                for d in active_deployments(plan.agent)]
    missing += [f"Credential not revoked: {c}" for c in live_credentials(plan.agent)]
    return missing


# --- Archives ----------------------------------------------------------------------------------

def archives_visible_to(user: User) -> QuerySet[Archive]:
    """Auditors, compliance officers and admins see every archive; a business owner those of
    their own agents; nobody else any."""
    archives = Archive.objects.select_related("agent", "created_by", "plan")
    if can(user, DOWNLOAD):
        return archives
    if not (user.is_authenticated and user.is_active):
        return archives.none()
    return archives.filter(agent__business_owner=user)


def plan_archives(user: User, plan: DecommissionPlan) -> list[Archive]:
    """The plan's archives this user may see, the final one (built after retirement) first."""
    return list(archives_visible_to(user).filter(plan=plan).order_by("-final", "-created_at",
                                                                     "-pk"))


def archive_for(user: User, pk: int) -> Archive:
    return get_object_or_404(archives_visible_to(user), pk=pk)


def archive_open(archive: Archive):
    """The stored file, opened for reading."""
    try:
        return open(Path(settings.MEDIA_ROOT) / archive.path, "rb")
    except FileNotFoundError as exc:
        raise Conflict("The archive file is missing from storage.") from exc


def archive_intact(archive: Archive) -> bool:
    """Whether the stored file still has the SHA-256 recorded when it was made."""
    digest = hashlib.sha256()
    with archive_open(archive) as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest() == archive.sha256


# --- Periodic work ------------------------------------------------------------------------

def late_tasks(today: date) -> QuerySet[DecommissionTask]:
    return (DecommissionTask.objects.filter(status=TaskStatus.TODO, due_date__lt=today,
                                            plan__state=PlanState.OPEN)
            .select_related("plan__agent__business_owner", "assignee").order_by("due_date", "pk"))


def tasks_waiting_for(user: User) -> list[DecommissionTask]:
    return list(DecommissionTask.objects.filter(assignee=user, status=TaskStatus.TODO,
                                                plan__state=PlanState.OPEN)
                .select_related("plan__agent").order_by("due_date", "pk"))


@dataclass
class SignOffWaiting:
    plan: DecommissionPlan
    role: str

    @property
    def role_label(self) -> str:
        return SignOffRole(self.role).label


def signoffs_waiting_for(user: User) -> list[SignOffWaiting]:
    """Open plans whose tasks are all done and that wait for this user's sign-off."""
    if not (user.is_authenticated and user.is_active):
        return []
    roles = [SignOffRole.OWNER]
    if user.has_role(Role.COMPLIANCE):
        roles.append(SignOffRole.COMPLIANCE)
    who = Q(agent__business_owner=user) if len(roles) == 1 else Q()
    plans = (_plans().filter(who, state=PlanState.OPEN)
             .exclude(tasks__status=TaskStatus.TODO)
             .prefetch_related("signoffs"))
    waiting = []
    for plan in plans:
        signed = {s.role: s.user_id for s in plan.signoffs.all()}
        if user.pk in signed.values():
            continue
        waiting += [SignOffWaiting(plan, role) for role in roles
                    if role not in signed and may_sign(user, plan, role)]
    return waiting


def assignable_people() -> list[User]:
    return list(User.objects.filter(is_active=True, is_service_account=False)
                .order_by("username"))
