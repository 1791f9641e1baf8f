"""manage.py render_report --wave <id|slug> --lang ja|en --out FILE.pdf"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.jobs import build_report
from surveys import services as survey_services
from surveys.errors import KagamiError
from surveys.models import AuditEvent, Wave


class Command(BaseCommand):
    help = "Render a wave's executive PDF report (the same report as the API and the report page)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--wave", required=True, help="Wave id or slug.")
        parser.add_argument("--lang", choices=["ja", "en"], default="ja")
        parser.add_argument("--out", required=True, help="Where to write the PDF.")
        parser.add_argument("--compare-wave", default=None,
                            help="Id or slug of the wave to compare with (default: the wave's previous wave).")
        parser.add_argument("--no-compare", action="store_true", help="Leave out the change since a previous wave.")
        parser.add_argument("--no-segments", action="store_true", help="Leave out the segment heat maps.")
        parser.add_argument("--weighted", action="store_true", help="Weight customer answers.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument("--department", default=None,
                            help="Internal waves (required there): the serving department, by key.")

    def _wave(self, ref: str) -> Wave:
        qs = Wave.objects.select_related("organization", "instrument", "previous_wave")
        wave = qs.filter(pk=int(ref)).first() if ref.isdigit() else None
        wave = wave or qs.filter(slug=ref).first()
        if wave is None:
            raise CommandError(f"No wave with id or slug {ref!r}.")
        return wave

    def handle(self, *args, **opts) -> None:
        wave = self._wave(opts["wave"])
        out = Path(opts["out"])
        if not out.parent.exists():
            raise CommandError(f"The folder {out.parent} does not exist.")
        compare = None
        if not opts["no_compare"]:
            compare = self._wave(opts["compare_wave"]) if opts["compare_wave"] else wave.previous_wave
            if compare is not None and compare.organization_id != wave.organization_id:
                raise CommandError("The comparison wave belongs to another organization.")
        options = {"compare_wave": compare.pk if compare else None, "segments": not opts["no_segments"],
                   "weighted": opts["weighted"]}
        if opts["department"]:
            options["department"] = opts["department"]
        with tqdm(total=100, unit="%", desc=f"{wave.slug} ({opts['lang']})", disable=opts["no_progress"],
                  file=self.stderr._out) as bar:

            def progress(pct: int, step: str) -> None:
                bar.set_postfix_str(step)
                bar.update(max(0, pct - bar.n))

            try:
                rendered = build_report(wave=wave, language=opts["lang"], options=options, progress=progress)
            except KagamiError as exc:
                raise CommandError(f"{exc.detail} {exc.field_errors or ''}".strip()) from None
            out.write_bytes(rendered.pdf)
            progress(100, "done")
        survey_services.audit_record(  # a report read from the command line is audited too (P7), as "system"
            organization_id=wave.organization_id, user=None, action=AuditEvent.Action.REPORT_REQUEST, wave=wave,
            details={"via": "command", "language": opts["lang"], **options})
        self.stdout.write(f"Wrote {out} ({rendered.page_count} pages, {len(rendered.pdf) // 1024} KiB).")
