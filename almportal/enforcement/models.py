"""What each gateway says it enforces. A row per gateway token, agent, environment and
gateway name, rewritten only when the revision changes or the last report has aged (like
operations.RuntimePoll, it is a reading, not a record with history)."""

from django.db import models

from ..accounts.models import ApiToken
from ..inventory.models import Agent
from ..operations.models import Environment


class GatewayReport(models.Model):
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="gateway_reports")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="+")
    gateway = models.CharField(max_length=100, blank=True,
                               help_text="The name the gateway gives itself (one token may "
                                         "serve several instances).")
    revision = models.CharField(max_length=1000)
    revision_since = models.DateTimeField(help_text="When it first reported this revision.")
    first_reported_at = models.DateTimeField()
    last_reported_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["environment", "gateway", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["token", "agent", "environment", "gateway"],
                                    name="gateway_report_one_per_gateway"),
        ]

    def __str__(self) -> str:
        return f"{self.name} enforces {self.revision[:12]} for {self.agent}"

    @property
    def name(self) -> str:
        return self.gateway or self.token.name
