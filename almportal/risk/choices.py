from django.db import models

from ..inventory.choices import RiskTier


class AssessmentState(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETED = "completed", "Completed"


class Topic(models.TextChoices):
    DATA_SENSITIVITY = "data_sensitivity", "Data sensitivity"
    AUTONOMY = "autonomy", "Autonomy"
    ACTION_REACH = "action_reach", "Action reach"
    REGULATED_DOMAIN = "regulated_domain", "Regulated domain"
    AUDIENCE = "audience", "Audience"
    SCALE = "scale", "Scale"
    TOOL_ACCESS = "tool_access", "Tool access"
    MODEL_HOSTING = "model_hosting", "Model hosting and data retention"
    HUMAN_OVERSIGHT = "human_oversight", "Human oversight"
    PROHIBITED_PRACTICES = "prohibited_practices", "Prohibited practices"


class Framework(models.TextChoices):
    NIST_AI_RMF = "nist_ai_rmf", "NIST AI RMF 1.0"
    ISO_42001 = "iso_42001", "ISO/IEC 42001:2023 Annex A"
    EU_AI_ACT = "eu_ai_act", "EU AI Act"


class Pillar(models.TextChoices):
    """What a readiness checklist item is about."""

    ACCOUNTABILITY = "accountability", "Accountability and KPIs"
    VERSIONING = "versioning", "Versioning"
    ACCESS_CONTROL = "access_control", "Access control"
    HUMAN_OVERSIGHT = "human_oversight", "Human approval paths"
    EVALUATION = "evaluation", "Evaluation"
    AUDIT = "audit", "Audit trail"
    OBSERVABILITY = "observability", "Monitoring and observability"
    INCIDENT_RESPONSE = "incident_response", "Incident response"
    DECOMMISSIONING = "decommissioning", "Decommissioning"
    # The three pillars of operational readiness (release checklists).
    SECURITY_ACCESS = "security_access", "Security and access"
    PERFORMANCE_ACCURACY = "performance_accuracy", "Performance and accuracy"
    COST = "cost", "Cost"


class PrefillSource(models.TextChoices):
    """Where the assessment form takes a question's suggested answer from."""

    NONE = "", "Nothing (asked of the assessor)"
    DATA_CLASSIFICATION = "data_classification", "Agent: data classification"
    AUTONOMY_LEVEL = "autonomy_level", "Agent: autonomy level"
    ACTION_REACH = "action_reach", "Agent: action reach"
    REGULATED_DOMAIN = "regulated_domain", "Agent: regulated domain"
    AUDIENCE = "audience", "Agent: audience"
    TOOLS = "tools", "Agent's tools (write tools, code execution)"
    MODELS = "models", "Agent's models (hosting)"


# Names the assessment form uses for itself, which question keys may not take.
RESERVED_QUESTION_KEYS = frozenset({"action", "tier", "justification", "reason", "answers"})

# Tiers an assessment can give, in increasing order of what they demand.
ASSESSED_TIERS = [RiskTier.LOW, RiskTier.MEDIUM, RiskTier.HIGH, RiskTier.CRITICAL,
                  RiskTier.UNACCEPTABLE]
TIER_CHOICES = [(tier.value, tier.label) for tier in ASSESSED_TIERS]


def tier_rank(tier: str) -> int:
    """Order of tiers; anything unassessed ranks below low."""
    try:
        return ASSESSED_TIERS.index(RiskTier(tier))
    except ValueError:
        return -1


def highest_tier(*tiers: str) -> str:
    return max((t for t in tiers if t), key=tier_rank, default=RiskTier.LOW)


# --- Risk register and impact assessment ---------------------------------------------------

class RiskRating(models.TextChoices):
    """A risk's rating from likelihood × impact (each 1–5): see risk.rules.rating."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class RiskStatus(models.TextChoices):
    OPEN = "open", "Open"
    TREATED = "treated", "Treated"
    ACCEPTED = "accepted", "Residual risk accepted"
    CLOSED = "closed", "Closed"


class TreatmentKind(models.TextChoices):
    AVOID = "avoid", "Avoid"
    MITIGATE = "mitigate", "Mitigate"
    TRANSFER = "transfer", "Transfer"
    ACCEPT = "accept", "Accept"


class TreatmentStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class ImpactState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
