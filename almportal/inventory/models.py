from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from ..core.hashing import sha256_hex
from .choices import (
    ActionReach,
    Audience,
    AutonomyLevel,
    DataClassification,
    GrantMode,
    Hosting,
    RegulatedDomain,
    RiskTier,
    Stage,
    ToolKind,
)

User = settings.AUTH_USER_MODEL


class Agent(models.Model):
    """An AI agent, from intake to retirement. Every change goes through inventory.services."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    purpose = models.TextField("business problem", max_length=4000,
                               help_text="What problem the agent solves, and for whom.")
    why_agent = models.TextField(
        "why an agent", max_length=4000,
        help_text="Why an agent rather than rules, search or a plain prompt.")
    business_owner = models.ForeignKey(User, on_delete=models.PROTECT, null=True,
                                       related_name="owned_agents")
    sponsor = models.CharField(max_length=120, blank=True)
    technical_owner = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="technical_agents")
    business_unit = models.CharField(max_length=120, db_index=True)
    intended_users = models.TextField(max_length=2000, help_text="Who will use it, and how many.")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    success_metrics = models.JSONField(default=list, blank=True,
                                       help_text="KPIs, each with a target.")
    autonomy_level = models.CharField(max_length=20, choices=AutonomyLevel.choices)
    data_classification = models.CharField(max_length=20, choices=DataClassification.choices)
    action_reach = models.CharField(max_length=30, choices=ActionReach.choices)
    regulated_domain = models.CharField(max_length=30, choices=RegulatedDomain.choices,
                                        default=RegulatedDomain.NONE)
    risk_tier = models.CharField(max_length=20, choices=RiskTier.choices,
                                 default=RiskTier.UNASSESSED, db_index=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.DRAFT,
                             db_index=True)
    tags = models.JSONField(default=list, blank=True)
    next_review_at = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the agent was last seen working (inventory.services.agents_seen): a reading for
    # dormancy, kept by the services that see the activity, not a change to record in history.
    last_active_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at", "last_active_at"])

    class Meta:
        ordering = ["name"]
        permissions = [
            ("triage_agent", "Can accept or decline intakes"),
            # Narrow rights for service accounts on chosen agents (inventory.rules.SERVICE_RIGHTS).
            ("record_evaluations", "Can record evaluation runs (CI)"),
            ("deploy_agent", "Can deploy releases (CI/CD)"),
            ("poll_runtime", "Can poll the runtime status (gateway)"),
            ("ingest_metrics", "Can send monitoring samples (gateway)"),
        ]
        # Lists read one page in name order: an index keeps that page cheap at fleet size.
        indexes = [models.Index(fields=["name", "id"], name="agent_name_order"),
                   models.Index(fields=["stage", "last_active_at"], name="agent_activity")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:agent-detail", kwargs={"slug": self.slug})


class AgentUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK object permissions (owner, delegates): fast however many grants a user holds."""

    content_object = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="user_perms")
    history = HistoricalRecords()


class AgentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agent, on_delete=models.CASCADE,
                                       related_name="group_perms")
    history = HistoricalRecords()


