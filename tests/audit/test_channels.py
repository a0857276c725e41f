"""Changes made through pages, API, admin, Celery tasks and management commands all reach the
ledger, in order, each with its actor. Real commits (transactional tests): the append runs on
commit exactly as in production."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import ProtectedError
from django.utils import timezone

from almportal.accounts.services import system_user
from almportal.audit import tasks
from almportal.audit.models import LedgerEntry, RetentionHold
from almportal.audit.services import retention_hold_place
from almportal.audit.verify import verify_ledger
from almportal.inventory import services as inventory

from ..factories import intake_data

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_channel_reaches_the_ledger_in_order(client, owner, compliance, auditor,
                                                   admin_user):
    agent = inventory.agent_create(actor=owner, data=intake_data())           # a service
    client.force_login(compliance)                                            # a page
    client.post(f"/audit/agents/{agent.slug}/retention/",
                {"reason": "Regulator's request", "legal_hold": "on"})
    client.force_login(auditor)                                               # the API
    b"".join(client.get("/api/v1/audit/ledger/export/jsonl/").streaming_content)
    client.force_login(admin_user)                                            # the admin
    client.post("/admin/audit/retentionhold/add/",
                {"agent": agent.pk, "reason": "Seven years", "retain_until":
                 (timezone.localdate() + timedelta(days=1)).isoformat()})
    hold = RetentionHold.objects.get(reason="Seven years")
    RetentionHold.objects.filter(pk=hold.pk).update(retain_until=timezone.localdate()
                                                    - timedelta(days=1))
    tasks.retention_expire.apply()                                            # a Celery task
    call_command("verify_audit_ledger")                                       # a command

    wanted = ["inventory.agent", "audit.retentionhold", "audit.exportrecord",
              "audit.retentionhold", "audit.retentionhold", "audit.verificationrun"]
    entries = [e for e in LedgerEntry.objects.order_by("seq") if e.object_model in wanted]
    robot = system_user()
    assert [(e.object_model, e.actor_name) for e in entries] == [
        ("inventory.agent", owner.username),
        ("audit.retentionhold", compliance.username),
        ("audit.exportrecord", auditor.username),
        ("audit.retentionhold", admin_user.username),
        ("audit.retentionhold", robot.username),
        ("audit.verificationrun", robot.username),
    ]
    assert entries[4].reason.startswith("Retention period ended")
    assert verify_ledger().ok


def test_a_legal_hold_keeps_the_agent_from_deletion(owner, compliance):
    agent = inventory.agent_create(actor=owner, data=intake_data())
    retention_hold_place(actor=compliance, agent=agent, reason="Litigation", legal_hold=True)
    with pytest.raises(ProtectedError):
        agent.delete()


def test_history_rows_are_never_deleted(owner):
    from almportal.core.errors import Conflict

    agent = inventory.agent_create(actor=owner, data=intake_data())
    with pytest.raises(Conflict):
        agent.history.first().delete()
