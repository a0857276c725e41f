"""The audit ledger and the records the audit area keeps about itself.

The ledger is append-only: one entry per history row of every tracked model, chained by SHA-256
(see audit.ledger for the content that is hashed and audit.services for how entries are appended).
Nothing here is ever updated or deleted by the application; on PostgreSQL a trigger refuses it.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

User = settings.AUTH_USER_MODEL

GENESIS_HASH = "0" * 64  # the "previous hash" of the first entry


class Action(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"


class LedgerEntry(models.Model):
    """One history row, frozen: what changed, who did it, why, and the hash chain."""

    seq = models.PositiveBigIntegerField(primary_key=True)
    time = models.DateTimeField(db_index=True, help_text="When the change was made (UTC).")
    actor = models.ForeignKey(User, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                              related_name="+")
    actor_name = models.CharField(max_length=150)
    object_model = models.CharField(max_length=100, help_text="app_label.model of the record.")
    object_pk = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    agent_id = models.BigIntegerField(null=True, blank=True, db_index=True,
                                      help_text="The agent the record belongs to, if any.")
    action = models.CharField(max_length=10, choices=Action.choices)
    # Canonical JSON text, not a JSON column: a database JSON type may renormalise numbers or
    # keys, and the hash must be recomputable from exactly what is stored.
    changes = models.TextField(default="[]")
    reason = models.TextField(blank=True)
    history_model = models.CharField(max_length=100,
                                     help_text="app_label.model of the history table.")
    history_id = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["seq"]
        default_permissions = ("view",)
        permissions = [
            ("export_ledger", "Can export audit history and download evidence packs"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["history_model", "history_id"],
                                    name="ledger_one_entry_per_history_row"),
        ]
        indexes = [
            models.Index(fields=["object_model", "object_pk"], name="ledger_object_idx"),
            models.Index(fields=["actor", "seq"], name="ledger_actor_idx"),
            # The history page filters by agent or record type and pages by seq.
            models.Index(fields=["agent_id", "seq"], name="ledger_agent_seq_idx"),
            models.Index(fields=["object_model", "seq"], name="ledger_model_seq_idx"),
            # Verification joins each history table with its entries after a checkpoint.
            models.Index(fields=["history_model", "seq"], name="ledger_source_seq_idx"),
        ]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_model} {self.object_repr}"

    def get_absolute_url(self) -> str:
        return reverse("audit:entry", kwargs={"seq": self.seq})


class LedgerHead(models.Model):
    """The single row that holds the last sequence number and hash. Appending locks this row
    (and only this row) for the few statements that extend the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"ledger head #{self.seq}"


class ExportKind(models.TextChoices):
    CSV = "csv", "History export (CSV)"
    JSONL = "jsonl", "History export (JSON Lines)"
    AGENT_PACK = "agent_pack", "Evidence pack (agent)"
    PORTFOLIO_PACK = "portfolio_pack", "Evidence pack (portfolio)"
    ARCHIVE = "archive", "Retirement archive"
    OSCAL = "oscal", "OSCAL Assessment Results (agent)"


class ExportRecord(models.Model):
    """Every export and evidence-pack download, recorded before the file is sent."""

    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    agent = models.ForeignKey("inventory.Agent", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    filters = models.JSONField(default=dict, blank=True)
    last_seq = models.PositiveBigIntegerField(null=True, blank=True,
                                              help_text="The last ledger entry included.")
    last_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.created_by} at {self.created_at:%Y-%m-%d %H:%M}"


class VerificationRun(models.Model):
    """A check of the whole chain: who ran it, and the first entry that did not match."""

    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField(default=0)
    head_seq = models.PositiveBigIntegerField(default=0)
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)
    run_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    run_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-run_at", "-pk"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"verification {'passed' if self.ok else 'FAILED'} at {self.run_at:%Y-%m-%d %H:%M}"


