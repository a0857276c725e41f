import secrets
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from .roles import Role


class User(AbstractUser):
    """A person, or a service account that acts only through API tokens (CI, gateways)."""

    is_service_account = models.BooleanField(
        default=False, help_text="Acts only through API tokens; cannot log in to the pages."
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        from .access import roles_of

        return roles_of(self)

    def has_role(self, role: str) -> bool:
        return role in self.roles


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    RUNTIME = "runtime", "Runtime status (gateways)"
    INGEST = "ingest", "Monitoring ingestion"
    SCIM = "scim", "SCIM provisioning (identity provider)"


class ApiToken(models.Model):
    """A bearer token for integrations. Only its SHA-256 is stored; the secret is shown once."""

    PREFIX = "alm_"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12, db_index=True, editable=False,
                                  help_text="The first characters, to recognise a token.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["last_used_at", "key_hash"])
    key: str  # the secret, set only on a token just created for its one showing; never stored

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def generate_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "active" if self.expires_at > timezone.now() else "expired"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class Outboxed(models.Model):
    """A row the worker e-mails (accounts.outbox). `email_due_at` is when it may next try:
    null once e-mailed (or for a person without an address); a claim pushes it a lease ahead,
    so a row whose sender died comes due again."""

    emailed_at = models.DateTimeField(null=True, blank=True)
    email_due_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveIntegerField(default=0)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True


class Notification(Outboxed):
    """An in-app message (also emailed) pointing at the object it is about. A reminder carries
    a dedupe key such as "review-overdue:42:2026-11", so it is sent once per object per period
    however often the scan that finds it runs."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=60, db_index=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="A path inside the portal.")
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"],
                                    condition=~models.Q(dedupe_key=""),
                                    name="notification_once_per_key"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread"),
                   models.Index(fields=["email_due_at"], name="notification_outbox",
                                condition=models.Q(email_due_at__isnull=False))]

    def __str__(self) -> str:
        return f"{self.subject} → {self.user}"


# --- Identity provider: role mapping, directory groups, external identities --------------------

class GroupRoleMapping(models.Model):
    """Members of this identity-provider group hold this role. Read for people the identity
    provider manages (signed in through single sign-on or provisioned over SCIM)."""

    idp_group = models.CharField(
        "identity provider group", max_length=200,
        help_text="The group as the identity provider names it: a value of the OIDC groups "
                  "claim, or a SCIM group's displayName. Matched exactly.")
    role = models.CharField(max_length=40, choices=Role.choices)
    active = models.BooleanField(default=True, help_text="Untick to stop granting the role.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["idp_group", "role"]
        constraints = [models.UniqueConstraint(fields=["idp_group", "role"],
                                               name="group_role_mapping_once")]

    def __str__(self) -> str:
        return f"{self.idp_group} → {Role(self.role).label}"


class DirectoryGroup(models.Model):
    """A group the identity provider pushes over SCIM, with its members."""

    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(User, related_name="directory_groups", blank=True)
    active = models.BooleanField(default=True, help_text="False once the identity provider "
                                                         "deleted it; its members lost its roles.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class IdentitySource(models.TextChoices):
    OIDC = "oidc", "OpenID Connect sign-in"
    SCIM = "scim", "SCIM provisioning"


class ExternalIdentity(models.Model):
    """How the identity provider knows a person: the OIDC subject, or the SCIM externalId.
    A person with one is managed there: their roles follow its groups."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="external_identities")
    source = models.CharField(max_length=10, choices=IdentitySource.choices)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "subject"],
                                               name="external_identity_once")]
        verbose_name_plural = "external identities"

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.subject}"

class OutgoingEmail(Outboxed):
    """An e-mail to addresses outside the portal's people (a decommissioning notice to a team
    mailbox), queued in the transaction of the change and sent by the worker like a
    notification."""

    to = models.JSONField(default=list)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["email_due_at"], name="outgoing_email_outbox",
                                condition=models.Q(email_due_at__isnull=False))]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
