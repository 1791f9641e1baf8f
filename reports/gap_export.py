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
# Dimensions only (docs/methods.md §3.3): each side's listwise alpha, its Feldt interval and complete cases.
ALPHA_COLUMNS = [
    (f"alpha_{side}{suffix}", side, key)
    for side in ("staff", "customer")
    for suffix, key in (("", "listwise"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high"),
                        ("_n_complete", "n_complete"))
]
# With ?bootstrap / --bootstrap (docs/methods.md §2.6): items only.
BOOTSTRAP_COLUMNS = [
    (f"boot_{stat}_{end}", stat, end)
    for stat in ("gap", "cliffs_delta", "topbox_diff") for end in ("ci_low", "ci_high")
]
# With a comparison wave (docs/methods.md §7): the engine's DiD entry of the same item or dimension.
DID_COLUMNS = [
    ("gap_before", "gap_wave1"), ("gap_now", "gap_wave2"), ("change", "did"), ("change_ci_low", "ci_low"),
    ("change_ci_high", "ci_high"), ("change_p", "p"), ("change_status", "report_status"),
]


def gap_rows(result: dict) -> list[dict]:
    """One row per item and per dimension, with the headline numbers of each (nulls stay empty).

    With a comparison wave (``result["did"]``), each row also carries the change of its gap
    (``DID_COLUMNS``); an item or dimension the earlier wave lacks has them empty.
    """
    rows = []
    did = result.get("did")
    did_entries = {}
    if did:
        for level, entries in (("item", did.get("items") or []), ("dimension", did.get("dimensions") or [])):
            did_entries.update({(level, e.get("key")): e for e in entries})
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
            alpha = entry.get("alpha") or {}
            row.update({name: (alpha.get(side) or {}).get(key) for name, side, key in ALPHA_COLUMNS})
            boot = entry.get("bootstrap")
            if boot is not None:
                row["boot_method"] = boot.get("method")
                row.update({name: (boot.get(stat) or {}).get(end) for name, stat, end in BOOTSTRAP_COLUMNS})
            if did:
                change = did_entries.get((level, entry.get("key"))) or {}
                row.update({name: change.get(key) for name, key in DID_COLUMNS})
            rows.append(row)
    return rows


def rows_to_csv(rows: Iterable[dict]) -> str:
    """CSV of ``gap_rows``; the change columns only when the rows have them (a comparison wave)."""
    rows = list(rows)
    out = io.StringIO()
    columns = [c for c, _ in ITEM_COLUMNS] + [c for c, _, _ in ALPHA_COLUMNS]
    if any("boot_method" in row for row in rows):
        columns += ["boot_method"] + [c for c, _, _ in BOOTSTRAP_COLUMNS]
    if any("change" in row for row in rows):
        columns += [c for c, _ in DID_COLUMNS]
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
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


def fmt_p_value(p) -> str:
    """A p-value for people: "<0.001" below 0.001, else three significant digits ("0.0123", "0.500")."""
    if p is None:
        return "—"
    if p < 0.001:
        return "<0.001"
    return f"{p:#.3g}"


def _ci(low, high) -> str:
    return "—" if low is None or high is None else f"[{low:+.2f}, {high:+.2f}]"


def rows_to_text(result: dict) -> str:
    """The gap analysis as a plain-text table for a terminal: one line per item and dimension, full keys;
    with a comparison wave, a second table of the change of each gap (docs/methods.md §7)."""
    lines = [f"{result['wave']['name']} — staff n={_fmt(result['response_counts']['staff'])}, "
             f"customers n={_fmt(result['response_counts']['customer'])}", ""]
    rows = gap_rows(result)
    width = max([len(str(row["key"])) for row in rows] + [3])
    head = f"{'':10} {'key':{width}} {'staff':>6} {'cust':>6} {'gap':>6} {'95% CI':>16} {'p(adj)':>7}  class"
    lines.append(head)
    for row in rows:
        p = row["welch_p_bh"] if row["level"] == "item" else row["welch_p_holm"]
        mean_s = "—" if row["mean_staff"] is None else f"{row['mean_staff']:.2f}"
        mean_c = "—" if row["mean_customer"] is None else f"{row['mean_customer']:.2f}"
        status = row["class"] or row["report_status"]
        lines.append(f"{row['level']:10} {row['key']!s:{width}} {mean_s:>6} {mean_c:>6} {_fmt(row['gap']):>6} "
                     f"{_ci(row['ci_low'], row['ci_high']):>16} {fmt_p_value(p):>7}  {status}")
    lines += _reliability_lines(rows, width)
    lines += _bootstrap_lines(result, rows, width)
    lines += _invariance_lines(result, width)
    did = result.get("did")
    if did:
        name = (did.get("compare_wave") or {}).get("name", "")
        lines += ["", f"Change since {name} (change = gap now − gap before; staff − customers)", "",
                  f"{'':10} {'key':{width}} {'before':>7} {'now':>7} {'change':>7} {'95% CI':>16} {'p':>7}  status"]
        for row in rows:
            if "change" not in row or row["report_status"] is None:
                continue
            if row["gap_before"] is None and row["change_status"] is None:
                continue  # not in the earlier wave
            lines.append(f"{row['level']:10} {row['key']!s:{width}} {_fmt(row['gap_before']):>7} "
                         f"{_fmt(row['gap_now']):>7} {_fmt(row['change']):>7} "
                         f"{_ci(row['change_ci_low'], row['change_ci_high']):>16} "
                         f"{fmt_p_value(row['change_p']):>7}  {row['change_status'] or ''}")
    return "\n".join(lines) + "\n"


def _alpha_cell(row: dict, side: str) -> str:
    value, n = row[f"alpha_{side}"], row[f"alpha_{side}_n_complete"]
    if value is None:
        return "—" if n is None else f"— n={n}"
    low, high = row[f"alpha_{side}_ci_low"], row[f"alpha_{side}_ci_high"]
    ci = "" if low is None or high is None else f" [{low:.2f}, {high:.2f}]"
    return f"{value:.2f}{ci} n={n}"


def _reliability_lines(rows: list[dict], width: int) -> list[str]:
    """Each dimension's Cronbach's alpha per side with its Feldt 95 % interval and complete cases (§3.3)."""
    dims = [row for row in rows if row["level"] == "dimension"]
    if not dims:
        return []
    lines = ["", "Cronbach's alpha (listwise; Feldt 95% CI; n = respondents who answered every item)", "",
             f"{'':10} {'key':{width}} {'staff':>26} {'customers':>26}"]
    for row in dims:
        lines.append(f"{row['level']:10} {row['key']!s:{width}} {_alpha_cell(row, 'staff'):>26} "
                     f"{_alpha_cell(row, 'customer'):>26}")
    return lines


def _invariance_lines(result: dict, width: int) -> list[str]:
    """Each dimension's measurement invariance between the sides, when asked for (§3.5)."""
    if not (result.get("filters") or {}).get("invariance"):
        return []
    lines = ["", "Measurement invariance (ML multi-group CFA; the mean gap reads as a gap only at scalar)", "",
             f"{'':10} {'key':{width}} {'level':>12} {'gap readable':>12} {'n staff':>8} {'n cust':>8}  "
             "CFI / RMSEA per level, or why untested"]
    for dim in result.get("dimensions") or []:
        block = dim.get("invariance") or {}
        n = block.get("n_complete") or {}
        fits = " ".join(f"{s['level']} {s['cfi']:.3f}/{'—' if s['rmsea'] is None else format(s['rmsea'], '.3f')}"
                        for s in block.get("steps") or [])
        lines.append(f"{'dimension':10} {dim['key']!s:{width}} {block.get('level') or block.get('status', '—'):>12} "
                     f"{'yes' if block.get('mean_gap_interpretable') else 'no':>12} {_fmt(n.get('staff')):>8} "
                     f"{_fmt(n.get('customer')):>8}  {fits or block.get('reason') or ''}")
    return lines


def _bootstrap_lines(result: dict, rows: list[dict], width: int) -> list[str]:
    """The items' bootstrap intervals, when asked for (§2.6)."""
    boot = (result.get("filters") or {}).get("bootstrap")
    if not boot:
        return []
    lines = ["", f"Bootstrap 95% CIs ({boot['method']}, {boot['n_resamples']} resamples, seed {boot['seed']})", "",
             f"{'':10} {'key':{width}} {'gap':>16} {'Cliffs delta':>16} {'top-box diff':>16}"]
    for row in rows:
        if row["level"] != "item" or "boot_method" not in row:
            continue
        cis = [_ci(row[f"boot_{stat}_ci_low"], row[f"boot_{stat}_ci_high"])
               for stat in ("gap", "cliffs_delta", "topbox_diff")]
        lines.append(f"{row['level']:10} {row['key']!s:{width}} {cis[0]:>16} {cis[1]:>16} {cis[2]:>16}")
    return lines
