import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from .roles import ROLE_BY_GROUP_NAME, Role


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
        if not self.is_active:
            return frozenset()
        names = self.groups.values_list("name", flat=True)
        roles = {ROLE_BY_GROUP_NAME[name] for name in names if name in ROLE_BY_GROUP_NAME}
        if self.is_superuser:
            roles.add(Role.ADMIN)
        return frozenset(roles)

    def has_role(self, role: str) -> bool:
        return role in self.roles


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    RUNTIME = "runtime", "Runtime status (gateways)"
    INGEST = "ingest", "Monitoring ingestion"


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
    history = HistoricalRecords(excluded_fields=["last_used_at"])

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
