"""Signed checkpoints (made, published, carried by exports and packs), packs verified record by
record, and the database role that cannot switch the ledger's trigger off."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from almportal.audit import signing, tasks
from almportal.audit.dbrole import app_role_sql
from almportal.audit.models import LedgerEntry, LedgerHead, SignedCheckpoint
from almportal.audit.services import ledger_catch_up
from almportal.audit.verify import verify_pack

from .conftest import is_postgres
from .test_pack_and_as_of import pack_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(released_agent, client, exporter) -> bytes:
    ledger_catch_up()
    client.force_login(exporter)
    return pack_of(client, f"/audit/agents/{released_agent.slug}/evidence-pack.zip")


def forge(body: bytes, path: str, edit) -> bytes:
    """Edit one record file and regenerate the MANIFEST, as a careful forger would."""
    original = zipfile.ZipFile(io.BytesIO(body))
    files = {name: original.read(name) for name in original.namelist()}
    files[path] = json.dumps(edit(json.loads(files[path])), indent=2).encode()
    files["MANIFEST.sha256"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in sorted(files.items()) if name != "MANIFEST.sha256").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _set(key: str, value):
    def edit(data):
        target = data[0] if isinstance(data, list) else data
        target[key] = value
        return data
    return edit


# --- Checkpoints -----------------------------------------------------------------------------

def test_the_beat_task_signs_the_head_and_the_signature_verifies(released_agent):
    ledger_catch_up()
    seq = tasks.ledger_sign()
    checkpoint = SignedCheckpoint.objects.get()
    assert seq == checkpoint.seq == LedgerHead.objects.get().seq
    assert checkpoint.entry_hash == LedgerEntry.objects.get(seq=seq).hash
    assert signing.signature_ok(checkpoint)
    checkpoint.entry_hash = "0" * 64
    assert not signing.signature_ok(checkpoint)


def test_without_a_key_a_server_signs_nothing_and_says_so(released_agent, settings, caplog):
    settings.AUDIT_SIGNING_KEY, settings.DEBUG = "", False
    ledger_catch_up()
    assert signing.sign_head() is None
    assert "No audit signing key" in caplog.text


def test_a_development_server_makes_its_own_key_file(settings, tmp_path, released_agent):
    settings.AUDIT_SIGNING_KEY, settings.DEBUG, settings.VAR_DIR = "", True, tmp_path
    ledger_catch_up()
    assert signing.signature_ok(signing.sign_head())
    assert (tmp_path / "audit-signing-key.pem").stat().st_mode & 0o077 == 0


def test_the_public_key_is_published_to_anyone(client, db):
    page = client.get("/audit/signing-key.pem")
    assert page.status_code == 200
    assert page.content.decode() == signing.public_key_pem()
    api = client.get("/api/v1/audit/checkpoints/signing-key/").json()
    assert api == {"algorithm": "Ed25519", "key_id": signing.key_id(),
                   "public_key_pem": signing.public_key_pem()}


def test_no_key_no_published_key(client, settings, db):
    settings.AUDIT_SIGNING_KEY, settings.DEBUG = "", False
    assert client.get("/audit/signing-key.pem").status_code == 404
    assert client.get("/api/v1/audit/checkpoints/signing-key/").status_code == 404


def test_checkpoints_are_listed_for_the_audit_roles_only(released_agent, client, auditor, owner):
    ledger_catch_up()
    checkpoint = signing.sign_head()
    client.force_login(owner)
    assert client.get("/api/v1/audit/checkpoints/").status_code == 403
    assert client.get(f"/api/v1/audit/checkpoints/{checkpoint.pk}/").status_code == 403
    client.force_login(auditor)
    [listed] = client.get("/api/v1/audit/checkpoints/").json()["results"]
    assert listed["document"] == signing.as_document(checkpoint)


def test_exports_and_packs_carry_the_checkpoint_signed_when_they_were_made(pack, client):
    archive = zipfile.ZipFile(io.BytesIO(pack))
    carried = json.loads(archive.read("ledger/checkpoint.json"))
    # A checkpoint the portal signed (when the worker built the pack), not one made up.
    checkpoint = SignedCheckpoint.objects.filter(signature=carried["signature"]).first()
    assert checkpoint is not None and carried == signing.as_document(checkpoint)
    assert archive.read("ledger/signing-key.pem").decode() == signing.public_key_pem()
    export = b"".join(client.get("/audit/export.jsonl").streaming_content)
    end = json.loads(export.splitlines()[-1])
    newest = SignedCheckpoint.objects.order_by("-pk").first()
    assert newest.pk > checkpoint.pk  # the export signed the head again
    assert end["checkpoint"] == signing.as_document(newest)


# --- Packs, record by record -----------------------------------------------------------------

@pytest.mark.parametrize(("path", "edit", "field"), [
    ("agent/agent.json", _set("business_unit", "Another unit"), "business_unit"),
    ("agent/agent.json", _set("business_owner_id", 987654), "business_owner_id"),
    ("components/models.json", _set("pinned_version", "latest"), "pinned_version"),
    ("releases/release-1.json", _set("manifest_hash", "f" * 64), "manifest_hash"),
])
def test_an_edited_record_file_is_refused_by_name(pack, path, edit, field):
    result = verify_pack(io.BytesIO(forge(pack, path, edit)))
    assert not result.ok
    assert any(p.startswith(f"{path}: ") and f"field {field} " in p for p in result.problems), \
        result.problems


def test_a_record_without_history_is_refused(pack):
    result = verify_pack(io.BytesIO(forge(pack, "agent/agent.json", _set("id", 999999))))
    assert result.problems == ["agent/agent.json: inventory.agent #999999 has no live history "
                               "in the pack"]


def test_the_genuine_pack_passes_record_by_record(pack):
    assert verify_pack(io.BytesIO(pack)).ok


def test_the_command_names_the_edited_file(pack, tmp_path):
    forged = tmp_path / "pack.zip"
    forged.write_bytes(forge(pack, "agent/agent.json", _set("purpose", "Something else")))
    with pytest.raises(CommandError, match="agent/agent.json: inventory.agent"):
        call_command("verify_audit_export", str(forged))


def test_the_page_names_the_edited_file(pack, client, auditor):
    client.force_login(auditor)
    upload = SimpleUploadedFile("pack.zip", forge(pack, "agent/agent.json",
                                                  _set("purpose", "Something else")))
    response = client.post("/audit/verify/file/", {"file": upload})
    assert response.status_code == 200
    assert "agent/agent.json: inventory.agent" in response.content.decode()


# --- The application's database role ------------------------------------------------------

@is_postgres
def test_postgres_app_role_cannot_alter_or_disable_the_ledger_trigger(released_agent):
    ledger_catch_up()
    role = f"alm_app_{connection.settings_dict['NAME']}"  # roles are per cluster
    attempts = [
        "ALTER TABLE audit_ledgerentry DISABLE TRIGGER audit_ledger_no_update_delete",
        "ALTER TABLE audit_ledgerentry DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_ledger_no_update_delete ON audit_ledgerentry",
        "CREATE OR REPLACE FUNCTION audit_ledger_refuse_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "SET session_replication_role = replica",
        "UPDATE audit_ledgerentry SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_ledgerentry WHERE seq = 1",
        "TRUNCATE audit_ledgerentry",
        "ALTER TABLE audit_ledgerentry OWNER TO CURRENT_USER",
    ]
    with connection.cursor() as cursor:  # all inside the test's transaction, rolled back
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        for statement in app_role_sql(role):
            cursor.execute(statement)
        cursor.execute(f"SET ROLE {role}")
        try:
            cursor.execute("SELECT count(*) FROM audit_ledgerentry")
            assert cursor.fetchone()[0] == LedgerHead.objects.get().seq
            cursor.execute("SELECT has_table_privilege(current_user, 'audit_ledgerentry', "
                           "'INSERT'), has_table_privilege(current_user, 'inventory_agent', "
                           "'UPDATE')")
            assert cursor.fetchone() == (True, True)  # it can still run the portal
            for statement in attempts:
                with pytest.raises(DatabaseError), transaction.atomic():
                    cursor.execute(statement)
        finally:
            cursor.execute("RESET ROLE")
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = "
                       "'audit_ledger_no_update_delete'")
        assert cursor.fetchone()[0] == "O"  # still enabled


@is_postgres
def test_the_role_command_prints_the_grants(capsys, db):
    call_command("audit_db_role", "alm_app")
    out = capsys.readouterr().out
    assert 'REVOKE UPDATE, DELETE, TRUNCATE ON audit_ledgerentry FROM "alm_app";' in out

