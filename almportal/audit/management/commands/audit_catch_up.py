from django.core.management.base import BaseCommand

from ...services import ledger_catch_up


class Command(BaseCommand):
    help = ("Append to the audit ledger every history row it does not hold yet, a bounded run "
            "at a time until none is left.")

    def handle(self, *args, **options):
        total = 0
        while appended := ledger_catch_up():
            total += appended
        self.stdout.write(f"{total} entries appended.")
