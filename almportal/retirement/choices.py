from django.db import models


class TaskAction(models.TextChoices):
    """What completes a task: the portal itself (with proof), or a person (with evidence)."""

    MANUAL = "manual", "Manual (evidence or comment)"
    END_DEPLOYMENTS = "end_deployments", "End every deployment"
    REVOKE_CREDENTIALS = "revoke_credentials", "Revoke every credential and grant"
    PRESERVE_LOGS = "preserve_logs", "Place the retention hold on the agent's records"
    ARCHIVE_EVIDENCE = "archive_evidence", "Archive the evidence pack"
    NOTIFY_USERS = "notify_users", "Notify the agent's users and contacts"


AUTOMATIC_ACTIONS = set(TaskAction.values) - {TaskAction.MANUAL}


class AssigneeRole(models.TextChoices):
    """Who a template item goes to when a plan is started."""

    OWNER = "owner", "Business owner"
    TECHNICAL_OWNER = "technical_owner", "Technical owner (else the business owner)"
    COMPLIANCE = "compliance", "Compliance officer"
    SECURITY = "security", "Security reviewer"


class PlanState(models.TextChoices):
    OPEN = "open", "Open"
    RETIRED = "retired", "Retired"


class TaskStatus(models.TextChoices):
    TODO = "todo", "To do"
    DONE = "done", "Done"


class SignOffRole(models.TextChoices):
    OWNER = "owner", "Business owner"
    COMPLIANCE = "compliance", "Compliance"


# The tasks every template must hold (the list); a template may add more.
REQUIRED_TASKS = {
    "disable_endpoints": TaskAction.END_DEPLOYMENTS,
    "revoke_credentials": TaskAction.REVOKE_CREDENTIALS,
    "remove_service_accounts": TaskAction.MANUAL,
    "preserve_logs": TaskAction.PRESERVE_LOGS,
    "archive_evidence": TaskAction.ARCHIVE_EVIDENCE,
    "notify_users": TaskAction.NOTIFY_USERS,
    "update_catalog": TaskAction.MANUAL,
}
