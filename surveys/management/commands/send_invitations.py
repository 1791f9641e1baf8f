"""manage.py send_invitations --wave <id|slug> [--side staff|customer] [--remind]

Sends the invitations that were never sent, or (``--remind``) reminders to those
sent and not yet answered, each in the invitee's language. Only a hash of each
token is stored, so every email carries a freshly issued token; links sent
earlier for the same invitation keep working (one answer in total). Reminders skip
invitations mailed less than KAGAMI_REMINDER_COOLDOWN_HOURS ago (say how many).

Staff (disclosure promise P1, no linkage): reminders reach only those who have not
answered, but the output never says who, how many, or whose email was refused — only
how many staff invitations the mailing went through, which does not depend on who
answered (sent ones for reminders; never-sent ones, answered or not, otherwise).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from surveys import errors, invitation_links
from surveys.models import Side, Wave
from surveys.notifications import invitations_deliver, invitations_to_send


def _wave(ref: str) -> Wave:
    wave = Wave.objects.select_related("organization").filter(slug=ref).first()
    if wave is None and ref.isdigit() and len(ref) <= 18:
        wave = Wave.objects.select_related("organization").filter(pk=int(ref)).first()
    if wave is None:
        raise CommandError(f"No wave with id or slug '{ref}'.")
    return wave


class Command(BaseCommand):
    help = "Email never-sent invitations of a wave, or reminders to invitees who have not answered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wave", required=True, help="Wave id or slug.")
        parser.add_argument("--side", choices=Side.values, help="Only this side (default: both).")
        parser.add_argument("--remind", action="store_true",
                            help="Remind those sent an invitation who have not answered (each gets a new link; "
                                 "earlier links keep working), except those mailed within the cool-down.")

    def handle(self, *args, **options) -> None:
        wave = _wave(options["wave"])
        remind = options["remind"]
        if not wave.is_collecting:
            raise CommandError(f"Wave '{wave.slug}' is {wave.status}; invitations go out only while it is open.")
        targets = invitations_to_send(wave=wave, side=options["side"], reminder=remind)
        what = "reminder" if remind else "invitation"
        if not targets:
            self.stdout.write(f"No {what}s to send for wave '{wave.slug}'.")
            return
        with tqdm(total=len(targets), desc=f"Sending {what}s", unit="email", disable=None,
                  file=self.stderr._out) as bar:
            try:
                report = invitations_deliver(wave=wave, reminder=remind, invitations=targets, progress=bar.update)
            except errors.KagamiError as exc:
                raise CommandError(exc.detail) from None
        if report.skipped:
            # Staff too: the cool-down counts from the round, answered or not, so this says nothing (P1).
            self.stdout.write(f"Skipped {len(report.skipped)} invitation(s) mailed less than "
                              f"{invitation_links.cooldown().total_seconds() / 3600:g} hour(s) ago "
                              "(KAGAMI_REMINDER_COOLDOWN_HOURS).")
        if len(targets) > report.staff + len(report.skipped):
            self.stdout.write(self.style.SUCCESS(
                f"Sent {report.sent} {what}(s) to customers for wave '{wave.slug}'."))
            if report.skipped_answered:
                self.stdout.write(f"Skipped {report.skipped_answered} customer(s) who answered meanwhile.")
            if report.failed:
                self.stderr.write(self.style.WARNING(
                    f"The mail server refused customer invitation id(s): {report.failed}."))
        if report.staff:
            # P1: how many staff were mailed is how many have not answered. Only how many the mailing went
            # through is said, which does not depend on who answered.
            if remind:
                done = f"{report.staff} sent staff invitation(s) gone through, those not answered reminded"
            else:
                done = f"{report.staff} staff invitation(s) marked sent, those not answered mailed"
            self.stdout.write(self.style.SUCCESS(
                f"Staff {what}s queued for wave '{wave.slug}': {done} (who, or how many, is never shown)."))
