"""Agent records in the ecosystem's formats: what was imported (and which of its tool flags a
person still has to confirm), the live cards an agent is watched at, and the drift found
there. Every change goes through standards.services; nothing here is ever deleted."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from ..core.errors import Conflict
from ..inventory.models import Agent
from ..releases.models import Release

User = settings.AUTH_USER_MODEL


class DocumentFormat(models.TextChoices):
    A2A_CARD = "a2a_card", "A2A AgentCard"
    MCP_SERVER = "mcp_server", "MCP server.json"
    OASF_RECORD = "oasf_record", "OASF record"


class CardKind(models.TextChoices):
    A2A_CARD = "a2a_card", "A2A AgentCard"
    MCP_SERVER = "mcp_server", "MCP server card"


class FindingState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class KeptForever(models.Model):
    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise Conflict(f"{str(self._meta.verbose_name).capitalize()} records are never deleted.")


class ImportRecord(KeptForever):
    """One document imported as an intake draft. `pending_tools` lists the tools whose write
    flag was seeded from the document's annotations (or not stated) and waits for a person:
    [{"name", "writes", "basis"}]."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="imports")
    document_format = models.CharField(max_length=20, choices=DocumentFormat.choices)
    source_url = models.URLField(max_length=500, blank=True)
    document = models.JSONField()
    document_hash = models.CharField(max_length=64)
    interface = models.JSONField(default=dict, blank=True,
                                 help_text="Endpoints, auth schemes and capabilities read from the "
                                           "document: a release's configuration under its format.")
    pending_tools = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_document_format_display()} import #{self.pk} ({self.agent})"

    def get_absolute_url(self) -> str:
        return reverse("standards:import-detail", kwargs={"pk": self.pk})


class WatchedCard(KeptForever):
    """A URL where the agent's live A2A card or MCP server card is served, polled with ETag."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="watched_cards")
    kind = models.CharField(max_length=20, choices=CardKind.choices)
    url = models.URLField(max_length=500)
    active = models.BooleanField(default=True, db_index=True)
    etag = models.CharField(max_length=200, blank=True, editable=False)
    document_hash = models.CharField(max_length=64, blank=True, editable=False)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    cosmetic = models.JSONField(default=list, blank=True, editable=False,
                                help_text="Differences shown, not acted on, at the last poll.")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["etag", "last_polled_at", "last_error"])

    class Meta:
        ordering = ["agent", "url"]
        constraints = [models.UniqueConstraint(fields=["agent", "kind", "url"],
                                               name="watchedcard_unique_url")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.agent} at {self.url}"

    def get_absolute_url(self) -> str:
        return reverse("standards:watch-detail", kwargs={"pk": self.pk})


class DriftFinding(KeptForever):
    """A material difference between a live card and the approved manifest."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="drift_findings")
    watch = models.ForeignKey(WatchedCard, on_delete=models.PROTECT, related_name="findings")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", help_text="The approved release compared.")
    differences = models.JSONField(help_text='[{"kind", "subject", "detail"}]')
    fingerprint = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=10, choices=FindingState.choices,
                             default=FindingState.OPEN, db_index=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    close_reason = models.TextField(max_length=2000, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return f"Drift finding #{self.pk} of {self.agent}"

    def get_absolute_url(self) -> str:
        return reverse("standards:finding-detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.state == FindingState.OPEN
