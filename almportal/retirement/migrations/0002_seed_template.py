from django.db import migrations
from django.utils import timezone

# The first decommissioning template: the seven tasks every plan holds. Admins publish later
# versions; plans keep the version they were made from.
ITEMS = [
    {"key": "notify_users", "title": "Notify the agent's users and contacts",
     "action": "notify_users", "assignee_role": "owner", "due_offset_days": 3},
    {"key": "disable_endpoints",
     "title": "Disable endpoints: end every deployment (runtime status becomes retired)",
     "action": "end_deployments", "assignee_role": "owner", "due_offset_days": 7},
    {"key": "revoke_credentials", "title": "Revoke every credential and grant",
     "action": "revoke_credentials", "assignee_role": "owner", "due_offset_days": 7},
    {"key": "remove_service_accounts", "title": "Remove the agent's service accounts",
     "action": "manual", "assignee_role": "technical_owner", "due_offset_days": 14},
    {"key": "preserve_logs", "title": "Preserve logs until the retention date",
     "action": "preserve_logs", "assignee_role": "compliance", "due_offset_days": 14},
    {"key": "update_catalog", "title": "Update the catalog: dependent agents and systems noted",
     "action": "manual", "assignee_role": "owner", "due_offset_days": 21},
    {"key": "archive_evidence", "title": "Archive the evidence (evidence pack, hashed)",
     "action": "archive_evidence", "assignee_role": "compliance", "due_offset_days": 21},
]
REASON = "Seeded decommission template"


def seed(apps, schema_editor):
    Template = apps.get_model("retirement", "DecommissionTemplate")
    History = apps.get_model("retirement", "HistoricalDecommissionTemplate")
    if Template.objects.exists():
        return
    template = Template.objects.create(version=1, items=ITEMS, notes="The issue's seven tasks.")
    History.objects.create(id=template.pk, version=1, items=ITEMS, notes=template.notes,
                           created_at=template.created_at, history_date=timezone.now(),
                           history_type="+", history_change_reason=REASON)


class Migration(migrations.Migration):
    dependencies = [("retirement", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