class ComponentVersion(models.Model):
    """One immutable version of a named component of an agent. A change is a new row with the
    next version number; nothing versioned is ever overwritten."""

    kind: str = ""  # the manifest key, e.g. "prompts"
    manifest_fields: tuple[str, ...] = ()

    # Each concrete kind overrides `agent` with its own related_name (agent.prompts,
    # agent.tools…); declared here so code that handles any kind knows every one has an agent.
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120,
                            validators=[RegexValidator(r"^[\w .:/@+-]+$", "Letters, digits and "
                                                       "._:/@+- only.")])
    version = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    notes = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    # Each concrete kind declares its own HistoricalRecords; this names the manager they add.
    history: ClassVar[HistoryManager]

    class Meta:
        abstract = True
        ordering = ["name", "-version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def manifest_entry(self) -> dict:
        entry = {"id": self.pk, "name": self.name, "version": self.version}
        for field in self.manifest_fields:
            value = getattr(self, field)
            entry[field] = value.isoformat() if hasattr(value, "isoformat") else value
        return entry


def _component_meta(model_name: str, permissions: tuple = (), **options):
    return type("Meta", (), {**options,
        "ordering": ["name", "-version"],
        "constraints": [models.UniqueConstraint(fields=["agent", "name", "version"],
                                                name=f"{model_name}_unique_version")],
        "permissions": permissions,
    })


class ModelComponent(ComponentVersion):
    kind = "models"
    manifest_fields = ("provider", "model_name", "pinned_version", "hosting", "data_retention")

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="models")
    provider = models.CharField(max_length=80)
    model_name = models.CharField(max_length=120)
    pinned_version = models.CharField(max_length=80, help_text="The exact model version pinned.")
    hosting = models.CharField(max_length=20, choices=Hosting.choices)
    data_retention = models.CharField(max_length=300, blank=True,
                                      help_text="The vendor's data-retention terms.")
    history = HistoricalRecords()
    Meta = _component_meta("modelcomponent", verbose_name="model")


class Prompt(ComponentVersion):
    kind = "prompts"
    manifest_fields = ("content_hash",)

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="prompts")
    text = models.TextField(max_length=100_000)
    content_hash = models.CharField(max_length=64, editable=False)
    history = HistoricalRecords()
    Meta = _component_meta("prompt")

    def save(self, *args, **kwargs):
        self.content_hash = sha256_hex(self.text)  # derived, never entered
        super().save(*args, **kwargs)


class Tool(ComponentVersion):
    kind = "tools"
    manifest_fields = ("tool_kind", "endpoint", "operations", "writes", "needs_human_approval")

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="tools")
    tool_kind = models.CharField("kind", max_length=20, choices=ToolKind.choices)
    endpoint = models.CharField(max_length=500, help_text="Endpoint URL or server name.")
    operations = models.JSONField(default=list, help_text="The operations it may call.")
    writes = models.BooleanField(default=False, help_text="Whether it changes anything.")
    needs_human_approval = models.BooleanField(default=False,
                                               help_text="A human approves each call.")
    history = HistoricalRecords()
    Meta = _component_meta("tool")


class DataSource(ComponentVersion):
    kind = "data_sources"
    manifest_fields = ("system", "classification", "retrieval_scope")

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="data_sources")
    system = models.CharField(max_length=120)
    classification = models.CharField(max_length=20, choices=DataClassification.choices)
    retrieval_scope = models.CharField(max_length=500)
    history = HistoricalRecords()
    Meta = _component_meta("datasource")


class Credential(ComponentVersion):
    """A credential or grant: the identity the agent acts as and what it may do."""

    kind = "credentials"
    manifest_fields = ("identity", "scopes", "granted_by", "expires_at", "mode")

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="credentials")
    identity = models.CharField(max_length=200, help_text="Service account or identity.")
    scopes = models.JSONField(default=list)
    granted_by = models.CharField(max_length=120)
    expires_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=20, choices=GrantMode.choices, default=GrantMode.STANDING)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    history = HistoricalRecords()
    Meta = _component_meta("credential", permissions=(
        ("revoke_credential", "Can revoke any agent's credentials and grants"),), indexes=[
        # The security home page's lists: live grants by expiry, standing ones oldest first.
        models.Index(fields=["expires_at"], condition=models.Q(revoked_at__isnull=True),
                     name="credential_live_expiry"),
        models.Index(fields=["created_at", "id"], name="credential_standing_age",
                     condition=models.Q(revoked_at__isnull=True, mode=GrantMode.STANDING)),
    ])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


COMPONENT_MODELS: dict[str, type[ComponentVersion]] = {
    model.kind: model for model in (ModelComponent, Prompt, Tool, DataSource, Credential)
}
