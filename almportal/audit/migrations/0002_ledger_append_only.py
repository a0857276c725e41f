"""The ledger head row, and on PostgreSQL a trigger that refuses UPDATE, DELETE and TRUNCATE of
ledger entries, so the database itself keeps the ledger append-only.

One exception: TRUNCATE is let through on databases whose name starts with "test_" (Django's
test databases), whose test runner empties every table between transactional tests. UPDATE and
DELETE are refused everywhere. SQLite has no such trigger; the hash chain still shows any change.
"""

from django.db import migrations

FUNCTION = "audit_ledger_refuse_change"

INSTALL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_database() LIKE 'test\\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'The audit ledger is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
CREATE TRIGGER audit_ledger_no_truncate
    BEFORE TRUNCATE ON audit_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();
"""

REMOVE = f"""
DROP TRIGGER IF EXISTS audit_ledger_no_update_delete ON audit_ledgerentry;
DROP TRIGGER IF EXISTS audit_ledger_no_truncate ON audit_ledgerentry;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _run(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)  # no parameters: the % signs are PL/pgSQL's


def install_trigger(apps, schema_editor):
    _run(schema_editor, INSTALL)


def remove_trigger(apps, schema_editor):
    _run(schema_editor, REMOVE)


def create_head(apps, schema_editor):
    apps.get_model("audit", "LedgerHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(install_trigger, remove_trigger),
    ]
