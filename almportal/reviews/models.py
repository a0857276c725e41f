"""Periodic access reviews: a review lists every grant an agent holds; its owner certifies keep or
revoke for each; a revoke opens a revocation task for security. Rows change only through
reviews.services; history records every change (and thus the audit ledger)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from ..inventory.models import Agent, Credential, DataSource, Tool

User = settings.AUTH_USER_MODEL


class ReviewState(models.TextChoices):
    OPEN = "open", "Open"
    ESCALATED = "escalated", "Overdue, escalated to compliance"
    COMPLETED = "completed", "Completed"


REVIEW_TRANSITIONS = {
    ReviewState.OPEN: {ReviewState.ESCALATED, ReviewState.COMPLETED},
    ReviewState.ESCALATED: {ReviewState.COMPLETED},
    ReviewState.COMPLETED: set(),
}
UNFINISHED_STATES = (ReviewState.OPEN, ReviewState.ESCALATED)


class GrantKind(models.TextChoices):
    CREDENTIAL = "credential", "Credential"
    TOOL = "tool", "Tool permission"
    DATA_SOURCE = "data_source", "Data-source access"


class Decision(models.TextChoices):
    PENDING = "pending", "Not decided"
    KEEP = "keep", "Keep"
    REVOKE = "revoke", "Revoke"


DECISION_TRANSITIONS = {
    Decision.PENDING: {Decision.KEEP, Decision.REVOKE},
    Decision.KEEP: set(),
    Decision.REVOKE: set(),
}


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


TASK_TRANSITIONS = {TaskState.OPEN: {TaskState.DONE}, TaskState.DONE: set()}


class AccessReview(models.Model):
    """One periodic re-certification of an agent's grants, for the period that fell due on
    `due_on`. It must be completed by `due_at`; after that it is overdue and escalates."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="access_reviews")
    due_on = models.DateField(help_text="The day the review fell due: the period it covers.")
    due_at = models.DateTimeField(help_text="Complete by then, or it escalates to compliance.")
    tier = models.CharField(max_length=20, help_text="The agent's tier when the review opened.")
    state = models.CharField(max_length=20, choices=ReviewState.choices,
                             default=ReviewState.OPEN, db_index=True)
    opened_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "due_on"],
                                    name="accessreview_once_per_period"),
        ]
        indexes = [models.Index(fields=["agent", "state"], name="accessreview_agent_state")]

    def __str__(self) -> str:
        # No related rows here: the ledger renders thousands of these at once.
        return f"Access review #{self.pk} (due {self.due_on:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("reviews:review-detail", kwargs={"pk": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.state == ReviewState.COMPLETED

    def is_overdue(self, now) -> bool:
        return not self.is_finished and now >= self.due_at


class ReviewItem(models.Model):
    """One grant as it stood when the review opened, and the owner's decision on it."""

    review = models.ForeignKey(AccessReview, on_delete=models.PROTECT, related_name="items")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=GrantKind.choices)
    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="review_items")
    tool = models.ForeignKey(Tool, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="review_items")
    data_source = models.ForeignKey(DataSource, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="review_items")
    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField()
    access = models.JSONField(default=dict, help_text="What the grant allowed when reviewed: "
                              "scopes, operations or retrieval scope.")
    granted_by = models.CharField(max_length=200, blank=True)
    granted_at = models.DateTimeField()
    decision = models.CharField(max_length=10, choices=Decision.choices,
                                default=Decision.PENDING, db_index=True)
    comment = models.TextField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "kind", "name", "version"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name} v{self.version}"

    @property
    def grant(self):
        return self.credential or self.tool or self.data_source


class RevocationTask(models.Model):
    """Security's work after a revoke decision: cut the access where it lives (the identity
    provider, the tool's server, the data source) and say what was done."""

    item = models.OneToOneField(ReviewItem, on_delete=models.PROTECT,
                                related_name="revocation_task")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="revocation_tasks")
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.OPEN,
                             db_index=True)
    opened_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    note = models.TextField(max_length=2000, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["opened_at", "pk"]
        permissions = [("complete_revocationtask", "Can complete revocation tasks")]

    def __str__(self) -> str:
        return f"Revocation task #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:task-detail", kwargs={"pk": self.pk})
