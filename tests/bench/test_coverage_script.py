"""bench/coverage.py measures what it says: true values by hand, coverage and FDR recomputed with independent
references (scipy, statsmodels) on the same draws, known answers within Monte Carlo error, seeded runs
reproducible, and the --quick command line writing its two files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from bench import coverage as cov
from bench.coverage_report import misses, summary

pytestmark = pytest.mark.no_database


def _within(rate: float, target: float, reps: int, sds: float = 4.0) -> bool:
    return abs(rate - target) <= sds * math.sqrt(target * (1 - target) / reps)


def test_true_values_equal_a_hand_computation():
    # 5 points: centred 1(.05) 2(.15) 3(.35) 4(.30) 5(.15); optimistic .02 .05 .18 .45 .30; ceiling .01 .02 .05 .17 .75
    assert cov.true_mean(5, "centred") == pytest.approx(0.05 + 0.30 + 1.05 + 1.20 + 0.75)  # 3.35
    assert cov.true_mean(5, "optimistic") == pytest.approx(0.02 + 0.10 + 0.54 + 1.80 + 1.50)  # 3.96
    assert cov.true_mean(5, "ceiling") == pytest.approx(0.01 + 0.04 + 0.15 + 0.68 + 3.75)  # 4.63
    assert cov.true_gap(5, "optimistic", "centred") == pytest.approx(0.61)
    assert cov.true_topbox_diff(5, "optimistic", "centred") == pytest.approx(0.75 - 0.45)
    assert cov.true_topbox(7, "ceiling") == pytest.approx(0.20 + 0.65)
    # DiD of (optimistic, centred) → (ceiling, centred): (4.63 − 3.35) − (3.96 − 3.35);
    # its top box: (.92 − .45) − (.75 − .45)
    cell = cov.did_cell(5, ("optimistic", "centred", "ceiling", "centred"), 30, 100, reps=5, seed=1)
    assert cell["true_did"] == pytest.approx(0.67)
    assert cell["true_topbox_did"] == pytest.approx(0.17)
    # the boundary item's gap is exactly δ (0.25 on 5 points, 0.375 on 7)
    assert cov.true_gap(5, cov.boundary_population(5), "centred") == pytest.approx(0.25, abs=1e-12)
    assert cov.true_gap(7, cov.boundary_population(7), "centred") == pytest.approx(0.375, abs=1e-12)
    assert [round(g, 6) for g in cell_gaps(5, "mixed")] == [0.0] * 15 + [0.61, 1.28, -0.61, 0.67, 0.25]


def cell_gaps(k, kind):
    return [cov.true_gap(k, s, c) for s, c in cov.family_items(k, kind)]


def test_interval_coverage_equals_scipy_and_statsmodels_on_the_same_draws():
    k, staff, customer, n1, n2, reps, seed = 5, "optimistic", "centred", 10, 60, 150, 3
    cell = cov.interval_cell(k, staff, customer, n1, n2, reps=reps, seed=seed)
    rng = cov.cell_rng(seed, "interval", k, staff, customer, n1, n2)  # the cell's own draws, again
    a = rng.multinomial(n1, cov.probs(k, staff), size=reps)
    b = rng.multinomial(n2, cov.probs(k, customer), size=reps)
    v = np.arange(1, 6)
    welch = newcombe = 0
    for i in range(reps):
        x, y = np.repeat(v, a[i]), np.repeat(v, b[i])
        lo, hi = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
        welch += lo <= 0.61 <= hi
        lo, hi = confint_proportions_2indep(int((x >= 4).sum()), n1, int((y >= 4).sum()), n2,
                                            method="newcomb", compare="diff")
        newcombe += lo <= 0.30 <= hi
    assert cell["welch_undefined"]["rate"] == 0
    assert cell["welch95"]["rate"] == welch / reps
    assert cell["newcombe95"]["rate"] == newcombe / reps


def test_did_coverage_equals_a_hand_computation_on_the_same_draws():
    k, pops, n1, n2, reps, seed = 5, ("optimistic", "centred", "ceiling", "centred"), 8, 25, 120, 4
    cell = cov.did_cell(k, pops, n1, n2, reps=reps, seed=seed)
    rng = cov.cell_rng(seed, "did", k, pops, n1, n2)
    draws = [rng.multinomial(n, cov.probs(k, p), size=reps) for n, p in zip((n1, n2, n1, n2), pops, strict=True)]
    v = np.arange(1, 6)
    covered = defined = 0
    for i in range(reps):
        groups = [np.repeat(v, d[i]) for d in draws]
        q = np.array([g.var(ddof=1) / g.size for g in groups])
        if q.sum() == 0:
            continue
        defined += 1
        did = (groups[2].mean() - groups[3].mean()) - (groups[0].mean() - groups[1].mean())
        df = q.sum() ** 2 / sum(qj**2 / (g.size - 1) for qj, g in zip(q, groups, strict=True) if qj > 0)
        half = stats.t.ppf(0.975, df) * math.sqrt(q.sum())
        covered += did - half <= 0.67 <= did + half
    assert cell["did95"]["n"] == defined
    assert cell["did95"]["rate"] == covered / defined


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy, on constant groups
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_fdr_equals_statsmodels_bh_on_the_same_draws(rho):
    k, kind, n1, n2, reps, seed = 5, "mixed", 10, 60, 40, 5
    cell = cov.family_cell(k, kind, n1, n2, rho, reps=reps, seed=seed, checked=2)
    rng = cov.cell_rng(seed, "family", k, kind, n1, n2, rho)
    items = cov.family_items(k, kind)
    null = np.array([abs(g) < 1e-12 for g in cell_gaps(k, kind)])
    v = np.arange(1, 6)
    fdp, fdp_alone, real, real_alone, dropped = [], [], 0, 0, 0
    for _ in range(reps):
        a = cov.draw_family_counts(rng, k, items, n1, 0, rho)
        b = cov.draw_family_counts(rng, k, items, n2, 1, rho)
        xs = [(np.repeat(v, a[j]), np.repeat(v, b[j])) for j in range(20)]
        p = [stats.ttest_ind(x, y, equal_var=False).pvalue for x, y in xs]
        p_mw = [stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue
                for x, y in xs]
        alone = multipletests(p, alpha=0.05, method="fdr_bh")[0]
        # the engine's rule (§8): both BH-adjusted p ≤ 0.05
        both = alone & multipletests(p_mw, alpha=0.05, method="fdr_bh")[0]
        fdp_alone.append((alone & null).sum() / max(alone.sum(), 1))
        fdp.append((both & null).sum() / max(both.sum(), 1))
        real += (both & ~null).sum()
        real_alone += (alone & ~null).sum()
        dropped += (alone & ~both).sum()
    assert cell["fdr_welch_alone"]["rate"] == pytest.approx(float(np.mean(fdp_alone)), abs=1e-12)
    assert cell["fdr"]["rate"] == pytest.approx(float(np.mean(fdp)), abs=1e-12)
    assert cell["power_per_real_item"]["rate"] == pytest.approx(real / (5 * reps), abs=1e-12)
    assert cell["power_welch_alone"]["rate"] == pytest.approx(real_alone / (5 * reps), abs=1e-12)
    assert cell["welch_alone_made_inconclusive"]["rate"] == pytest.approx(dropped / (20 * reps), abs=1e-12)
    assert dropped > 0  # the two rules differ on these draws, so the check above tells them apart
    assert cell["checked_against_engine"] == 2


def test_correlated_draws_keep_each_items_margin():
    rng = np.random.default_rng(8)
    items = cov.family_items(5, "mixed")
    counts = cov.draw_family_counts(rng, 5, items, 40_000, 0, 0.5)
    for j, (staff, _) in enumerate(items):
        assert np.abs(counts[j] / 40_000 - cov.probs(5, staff)).max() < 0.01
    # one respondent's answers are correlated, so two items' means over the same 30 people move together
    means = np.array([cov.draw_family_counts(rng, 5, items, 30, 0, 0.5)[:2] @ np.arange(1, 6) / 30
                      for _ in range(400)])
    assert np.corrcoef(means.T)[0, 1] > 0.2
    independent = np.array([cov.draw_family_counts(rng, 5, items, 30, 0, 0.0)[:2] @ np.arange(1, 6) / 30
                            for _ in range(400)])
    assert abs(np.corrcoef(independent.T)[0, 1]) < 0.2


def test_known_answers_within_monte_carlo_error():
    reps = 1000
    # large n, no ceiling: Welch's and Newcombe's intervals cover at their nominal level
    big = cov.interval_cell(5, "optimistic", "centred", 500, 1000, reps=reps, seed=6)
    assert _within(big["welch95"]["rate"], 0.95, reps), big["welch95"]
    assert _within(big["welch90"]["rate"], 0.90, reps), big["welch90"]
    assert _within(big["newcombe95"]["rate"], 0.95, reps), big["newcombe95"]
    assert abs(big["welch95"]["se"] - math.sqrt(0.95 * 0.05 / reps)) < 0.002
    # staff n = 5 from a population with 75 % at the top: every draw where all five answer 5 (0.75⁵ = 23.7 %)
    # has no staff variance, an interval as narrow as the customers' side alone, and misses above the truth
    small = cov.interval_cell(5, "ceiling", "centred", 5, 1000, reps=reps, seed=7)
    assert small["welch95_above"]["rate"] >= 0.75**5 - 4 * math.sqrt(0.75**5 * (1 - 0.75**5) / reps)
    assert small["welch95"]["rate"] < 0.85
    # a family with no real gap, independent items and n large enough for nearly continuous, valid p-values:
    # BH's FDR on Welch alone is then q·m0/m = 5 % (and the chance of any false flag, as every discovery is
    # false); requiring Mann–Whitney as well can only remove discoveries, so the engine's FDR is at most that
    fam = cov.family_cell(5, "all_null", 500, 5000, 0.0, reps=150, seed=8, checked=1)
    assert _within(fam["fdr_welch_alone"]["rate"], 0.05, 150), fam["fdr_welch_alone"]
    assert fam["fdr"]["rate"] <= fam["fdr_welch_alone"]["rate"]
    assert fam["fdr"]["rate"] == fam["any_false"]["rate"]


def test_seeded_runs_are_reproducible_and_the_seed_matters():
    kwargs = dict(quick=True, reps=60, did_reps=30, family_reps=6, checked=1)
    first, again, other = (cov.run(seed=s, **kwargs) for s in (11, 11, 12))
    strip = ("date", "machine", "seconds", "seed", "runs")
    assert {k: v for k, v in first.items() if k not in strip} == {k: v for k, v in again.items() if k not in strip}
    assert first["interval"] != other["interval"]
    # a part run on its own draws what it draws in a full run (each cell has its own generator)
    alone = cov.run(seed=11, parts=("did",), **kwargs)
    assert alone["did"] == first["did"] and alone["interval"] == [] and list(alone["runs"]) == ["did"]
    with pytest.raises(ValueError, match="parts"):
        cov.run(seed=11, parts=("intervals",), **kwargs)


def test_quick_command_line_writes_the_table_and_the_json(tmp_path, capsys):
    # in this process (a subprocess would spend most of the test importing scipy again)
    cov.main(["--quick", "--reps", "50", "--did-reps", "20", "--family-reps", "5", "--out-dir", str(tmp_path)])
    out = capsys.readouterr().out
    printed = json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))
    assert json.loads((tmp_path / "coverage.json").read_text()) == printed
    assert printed["reps"] == {"interval": 50, "did": 20, "family": 5}
    text = (tmp_path / "COVERAGE.md").read_text()
    for heading in ("## Outside the targets", "## Item intervals", "## Change of the gap between waves",
                    "## The BH-adjusted classification"):
        assert heading in text
    assert "| 5 | 1000 |" in text  # the ceiling cell with staff n = 5 is in its table
    # RESULTS.md's summary: one row per method, its count of misses the same as the list's
    rows = {row["method"]: row for row in summary(printed)}
    assert list(rows) == ["Welch 95 %", "Welch 90 %", "Newcombe 95 %", "DiD 95 %", "top-box DiD 95 %",
                          "FDR of the classification"]
    assert rows["Welch 95 %"]["cells"] == 3 and rows["FDR of the classification"]["cells"] == 2
    assert sum(row["outside"] for row in rows.values()) == len(misses(printed))


def test_parts_rerun_keeps_the_other_parts_and_says_where_each_comes_from(tmp_path, capsys):
    small = ["--quick", "--reps", "40", "--did-reps", "20", "--family-reps", "4", "--out-dir", str(tmp_path)]
    cov.main(small)
    first = json.loads((tmp_path / "coverage.json").read_text())
    cov.main([*small[:-2], "--family-reps", "6", "--parts", "family", "--seed", "99", "--out-dir", str(tmp_path)])
    capsys.readouterr()
    second = json.loads((tmp_path / "coverage.json").read_text())
    assert second["interval"] == first["interval"] and second["did"] == first["did"]  # kept as they were
    assert second["family"] != first["family"] and second["family"][0]["reps"] == 6
    assert second["runs"]["interval"]["date"] == first["runs"]["interval"]["date"]
    assert second["runs"]["family"]["seed"] == 99 and second["runs"]["interval"]["seed"] == first["seed"]
    assert second["reps"] == {"interval": 40, "did": 20, "family": 6}
    text = (tmp_path / "COVERAGE.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| Item intervals") or
            line.startswith("| Classification over")]
    assert "| 20261217 | 40 |" in rows[0] and "| 99 | 6 |" in rows[1]
    # a result written before per-part runs existed is read as one run for every part
    legacy = {k: v for k, v in first.items() if k != "runs"}
    assert set(cov.runs_of(legacy)) == set(cov.PARTS) and cov.runs_of(legacy)["did"]["whole_run"]
    # nothing to merge with: a part cannot be left out
    with pytest.raises(ValueError, match="no earlier coverage.json"):
        cov.merged(cov.run(quick=True, seed=1, reps=10, did_reps=5, family_reps=2, checked=0, parts=("did",)),
                   None)
