"""Turn the result of bench/coverage.py into bench/COVERAGE.md (tables with Monte Carlo errors, misses flagged)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_95 = (0.94, 0.96)  # the issue's band for a 95 % interval
TARGET_90 = (0.89, 0.91)  # the same width of band for the 90 % interval
FDR_LIMIT = 0.05
POP_ORDER = ("centred", "optimistic", "ceiling")


def pct(entry: dict | None, band: tuple[float, float] | None = None, *, limit: float | None = None) -> str:
    """"94.8 ± 0.3", bold when outside ``band`` or above ``limit``; "—" when nothing was measured."""
    if not entry or entry.get("rate") is None:
        return "—"
    p, se = entry["rate"], entry["se"]
    text = f"{100 * p:.1f} ± {100 * se:.1f}"
    miss = (band is not None and not band[0] <= p <= band[1]) or (limit is not None and p > limit)
    return f"**{text}**" if miss else text


def share(entry: dict | None) -> str:
    if not entry or entry.get("rate") is None:
        return "—"
    return "0" if entry["rate"] == 0 else f"{100 * entry['rate']:.1f}"


def summary(r: dict) -> list[dict]:
    """Per method: how many cells fell outside its target, out of how many, and the lowest / highest figure."""
    rows = []
    for part, key, label, band in (("interval", "welch95", "Welch 95 %", TARGET_95),
                                   ("interval", "welch90", "Welch 90 %", TARGET_90),
                                   ("interval", "newcombe95", "Newcombe 95 %", TARGET_95),
                                   ("did", "did95", "DiD 95 %", TARGET_95),
                                   ("did", "topbox_did95", "top-box DiD 95 %", TARGET_95),
                                   ("family", "fdr", "FDR of the classification", (0.0, FDR_LIMIT))):
        rates = [c[key]["rate"] for c in r[part] if c[key]["rate"] is not None]
        if rates:
            rows.append({"method": label, "cells": len(rates), "target": list(band),
                         "outside": sum(not band[0] <= x <= band[1] for x in rates),
                         "lowest": min(rates), "highest": max(rates)})
    return rows


def misses(r: dict) -> list[str]:
    out = []
    for c in r["interval"]:
        where = (f"scale {c['scale']}, staff {c['staff']} n={c['n_staff']} vs customers {c['customer']} "
                 f"n={c['n_customer']}")
        for key, label, band in (("welch95", "Welch 95 %", TARGET_95), ("welch90", "Welch 90 %", TARGET_90),
                                 ("newcombe95", "Newcombe 95 %", TARGET_95)):
            e = c[key]
            if e["rate"] is not None and not band[0] <= e["rate"] <= band[1]:
                out.append(f"{label}: {100 * e['rate']:.1f} % ± {100 * e['se']:.1f} ({where})")
    for c in r["did"]:
        where = f"scale {c['scale']}, {' / '.join(c['groups'])}, staff n={c['n_staff']}, customers n={c['n_customer']}"
        for key, label in (("did95", "DiD 95 %"), ("topbox_did95", "top-box DiD 95 %")):
            e = c[key]
            if e["rate"] is not None and not TARGET_95[0] <= e["rate"] <= TARGET_95[1]:
                out.append(f"{label}: {100 * e['rate']:.1f} % ± {100 * e['se']:.1f} ({where})")
    for c in r["family"]:
        if c["fdr"]["rate"] > FDR_LIMIT:
            out.append(f"FDR {100 * c['fdr']['rate']:.1f} % ± {100 * c['fdr']['se']:.1f} (scale {c['scale']}, "
                       f"{c['family']}, staff n={c['n_staff']}, customers n={c['n_customer']}, ρ={c['rho']})")
    return out


def real_gaps(r: dict) -> str:
    """The true gaps of the mixed family's real items, per scale ("scale 5: +0.61, …")."""
    seen = {}
    for c in r["family"]:
        if c["family"] == "mixed":
            seen.setdefault(c["scale"], [g for g in c["true_gaps"] if abs(g) > 1e-12])
    return "; ".join(f"scale {k}: {', '.join(f'{g:+.3f}' for g in gaps)}" for k, gaps in seen.items()) or "none run"


PART_NAMES = {"interval": "Item intervals (Welch, Newcombe)", "did": "DiD (mean and top box)",
              "family": "Classification over families of 20 items"}


