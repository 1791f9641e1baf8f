"""manage.py import_responses --wave <id|slug> --side staff|customer FILE [--skip-bad-rows] [--allow-closed]
[--quiet-database]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from reports.counts import keep_up_to_date
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
        parser.add_argument("--allow-closed", action="store_true",
                            help="Import into a closed wave (its results change; refused without this flag).")
        parser.add_argument("--quiet-database", action="store_true",
                            help="PostgreSQL, millions of rows: rebuild the response table's foreign keys and "
                                 "indexes once instead of checking each row. Locks the response table until "
                                 "done: only when nobody else writes responses.")

    def handle(self, *args, **options) -> None:
        wave = wave_by_ref(options["wave"])
        data = read_file(options["file"])
        with tqdm(desc="Importing responses", unit="row", disable=None, file=self.stderr._out) as bar:
            try:
                result = import_responses(wave=wave, side=options["side"], data=data, filename=options["file"],
                                          skip_bad_rows=options["skip_bad_rows"], progress=bar.update,
                                          allow_closed=options["allow_closed"],
                                          quiet_database=options["quiet_database"])
            except errors.ImportFailed as exc:
                raise import_failed(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {result.created} {options['side']} response(s) "
                                             f"into wave '{wave.slug}'."))
        if result.duplicates:
            rows = ", ".join(str(n) for n in result.duplicates[:20]) + (" …" if len(result.duplicates) > 20 else "")
            self.stdout.write(f"Skipped {len(result.duplicates)} duplicate(s) (respondent key imported before), "
                              f"row(s) {rows}.")
        if result.unkeyed:
            self.stdout.write(self.style.WARNING(
                f"{len(result.unkeyed)} staff row(s) carry no respondent key (exported staff rows have no id, so "
                "that they stay anonymous): importing this file again would add them again."))
        report_details(self, result)
        if result.created:
            # What the import published, read into the wave's kept count tables now, off any request: the next
            # analyst's read then reads only those tables (what `manage.py keep_counts --wave` does).
            kept = keep_up_to_date(wave)
            if kept is not None:
                self.stdout.write(f"Count tables kept up to date: {kept['responses']} published responses counted.")
