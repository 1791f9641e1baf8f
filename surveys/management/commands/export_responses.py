"""manage.py export_responses --wave <id|slug> [--side staff|customer] --format csv|xlsx --out FILE"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from surveys import releases
from surveys.exports import responses_csv, responses_xlsx
from surveys.management.commands.import_contacts import wave_by_ref
from surveys.models import Side


class Command(BaseCommand):
    help = "Export a wave's responses as CSV (UTF-8 with BOM, for Excel) or XLSX, safe against formula injection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wave", required=True, help="Wave id or slug.")
        parser.add_argument("--side", choices=Side.values, help="Only this side (default: both).")
        parser.add_argument("--format", required=True, choices=["csv", "xlsx"])
        parser.add_argument("--out", required=True, help="File to write; '-' writes CSV to standard output.")

    def handle(self, *args, **options) -> None:
        wave = wave_by_ref(options["wave"])
        side, out = options["side"], options["out"]
        releases.publish_due(wave)
        total = wave.responses.filter(release__isnull=False, **({"side": side} if side else {})).count()
        if out == "-":
            if options["format"] != "csv":
                raise CommandError("Only CSV can go to standard output; give --out a file name for XLSX.")
            for line in responses_csv(wave=wave, side=side):
                self.stdout.write(line, ending="")
            return
        target = Path(out)
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        # Written beside the target and renamed at the end, so a failed export never leaves half a file.
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=target.suffix)
        written = 0
        try:
            if options["format"] == "csv":
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                    lines = responses_csv(wave=wave, side=side)
                    handle.write(next(lines))  # the header
                    for line in tqdm(lines, total=total, desc="Exporting", unit="response", disable=None,
                                     file=self.stderr._out or sys.stderr):
                        handle.write(line)
                        written += 1
            else:
                with os.fdopen(fd, "wb") as handle:
                    data = responses_xlsx(wave=wave, side=side)
                    handle.write(data)
                written = _xlsx_rows(data)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        # The rows written, not the published responses: a staff side under its threshold writes none.
        self.stdout.write(self.style.SUCCESS(f"Wrote {written} response(s) to {target}."))


def _xlsx_rows(data: bytes) -> int:
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(data), read_only=True).active
    return max(0, (sheet.max_row or 1) - 1)
