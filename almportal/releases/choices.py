from dataclasses import dataclass

from django.db import models


class ReleaseState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DEPLOYED = "deployed", "Deployed"
    SUPERSEDED = "superseded", "Superseded"
    ROLLED_BACK = "rolled_back", "Rolled back"
    VOIDED = "voided", "Voided"


RELEASE_TRANSITIONS = {
    ReleaseState.DRAFT: {ReleaseState.SUBMITTED},
    ReleaseState.SUBMITTED: {ReleaseState.APPROVED, ReleaseState.REJECTED, ReleaseState.VOIDED},
    ReleaseState.APPROVED: {ReleaseState.DEPLOYED, ReleaseState.VOIDED},
    ReleaseState.REJECTED: {ReleaseState.DRAFT},
    ReleaseState.DEPLOYED: {ReleaseState.SUPERSEDED, ReleaseState.ROLLED_BACK},
    ReleaseState.SUPERSEDED: {ReleaseState.DEPLOYED},
    ReleaseState.ROLLED_BACK: {ReleaseState.DEPLOYED},
    ReleaseState.VOIDED: set(),
}
FROZEN_RELEASE_STATES = set(ReleaseState.values) - {ReleaseState.DRAFT}


class ItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_REVIEW = "in_review", "In review"
    ACCEPTED = "accepted", "Accepted"


# Owners send an item with evidence for review; its reviewer accepts it or returns it; replaced
# evidence sends an accepted item back for review.
ITEM_TRANSITIONS = {
    ItemStatus.OPEN: {ItemStatus.IN_REVIEW},
    ItemStatus.IN_REVIEW: {ItemStatus.ACCEPTED, ItemStatus.OPEN},
    ItemStatus.ACCEPTED: {ItemStatus.IN_REVIEW, ItemStatus.OPEN},
}


class EvidenceKind(models.TextChoices):
    FILE = "file", "File"
    LINK = "link", "Link"
    EVALUATION = "evaluation", "Evaluation run"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class RunSource(models.TextChoices):
    PAGE = "page", "Entered in the portal"
    API = "api", "Posted over the API"


@dataclass(frozen=True)
class Metric:
    label: str
    higher_is_better: bool
    is_rate: bool  # a fraction between 0 and 1
    unit: str = ""  # how a value is read, shown next to the field and its threshold


RATE = "a rate from 0 to 1 (95 or 95% means 0.95)"

# The evaluation metrics the portal knows; tier policies set thresholds on these keys.
METRICS: dict[str, Metric] = {
    "task_success_rate": Metric("Task success rate", True, True, RATE),
    "tool_call_success_rate": Metric("Tool-call success rate", True, True, RATE),
    "escalation_precision": Metric("Escalation precision", True, True, RATE),
    "policy_compliance_rate": Metric("Policy compliance rate", True, True, RATE),
    "groundedness": Metric("Groundedness", True, True, RATE),
    "prompt_injection_pass_rate": Metric("Prompt-injection / red-team pass rate", True, True,
                                         RATE),
    "latency_p95_ms": Metric("p95 latency (ms)", False, False, "milliseconds"),
    "cost_per_task": Metric("Cost per task", False, False, "currency units per task"),
    "tokens_per_task": Metric("Tokens per task", False, False, "tokens per task"),
}
