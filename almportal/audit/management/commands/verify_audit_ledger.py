from django.core.management.base import BaseCommand, CommandError

from ....accounts.services import system_user
from ...assurance import verify_all
from ...selectors import latest_checkpoint
from ...services import verification_record


class Command(BaseCommand):
    help = ("Check the audit ledger: its chain (whole, or with --incremental what came after the "
            "last verified checkpoint), its signed checkpoints and that every history row and live "
            "row agrees with it; name the first entry that does not match.")

    def add_arguments(self, parser):
        parser.add_argument("--incremental", action="store_true",
                            help="Read the chain from the last verified checkpoint.")

    def handle(self, *args, **options):
        since = latest_checkpoint() if options["incremental"] else None
        result = verify_all(since=since)
        verification_record(actor=system_user(), result=result)
        if result.unledgered:
            self.stdout.write(f"{result.unledgered} history rows are not in the ledger yet "
                              "(run audit_catch_up).")
        if not result.ok:
            details = "".join(f"\n  {finding}" for finding in result.findings)
            raise CommandError(f"Ledger verification FAILED at entry #{result.first_bad_seq}: "
                               f"{result.problem} ({result.checked} entries in the chain)."
                               + details)
        self.stdout.write(self.style.SUCCESS(
            f"Ledger intact: {result.checked} entries"
            + (f" after checkpoint #{since.seq}" if since else "")
            + f", head #{result.head_seq}."))
