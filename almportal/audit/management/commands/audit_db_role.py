from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ...dbrole import app_role_sql


class Command(BaseCommand):
    help = ("Print the SQL that lets a PostgreSQL role run the portal without being able to "
            "alter, disable or drop the audit ledger's append-only trigger. Run it as the "
            "tables' owner (the role migrations run as); create the role first, without "
            "SUPERUSER, and point the web server and workers' DATABASE_URL at it.")

    def add_arguments(self, parser):
        parser.add_argument("role", help="the application's database role")
        parser.add_argument("--schema", default="public")

    def handle(self, *args, role: str, schema: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles and the ledger's trigger exist on PostgreSQL only.")
        for statement in app_role_sql(role, schema=schema):
            self.stdout.write(statement + ";")
