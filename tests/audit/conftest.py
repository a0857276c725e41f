import pytest
from django.db import connection

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
