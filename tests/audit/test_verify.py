"""Tampering with the ledger through raw SQL, the way someone with database access would, and
the verifier naming the entry."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from almportal.audit import ledger
from almportal.audit.models import LedgerEntry, VerificationRun
from almportal.audit.services import ledger_catch_up
from almportal.audit.verify import verify_ledger

from .conftest import is_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(released_agent):
    ledger_catch_up()
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert len(entries) > 5
    return entries


def tamper(sql: str, params=()) -> None:
    """Raw SQL past the append-only trigger, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def test_it_passes_an_intact_ledger(chain):
    result = verify_ledger()
    assert result.ok, result.problem
    assert result.checked == len(chain) == result.head_seq


def test_it_names_an_updated_entry(chain):
    target = chain[3]
    tamper("UPDATE audit_ledgerentry SET reason = %s WHERE seq = %s", ["nothing", target.seq])
    result = verify_ledger()
    assert not result.ok
    assert result.first_bad_seq == target.seq
    assert "altered" in result.problem


def test_it_names_the_next_entry_when_an_update_also_fixes_its_hash(chain):
    target = chain[3]
    target.reason = "rewritten"
    forged = ledger.hash_of(target)
    tamper("UPDATE audit_ledgerentry SET reason = %s, hash = %s WHERE seq = %s",
           ["rewritten", forged, target.seq])
    result = verify_ledger()
    assert result.first_bad_seq == target.seq + 1
    assert "previous hash" in result.problem


def test_it_names_a_deleted_entry(chain):
    target = chain[2]
    tamper("DELETE FROM audit_ledgerentry WHERE seq = %s", [target.seq])
    result = verify_ledger()
    assert not result.ok
    assert result.first_bad_seq == target.seq
    assert "missing" in result.problem


def test_it_names_a_deleted_last_entry(chain):
    tamper("DELETE FROM audit_ledgerentry WHERE seq = %s", [chain[-1].seq])
    result = verify_ledger()
    assert result.first_bad_seq == chain[-1].seq


def test_it_names_an_inserted_entry_even_with_a_valid_chain(chain):
    last = chain[-1]
    forged = LedgerEntry(seq=last.seq + 1, time=last.time, actor_id=None, actor_name="mallory",
                         object_model="inventory.agent", object_pk="1", object_repr="x",
                         agent_id=None, action="changed", changes="[]", reason="forged",
                         history_model="inventory.historicalagent", history_id=999999,
                         prev_hash=last.hash)
    forged.hash = ledger.hash_of(forged)
    columns = ["seq", "time", "actor_id", "actor_name", "object_model", "object_pk",
               "object_repr", "agent_id", "action", "changes", "reason", "history_model",
               "history_id", "prev_hash", "hash"]
    values = [getattr(forged, c) for c in columns]
    tamper(f"INSERT INTO audit_ledgerentry ({', '.join(columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})", values)
    result = verify_ledger()
    assert result.first_bad_seq == forged.seq
    assert "inserted" in result.problem


def test_it_names_an_entry_inserted_with_a_broken_hash(chain):
    last = chain[-1]
    tamper("INSERT INTO audit_ledgerentry (seq, time, actor_name, object_model, object_pk, "
           "object_repr, action, changes, reason, history_model, history_id, prev_hash, hash) "
           "VALUES (%s, %s, 'm', 'inventory.agent', '1', 'x', 'changed', '[]', '', "
           "'inventory.historicalagent', %s, %s, %s)",
           [last.seq + 1, last.time, last.history_id + 1000, last.hash, "f" * 64])
    # Make the head agree, so only the entry itself can give it away.
    tamper("UPDATE audit_ledgerhead SET seq = %s WHERE id = 1", [last.seq + 1])
    result = verify_ledger()
    assert result.first_bad_seq == last.seq + 1


def test_the_command_names_the_entry(chain):
    tamper("UPDATE audit_ledgerentry SET actor_name = 'someone' WHERE seq = %s", [chain[1].seq])
    with pytest.raises(CommandError, match=f"entry #{chain[1].seq}"):
        call_command("verify_audit_ledger")
    assert VerificationRun.objects.get().first_bad_seq == chain[1].seq


def test_the_command_passes_an_intact_ledger(chain, capsys):
    call_command("verify_audit_ledger")
    assert "Ledger intact" in capsys.readouterr().out


def test_the_page_names_the_entry(chain, client, auditor):
    tamper("DELETE FROM audit_ledgerentry WHERE seq = %s", [chain[2].seq])
    client.force_login(auditor)
    response = client.post("/audit/verify/")
    assert response.status_code == 200
    assert f"#{chain[2].seq}".encode() in response.content
    assert VerificationRun.objects.get().run_by == auditor


@is_postgres
@pytest.mark.parametrize("sql", [
    "UPDATE audit_ledgerentry SET reason = 'x' WHERE seq = 1",
    "DELETE FROM audit_ledgerentry WHERE seq = 1",
])
def test_postgres_refuses_changing_the_ledger(chain, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert LedgerEntry.objects.get(seq=1).hash == chain[0].hash


@is_postgres
def test_postgres_keeps_the_trigger_on_the_table(chain):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_ledgerentry'::regclass"
                       " AND NOT tgisinternal ORDER BY tgname")
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["audit_ledger_no_truncate", "audit_ledger_no_update_delete"]
