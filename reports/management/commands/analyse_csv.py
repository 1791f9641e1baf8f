"""manage.py analyse_csv FILE — the gap analysis of a file exported from another survey tool, by the API's engine.

One row per respondent, a column that says which side answered, one column per matched item (the same
column for the staff and the customer wording). The options become a :class:`reports.file_source.FileLayout`,
the file a gap source (:func:`reports.file_source.file_source`), and the result is the one
:func:`reports.services.gap_analysis_of` gives a wave, printed as ``manage.py gap`` prints it. No database is
touched.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports import services
from reports.file_source import NA_DEFAULT, STAFF_K_FLOOR, FileLayout, file_source
from reports.filters import BOOTSTRAP_METHODS, BOOTSTRAP_REPS_DEFAULT, bootstrap_options
from reports.gap_export import gap_rows, rows_to_csv, rows_to_text
from surveys import errors
from surveys.imports import describe_problems, read_table


class Command(BaseCommand):
    help = "Analyse a CSV/XLSX export from another survey tool: staff vs customer gap per item and dimension."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--side-column", default="side", help="Column naming the side (default: side).")
        parser.add_argument("--staff-value", default="staff", help="Value of that column for staff rows.")
        parser.add_argument("--customer-value", default="customer", help="Value for customer rows.")
        parser.add_argument("--items", help="Comma-separated item columns (default: every other column).")
        parser.add_argument("--scale", type=int, choices=[5, 7], default=5, help="Agreement scale points.")
        parser.add_argument("--topbox", help="Top-box levels, e.g. 4,5 (default: the top two).")
        parser.add_argument("--reverse", default="", help="Comma-separated reverse-keyed item columns.")
        parser.add_argument("--dimension", action="append", default=[],
                            help="name=item1,item2,... (repeatable): score and test a dimension.")
        parser.add_argument("--na-values", default=NA_DEFAULT, help="Answers that mean don't know / N/A.")
        parser.add_argument("--k-min", type=int, default=5,
                            help=f"Anonymity threshold of both sides (never below {STAFF_K_FLOOR}).")
        parser.add_argument("--bootstrap", choices=BOOTSTRAP_METHODS,
                            help="Add seeded bootstrap intervals to every item (docs/methods.md §2.6).")
        parser.add_argument("--bootstrap-reps", type=int,
                            help=f"Resamples of the bootstrap (default {BOOTSTRAP_REPS_DEFAULT}).")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--out", help="Write to this file instead of standard output.")

    def handle(self, *args, **o):
        try:
            bootstrap_options(o.get("bootstrap"), o.get("bootstrap_reps"))  # checked before the file is read
        except errors.ValidationFailed as exc:
            raise CommandError("; ".join(f"--{k.replace('_', '-')}: {' '.join(v)}"
                                         for k, v in exc.field_errors.items())) from None
        path = Path(o["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if o["k_min"] < STAFF_K_FLOOR:
            raise CommandError(f"--k-min cannot be below {STAFF_K_FLOOR} (staff anonymity).")
        try:
            header, rows = read_table(data=path.read_bytes(), filename=path.name)
        except errors.ImportFailed as exc:
            raise CommandError("\n".join(describe_problems(exc.errors))) from None
        layout = _layout(header, o)
        try:
            source = file_source(rows, layout, name=path.name)
        except errors.ImportFailed as exc:
            raise CommandError("The file has errors; nothing was analysed:\n"
                               + "\n".join(describe_problems(exc.errors))) from None
        result = services.gap_analysis_of(source, segments=o["format"] == "json", bootstrap=o.get("bootstrap"),
                                          bootstrap_reps=o.get("bootstrap_reps"))
        if o["format"] == "json":
            text = json.dumps(result, ensure_ascii=False, indent=2)
        elif o["format"] == "csv":
            text = rows_to_csv(gap_rows(result))
        else:
            text = rows_to_text(result)
        if o.get("out"):
            Path(o["out"]).write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {o['out']}")
        else:
            self.stdout.write(text)


def _layout(header: list[str], o: dict) -> FileLayout:
    """The options read against the file's header (lower-case, as read_table gives it), or CommandError."""
    side_col = o["side_column"].strip().lower()
    if side_col not in header:
        raise CommandError(f"Column '{side_col}' not found; columns are: {', '.join(header)}")
    items = [c.strip().lower() for c in o["items"].split(",")] if o["items"] else [c for c in header if c != side_col]
    missing = [c for c in items if c not in header]
    if missing:
        raise CommandError(f"Item column(s) not found: {', '.join(missing)}")
    levels = range(1, o["scale"] + 1)
    try:
        topbox = [int(x) for x in o["topbox"].split(",")] if o["topbox"] else []
    except ValueError:
        topbox = [0]  # not a level: the message below
    if not set(topbox) <= set(levels):
        raise CommandError(f"--topbox levels must lie within 1..{o['scale']}.")
    dimensions = []
    for spec in o["dimension"]:
        name, sep, cols = spec.partition("=")
        members = [c.strip().lower() for c in cols.split(",") if c.strip()]
        if not sep or not members or any(c not in items for c in members):
            raise CommandError(f"--dimension '{spec}': use name=item1,item2 with item columns being analysed.")
        dimensions.append((name, tuple(members)))
    return FileLayout(
        items=tuple(items), side_column=side_col, staff_value=o["staff_value"].strip().lower(),
        customer_value=o["customer_value"].strip().lower(), scale=o["scale"], topbox=tuple(topbox),
        reverse=frozenset(c.strip().lower() for c in o["reverse"].split(",") if c.strip()),
        dimensions=tuple(dimensions), na_values=frozenset(v.strip().lower() for v in o["na_values"].split(",")),
        k_min=o["k_min"],
    )
