"""manage.py analyse_csv FILE — the gap analysis of a file exported from another survey tool, by the API's engine.

One row per respondent (or, with ``--long``, one row per respondent and item), a column that says which side
answered, one column per matched item (the same column for the staff and the customer wording). The options
become a :class:`reports.file_source.FileLayout`, the file a gap source (:func:`reports.file_source.file_source`),
and the result is the one :func:`reports.services.gap_analysis_of` gives a wave, printed as ``manage.py gap``
prints it. Without ``--items`` the item columns are found (:func:`reports.file_source.detect_items`) and the
others listed on standard error with the reason. Every problem is a CommandError (exit 1) naming the row, column
and value; no database is touched.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports import services
from reports.file_formats import ExportTable, pivot_long, read_export
from reports.file_labels import LabelsFileError, load_labels
from reports.file_source import NA_DEFAULT, STAFF_K_FLOOR, FileLayout, detect_items, file_source
from reports.filters import BOOTSTRAP_METHODS, BOOTSTRAP_REPS_DEFAULT, bootstrap_options
from reports.gap_export import gap_rows, rows_to_csv, rows_to_text
from surveys import errors
from surveys.imports import describe_problems


class Command(BaseCommand):
    help = "Analyse a CSV/XLSX export from another survey tool: staff vs customer gap per item and dimension."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--side-column", default="side", help="Column naming the side (default: side).")
        parser.add_argument("--staff-value", default="staff", help="Value of that column for staff rows.")
        parser.add_argument("--customer-value", default="customer", help="Value for customer rows.")
        parser.add_argument("--items", action="append", default=[],
                            help="Item columns, comma-separated names or patterns such as 'q1_*' (repeatable; "
                                 "default: every column whose answers are all levels, labels or N/A).")
        parser.add_argument("--scale", type=int, choices=[5, 7], default=5, help="Agreement scale points.")
        parser.add_argument("--topbox", help="Top-box levels, e.g. 4,5 (default: the top two).")
        parser.add_argument("--reverse", default="", help="Comma-separated reverse-keyed item columns.")
        parser.add_argument("--dimension", action="append", default=[],
                            help="name=item1,item2,... (repeatable): score and test a dimension.")
        parser.add_argument("--na-values", default=NA_DEFAULT, help="Answers that mean don't know / N/A.")
        parser.add_argument("--labels", help="YAML, JSON or CSV file mapping answer labels to levels (N/A: na).")
        parser.add_argument("--header-rows", type=int,
                            help="Header rows (default: 3 for Qualtrics, 2 for SurveyMonkey, else 1).")
        parser.add_argument("--long", action="store_true",
                            help="Long format: one row per respondent and item (side, respondent_id, item, value).")
        parser.add_argument("--id-column", default="respondent_id", help="Long format: the respondent column.")
        parser.add_argument("--item-column", default="item", help="Long format: the item column.")
        parser.add_argument("--value-column", default="value", help="Long format: the answer column.")
        parser.add_argument("--segment", action="append", default=[],
                            help="Segment column (repeatable); staff:COL or customer:COL for one side only.")
        parser.add_argument("--verified-segments", action="store_true",
                            help="The segment values come from a roster, not from the respondents "
                                 "(docs/anonymity.md P5): only then can a segment group be shown.")
        parser.add_argument("--weight", help="Customer weight column (positive numbers; blank: 1).")
        parser.add_argument("--compare", help="An earlier file of the same shape: the change of each gap.")
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
        if o["header_rows"] is not None and not 1 <= o["header_rows"] <= 10:
            raise CommandError("--header-rows must be from 1 to 10.")
        table = _read(path, o)
        layout, skipped = _layout(table, o)
        if skipped:
            self.stderr.write("Columns not analysed:\n" + "\n".join(f"  {s['column']}: {s['reason']}" for s in skipped))
        notes = _notes(layout)
        for note in notes:
            self.stderr.write(note)
        source = _source(table, layout, path.name)
        compare = None
        if o["compare"]:
            earlier_path = Path(o["compare"])
            if not earlier_path.is_file():
                raise CommandError(f"No such file: {earlier_path}")
            earlier = _read(earlier_path, o)
            compare = _source(earlier, _earlier_layout(earlier, layout), earlier_path.name)
        result = services.gap_analysis_of(source, compare=compare, weighted=layout.weight_column is not None,
                                          segments=o["format"] == "json", bootstrap=o.get("bootstrap"),
                                          bootstrap_reps=o.get("bootstrap_reps"))
        if o["format"] == "json":
            result["file"] = {"tool": table.tool, "header_rows": table.header_rows,
                              "format": "long" if o["long"] else "wide", "items": list(layout.items),
                              "segments": {"staff": list(layout.staff_segments),
                                           "customer": list(layout.customer_segments),
                                           "verified": layout.verified_segments},
                              "weight_column": layout.weight_column, "notes": notes}
            result["skipped"] = skipped
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


def _read(path: Path, o: dict) -> ExportTable:
    """The file as a wide table (pivoted from the long format with ``--long``), or CommandError."""
    try:
        table = read_export(data=path.read_bytes(), filename=path.name, header_rows=o["header_rows"])
        if o["long"]:
            carried = [c for c in dict.fromkeys([*(_segment(s)[1] for s in o["segment"]), _lower(o["weight"])]) if c]
            table = pivot_long(table, side_column=_lower(o["side_column"]), id_column=_lower(o["id_column"]),
                               item_column=_lower(o["item_column"]), value_column=_lower(o["value_column"]),
                               carried=carried)
    except errors.ImportFailed as exc:
        raise CommandError(f"{path.name}: " + "\n".join(describe_problems(exc.errors))) from None
    return table


def _source(table: ExportTable, layout: FileLayout, name: str):
    try:
        return file_source(table.rows, layout, name=name)
    except errors.ImportFailed as exc:
        problems = [{**p, "row": table.row_of(p["row"], p.get("column", ""))} for p in exc.errors]
        raise CommandError(f"{name} has errors; nothing was analysed:\n"
                           + "\n".join(describe_problems(problems))) from None


def _lower(name: str | None) -> str:
    return " ".join((name or "").split()).lower()


def _segment(spec: str) -> tuple[tuple[str, ...], str]:
    """``--segment`` as (sides, column): ``staff:col``, ``customer:col`` or ``col`` (both sides)."""
    side, sep, column = spec.partition(":")
    if sep and _lower(side) in ("staff", "customer"):
        return (_lower(side),), _lower(column)
    return ("staff", "customer"), _lower(spec)


def _columns(header: list[str], spec: str, option: str) -> list[str]:
    """Comma-separated names or shell-style patterns, each matching at least one column."""
    out: list[str] = []
    for token in (_lower(t) for t in spec.split(",")):
        if not token:
            continue
        found = [c for c in header if fnmatch.fnmatchcase(c, token)] if any(ch in token for ch in "*?[") else (
            [token] if token in header else [])
        if not found:
            raise CommandError(f"{option}: no column matches '{token}'; columns are: {', '.join(header)}")
        out += [c for c in found if c not in out]
    return out


def _layout(table: ExportTable, o: dict) -> tuple[FileLayout, list[dict]]:
    """The options read against the file's header (lower-case names), and the columns not analysed."""
    header = table.header
    side_col = _lower(o["side_column"])
    if side_col not in header:
        raise CommandError(f"Column '{side_col}' not found; columns are: {', '.join(header)}")
    staff_segments, customer_segments = [], []
    for spec in o["segment"]:
        sides, column = _segment(spec)
        if column not in header:
            raise CommandError(f"--segment: column '{column}' not found; columns are: {', '.join(header)}")
        for side, target in (("staff", staff_segments), ("customer", customer_segments)):
            if side in sides and column not in target:
                target.append(column)
    weight = _lower(o["weight"]) or None
    if weight is not None and weight not in header:
        raise CommandError(f"--weight: column '{weight}' not found; columns are: {', '.join(header)}")
    reserved = {side_col: "side", **{c: "segment" for c in [*staff_segments, *customer_segments]}}
    if weight:
        reserved[weight] = "weight"
    if weight in (side_col, *staff_segments, *customer_segments):
        raise CommandError(f"--weight: '{weight}' is already the side or a segment column.")
    labels = {}
    if o["labels"]:
        try:
            labels = load_labels(Path(o["labels"]), o["scale"], o["na_values"].split(","))
        except (OSError, LabelsFileError) as exc:
            raise CommandError(f"--labels: {exc}") from None
    base = FileLayout(items=(), side_column=side_col, staff_value=_lower(o["staff_value"]),
                      customer_value=_lower(o["customer_value"]), scale=o["scale"],
                      na_values=frozenset(_lower(v) for v in o["na_values"].split(",")), k_min=o["k_min"],
                      labels=labels, staff_segments=tuple(staff_segments),
                      customer_segments=tuple(customer_segments), verified_segments=o["verified_segments"],
                      weight_column=weight)
    skipped: list[dict] = []
    if o["items"]:
        items = _columns(header, ",".join(o["items"]), "--items")
        clash = [c for c in items if c in reserved]
        if clash:
            raise CommandError(f"--items: {', '.join(clash)} is the {reserved[clash[0]]} column, not an item.")
    else:
        items, skipped = detect_items(header, table.rows, base.reader(), reserved=reserved)
        if not items:
            raise CommandError("No item column: no column's answers are all levels of the "
                               f"{o['scale']}-point scale, answer labels or N/A values. Columns:\n"
                               + "\n".join(f"  {s['column']}: {s['reason']}" for s in skipped))
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
        members = [_lower(c) for c in cols.split(",") if c.strip()]
        if not sep or not members or any(c not in items for c in members):
            raise CommandError(f"--dimension '{spec}': use name=item1,item2 with item columns being analysed.")
        dimensions.append((name, tuple(members)))
    reverse = [_lower(c) for c in o["reverse"].split(",") if c.strip()]
    if any(c not in items for c in reverse):
        raise CommandError(f"--reverse: {', '.join(c for c in reverse if c not in items)} is not an item column.")
    layout = dataclasses.replace(base, items=tuple(items), topbox=tuple(topbox), reverse=frozenset(reverse),
                                 dimensions=tuple(dimensions))
    return layout, skipped


def _earlier_layout(earlier: ExportTable, layout: FileLayout) -> FileLayout:
    """The layout read against the earlier file: its items that are in it, the dimensions whole in it."""
    items = tuple(c for c in layout.items if c in earlier.header)
    if not items:
        raise CommandError(f"--compare: the earlier file has none of the item columns ({', '.join(layout.items)}).")
    missing = [c for c in (layout.side_column, layout.weight_column, *layout.segment_keys)
               if c and c not in earlier.header]
    if missing:
        raise CommandError(f"--compare: the earlier file has no column {', '.join(missing)}.")
    dimensions = tuple((n, m) for n, m in layout.dimensions if set(m) <= set(items))
    return dataclasses.replace(layout, items=items, dimensions=dimensions, reverse=layout.reverse & set(items))


def _notes(layout: FileLayout) -> list[str]:
    if layout.segment_keys and not layout.verified_segments:
        return [f"Segment columns {', '.join(layout.segment_keys)}: their values are declared in the file, so they "
                "never make a group large enough to be shown (docs/anonymity.md P5); no segment group is shown. "
                "If they come from a roster (a contact list), not from the respondents, say so with "
                "--verified-segments."]
    return []
