"""How honest are Kagami's intervals? A seeded Monte Carlo check of coverage and false discoveries (issue 17, item 7).

    python bench/coverage.py            # full run (about 15-25 minutes on 2 shared cores); writes bench/COVERAGE.md
                                        # and bench/coverage.json
    python bench/coverage.py --quick    # a few cells with small R (seconds); prints the JSON line, writes nothing
    python bench/coverage.py --quick --out-dir /tmp/x   # the same, and writes its COVERAGE.md / coverage.json there
    python bench/coverage.py --parts did,family         # only those parts; the other parts' figures are kept from
                                                        # the coverage.json already in the output folder, each part
                                                        # saying which run (date, load, seed, R) it comes from

No database and no Django: answers are drawn as multinomial counts over the Likert levels from populations whose
level probabilities are fixed below, so every true value (mean gap, top-box difference, difference in differences)
is known exactly, and Kagami's own public statistics functions (``reports.stats``) are called on every draw:

- ``welch_from_counts``: coverage of the 95 % and the 90 % interval of the mean gap (the 90 % one decides
  "aligned", docs/methods.md §8);
- ``newcombe_interval`` on the top-box counts: coverage of the 95 % interval of the top-box difference (§2.5);
- ``did_from_counts``: coverage of the 95 % interval of the wave-over-wave change of the mean gap and of the
  top-box change (the MOVER interval from four Wilson intervals, §7);
- ``welch_from_counts`` and ``mann_whitney_from_counts`` → ``benjamini_hochberg`` on each → ``classify_gap`` over a
  family of 20 items: the false discovery rate of the classification (§4, §8), where a discovery needs both
  adjusted p ≤ α. This is the decision ``adjust_item_family`` makes; the first replicates of every family scenario
  are also run through ``item_comparison`` + ``adjust_item_family`` and the classes must agree (else the script
  stops). For comparison only, also the FDR and power of the rule before (a discovery on the BH-adjusted Welch p
  alone).

Monte Carlo error: a coverage estimate p from R replicates has SE √(p(1 − p)/R); an FDR estimate (the mean of the
false-discovery proportion over replicates) has SE = SD(proportion)/√R. Every cell draws from its own generator,
seeded by ``--seed`` and the cell's name, so a cell's figures do not depend on which other cells run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.stats import (  # noqa: E402  (the path above first)
    adjust_item_family,
    benjamini_hochberg,
    classify_gap,
    did_from_counts,
    item_comparison,
    mann_whitney_from_counts,
    materiality_delta,
    newcombe_interval,
    welch_from_counts,
)

HERE = Path(__file__).resolve().parent

# Level probabilities of the populations (levels 1..k). "centred": customers around the middle-upper part of the
# scale; "optimistic": staff who think well of the company; "ceiling": most answers at the top, what a
# well-liked item looks like (and the hardest case for a t interval on a few answers).
POPULATIONS: dict[int, dict[str, tuple[float, ...]]] = {
    5: {
        "centred": (0.05, 0.15, 0.35, 0.30, 0.15),
        "optimistic": (0.02, 0.05, 0.18, 0.45, 0.30),
        "ceiling": (0.01, 0.02, 0.05, 0.17, 0.75),
    },
    7: {
        "centred": (0.03, 0.07, 0.12, 0.25, 0.28, 0.17, 0.08),
        "optimistic": (0.01, 0.02, 0.05, 0.12, 0.25, 0.33, 0.22),
        "ceiling": (0.01, 0.01, 0.02, 0.04, 0.07, 0.20, 0.65),
    },
}
TOPBOX = {5: (4, 5), 7: (6, 7)}  # the two highest levels, as an item without its own top box
STAFF_NS = (5, 10, 30, 100, 500)
CUSTOMER_NS = (20, 100, 1000, 5000)
NULL_CUSTOMER_NS = (20, 1000)  # null pairs: the customers' n matters little once it is large
DID_CUSTOMER_NS = (20, 1000)
ALPHA = 0.05


def levels(k: int) -> np.ndarray:
    return np.arange(1, k + 1, dtype=float)


def probs(k: int, name: str) -> np.ndarray:
    """The level probabilities of population ``name`` (a mixture "a+b@w" is w·a + (1 − w)·b)."""
    if "@" in name:
        pair, weight = name.split("@")
        first, second = pair.split("+")
        w = float(weight)
        return w * probs(k, first) + (1 - w) * probs(k, second)
    p = np.asarray(POPULATIONS[k][name], dtype=float)
    assert abs(p.sum() - 1) < 1e-12, (k, name)
    return p


def true_mean(k: int, name: str) -> float:
    return float(probs(k, name) @ levels(k))


def true_topbox(k: int, name: str) -> float:
    return float(probs(k, name)[[lvl - 1 for lvl in TOPBOX[k]]].sum())


def true_gap(k: int, staff: str, customer: str) -> float:
    return true_mean(k, staff) - true_mean(k, customer)


def true_topbox_diff(k: int, staff: str, customer: str) -> float:
    return true_topbox(k, staff) - true_topbox(k, customer)


def boundary_population(k: int, customer: str = "centred", staff_like: str = "optimistic") -> str:
    """A staff population whose true gap to ``customer`` is exactly δ (a mixture of ``staff_like`` and it)."""
    w = materiality_delta(k) / true_gap(k, staff_like, customer)
    return f"{staff_like}+{customer}@{w!r}"


def cell_rng(seed: int, *key) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(repr(key).encode())])


def _rate(hits: int, n: int) -> dict:
    p = hits / n if n else None
    return {"rate": p, "se": None if p is None else (p * (1 - p) / n) ** 0.5, "n": n}


def _covered(lo, hi, truth: float) -> bool:
    return lo <= truth <= hi


# --------------------------------------------------------------------------- item intervals (Welch, Newcombe)
def interval_cell(k: int, staff: str, customer: str, n_staff: int, n_customer: int, reps: int, seed: int) -> dict:
    rng = cell_rng(seed, "interval", k, staff, customer, n_staff, n_customer)
    v, mask = levels(k), np.isin(levels(k), TOPBOX[k])
    a = rng.multinomial(n_staff, probs(k, staff), size=reps)
    b = rng.multinomial(n_customer, probs(k, customer), size=reps)
    gap, tb = true_gap(k, staff, customer), true_topbox_diff(k, staff, customer)
    defined = c95 = c90 = low95 = high95 = nc = 0
    constant = int(((a > 0).sum(axis=1) == 1).sum())  # every staff answer on one level: no staff variance
    for i in range(reps):
        w = welch_from_counts(a[i], b[i], v)
        if w["ci_low"] is not None:
            defined += 1
            c95 += _covered(w["ci_low"], w["ci_high"], gap)
            c90 += _covered(w["ci90_low"], w["ci90_high"], gap)
            low95 += w["ci_high"] < gap  # the interval lies below the truth
            high95 += w["ci_low"] > gap
        lo, hi = newcombe_interval(int(a[i][mask].sum()), n_staff, int(b[i][mask].sum()), n_customer)
        nc += _covered(lo, hi, tb)
    return {"scale": k, "staff": staff, "customer": customer, "n_staff": n_staff, "n_customer": n_customer,
            "reps": reps, "true_gap": gap, "true_topbox_diff": tb,
            "welch95": _rate(c95, defined), "welch90": _rate(c90, defined),
            "welch95_below": _rate(low95, defined), "welch95_above": _rate(high95, defined),
            "welch_undefined": _rate(reps - defined, reps), "staff_constant": _rate(constant, reps),
            "newcombe95": _rate(nc, reps)}


# --------------------------------------------------------------------------- difference in differences
def did_cell(k: int, pops: tuple[str, str, str, str], n_staff: int, n_customer: int, reps: int, seed: int) -> dict:
    """``pops`` = (staff wave 1, customers wave 1, staff wave 2, customers wave 2); the same n in both waves."""
    rng = cell_rng(seed, "did", k, pops, n_staff, n_customer)
    v = levels(k)
    ns = (n_staff, n_customer, n_staff, n_customer)
    draws = [rng.multinomial(n, probs(k, p), size=reps) for n, p in zip(ns, pops, strict=True)]
    did = true_gap(k, pops[2], pops[3]) - true_gap(k, pops[0], pops[1])
    tb_did = true_topbox_diff(k, pops[2], pops[3]) - true_topbox_diff(k, pops[0], pops[1])
    defined = cov = tb_defined = tb_cov = 0
    for i in range(reps):
        r = did_from_counts(*(d[i] for d in draws), v, topbox_levels=TOPBOX[k])
        assert not r["report_status"].startswith("suppressed"), r["report_status"]
        if r["ci_low"] is not None:
            defined += 1
            cov += _covered(r["ci_low"], r["ci_high"], did)
        t = r["topbox_did"]
        if t["ci_low"] is not None:
            tb_defined += 1
            tb_cov += _covered(t["ci_low"], t["ci_high"], tb_did)
    return {"scale": k, "groups": list(pops), "n_staff": n_staff, "n_customer": n_customer, "reps": reps,
            "true_did": did, "true_topbox_did": tb_did, "did95": _rate(cov, defined),
            "did_undefined": _rate(reps - defined, reps), "topbox_did95": _rate(tb_cov, tb_defined),
            "topbox_did_undefined": _rate(reps - tb_defined, reps)}


# --------------------------------------------------------------------------- the BH-adjusted classification
def family_items(k: int, kind: str) -> list[tuple[str, str]]:
    """(staff, customer) populations of the 20 items of a family: "all_null" or "mixed" (15 null, 5 real gaps)."""
    names = ("centred", "optimistic", "ceiling")
    nulls = [(names[j % 3], names[j % 3]) for j in range(20)]
    if kind == "all_null":
        return nulls
    if kind == "mixed":
        real = [("optimistic", "centred"), ("ceiling", "centred"), ("centred", "optimistic"),
                ("ceiling", "optimistic"), (boundary_population(k), "centred")]
        return nulls[:15] + real
    raise ValueError(kind)


def draw_family_counts(rng, k: int, items, n: int, side: int, rho: float) -> np.ndarray:
    """Counts (items × levels) of one side's ``n`` respondents; with ``rho`` > 0 a respondent's answers share a
    latent factor (equicorrelated normal latents cut at each item's population quantiles, so each item's
    margin is still exactly its population)."""
    if rho == 0:
        return np.stack([rng.multinomial(n, probs(k, pair[side])) for pair in items])
    z = np.sqrt(rho) * rng.standard_normal((n, 1)) + np.sqrt(1 - rho) * rng.standard_normal((n, len(items)))
    out = np.empty((len(items), k), dtype=np.int64)
    for j, pair in enumerate(items):
        cuts = special.ndtri(np.cumsum(probs(k, pair[side]))[:-1])
        out[j] = np.bincount(np.searchsorted(cuts, z[:, j]), minlength=k)
    return out


def classify_family(k: int, a: np.ndarray, b: np.ndarray) -> tuple[list[str], list[bool]]:
    """Each item's class: Welch and Mann–Whitney p, BH over the family for each, then classify_gap (what
    adjust_item_family decides); and, for comparison, whether the BH-adjusted Welch p alone is ≤ α (a discovery
    under the rule before, docs/methods.md §12.1)."""
    v, delta = levels(k), materiality_delta(k)
    welch = [welch_from_counts(a[j], b[j], v) for j in range(len(a))]
    n_s, n_c = int(a[0].sum()), int(b[0].sum())
    status = "ok" if min(n_s, n_c) >= 30 else "ok_low_base"
    p_bh = benjamini_hochberg([w["p"] for w in welch])
    mwu_bh = benjamini_hochberg([mann_whitney_from_counts(a[j], b[j])["p"] for j in range(len(a))])
    classes = [classify_gap(w["gap"], p, w["ci90_low"], w["ci90_high"], p_adjusted_mwu=pm, delta=delta,
                            status=status, alpha=ALPHA)
               for w, p, pm in zip(welch, p_bh, mwu_bh, strict=True)]
    return classes, [p is not None and p <= ALPHA for p in p_bh]


def engine_classes(k: int, a: np.ndarray, b: np.ndarray) -> list[str]:
    v = levels(k)
    family = [item_comparison(a[j], b[j], v, TOPBOX[k]) for j in range(len(a))]
    return [r["classification"]["class"] for r in adjust_item_family(family, alpha=ALPHA)]


DISCOVERIES = ("blind_spot", "hidden_strength", "minor_gap")


def family_cell(k: int, kind: str, n_staff: int, n_customer: int, rho: float, reps: int, seed: int,
                checked: int) -> dict:
    rng = cell_rng(seed, "family", k, kind, n_staff, n_customer, rho)
    items = family_items(k, kind)
    gaps = np.array([true_gap(k, s, c) for s, c in items])
    null = np.abs(gaps) < 1e-12
    material = np.abs(gaps) >= materiality_delta(k) - 1e-12
    fdp, any_false, null_hits, real_hits, wrong_sign, aligned_material, undefined = [], 0, 0, 0, 0, 0, 0
    fdp_welch, real_welch, null_by_item = [], 0, np.zeros(len(items), dtype=np.int64)
    welch_inconclusive = 0
    for i in range(reps):
        a = draw_family_counts(rng, k, items, n_staff, 0, rho)
        b = draw_family_counts(rng, k, items, n_customer, 1, rho)
        classes, welch_found = classify_family(k, a, b)
        if i < checked:
            engine = engine_classes(k, a, b)
            if engine != classes:
                raise AssertionError(f"classification differs from adjust_item_family: {classes} vs {engine}")
        found = np.array([c in DISCOVERIES for c in classes])
        false = found & null
        fdp.append(false.sum() / max(found.sum(), 1))
        null_by_item += false
        alone = np.array(welch_found)
        fdp_welch.append((alone & null).sum() / max(alone.sum(), 1))
        real_welch += int((alone & ~null).sum())
        welch_inconclusive += int((alone & ~found).sum())
        any_false += bool(false.any())
        null_hits += int(false.sum())
        real_hits += int((found & ~null).sum())
        signs = np.array([{"blind_spot": 1, "hidden_strength": -1}.get(c, 0) for c in classes])
        wrong_sign += int(((signs * np.sign(gaps)) < 0).sum())
        aligned_material += int(sum(c == "aligned" for c, m in zip(classes, material, strict=True) if m))
        undefined += sum(c == "not_assessed" for c in classes)
    fdp_arr, welch_arr = np.array(fdp), np.array(fdp_welch)
    m0, m1 = int(null.sum()), int((~null).sum())
    return {"scale": k, "family": kind, "items": len(items), "null_items": m0, "n_staff": n_staff,
            "n_customer": n_customer, "rho": rho, "reps": reps, "checked_against_engine": min(checked, reps),
            "true_gaps": gaps.tolist(),
            "fdr": {"rate": float(fdp_arr.mean()), "se": float(fdp_arr.std(ddof=1) / np.sqrt(reps)), "n": reps},
            "fdr_welch_alone": {"rate": float(welch_arr.mean()),
                                "se": float(welch_arr.std(ddof=1) / np.sqrt(reps)), "n": reps},
            "power_welch_alone": _rate(real_welch, m1 * reps) if m1 else None,
            "welch_alone_made_inconclusive": _rate(welch_inconclusive, len(items) * reps),
            "false_positive_by_item": [{"staff": s, "customer": c, "rate": int(h) / reps}
                                       for (s, c), h, z in zip(items, null_by_item, null, strict=True) if z],
            "any_false": _rate(any_false, reps), "false_positive_per_null_item": _rate(null_hits, m0 * reps),
            "power_per_real_item": _rate(real_hits, m1 * reps) if m1 else None,
            "wrong_sign_claims_per_real_item": _rate(wrong_sign, m1 * reps) if m1 else None,
            "aligned_per_material_item": _rate(aligned_material, int(material.sum()) * reps) if m1 else None,
            "not_assessed_share": undefined / (reps * len(items))}


# --------------------------------------------------------------------------- the plan
def plan(quick: bool) -> dict:
    if quick:
        return {
            "interval": [(5, "optimistic", "centred", 10, 100), (5, "ceiling", "centred", 5, 1000),
                         (7, "centred", "centred", 500, 1000)],
            "did": [(5, ("optimistic", "centred", "ceiling", "centred"), 30, 100)],
            "family": [(5, "all_null", 30, 100, 0.0), (5, "mixed", 10, 100, 0.5)],
        }
    interval = []
    for k in (5, 7):
        for staff, customer in (("optimistic", "centred"), ("ceiling", "centred"),
                                ("centred", "centred"), ("ceiling", "ceiling")):
            cust_ns = CUSTOMER_NS if staff != customer else NULL_CUSTOMER_NS
            interval += [(k, staff, customer, ns, nc) for ns in STAFF_NS for nc in cust_ns]
    did = []
    for k in (5, 7):
        scenarios = [("optimistic", "centred", "ceiling", "centred")]  # the gap grows by staff alone
        if k == 5:
            scenarios.append(("optimistic", "centred", "optimistic", "centred"))  # nothing changed
        did += [(k, pops, ns, nc) for pops in scenarios for ns in STAFF_NS for nc in DID_CUSTOMER_NS]
    family = [(5, kind, ns, nc, 0.0) for kind in ("all_null", "mixed")
              for ns, nc in ((5, 20), (10, 100), (30, 1000), (100, 1000), (500, 5000))]
    family += [(5, kind, ns, nc, 0.5) for kind in ("all_null", "mixed") for ns, nc in ((10, 100), (100, 1000))]
    family += [(7, kind, 30, 1000, rho) for kind in ("all_null", "mixed") for rho in (0.0, 0.5)]
    return {"interval": interval, "did": did, "family": family}


def machine() -> dict:
    cpu = next((x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                if x.startswith("model name")), platform.processor())
    import scipy

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "load_average_at_start": os.getloadavg()}


PARTS = ("interval", "did", "family")


def run(*, quick: bool, seed: int, reps: int, did_reps: int, family_reps: int, checked: int,
        parts: tuple[str, ...] = PARTS, log=lambda msg: None) -> dict:
    """Run ``parts`` of the plan. ``runs`` says, per part run, when, where (load), with which seed and R, and how
    long it took; a part not run has an empty list and no entry in ``runs``."""
    unknown = set(parts) - set(PARTS)
    if unknown or not parts:
        raise ValueError(f"parts must be a non-empty subset of {PARTS}, got {parts!r}")
    started = time.perf_counter()
    todo = plan(quick)
    part_reps = {"interval": reps, "did": did_reps, "family": family_reps}
    out: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "seed": seed,
                 "quick": quick, "reps": part_reps, "parts": [x for x in PARTS if x in parts],
                 "populations": {str(k): {n: list(p) for n, p in pops.items()} for k, pops in POPULATIONS.items()},
                 "topbox": {str(k): list(t) for k, t in TOPBOX.items()}, "interval": [], "did": [], "family": [],
                 "runs": {}}
    cells = {"interval": lambda spec: interval_cell(*spec, reps=reps, seed=seed),
             "did": lambda spec: did_cell(*spec, reps=did_reps, seed=seed),
             "family": lambda spec: family_cell(*spec, reps=family_reps, seed=seed, checked=checked)}
    for part in out["parts"]:
        t0 = time.perf_counter()
        run_info = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "seed": seed, "quick": quick,
                    "reps": part_reps[part], "load_average_at_start": os.getloadavg()}
        for spec in todo[part]:
            out[part].append(cells[part](spec))
            log(f"{part} {spec}")
        out["runs"][part] = run_info | {"seconds": round(time.perf_counter() - t0, 1)}
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def runs_of(result: dict) -> dict:
    """Per part, the run its figures come from. A result written before ``runs`` existed was one full run: its
    top-level date, seed and R hold for every part (its time is the whole run's, marked ``whole_run``)."""
    if "runs" in result:
        return result["runs"]
    m = result["machine"]
    return {part: {"date": result["date"], "seed": result["seed"], "quick": result["quick"],
                   "reps": result["reps"][part], "load_average_at_start": m["load_average_at_start"],
                   "seconds": result["seconds"], "whole_run": True} for part in PARTS}


def merged(new: dict, old: dict | None) -> dict:
    """``new`` with the parts it did not run taken from ``old`` (figures and provenance unchanged)."""
    if old is None:
        missing = [p for p in PARTS if p not in new["parts"]]
        if missing:
            raise ValueError(f"no earlier coverage.json to take the parts {missing} from")
        return new
    if old["populations"] != new["populations"] or old["topbox"] != new["topbox"]:
        raise ValueError("the earlier coverage.json used other populations; run every part again")
    if old["quick"] != new["quick"]:
        raise ValueError("the earlier coverage.json is from a run of the other mode (--quick or not)")
    out = dict(new)
    old_runs = runs_of(old)
    out["runs"] = {}
    for part in PARTS:
        if part in new["parts"]:
            out["runs"][part] = new["runs"][part]
        else:
            out[part] = old[part]
            out["runs"][part] = old_runs[part] | {"machine": old["machine"]}
    out["reps"] = {part: out["runs"][part]["reps"] for part in PARTS}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few cells with small R; writes nothing unless "
                        "--out-dir is given")
    parser.add_argument("--seed", type=int, default=20261217)
    parser.add_argument("--reps", type=int, help="replicates per interval cell (default 8000; quick 400)")
    parser.add_argument("--did-reps", type=int, help="replicates per DiD cell (default 5000; quick 200)")
    parser.add_argument("--family-reps", type=int, help="replicates per family scenario (default 2000; quick 60)")
    parser.add_argument("--checked", type=int, help="replicates of each family also run through "
                        "adjust_item_family (default 20; quick 3)")
    parser.add_argument("--out-dir", type=Path, help="where COVERAGE.md and coverage.json go (default bench/; "
                        "--quick writes only with this)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="comma-separated parts to run: interval, did, family (default all). With fewer, the "
                        "other parts are kept from the coverage.json already in the output folder")
    args = parser.parse_args(argv)
    q = args.quick
    parts = tuple(x.strip() for x in args.parts.split(",") if x.strip())
    if set(parts) - set(PARTS) or not parts:
        parser.error(f"--parts: choose from {', '.join(PARTS)}")
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[coverage {time.perf_counter() - t0:7.1f} s] {msg}", file=sys.stderr, flush=True)

    result = run(quick=q, seed=args.seed, reps=args.reps or (400 if q else 8000),
                 did_reps=args.did_reps or (200 if q else 5000), family_reps=args.family_reps or (60 if q else 2000),
                 checked=args.checked if args.checked is not None else (3 if q else 20), parts=parts, log=log)
    out_dir = args.out_dir or (None if q else HERE)
    if out_dir is not None:
        from bench.coverage_report import markdown

        out_dir.mkdir(parents=True, exist_ok=True)
        if set(parts) != set(PARTS):
            earlier = out_dir / "coverage.json"
            result = merged(result, json.loads(earlier.read_text()) if earlier.exists() else None)
        (out_dir / "coverage.json").write_text(json.dumps(result, indent=1))
        (out_dir / "COVERAGE.md").write_text(markdown(result))
        log(f"wrote {out_dir / 'COVERAGE.md'} and coverage.json")
    print("JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
