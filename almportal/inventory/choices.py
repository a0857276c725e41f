from django.db import models


class Stage(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    DECLINED = "declined", "Declined"
    IN_DEVELOPMENT = "in_development", "In development"
    LIVE = "live", "Live"
    SUSPENDED = "suspended", "Suspended"
    SUNSETTING = "sunsetting", "Sunsetting"
    RETIRED = "retired", "Retired"


STAGE_TRANSITIONS = {
    Stage.DRAFT: {Stage.PROPOSED},
    Stage.PROPOSED: {Stage.IN_DEVELOPMENT, Stage.DECLINED, Stage.DRAFT},
    Stage.DECLINED: {Stage.DRAFT},
    Stage.IN_DEVELOPMENT: {Stage.LIVE, Stage.SUNSETTING},
    Stage.LIVE: {Stage.SUSPENDED, Stage.SUNSETTING, Stage.IN_DEVELOPMENT},
    Stage.SUSPENDED: {Stage.LIVE, Stage.SUNSETTING},
    Stage.SUNSETTING: {Stage.RETIRED},
    Stage.RETIRED: set(),
}

# Stages in which the intake itself may still be edited freely by its owner.
EDITABLE_INTAKE_STAGES = {Stage.DRAFT, Stage.DECLINED}
# Stages after which the agent is read-only.
CLOSED_STAGES = {Stage.RETIRED}


class Audience(models.TextChoices):
    INTERNAL = "internal", "Internal staff"
    CUSTOMERS = "customers", "Customers"
    PUBLIC = "public", "The public"


class AutonomyLevel(models.TextChoices):
    SUGGEST_ONLY = "suggest_only", "Suggest only"
    HUMAN_APPROVES = "human_approves", "Human approves each action"
    WITHIN_LIMITS = "within_limits", "Acts within limits"
    FULLY_AUTONOMOUS = "fully_autonomous", "Fully autonomous"


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted / personal"

    @classmethod
    def rank(cls, value: str) -> int:
        return list(cls.values).index(value)


class ActionReach(models.TextChoices):
    READ_ONLY = "read_only", "Read only"
    WRITES_INTERNAL = "writes_internal", "Writes internal records"
    MOVES_MONEY_OR_ACCESS = "moves_money_or_access", "Moves money or changes access"
    EXTERNAL_COMMUNICATIONS = "external_communications", "Communicates externally"


class RegulatedDomain(models.TextChoices):
    NONE = "none", "None"
    HR = "hr", "Employment / HR"
    FINANCE = "finance", "Finance and credit"
    HEALTH = "health", "Health"
    LEGAL = "legal", "Legal"
    EDUCATION = "education", "Education"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "Critical infrastructure"
    LAW_ENFORCEMENT = "law_enforcement", "Law enforcement / public services"


class RiskTier(models.TextChoices):
    UNASSESSED = "unassessed", "Not assessed"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"
    UNACCEPTABLE = "unacceptable", "Unacceptable"


class Hosting(models.TextChoices):
    VENDOR_API = "vendor_api", "Vendor API"
    SELF_HOSTED = "self_hosted", "Self-hosted"


class ToolKind(models.TextChoices):
    MCP_SERVER = "mcp_server", "MCP server"
    REST_API = "rest_api", "REST API"
    DATABASE = "database", "Database"
    CODE_EXECUTION = "code_execution", "Code execution"


class GrantMode(models.TextChoices):
    STANDING = "standing", "Standing"
    JUST_IN_TIME = "just_in_time", "Just in time"
