"""The five roles of ARCHITECTURE §4 as Django groups, and the model permissions each holds.

Object permissions (an owner's or a delegate's rights on one agent) come from django-guardian;
the model permissions here are what a role may do everywhere. The groups are created by a data
migration; their permissions are brought in line with ROLE_PERMISSIONS after every migrate, so a
new app's models reach the right roles without a hand-written migration each time.
"""

from fnmatch import fnmatch

from django.apps import apps as global_apps
from django.db import models


class Role(models.TextChoices):
    BUSINESS_OWNER = "business_owner", "Business owner"
    COMPLIANCE = "compliance_officer", "Compliance officer"
    SECURITY = "security_reviewer", "Security reviewer"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Admin"


# Group names are the roles' labels: what an admin sees in Django admin.
GROUP_NAMES: dict[str, str] = {role: role.label for role in Role}
ROLE_BY_GROUP_NAME = {name: role for role, name in GROUP_NAMES.items()}

# Patterns are "app_label.codename" with shell wildcards.
_READ_EVERYTHING = ["inventory.view_*", "risk.view_*", "releases.view_*", "operations.view_*",
                    "retirement.view_*", "reviews.view_*", "audit.view_*"]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.BUSINESS_OWNER: [
        "inventory.add_agent",  # file intakes; rights on one agent come from object permissions
        "accounts.add_apitoken",
    ],
    Role.COMPLIANCE: [
        *_READ_EVERYTHING,
        "inventory.triage_agent",
        "operations.suspend_agent",
        "operations.manage_incident",
        "audit.export_ledger",
        "audit.manage_retention",
        "audit.add_internalaudit",  # plans and leads audits and management reviews
        "audit.change_internalaudit",
        "audit.add_correctiveaction",  # assigns corrective actions on any finding
        "retirement.manage_decommission",
        "retirement.download_archive",
        "accounts.add_apitoken",
    ],
    Role.SECURITY: [
        *_READ_EVERYTHING,
        "inventory.revoke_credential",
        "reviews.complete_revocationtask",
        "operations.suspend_agent",
        "accounts.add_apitoken",
    ],
    Role.AUDITOR: [
        *_READ_EVERYTHING,
        "accounts.view_user",
        "accounts.view_apitoken",
        "audit.export_ledger",
        "retirement.download_archive",
        "accounts.add_apitoken",  # read-scoped tokens for evidence tools; writes stay refused
        # Their one kind of write: audit findings, and verifying that what was done about one
        # closes it (never an action they recorded themselves).
        "audit.add_finding",
        "audit.verify_correctiveaction",
    ],
    Role.ADMIN: ["*"],
}

# What an auditor's token or session may never do, whatever else they hold.
READ_ONLY_ROLES = {Role.AUDITOR}


def is_read_only(user) -> bool:
    """Holds a role marked read-only: may read, is never given a write grant."""
    return bool(user.roles & READ_ONLY_ROLES)


def sync_role_permissions(apps=global_apps) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    every = [(f"{p.content_type.app_label}.{p.codename}", p)
             for p in Permission.objects.select_related("content_type")]
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        wanted = [p for name, p in every if any(fnmatch(name, pat) for pat in patterns)]
        group.permissions.set(wanted)


def sync_role_permissions_after_migrate(sender, **kwargs) -> None:
    # post_migrate is sent once per app with models; after the last one every permission exists.
    with_models = [config for config in global_apps.get_app_configs() if config.models_module]
    if sender.label == with_models[-1].label:
        sync_role_permissions()
