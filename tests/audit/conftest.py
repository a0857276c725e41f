from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from almportal.audit.services import ledger_catch_up

from ..factories import make_release


@pytest.fixture
def exporter(auditor):
    assert auditor.has_perm("audit.export_ledger")  # the auditor role holds it
    return auditor


@pytest.fixture
def keeper(compliance):
    assert compliance.has_perm("audit.manage_retention")  # the compliance role holds it
    return compliance


@pytest.fixture
def ledgered(django_capture_on_commit_callbacks):
    """Run the block, then append its history to the ledger as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def released_agent(agent, compliance, ledgered):
    from almportal.inventory import services as inventory

    with ledgered():
        inventory.agent_submit_intake(actor=agent.business_owner, agent=agent)
        inventory.agent_accept(actor=compliance, agent=agent, reason="Fits the roadmap")
        make_release(agent)
    ledger_catch_up()  # the fixtures' own history (users, groups) made before the block
    return agent


is_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                 reason="needs PostgreSQL (set DATABASE_URL): the append-only "
                                        "trigger exists only there")


def history_copies(history_row, count: int, start: int = 0, **changes) -> list[tuple[str, int]]:
    """`count` history rows like this one ("changed", a day later, one microsecond apart), with
    the given fields formatted with their number n, inserted in one statement and not yet in
    the ledger. Returns their ledger keys, oldest first."""
    model = type(history_row)
    values = {f.attname: getattr(history_row, f.attname) for f in model._meta.concrete_fields
              if f.attname != "history_id"}
    later = timezone.now() + timedelta(days=1)
    rows = model.objects.bulk_create([
        model(**{**values, **{k: v.format(n=n) for k, v in changes.items()},
                 "history_type": "~", "history_date": later + timedelta(microseconds=n)})
        for n in range(start, start + count)])
    return [(model._meta.label_lower, row.history_id) for row in rows]


@pytest.fixture(scope="session")
def signing_key_pem() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from almportal.audit.signing import private_key_pem

    return private_key_pem(Ed25519PrivateKey.generate()).decode("ascii")


@pytest.fixture(autouse=True)
def signing_key(settings, signing_key_pem):
    """The audit tests sign checkpoints with a key of their own, as a deployment would."""
    settings.AUDIT_SIGNING_KEY = signing_key_pem
    return signing_key_pem
