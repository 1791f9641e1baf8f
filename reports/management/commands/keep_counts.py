"""manage.py keep_counts [--wave <id|slug> ...] [--open]: publish what is due and bring kept count tables up to date.

Run it after a bulk import (``import_responses``), or from a scheduler, so that no analyst's request is the
one that reads a large new release (reports.counts.kept).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from reports.counts import keep_up_to_date
from surveys.models import Wave, WaveStatus


class Command(BaseCommand):
    help = ("Publish each wave's due releases and read them into its kept count tables now, so the next gap "
            "request reads only the tables.")

    def add_arguments(self, parser):
        parser.add_argument("--wave", action="append", default=[], help="Wave id or slug (repeatable).")
        parser.add_argument("--open", action="store_true", help="Every open wave.")

    def handle(self, *args, **options) -> None:
        waves: list[Wave] = []
        for ref in options["wave"]:
            found = list(Wave.objects.filter(pk=int(ref)) if ref.isdigit() else Wave.objects.filter(slug=ref))
            if not found:
                raise CommandError(f"--wave: no wave with id or slug '{ref}'.")
            if len(found) > 1:
                raise CommandError(f"--wave: the slug '{ref}' names {len(found)} waves (organisations); give the id.")
            waves += found
        if options["open"]:
            waves += [w for w in Wave.objects.filter(status=WaveStatus.OPEN).order_by("pk") if w not in waves]
        if not waves:
            raise CommandError("Name a wave with --wave, or use --open for every open wave.")
        for wave in waves:
            began = time.perf_counter()
            kept = keep_up_to_date(wave)
            took = time.perf_counter() - began
            if kept is None:
                self.stdout.write(f"{wave.slug} (id {wave.pk}): nothing kept (an internal wave, read per "
                                  f"department, or a database without the version triggers)")
            else:
                basis = ", ".join(f"{side} release {n}" for side, n in sorted(kept["basis"].items()))
                self.stdout.write(f"{wave.slug} (id {wave.pk}): {kept['responses']} published responses kept "
                                  f"({basis}) in {took:.1f} s")
