"""manage.py import_contacts --wave <id|slug> --side staff|customer FILE [--send] [--skip-bad-rows]

Prints counts and bad rows, never a link or token. A staff invitation's link is only ever emailed to the
address on it (disclosure promise P1, no linkage: whoever else kept it could open it later and see whether
that colleague answered), so a staff row without an email is a bad row.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from surveys import errors, services
from surveys.imports import describe_problems, import_invitations
from surveys.models import Side, Wave


def wave_by_ref(ref: str) -> Wave:
    """A wave by its id or its slug, or a CommandError saying neither matched."""
    wave = Wave.objects.select_related("organization").filter(slug=ref).first()
    if wave is None and ref.isdigit():
        wave = Wave.objects.select_related("organization").filter(pk=int(ref)).first()
    if wave is None:
        raise CommandError(f"No wave with id or slug '{ref}'.")
    return wave


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def import_failed(exc: errors.ImportFailed) -> CommandError:
    return CommandError("\n".join([exc.detail, *describe_problems(exc.errors)]))


class Command(BaseCommand):
    help = "Create invitations for a wave from a CSV/XLSX contact list (email, name, language, account, segments)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv (UTF-8 or Shift_JIS/CP932) or .xlsx file; row 1 names the columns.")
        parser.add_argument("--wave", required=True, help="Wave id or slug.")
        parser.add_argument("--side", required=True, choices=Side.values)
        parser.add_argument("--send", action="store_true", help="Email each new invitation right away (open wave).")
        parser.add_argument("--skip-bad-rows", action="store_true",
                            help="Import the good rows and report the bad ones instead of importing nothing.")

    def handle(self, *args, **options) -> None:
        wave = wave_by_ref(options["wave"])
        if options["send"] and not wave.is_collecting:
            # Checked first: importing and then failing to send would leave links nobody received.
            raise CommandError(f"--send needs an open wave; '{wave.slug}' is {wave.status}.")
        data = read_file(options["file"])
        with tqdm(desc="Importing contacts", unit="row", disable=None, file=self.stderr._out) as bar:
            try:
                with services.staff_invitations_by_email_only():
                    result = import_invitations(wave=wave, side=options["side"], data=data,
                                                filename=options["file"], skip_bad_rows=options["skip_bad_rows"],
                                                progress=bar.update)
            except errors.ImportFailed as exc:
                raise import_failed(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Created {result.created} {options['side']} invitation(s) "
                                             f"for wave '{wave.slug}'."))
        report_details(self, result)
        if options["send"] and result.objects:
            from surveys.notifications import invitations_send

            with tqdm(total=len(result.objects), desc="Sending", unit="email", disable=None,
                      file=self.stderr._out) as bar:
                sent = invitations_send(issued=result.objects, progress=bar.update)
            self.stdout.write(f"Sent {sent.sent} email(s); {sent.skipped_no_email} without an email address"
                              + (f"; failed for invitation id(s) {sent.failed}" if sent.failed else "") + ".")


def report_details(command: BaseCommand, result) -> None:
    """Print skipped rows and ignored columns after a successful import."""
    if result.ignored_columns:
        command.stdout.write("Ignored unknown column(s): " + ", ".join(result.ignored_columns) + ".")
    if result.skipped:
        rows = len({p["row"] for p in result.skipped})
        command.stderr.write(command.style.WARNING(f"Skipped {rows} bad row(s):"))
        for line in describe_problems(result.skipped):
            command.stderr.write(f"  {line}")
