"""Decommissioning: a plan per agent made from the current template, its tasks with proof or
evidence, the final sign-offs, and the archive kept after retirement. Every change goes through
retirement.services; nothing here is ever deleted."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from ..core.errors import Conflict
from ..inventory.models import Agent
from .choices import AUTOMATIC_ACTIONS, PlanState, SignOffRole, TaskAction, TaskStatus

if TYPE_CHECKING:
    from ..accounts.models import User as Person

User = settings.AUTH_USER_MODEL


class KeptForever(models.Model):
    """Records an auditor relies on: history explains them, so they are never deleted."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise Conflict(f"{str(self._meta.verbose_name).capitalize()} records are never deleted.")


class DecommissionTemplate(KeptForever):
    """One version of the task list that new plans are made from. Editing publishes a new
    version; plans keep the version they were made from."""

    version = models.PositiveIntegerField(unique=True)
    items = models.JSONField(help_text='A list of {"key", "title", "action", "assignee_role", '
                                       '"due_offset_days"}.')
    notes = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Decommission template v{self.version}"


class DecommissionPlan(KeptForever):
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="decommission_plans")
    template = models.ForeignKey(DecommissionTemplate, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=PlanState.choices, default=PlanState.OPEN,
                             db_index=True)
    reason = models.TextField(max_length=2000)
    planned_date = models.DateField(help_text="When the agent is to be retired.")
    retention_until = models.DateField(
        help_text="The agent's logs and evidence are kept at least until this date.")
    dependents = models.TextField(max_length=4000, blank=True,
                                  help_text="Dependent agents and systems, for the catalog.")
    contact_users: "models.ManyToManyField[Person, Any]" = models.ManyToManyField(
        User, blank=True, related_name="+",
        help_text="People told of the retirement.")
    contact_emails = models.TextField(max_length=4000, blank=True,
                                      help_text="Further addresses told of the retirement.")
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    retired_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    retired_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agent"], condition=models.Q(state=PlanState.OPEN),
                                    name="decommission_one_open_plan_per_agent"),
        ]
        permissions = [
            ("manage_decommission", "Can start and work the decommissioning of any agent"),
            ("download_archive", "Can download the archives of retired agents"),
        ]

    def __str__(self) -> str:
        return f"Decommissioning of {self.agent}"

    def get_absolute_url(self) -> str:
        return reverse("retirement:plan-detail", kwargs={"pk": self.pk})

    def email_list(self) -> list[str]:
        raw = self.contact_emails.replace(",", "\n").replace(";", "\n").split()
        return sorted({address.strip().lower() for address in raw if address.strip()})


class DecommissionTask(KeptForever):
    plan = models.ForeignKey(DecommissionPlan, on_delete=models.PROTECT, related_name="tasks")
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    action = models.CharField(max_length=30, choices=TaskAction.choices)
    position = models.PositiveSmallIntegerField(default=0)
    assignee = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="decommission_tasks")
    due_date = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.TODO,
                              db_index=True)
    comment = models.TextField(max_length=4000, blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True,
                                       help_text="SHA-256 of an evidence file kept elsewhere.")
    proof = models.JSONField(default=dict, blank=True,
                             help_text="What the portal did, for automatic tasks.")
    completed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="decommission_task_key_once"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"{self.plan.get_absolute_url()}#task-{self.pk}"

    @property
    def is_automatic(self) -> bool:
        return self.action in AUTOMATIC_ACTIONS

    @property
    def is_done(self) -> bool:
        return self.status == TaskStatus.DONE


class RetirementSignOff(KeptForever):
    plan = models.ForeignKey(DecommissionPlan, on_delete=models.PROTECT, related_name="signoffs")
    role = models.CharField(max_length=20, choices=SignOffRole.choices)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "role"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "role"], name="retirement_signoff_per_role"),
            models.UniqueConstraint(fields=["plan", "user"], name="retirement_signoff_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} sign-off by {self.user}"


class Archive(KeptForever):
    """The evidence pack of an agent stored when it was decommissioned, with its SHA-256. It is
    kept at least until `retain_until`, and for as long as a legal hold stands.

    The archiving task stores one while the agent is sunsetting; the *final* archive is built
    by the worker once the retirement has committed, so it holds the retired stage and the
    retirement sign-offs. A plan has at most one final archive."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="archives")
    plan = models.ForeignKey(DecommissionPlan, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="archives")
    path = models.CharField(max_length=500, help_text="Relative to MEDIA_ROOT.")
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    retain_until = models.DateField()
    legal_hold = models.BooleanField(default=False)
    final = models.BooleanField(
        default=False, help_text="Built after the retirement committed, with its sign-offs.")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-final", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan"], condition=models.Q(final=True),
                                    name="retirement_one_final_archive_per_plan"),
        ]

    def __str__(self) -> str:
        return self.file_name

    def get_absolute_url(self) -> str:
        return reverse("retirement:archive-download", kwargs={"pk": self.pk})
