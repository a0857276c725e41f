"""The PostgreSQL grants for running the portal under a role that cannot alter or disable the
ledger's append-only trigger.

PostgreSQL lets only a table's owner (or a superuser) drop, disable or replace its triggers,
and only a superuser switch them off for a session (session_replication_role). So migrations
run as the owner role, and the web server, workers and beat run as an application role that
owns nothing: it reads and writes rows, may append to the ledger, and may not update, delete
or truncate ledger entries in the first place. `manage.py audit_db_role <role>` prints these
statements for the owner to run.
"""

from django.db import connection

LEDGER_TABLE = "audit_ledgerentry"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def app_role_sql(role: str, *, schema: str = "public") -> list[str]:
    """Statements, run as the tables' owner, that give `role` what the application needs."""
    role, schema = _quote(role), _quote(schema)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {LEDGER_TABLE} FROM {role}",
        # Tables and sequences that later migrations create get the same grants.
        (f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
         f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"),
        (f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
         f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}"),
    ]
