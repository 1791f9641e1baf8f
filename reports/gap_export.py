"""Flat tables of a gap analysis, for CSV/JSON export and the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from surveys.exports import neutralize_cell

ITEM_COLUMNS = [
    ("level", None), ("key", None), ("dimension", None), ("report_status", None),
    ("n_staff", None), ("n_customer", None), ("mean_staff", None), ("mean_customer", None),
    ("sd_staff", None), ("sd_customer", None), ("gap", None),
    ("ci_low", ("welch", "ci_low")), ("ci_high", ("welch", "ci_high")), ("welch_p", ("welch", "p")),
    ("welch_p_bh", ("p_adjusted", "welch_bh")), ("welch_p_holm", ("p_adjusted", "welch_holm")),
    ("hedges_g", None), ("cliffs_delta", ("mwu", "cliffs_delta")), ("mwu_p", ("mwu", "p")),
    ("topbox_staff", ("topbox", "p_staff")), ("topbox_customer", ("topbox", "p_customer")),
    ("topbox_diff", ("topbox", "diff")), ("topbox_newcombe_low", ("topbox", "newcombe_low")),
    ("topbox_newcombe_high", ("topbox", "newcombe_high")), ("class", ("classification", "class")),
]


def gap_rows(result: dict) -> list[dict]:
    """One row per item and per dimension, with the headline numbers of each (nulls stay empty)."""
    rows = []
    for level, entries in (("item", result.get("items") or []), ("dimension", result.get("dimensions") or [])):
        for entry in entries:
            row = {}
            for name, path in ITEM_COLUMNS:
                if name == "level":
                    row[name] = level
                elif name == "dimension":
                    row[name] = entry.get("dimension") if level == "item" else entry.get("key")
                elif path is None:
                    row[name] = entry.get(name)
                else:
                    node = entry.get(path[0]) or {}
                    row[name] = node.get(path[1])
            rows.append(row)
    return rows


def rows_to_csv(rows: Iterable[dict]) -> str:
    rows = list(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[c for c, _ in ITEM_COLUMNS])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else neutralize_cell(v)) for k, v in row.items()})
    return out.getvalue()


def _fmt(value, digits=2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if digits == 2 else f"{value:.{digits}f}"
    return str(value)


def rows_to_text(result: dict) -> str:
    """The gap analysis as a plain-text table for a terminal: one line per item, dimension and outcome."""
    lines = [f"{result['wave']['name']} — staff n={_fmt(result['response_counts']['staff'])}, "
             f"customers n={_fmt(result['response_counts']['customer'])}", ""]
    head = f"{'':10} {'key':28} {'staff':>6} {'cust':>6} {'gap':>6} {'95% CI':>16} {'p(adj)':>7}  class"
    lines.append(head)
    for row in gap_rows(result):
        ci = "—" if row["ci_low"] is None else f"[{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"
        p = row["welch_p_bh"] if row["level"] == "item" else row["welch_p_holm"]
        mean_s = "—" if row["mean_staff"] is None else f"{row['mean_staff']:.2f}"
        mean_c = "—" if row["mean_customer"] is None else f"{row['mean_customer']:.2f}"
        status = row["class"] or row["report_status"]
        lines.append(f"{row['level']:10} {row['key'][:28]:28} {mean_s:>6} {mean_c:>6} {_fmt(row['gap']):>6} "
                     f"{ci:>16} {_fmt(p, 3):>7}  {status}")
    return "\n".join(lines) + "\n"
