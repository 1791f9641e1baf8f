"""manage.py import_responses --wave <id|slug> --side staff|customer FILE [--skip-bad-rows]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from surveys import errors
from surveys.imports import import_responses
from surveys.management.commands.import_contacts import import_failed, read_file, report_details, wave_by_ref
from surveys.models import Side


class Command(BaseCommand):
    help = "Import responses collected elsewhere (one row each; one column per item key) into a wave."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv (UTF-8 or Shift_JIS/CP932) or .xlsx file; row 1 names the columns.")
        parser.add_argument("--wave", required=True, help="Wave id or slug.")
        parser.add_argument("--side", required=True, choices=Side.values)
        parser.add_argument("--skip-bad-rows", action="store_true",
                            help="Import the good rows and report the bad ones instead of importing nothing.")

    def handle(self, *args, **options) -> None:
        wave = wave_by_ref(options["wave"])
        data = read_file(options["file"])
        with tqdm(desc="Importing responses", unit="row", disable=None, file=self.stderr._out) as bar:
            try:
                result = import_responses(wave=wave, side=options["side"], data=data, filename=options["file"],
                                          skip_bad_rows=options["skip_bad_rows"], progress=bar.update)
            except errors.ImportFailed as exc:
                raise import_failed(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {result.created} {options['side']} response(s) "
                                             f"into wave '{wave.slug}'."))
        report_details(self, result)
