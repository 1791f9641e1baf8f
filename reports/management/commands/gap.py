"""manage.py gap --wave <id|slug> [--staff f:v] [--customer f:v] [--compare W] [--bootstrap percentile|bca
[--bootstrap-reps N]] [--invariance] [--format table|csv|json]"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from reports import services
from reports.filters import BOOTSTRAP_METHODS, BOOTSTRAP_REPS_DEFAULT
from reports.gap_export import gap_rows, rows_to_csv, rows_to_text
from surveys import errors
from surveys import services as survey_services
from surveys.models import AuditEvent, Wave


def _wave(ref: str) -> Wave:
    wave = Wave.objects.filter(pk=int(ref)).first() if ref.isdigit() else Wave.objects.filter(slug=ref).first()
    if wave is None:
        raise CommandError(f"No wave with id or slug '{ref}'.")
    return wave


def _filters(values: list[str], name: str) -> dict[str, str]:
    out = {}
    for raw in values or []:
        key, sep, value = raw.partition(":")
        if not sep:
            raise CommandError(f"--{name} takes field:value, got '{raw}'.")
        out[key.strip()] = value.strip()
    return out


class Command(BaseCommand):
    help = "Print the staff-vs-customer gap of a wave (the same numbers as the API and the PDF)."

    def add_arguments(self, parser):
        parser.add_argument("--wave", required=True, help="Wave id or slug.")
        parser.add_argument("--staff", action="append", help="Staff group filter field:value (repeatable).")
        parser.add_argument("--customer", action="append", help="Customer group filter field:value (repeatable).")
        parser.add_argument("--compare", help="Earlier wave (id or slug) for the change over time.")
        parser.add_argument("--weighted", action="store_true", help="Add customer-weighted results.")
        parser.add_argument("--bootstrap", choices=BOOTSTRAP_METHODS,
                            help="Add seeded bootstrap intervals to every item (docs/methods.md §2.6).")
        parser.add_argument("--bootstrap-reps", type=int,
                            help=f"Resamples of the bootstrap (default {BOOTSTRAP_REPS_DEFAULT}).")
        parser.add_argument("--invariance", action="store_true",
                            help="Test each dimension's measurement invariance between the sides (docs/methods.md "
                                 "§3.5): table and json.")
        parser.add_argument("--department", help="Internal waves (required there): the serving department, by key.")
        parser.add_argument("--lang", choices=["en", "ja"], default="en")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--out", help="Write to this file instead of standard output.")

    def handle(self, *args, **opts):
        wave = _wave(opts["wave"])
        compare = _wave(opts["compare"]) if opts.get("compare") else None
        try:
            result = services.gap_analysis(
                wave=wave, staff_filter=_filters(opts["staff"], "staff"),
                customer_filter=_filters(opts["customer"], "customer"), compare_wave=compare,
                weighted=opts["weighted"], language=opts["lang"], segments=opts["format"] == "json",
                bootstrap=opts.get("bootstrap"), bootstrap_reps=opts.get("bootstrap_reps"),
                invariance=opts["invariance"],
                department=opts.get("department"),
            )
        except errors.KagamiError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.field_errors.items())
            raise CommandError(f"{exc.detail} {details}".strip()) from None
        # A read of staff-derived data from the command line is audited too (P7), as "system".
        survey_services.audit_record(
            organization_id=wave.organization_id, user=None, action=AuditEvent.Action.GAP_VIEW, wave=wave,
            details={"via": "command", "staff": result["filters"]["staff"], "customer": result["filters"]["customer"],
                     "compare_wave": compare.pk if compare else None, "format": opts["format"],
                     **({"department": opts["department"]} if opts.get("department") else {})})
        if opts["format"] == "json":
            text = json.dumps(result, ensure_ascii=False, indent=2)
        elif opts["format"] == "csv":
            text = rows_to_csv(gap_rows(result))
        else:
            text = rows_to_text(result)
        if opts.get("out"):
            with open(opts["out"], "w", encoding="utf-8") as fh:
                fh.write(text)
            self.stdout.write(f"Wrote {opts['out']}")
        else:
            self.stdout.write(text)
