import zipfile

from django.core.management.base import BaseCommand, CommandError

from ...verify import verify_export, verify_pack


class Command(BaseCommand):
    help = ("Check an audit export (CSV or JSON Lines) against the ledger, row by row; "
            "an evidence pack (.zip) is checked against its MANIFEST and the ledger.")

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file: str, **options):
        if zipfile.is_zipfile(file):
            with open(file, "rb") as handle:
                pack = verify_pack(handle)
            if not pack.ok:
                raise CommandError("Evidence pack does NOT match:\n  " + "\n  ".join(pack.problems))
            self.stdout.write(self.style.SUCCESS(f"Evidence pack intact: {pack.files} files."))
            return
        with open(file, "rb") as handle:
            result = verify_export(handle)
        if not result.ok:
            raise CommandError(f"Export does NOT match, line {result.line}: {result.problem}")
        self.stdout.write(self.style.SUCCESS(
            f"Export matches the ledger: {result.rows} rows, last entry #{result.last_seq} "
            f"({result.last_hash})."))
