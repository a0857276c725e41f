"""On PostgreSQL, trigram indexes for the inventory's text search (a case-insensitive match
anywhere in the name, slug, purpose or business unit), so a search reads the matching rows
instead of every agent's. The expressions are the ones Django writes for `icontains`.

pg_trgm is a trusted extension: the database's owner may create it. Where the portal's
database user may not, the indexes are left out and search still works, reading every row.
"""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

COLUMNS = ("name", "slug", "purpose", "business_unit")


def _index(column: str) -> str:
    return f"agent_{column}_trgm"


def create_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        log.warning("Agent search indexes left out: pg_trgm could not be created (%s).", error)
        return
    with connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {_index(column)} ON inventory_agent "
                           f"USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS {_index(column)}")


class Migration(migrations.Migration):

    dependencies = [("inventory", "0007_credential_list_indexes")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