def provenance(r: dict) -> list[str]:
    """Which run each part's figures come from: date, seed, R, time, load, machine (a part kept from an earlier
    run by ``--parts`` says so)."""
    from bench.coverage import PARTS, runs_of

    runs = runs_of(r)
    lines = ["| part | recorded (UTC) | seed | R | run time | load average at start | machine |",
             "|---|---|---|---|---|---|---|"]
    for part in PARTS:
        if part not in runs:
            continue
        x = runs[part]
        m = x.get("machine", r["machine"])
        took = f"{x['seconds'] / 60:.1f} min" + (" (the whole run)" if x.get("whole_run") else "")
        lines.append(f"| {PART_NAMES[part]} | {x['date']}{' (quick mode)' if x['quick'] else ''} | {x['seed']} | "
                     f"{x['reps']:,} | {took} | {', '.join(f'{v:.2f}' for v in x['load_average_at_start'])} | "
                     f"{m['cores']} cores ({m['cpu']}); Python {m['python']}, numpy {m['numpy']}, "
                     f"scipy {m['scipy']} |")
    return lines


def markdown(r: dict) -> str:
    lines = [
        "# Interval coverage and false discoveries (`bench/coverage.py`)",
        "",
        "Each part's figures come from the run named here (`--parts` re-runs some parts and keeps the others; "
        "every cell draws from its own generator seeded by the seed and the cell's name, so a part re-run with the "
        "same seed and R draws the same samples):",
        "",
        *provenance(r),
        "",
        "R is the number of replicates per cell (item interval, DiD) or per family scenario. Every figure is given "
        "as estimate ± its Monte Carlo SE "
        "(√(p(1 − p)/R) for a coverage, SD/√R for an FDR), in per cent. **Bold**: outside 94–96 % for a 95 % "
        "interval, outside 89–91 % for the 90 % interval, or an FDR above 5 %. What the figures mean for the "
        "methods, and the caveats they lead to: docs/methods.md §12.1.",
        "",
        "Populations (probabilities of levels 1…k; top box = the two highest levels):",
        "",
        "| scale | population | level probabilities | mean | top box |",
        "|---|---|---|---|---|",
    ]
    for k, pops in r["populations"].items():
        for name, p in pops.items():
            mean = sum((i + 1) * x for i, x in enumerate(p))
            top = sum(p[lvl - 1] for lvl in r["topbox"][k])
            lines.append(f"| {k} | {name} | {', '.join(f'{x:.2f}' for x in p)} | {mean:.3f} | {top:.2f} |")
    found = misses(r)
    lines += ["", f"## Outside the targets ({len(found)})", ""]
    lines += [f"- {x}" for x in found] or ["None."]
    lines += ["", "## Item intervals: Welch (mean gap) and Newcombe (top-box difference)", "",
              "Coverage among the draws where the interval exists; Welch is undefined only when both sides "
              "answered one level each (no interval is then shown). *Below*/*above*: the Welch 95 % interval "
              "lay entirely below / above the true gap. *Staff constant*: the share of draws where every staff "
              "answer was on one level (the staff side then adds nothing to the SE).", ""]
    groups: dict[tuple, list[dict]] = {}
    for c in r["interval"]:
        groups.setdefault((c["scale"], c["staff"], c["customer"]), []).append(c)
    for (k, staff, customer), cells in groups.items():
        c0 = cells[0]
        lines += [f"### Scale {k}: staff {staff} vs customers {customer} (true gap {c0['true_gap']:+.3f}, "
                  f"true top-box difference {c0['true_topbox_diff']:+.3f})", "",
                  "| staff n | customers n | Welch 95 % | below / above | Welch 90 % | Welch undefined % "
                  "| staff constant % | Newcombe 95 % |", "|---|---|---|---|---|---|---|---|"]
        for c in cells:
            lines.append(f"| {c['n_staff']} | {c['n_customer']} | {pct(c['welch95'], TARGET_95)} | "
                         f"{share(c['welch95_below'])} / {share(c['welch95_above'])} | "
                         f"{pct(c['welch90'], TARGET_90)} | {share(c['welch_undefined'])} | "
                         f"{share(c['staff_constant'])} | {pct(c['newcombe95'], TARGET_95)} |")
        lines.append("")
    lines += ["## Change of the gap between waves (DiD, §7)", "",
              "Four independent groups, the same n in both waves. Groups: staff wave 1 / customers wave 1 / "
              "staff wave 2 / customers wave 2.", ""]
    dgroups: dict[tuple, list[dict]] = {}
    for c in r["did"]:
        dgroups.setdefault((c["scale"], tuple(c["groups"])), []).append(c)
    for (k, pops), cells in dgroups.items():
        c0 = cells[0]
        lines += [f"### Scale {k}: {' / '.join(pops)} (true DiD {c0['true_did']:+.3f}, true top-box DiD "
                  f"{c0['true_topbox_did']:+.3f})", "",
                  "| staff n | customers n | DiD 95 % (Satterthwaite t) | top-box DiD 95 % (MOVER–Wilson) | "
                  "top-box undefined % |", "|---|---|---|---|---|"]
        for c in cells:
            lines.append(f"| {c['n_staff']} | {c['n_customer']} | {pct(c['did95'], TARGET_95)} | "
                         f"{pct(c['topbox_did95'], TARGET_95)} | {share(c['topbox_did_undefined'])} |")
        lines.append("")
    lines += ["## The BH-adjusted classification over a family of 20 items (§4, §8)", "",
              "A discovery is a class of blind_spot, hidden_strength or minor_gap: the BH-adjusted Welch p and the "
              "BH-adjusted Mann–Whitney p both ≤ 0.05 (the engine's rule, §8); "
              "a false one is a discovery on an item whose true gap is 0. *all_null*: 20 items with no gap "
              "(FDR = the chance of any false flag). *mixed*: 15 null items and 5 real gaps "
              f"({real_gaps(r)}; the last is exactly δ). ρ: the correlation of a respondent's "
              "latent answers across items (0 = independent items). *Aligned on |gap| ≥ δ*: the share of real "
              "items with |gap| ≥ δ called aligned (the equivalence rule's error, ≤ 5 % by construction at "
              "gap = δ). Classes checked against `adjust_item_family` on the first "
              f"{r['family'][0]['checked_against_engine'] if r['family'] else 0} replicates of each scenario.",
              "*Welch alone*: the same draws, counting a discovery on the BH-adjusted Welch p alone (the rule "
              "before; shown for comparison). *Made inconclusive*: the share of all items that Welch alone would "
              "have flagged and the engine calls inconclusive.",
              "", "| scale | family | staff n | customers n | ρ | FDR | any false flag | per null item | "
              "power per real item | wrong sign | aligned on \\|gap\\| ≥ δ | FDR, Welch alone | "
              "power, Welch alone | made inconclusive |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in r["family"]:
        lines.append(f"| {c['scale']} | {c['family']} | {c['n_staff']} | {c['n_customer']} | {c['rho']} | "
                     f"{pct(c['fdr'], limit=FDR_LIMIT)} | {pct(c['any_false'])} | "
                     f"{pct(c['false_positive_per_null_item'])} | {pct(c['power_per_real_item'])} | "
                     f"{pct(c['wrong_sign_claims_per_real_item'])} | {pct(c['aligned_per_material_item'])} | "
                     f"{pct(c['fdr_welch_alone'], limit=FDR_LIMIT)} | {pct(c['power_welch_alone'])} | "
                     f"{pct(c['welch_alone_made_inconclusive'])} |")
    lines += ["", "False flags per null item, by population (the same population on both sides), averaged over "
              "the scenario's null items of that population:", "",
              "| scale | family | staff n | customers n | ρ | " + " | ".join(POP_ORDER) + " |",
              "|---|---|---|---|---|" + "---|" * len(POP_ORDER)]
    for c in r["family"]:
        by = {}
        for e in c["false_positive_by_item"]:
            by.setdefault(e["staff"], []).append(e["rate"])
        cells = [f"{100 * sum(by[p]) / len(by[p]):.2f}" if p in by else "—" for p in POP_ORDER]
        lines.append(f"| {c['scale']} | {c['family']} | {c['n_staff']} | {c['n_customer']} | {c['rho']} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "coverage.json"
    (src.parent / "COVERAGE.md").write_text(markdown(json.loads(src.read_text())))
