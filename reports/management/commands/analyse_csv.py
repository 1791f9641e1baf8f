"""manage.py analyse_csv FILE — the gap analysis of a file exported from another survey tool.

One row per respondent, a column that says which side answered, one column
per matched item (the same column for the staff and the customer wording).
No database is touched: the statistics are the same functions the API uses.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from reports import stats
from reports.gap_export import gap_rows, rows_to_csv, rows_to_text
from reports.stats.dimensions import dimension_comparison, dimension_reliability
from surveys import errors
from surveys.imports import describe_problems, read_table

NA_DEFAULT = "na,n/a,dk,don't know,わからない,該当なし,-"


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
        parser.add_argument("--k-min", type=int, default=5, help="Anonymity threshold (never below 3).")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--out", help="Write to this file instead of standard output.")

    def handle(self, *args, **o):
        path = Path(o["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if o["k_min"] < 3:
            raise CommandError("--k-min cannot be below 3 (staff anonymity).")
        try:
            header, rows = read_table(data=path.read_bytes(), filename=path.name)
        except errors.ImportFailed as exc:
            raise CommandError("\n".join(describe_problems(exc.errors))) from None
        side_col = o["side_column"].strip().lower()
        if side_col not in header:
            raise CommandError(f"Column '{side_col}' not found; columns are: {', '.join(header)}")
        items = [c.strip().lower() for c in o["items"].split(",")] if o["items"] else [c for c in header
                                                                                        if c != side_col]
        missing = [c for c in items if c not in header]
        if missing:
            raise CommandError(f"Item column(s) not found: {', '.join(missing)}")
        levels = list(range(1, o["scale"] + 1))
        topbox = [int(x) for x in o["topbox"].split(",")] if o["topbox"] else levels[-2:]
        if not set(topbox) <= set(levels):
            raise CommandError(f"--topbox levels must lie within 1..{o['scale']}.")
        reverse = {c.strip().lower() for c in o["reverse"].split(",") if c.strip()}
        na = {v.strip().lower() for v in o["na_values"].split(",")} | {""}
        staff_v, cust_v = o["staff_value"].strip().lower(), o["customer_value"].strip().lower()

        data = {"staff": [], "customer": []}
        problems = []
        for number, record in rows:
            side_raw = (record.get(side_col) or "").strip().lower()
            side = "staff" if side_raw == staff_v else "customer" if side_raw == cust_v else None
            if side is None:
                problems.append({"row": number, "column": side_col,
                                 "message": f"'{side_raw}' is neither '{staff_v}' nor '{cust_v}'."})
                continue
            values = []
            for col in items:
                raw = (record.get(col) or "").strip()
                if raw.lower() in na:
                    values.append(math.nan)
                    continue
                try:
                    value = float(raw)
                except ValueError:
                    value = math.nan
                if not value.is_integer() or not 1 <= value <= o["scale"]:
                    problems.append({"row": number, "column": col,
                                     "message": f"'{raw}' is not a whole number from 1 to {o['scale']}."})
                    continue
                values.append(o["scale"] + 1 - value if col in reverse else value)
            else:
                if len(values) == len(items):
                    data[side].append(values)
        if problems:
            raise CommandError("The file has errors; nothing was analysed:\n" + "\n".join(describe_problems(problems)))
        staff = np.array(data["staff"], dtype=float).reshape(-1, len(items))
        cust = np.array(data["customer"], dtype=float).reshape(-1, len(items))

        item_results = []
        for j, col in enumerate(items):
            a = [int(np.sum(staff[:, j] == v)) for v in levels]
            b = [int(np.sum(cust[:, j] == v)) for v in levels]
            res = stats.item_comparison(a, b, levels, topbox, k_min_staff=o["k_min"], k_min_customer=o["k_min"])
            res.update({"key": col, "dimension": None})
            item_results.append(res)
        dims = []
        for spec in o["dimension"]:
            name, sep, cols = spec.partition("=")
            members = [c.strip().lower() for c in cols.split(",") if c.strip()]
            if not sep or not members or any(c not in items for c in members):
                raise CommandError(f"--dimension '{spec}': use name=item1,item2 with item columns being analysed.")
            idx = [items.index(c) for c in members]
            for res in item_results:
                if res["key"] in members:
                    res["dimension"] = name
            # Answers were recoded above, so reliability and scores need no further reverse keying.
            rel = {side: dimension_reliability(m[:, idx], levels=levels) for side, m in (("staff", staff),
                                                                                          ("customer", cust))}
            scores = {side: stats.dimension_scores(m[:, idx], levels=levels)
                      for side, m in (("staff", staff), ("customer", cust))}
            res = dimension_comparison(scores["staff"], scores["customer"], levels=levels,
                                       reliability_staff=rel["staff"], reliability_customer=rel["customer"],
                                       k_min_staff=o["k_min"], k_min_customer=o["k_min"])
            res["key"] = name
            dims.append(res)
        result = {
            "wave": {"name": path.name},
            "response_counts": {"staff": len(staff) if len(staff) >= o["k_min"] else None,
                                "customer": len(cust) if len(cust) >= o["k_min"] else None},
            "items": stats.adjust_item_family(item_results),
            "dimensions": stats.adjust_dimension_family(dims),
        }
        stats.check_json_safe(result)
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
