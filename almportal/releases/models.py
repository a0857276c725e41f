"""Releases (frozen manifests of an agent's component versions), their readiness checklists with
evidence, evaluation suites and runs, and sign-offs. Every change goes through
releases.services; nothing here is ever deleted."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ..accounts.roles import Role
from ..core.hashing import content_hash
from ..inventory.models import (
    COMPONENT_MODELS,
    Agent,
    ComponentVersion,
    Credential,
    DataSource,
    ModelComponent,
    Prompt,
    Tool,
)
from .choices import Decision, EvidenceKind, ItemStatus, ReleaseState, RunSource

User = settings.AUTH_USER_MODEL


class Release(models.Model):
    """A version of an agent: a frozen manifest of exact component versions and configuration.

    While a draft, its components and configuration may change (the manifest is recomputed);
    once submitted it never changes: a new component version goes into a new release."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="releases")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=40, blank=True, help_text="e.g. 1.4.0")
    state = models.CharField(max_length=20, choices=ReleaseState.choices,
                             default=ReleaseState.DRAFT, db_index=True)
    notes = models.TextField(max_length=4000, blank=True)
    configuration = models.JSONField(default=dict, blank=True,
                                     help_text="Token and budget limits, rate limits, guardrails.")
    models_used = models.ManyToManyField(ModelComponent, blank=True, related_name="releases")
    prompts = models.ManyToManyField(Prompt, blank=True, related_name="releases")
    tools = models.ManyToManyField(Tool, blank=True, related_name="releases")
    data_sources = models.ManyToManyField(DataSource, blank=True, related_name="releases")
    credentials = models.ManyToManyField(Credential, blank=True, related_name="releases")
    manifest = models.JSONField(default=dict, editable=False)
    manifest_hash = models.CharField(max_length=64, editable=False, db_index=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    # The manifest key of each component relation.
    COMPONENT_RELATIONS = {"models": "models_used", "prompts": "prompts", "tools": "tools",
                           "data_sources": "data_sources", "credentials": "credentials"}

    class Meta:
        # Kept in inventory's label: its tables keep their names and every ledger entry its
        # model label ("inventory.release"), which the audit chain hashes.
        app_label = "inventory"
        ordering = ["agent", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "number"], name="release_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} release {self.display_version}"

    def get_absolute_url(self) -> str:
        return reverse("releases:release-detail",
                       kwargs={"slug": self.agent.slug, "number": self.number})

    @property
    def display_version(self) -> str:
        return self.label or f"#{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.state != ReleaseState.DRAFT


def build_manifest(*, agent_slug: str, configuration: dict,
                   components: dict[str, list[ComponentVersion]]) -> dict:
    """The canonical content of a release. Component lists are sorted so order never matters."""
    return {
        "agent": agent_slug,
        "configuration": configuration,
        "components": {
            kind: sorted((c.manifest_entry() for c in components.get(kind, [])),
                         key=lambda e: (e["name"], e["version"]))
            for kind in COMPONENT_MODELS
        },
    }


def manifest_hash(manifest: dict) -> str:
    return content_hash(manifest)


def evidence_path(instance, filename: str) -> str:
    """A random name: the uploader's file name is kept in a field, never used as a path."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"evidence/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ChecklistItem(models.Model):
    """One readiness item of a release, made from its tier's checklist template."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="checklist_items")
    key = models.CharField(max_length=60)
    pillar = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    clauses = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=0)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    status = models.CharField(max_length=20, choices=ItemStatus.choices,
                              default=ItemStatus.OPEN, db_index=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["release", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["release", "key"],
                                               name="checklist_item_unique_key")]

    def __str__(self) -> str:
        return f"{self.title} ({self.release})"

    def get_absolute_url(self) -> str:
        release = self.release
        return reverse("releases:item-detail", kwargs={
            "slug": release.agent.slug, "number": release.number, "pk": self.pk})


class EvaluationSuite(models.Model):
    """A named evaluation: the dataset it runs on and the metrics it measures."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="evaluation_suites")
    name = models.CharField(max_length=120)
    dataset_ref = models.CharField("dataset reference", max_length=300)
    dataset_version = models.CharField(max_length=80)
    metrics = models.JSONField(default=list, help_text="The metric keys it measures.")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agent", "name"]
        constraints = [models.UniqueConstraint(fields=["agent", "name"],
                                               name="evaluation_suite_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.dataset_ref}@{self.dataset_version})"


class EvaluationRun(models.Model):
    """The metrics one run of a suite measured on a release, judged against the tier."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="evaluation_runs")
    suite = models.ForeignKey(EvaluationSuite, on_delete=models.PROTECT, related_name="runs")
    manifest_hash = models.CharField(max_length=64, editable=False)
    metrics = models.JSONField(default=dict)
    passed = models.BooleanField(default=False)
    failures = models.JSONField(default=list, blank=True)
    baseline_release = models.ForeignKey(Release, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="+")
    source = models.CharField(max_length=10, choices=RunSource.choices, default=RunSource.PAGE)
    notes = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.suite.name} run #{self.pk} on {self.release}"


class Evidence(models.Model):
    """What shows an item is done. Replaced evidence is kept, pointing at its successor."""

    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices)
    file = models.FileField(upload_to=evidence_path, max_length=200, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    evaluation_run = models.ForeignKey(EvaluationRun, on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+")
    note = models.CharField(max_length=1000, blank=True)
    effective_date = models.DateField(help_text="The date the evidence speaks for.")
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    superseded_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    replaced_at = models.DateTimeField(null=True, blank=True)
    # The stored file's random name stays out of history: its SHA-256, size and type are kept.
    history = HistoricalRecords(excluded_fields=["file"])

    class Meta:
        ordering = ["item", "-uploaded_at", "-pk"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        what = self.original_name or self.url or f"evaluation run #{self.evaluation_run_id}"
        return f"{self.get_kind_display()}: {what}"

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None

    def get_download_url(self) -> str:
        release = self.item.release
        return reverse("releases:evidence-download", kwargs={
            "slug": release.agent.slug, "number": release.number, "pk": self.pk})


class SignOff(models.Model):
    """One person's decision for one role on one release, bound to the manifest they saw."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="signoffs")
    role = models.CharField(max_length=30, choices=Role.choices)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signoffs")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(max_length=4000, blank=True)
    manifest_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    void_reason = models.CharField(max_length=1000, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["release", "created_at", "pk"]
        constraints = [
            # One person fills one role per release (among the sign-offs that count).
            models.UniqueConstraint(fields=["release", "user"],
                                    condition=Q(voided_at__isnull=True),
                                    name="signoff_one_per_person"),
            models.UniqueConstraint(fields=["release", "role", "user"],
                                    condition=Q(voided_at__isnull=True),
                                    name="signoff_one_per_person_and_role"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.user} as {self.get_role_display()}"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None
