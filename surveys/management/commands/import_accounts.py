"""manage.py import_accounts --org <slug> FILE [--skip-bad-rows]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from surveys import errors
from surveys.imports import import_accounts
from surveys.management.commands.import_contacts import import_failed, read_file, report_details
from surveys.models import Organization


class Command(BaseCommand):
    help = "Create or update customer accounts (by external_id) from a CSV/XLSX file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv (UTF-8 or Shift_JIS/CP932) or .xlsx file; row 1 names the columns.")
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--skip-bad-rows", action="store_true",
                            help="Import the good rows and report the bad ones instead of importing nothing.")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug '{options['org']}'.")
        data = read_file(options["file"])
        with tqdm(desc="Importing accounts", unit="row", disable=None, file=self.stderr._out) as bar:
            try:
                result = import_accounts(organization=organization, data=data, filename=options["file"],
                                         skip_bad_rows=options["skip_bad_rows"], progress=bar.update)
            except errors.ImportFailed as exc:
                raise import_failed(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {result.created} account(s) for '{organization.slug}'."))
        report_details(self, result)
