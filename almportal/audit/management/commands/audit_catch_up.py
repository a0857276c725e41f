from django.core.management.base import BaseCommand

from ...services import ledger_catch_up


class Command(BaseCommand):
    help = "Append to the audit ledger every history row it does not hold yet."

    def handle(self, *args, **options):
        self.stdout.write(f"{ledger_catch_up()} entries appended.")
