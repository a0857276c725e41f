from datetime import timedelta

import pytest
from django.utils import timezone

from almportal.audit.services import ledger_catch_up
from almportal.inventory import services as inventory
from almportal.inventory.choices import Stage
from almportal.retirement import archiving, services
from almportal.retirement.choices import SignOffRole, TaskAction, TaskStatus

from ..factories import make_agent


def add_credential(agent, actor=None, name="crm-api"):
    return inventory.component_add_version(
        actor=actor or agent.business_owner, agent=agent, kind="credentials",
        data={"name": name, "identity": f"svc-{name}", "scopes": ["read"],
              "granted_by": "IT service desk"})


def start(agent, actor=None, **kwargs):
    kwargs.setdefault("reason", "Replaced by the new helpdesk agent")
    kwargs.setdefault("planned_date", timezone.localdate() + timedelta(days=30))
    return services.plan_start(actor=actor or agent.business_owner, agent=agent, **kwargs)


def task(plan, key):
    return plan.tasks.get(key=key)


# Who does each automatic task: the audit services let only compliance keep and archive
# records; grants are revoked by the owner.
RUNNERS = {TaskAction.END_DEPLOYMENTS: "owner", TaskAction.REVOKE_CREDENTIALS: "owner",
           TaskAction.NOTIFY_USERS: "owner", TaskAction.PRESERVE_LOGS: "compliance",
           TaskAction.ARCHIVE_EVIDENCE: "compliance"}


def do_every_task(plan, owner, compliance):
    people = {"owner": owner, "compliance": compliance}
    for each in plan.tasks.filter(status=TaskStatus.TODO).order_by("position"):
        if each.is_automatic:
            services.task_run(actor=people[RUNNERS[each.action]], task=each)
        else:
            services.task_complete(actor=owner, task=each, comment="Done, see the ticket.",
                                   evidence_url="https://tickets.example.test/DEC-1")
        # Each task is its own transaction in the portal: its history reaches the ledger when
        # it commits, before the next task (the archive's pack is checked against the ledger).
        ledger_catch_up()


def sign_both(plan, owner, compliance):
    services.signoff_record(actor=owner, plan=plan, role=SignOffRole.OWNER)
    services.signoff_record(actor=compliance, plan=plan, role=SignOffRole.COMPLIANCE)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _worker_builds_final_archives(monkeypatch):
    """The worker builds a retired agent's final archive as soon as it is asked: Celery runs
    this one task eagerly, raising what it raises."""
    task = archiving.final_archive_build_task
    monkeypatch.setattr(task, "apply_async", lambda args=None, kwargs=None, **options:
                        task.apply(args=args, kwargs=kwargs, throw=True))


@pytest.fixture
def ledgered(django_capture_on_commit_callbacks):
    """Run the block, then append its history to the ledger as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def dev_agent(owner):
    agent = make_agent(owner, Stage.IN_DEVELOPMENT)
    add_credential(agent)
    add_credential(agent, name="ticketing")
    return agent


@pytest.fixture
def plan(dev_agent):
    return start(dev_agent)


@pytest.fixture
def signed(plan, owner, compliance, ledgered):
    """A plan with every task done and both sign-offs in, its history in the ledger."""
    ledger_catch_up()
    with ledgered():
        do_every_task(plan, owner, compliance)
        sign_both(plan, owner, compliance)
    return plan


@pytest.fixture
def retired(signed, owner, ledgered):
    """The signed plan retired, its history in the ledger and its final archive built after
    the commit."""
    with ledgered():
        services.plan_retire(actor=owner, plan=signed)
    signed.refresh_from_db()
    return signed