class RetentionHold(models.Model):
    """How long an agent's records must be kept, and whether a legal hold freezes them.

    Nothing audited is hard-deleted in any case; a hold makes the obligation explicit and
    refuses deleting the agent's records while it is in force."""

    agent = models.ForeignKey("inventory.Agent", on_delete=models.PROTECT,
                              related_name="retention_holds")
    reason = models.TextField(max_length=2000)
    retain_until = models.DateField(null=True, blank=True,
                                    help_text="Keep everything at least until this date.")
    legal_hold = models.BooleanField(default=False,
                                     help_text="A legal hold keeps everything until released.")
    placed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(max_length=2000, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-placed_at", "-pk"]
        default_permissions = ("view",)
        permissions = [("manage_retention", "Can place and release retention and legal holds")]

    def __str__(self) -> str:
        kind = "Legal hold" if self.legal_hold else "Retention"
        until = f" until {self.retain_until:%Y-%m-%d}" if self.retain_until else ""
        return f"{kind} on {self.agent}{until}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class CheckpointKind(models.TextChoices):
    VERIFIED = "verified", "Verified"
    SIGNED = "signed", "Signed"


class LedgerCheckpoint(models.Model):
    """"The ledger up to entry #seq, whose hash is entry_hash": verified by a full or incremental
    check (so the next check starts from here), or signed (signature and key_id filled in)."""

    seq = models.PositiveBigIntegerField()
    entry_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=CheckpointKind.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # NULL, not "", marks a checkpoint that was never signed (signature and key go together).
    signature = models.TextField(null=True, blank=True)  # noqa: DJ001
    key_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    history = HistoricalRecords()

    class Meta:
        ordering = ["-seq", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["kind", "-seq"], name="ledger_checkpoint_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} checkpoint at #{self.seq}"


class PackState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being built"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class PackJob(models.Model):
    """An evidence pack built by the worker into private storage (audit.packjobs). The ledger
    head it covers is fixed when it is requested; each download is recorded as an
    ExportRecord when it happens."""

    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    agent = models.ForeignKey("inventory.Agent", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    filters = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=PackState.choices, default=PackState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    last_seq = models.PositiveBigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("audit:pack-job", kwargs={"pk": self.pk})

    @property
    def percent(self) -> int:
        if self.state == PackState.READY:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class SignedCheckpoint(models.Model):
    """The ledger head (sequence number and hash) at a moment, signed with the portal's Ed25519
    key (audit.signing). The key lives outside the database, so whoever can write to the
    database can neither forge a checkpoint nor rebuild the chain behind one unnoticed. A
    checkpoint proves itself by its signature; it is written once and never changed."""

    seq = models.PositiveBigIntegerField(help_text="The last ledger entry the checkpoint covers.")
    entry_hash = models.CharField(max_length=64, help_text="That entry's hash.")
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=32, help_text="Which key signed it (see audit.signing).")
    signature = models.CharField(max_length=128, help_text="Ed25519 signature, base64.")

    class Meta:
        ordering = ["-seq", "-signed_at", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["seq"], name="checkpoint_seq_idx")]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} signed {self.signed_at:%Y-%m-%d %H:%M}"


# --- Internal audits, management reviews, findings and corrective actions -------------------

class AuditKind(models.TextChoices):
    AUDIT = "audit", "Internal audit"
    MANAGEMENT_REVIEW = "management_review", "Management review"


class AuditState(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class FindingSeverity(models.TextChoices):
    OBSERVATION = "observation", "Observation"
    MINOR = "minor", "Minor nonconformity"
    MAJOR = "major", "Major nonconformity"


class ActionState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done, awaiting verification"
    VERIFIED = "verified", "Closed (verified)"


class InternalAudit(models.Model):
    """An internal audit or a management review (ISO/IEC 42001 9.2, 9.3): planned and led by
    compliance; auditors record its findings."""

    kind = models.CharField(max_length=20, choices=AuditKind.choices, default=AuditKind.AUDIT)
    title = models.CharField(max_length=200)
    scope = models.TextField(max_length=5000)
    period_start = models.DateField()
    period_end = models.DateField()
    lead = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=AuditState.choices,
                             default=AuditState.PLANNED, db_index=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_end", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("audit:internal-audit", kwargs={"pk": self.pk})


class Finding(models.Model):
    """What an audit found, about the management system or one agent. Recording findings is
    the one kind of write an auditor makes."""

    audit = models.ForeignKey(InternalAudit, on_delete=models.PROTECT, related_name="findings")
    agent = models.ForeignKey("inventory.Agent", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="audit_findings")
    severity = models.CharField(max_length=12, choices=FindingSeverity.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10_000)
    clause = models.CharField(max_length=100, blank=True,
                              help_text="The requirement it concerns (e.g. ISO/IEC 42001 8.4).")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True,
                                     help_text="When its last corrective action was verified.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"F-{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("audit:finding", kwargs={"pk": self.pk})


class CorrectiveAction(models.Model):
    """What is done about a finding: assigned to the agent's owner or another person, who
    records the action and its evidence; an auditor other than that person verifies closure."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="actions")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                              help_text="Who carries it out.")
    description = models.TextField(max_length=5000, help_text="What is to be done.")
    due_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=ActionState.choices,
                             default=ActionState.OPEN, db_index=True)
    action_taken = models.TextField(max_length=10_000, blank=True)
    evidence = models.CharField(max_length=1000, blank=True,
                                help_text="A link or reference to the evidence.")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_note = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["finding", "pk"]
        permissions = [("verify_correctiveaction",
                        "Can verify the closure of corrective actions")]

    def __str__(self) -> str:
        return f"CA-{self.pk} on {self.finding}"

    def get_absolute_url(self) -> str:
        return self.finding.get_absolute_url()
