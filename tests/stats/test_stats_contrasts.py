"""DiD (§7), segment gap differences (§6), weighting (§9), churn, bootstrap (§2.6)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pingouin as pg
import pytest
import scipy.stats as st
import statsmodels.api as sm
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from reports.stats import (
    bootstrap_from_counts,
    check_json_safe,
    churn_comparison,
    did_from_counts,
    did_from_scores,
    expand_counts,
    gap_difference_independent,
    gap_difference_shared_comparator,
    unexplained_nulls,
    weighted_item_comparison,
    weighted_summary_from_counts,
)
from reports.stats.did import mover_interval

L5 = [1, 2, 3, 4, 5]


def close(x, y, rel=1e-9, abs_=1e-12):
    return x is not None and math.isclose(x, y, rel_tol=rel, abs_tol=abs_)


def contract(r):
    check_json_safe(r)
    assert unexplained_nulls(r) == []


def four_tables(seed):
    rng = np.random.default_rng(seed)
    return [
        rng.multinomial(int(rng.integers(10, 250)), rng.dirichlet([1.0] * 5)).tolist()
        for _ in range(4)
    ]


# --------------------------------------------------------------------------- #
# DiD
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("seed", range(15))
def test_did_equals_ols_interaction_with_hc2(seed):
    s1, c1, s2, c2 = four_tables(seed)
    r = did_from_counts(s1, c1, s2, c2, L5, topbox_levels=[4, 5], k_min_staff=5)
    contract(r)
    y, staff, wave2 = [], [], []
    for counts, is_s, is_w2 in ((s1, 1, 0), (c1, 0, 0), (s2, 1, 1), (c2, 0, 1)):
        x = expand_counts(counts, L5)
        y.append(x)
        staff.append(np.full(x.size, is_s))
        wave2.append(np.full(x.size, is_w2))
    y, staff, wave2 = map(np.concatenate, (y, staff, wave2))
    X = np.column_stack([np.ones_like(y), staff, wave2, staff * wave2])
    # statsmodels: OLS(y, [1, staff, wave2, staff*wave2]).fit(cov_type="HC2").bse[3]
    fit = sm.OLS(y, X).fit(cov_type="HC2")
    assert close(r["did"], fit.params[3], abs_=1e-12)
    assert close(r["se"], fit.bse[3])
    # Satterthwaite df and t-based CI/p
    groups = [expand_counts(c, L5) for c in (s1, c1, s2, c2)]
    q = [g.var(ddof=1) / g.size for g in groups]
    df = sum(q) ** 2 / sum(qi**2 / (g.size - 1) for qi, g in zip(q, groups, strict=True))
    assert close(r["df"], df)
    assert close(r["p"], 2 * st.t.sf(abs(r["did"] / r["se"]), df))
    assert close(r["ci_high"], r["did"] + st.t.ppf(0.975, df) * r["se"])
    assert r["ci_excludes_zero"] == (r["ci_low"] > 0 or r["ci_high"] < 0)
    # each wave's gap CI is its own Welch CI
    w1 = st.ttest_ind(groups[0], groups[1], equal_var=False).confidence_interval()
    assert close(r["gap_wave1_ci_low"], w1.low) and close(r["gap_wave1_ci_high"], w1.high)
    # top-box DiD: Δp and SE² = Σ p(1 − p)/n
    ps = [g[g >= 4].size / g.size for g in groups]
    assert close(r["topbox_did"]["diff"], (ps[2] - ps[3]) - (ps[0] - ps[1]), abs_=1e-14)
    se = math.sqrt(sum(p * (1 - p) / g.size for p, g in zip(ps, groups, strict=True)))
    assert close(r["topbox_did"]["se"], se)
    assert r["topbox_did"]["low_base"] == (min(g.size for g in groups) < 30)


def test_did_from_scores_matches_counts_path():
    s1, c1, s2, c2 = four_tables(99)
    a = did_from_counts(s1, c1, s2, c2, L5)
    b = did_from_scores(*(expand_counts(c, L5) for c in (s1, c1, s2, c2)))
    for key in ("did", "se", "df", "t", "p", "ci_low", "ci_high", "gap_wave1", "gap_wave2"):
        assert close(a[key], b[key]), key


def test_did_suppression_and_degenerate_cases():
    big = [10, 10, 10, 10, 10]
    r = did_from_counts(big, big, [1, 1, 1, 0, 0], big, L5)
    assert r["report_status"] == "suppressed_anonymity"
    assert r["did"] is None and r["n_staff_wave1"] is None and r["gap_wave1"] is None
    contract(r)
    const = [0, 0, 10, 0, 0]
    r = did_from_counts(const, [0, 10, 0, 0, 0], const, [0, 0, 0, 10, 0], L5, topbox_levels=[4, 5])
    assert r["report_status"] == "no_variance"
    assert r["did"] == -2.0 and r["se"] is None and r["p"] is None
    assert "se: all four groups have zero variance" in r["undefined"]
    assert r["topbox_did"]["diff"] == -1.0 and r["topbox_did"]["se"] is None
    # the MOVER interval does not need a non-zero SE: Wilson limits of 0/10 and 10/10 have width
    assert -2.0 < r["topbox_did"]["ci_low"] < -1.0 < r["topbox_did"]["ci_high"] < 0.0
    assert "topbox_did.se: every top-box share is 0 or 1" in r["undefined"]
    contract(r)


def _wilson_by_hand(x, n, z=1.959963984540054):
    # Wilson (1927): (x + z²/2)/(n + z²) ± z/(n + z²) · √(x(n − x)/n + z²/4)
    centre = (x + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(x * (n - x) / n + z * z / 4)
    return centre - half, centre + half


def test_topbox_did_interval_is_mover_from_four_wilson_intervals_by_hand():
    # top box = levels 4-5. staff wave 1: 7 of 12; customers wave 1: 40 of 100; staff wave 2: 11 of 12;
    # customers wave 2: 45 of 100.  Δp = (11/12 − 0.45) − (7/12 − 0.40) = 0.28333…
    s1, c1, s2, c2 = [1, 2, 2, 4, 3], [10, 20, 30, 25, 15], [0, 0, 1, 5, 6], [5, 20, 30, 30, 15]
    x, n = [7, 40, 11, 45], [12, 100, 12, 100]
    r = did_from_counts(s1, c1, s2, c2, L5, topbox_levels=[4, 5])
    contract(r)
    p = [xi / ni for xi, ni in zip(x, n, strict=True)]
    wl = [_wilson_by_hand(xi, ni) for xi, ni in zip(x, n, strict=True)]
    # statsmodels agrees on each group's Wilson limits
    for (lo, hi), xi, ni in zip(wl, x, n, strict=True):
        ref = proportion_confint(xi, ni, alpha=0.05, method="wilson")
        assert close(lo, ref[0]) and close(hi, ref[1])
    diff = (p[2] - p[3]) - (p[0] - p[1])
    assert close(r["topbox_did"]["diff"], diff) and close(diff, 0.2833333333333333)
    # Zou & Donner: the lower limit takes each term's distance to the limit that lowers the sum
    # (the lower Wilson limit of a + group, the upper of a − group), the upper limit the other way round
    (l1, u1), (l2, u2), (l3, u3), (l4, u4) = wl
    lower = diff - math.sqrt((u1 - p[0]) ** 2 + (p[1] - l2) ** 2 + (p[2] - l3) ** 2 + (u4 - p[3]) ** 2)
    upper = diff + math.sqrt((p[0] - l1) ** 2 + (u2 - p[1]) ** 2 + (u3 - p[2]) ** 2 + (p[3] - l4) ** 2)
    assert close(r["topbox_did"]["ci_low"], lower) and close(r["topbox_did"]["ci_high"], upper)
    assert round(lower, 4) == -0.0919 and round(upper, 4) == 0.5878  # asymmetric around 0.2833
    # not the normal interval Δp ± 1.96·SE any more (that one is −0.0645 … 0.6312, symmetric); the SE is still given
    se = math.sqrt(sum(pi * (1 - pi) / ni for pi, ni in zip(p, n, strict=True)))
    assert close(r["topbox_did"]["se"], se)
    assert round(diff - 1.959963984540054 * se, 4) == -0.0645 and not close(lower, diff - 1.959963984540054 * se)
    assert r["topbox_did"]["low_base"] is True


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(7, 12, 40, 100), (0, 5, 3, 20), (5, 5, 980, 1000)])
def test_mover_with_two_groups_is_newcombes_interval(x1, n1, x2, n2):
    lo, hi = mover_interval([x1, x2], [n1, n2], (1, -1), 1.959963984540054)
    ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert close(lo, ref[0]) and close(hi, ref[1])


# --------------------------------------------------------------------------- #
# segments
# --------------------------------------------------------------------------- #
def test_shared_comparator_is_a_welch_test_of_the_two_segments():
    sales, support = [1, 2, 4, 9, 4], [3, 5, 6, 4, 2]
    x, y = expand_counts(sales, L5), expand_counts(support, L5)
    r = gap_difference_shared_comparator(sales, support, L5)
    contract(r)
    # scipy: ttest_ind(sales, support, equal_var=False)
    ref = st.ttest_ind(x, y, equal_var=False)
    assert close(r["difference"], x.mean() - y.mean())
    assert close(r["t"], ref.statistic) and close(r["p"], ref.pvalue)
    assert close(r["ci_low"], ref.confidence_interval().low)
    # customer tiers with shared staff: gap(S vs Gold) − gap(S vs Bronze) = m(Bronze) − m(Gold)
    r2 = gap_difference_shared_comparator(sales, support, L5, shared="staff")
    assert close(r2["difference"], y.mean() - x.mean())
    assert close(r2["se"], r["se"]) and (r2["n_group_1"], r2["n_group_2"]) == (20, 20)
    # the SE does not include any customer variance: it is the two-segment Welch SE
    assert close(r["se"], math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size))
    with pytest.raises(ValueError, match="shared"):
        gap_difference_shared_comparator(sales, support, L5, shared="both")


def test_independent_gap_difference_uses_four_variances():
    s1, c1, s2, c2 = four_tables(4)
    r = gap_difference_independent(s1, c1, s2, c2, L5)
    contract(r)
    g = [expand_counts(c, L5) for c in (s1, c1, s2, c2)]
    assert close(r["difference"], (g[0].mean() - g[1].mean()) - (g[2].mean() - g[3].mean()))
    assert close(r["se"], math.sqrt(sum(x.var(ddof=1) / x.size for x in g)))
    d = did_from_counts(s2, c2, s1, c1, L5)  # same contrast, other sign convention
    assert close(r["difference"], d["did"]) and close(r["df"], d["df"])
    r = gap_difference_independent(s1, [1, 1, 0, 0, 0], s2, c2, L5)
    assert r["report_status"] == "suppressed_min_n" and r["difference"] is None


# --------------------------------------------------------------------------- #
# weighting
# --------------------------------------------------------------------------- #
def weighted_sample(seed, n=120):
    rng = np.random.default_rng(seed)
    x = rng.choice(L5, size=n, p=rng.dirichlet([2.0] * 5)).astype(float)
    w = rng.lognormal(0, 0.8, n)
    counts = [int((x == v).sum()) for v in L5]
    ws = [float(w[x == v].sum()) for v in L5]
    w2 = [float((w[x == v] ** 2).sum()) for v in L5]
    return x, w, counts, ws, w2


@pytest.mark.parametrize("seed", range(10))
def test_weighted_se_equals_wls_hc1(seed):
    x, w, counts, ws, w2 = weighted_sample(seed)
    r = weighted_summary_from_counts(counts, ws, w2, L5, topbox_levels=[4, 5])
    # statsmodels: WLS(x, ones, weights=w).fit(cov_type="HC1")
    fit = sm.WLS(x, np.ones_like(x), weights=w).fit(cov_type="HC1")
    assert close(r["mean_weighted"], fit.params[0])
    assert close(r["se_linearization"], fit.bse[0])
    assert close(r["kish_n_eff"], w.sum() ** 2 / (w**2).sum())
    cv2 = w.var() / w.mean() ** 2  # CV with population variance
    assert close(r["design_effect"], 1 + cv2)
    ind = (x >= 4).astype(float)
    fit_tb = sm.WLS(ind, np.ones_like(x), weights=w).fit(cov_type="HC1")
    assert close(r["topbox_weighted"], fit_tb.params[0])
    assert close(r["topbox_weighted_se"], fit_tb.bse[0])


def test_weighted_gap_and_weighted_cliffs_delta():
    x, w, counts, ws, w2 = weighted_sample(21)
    staff = [2, 3, 8, 12, 5]
    s = expand_counts(staff, L5)
    r = weighted_item_comparison(staff, counts, ws, w2, L5, topbox_levels=[4, 5])
    contract(r)
    se_w = sm.WLS(x, np.ones_like(x), weights=w).fit(cov_type="HC1").bse[0]
    q1, q2 = s.var(ddof=1) / s.size, se_w**2
    df = (q1 + q2) ** 2 / (q1**2 / (s.size - 1) + q2**2 / (x.size - 1))
    assert close(r["gap_weighted"], s.mean() - np.average(x, weights=w))
    assert close(r["gap_weighted_se"], math.sqrt(q1 + q2)) and close(r["gap_weighted_df"], df)
    assert close(r["gap_weighted_ci_low"], r["gap_weighted"] - st.t.ppf(0.975, df) * r["gap_weighted_se"])
    # brute force: Σ_i Σ_j w_j sign(x_i − y_j) / (n_S Σ w)
    brute = (np.sign(s[:, None] - x[None, :]) * w[None, :]).sum() / (s.size * w.sum())
    assert close(r["cliffs_delta_weighted"], brute, abs_=1e-14)
    # equal weights reproduce the unweighted mean and deff = 1
    r1 = weighted_item_comparison(staff, counts, counts, counts, L5)
    assert close(r1["design_effect"], 1.0) and close(r1["customer_mean_weighted"], x.mean())


def test_weighting_input_validation_and_thresholds_on_unweighted_n():
    with pytest.raises(ValueError, match="exactly at the levels"):
        weighted_summary_from_counts([1, 0, 0, 0, 0], [0, 1.0, 0, 0, 0], [0, 1.0, 0, 0, 0], L5)
    with pytest.raises(ValueError, match="non-negative"):
        weighted_summary_from_counts([1, 0, 0, 0, 0], [-1.0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0], L5)
    # four heavily weighted customers are still fewer than k_min = 5
    r = weighted_item_comparison([5, 5, 5, 5, 5], [0, 4, 0, 0, 0], [0, 400.0, 0, 0, 0],
                                 [0, 40000.0, 0, 0, 0], L5)  # fmt: skip
    assert r["report_status"] == "suppressed_min_n" and r["customer_mean_weighted"] is None
    contract(r)


# --------------------------------------------------------------------------- #
# churn
# --------------------------------------------------------------------------- #
def test_churn_comparison_on_nps_matches_scipy_and_pingouin():
    rng = np.random.default_rng(8)
    churned = rng.integers(0, 11, 40).astype(float)
    retained = np.clip(rng.integers(0, 11, 160) + 2, 0, 10).astype(float)
    churned[:3] = np.nan  # accounts without an answer
    r = churn_comparison(churned, retained, levels=range(11))
    contract(r)
    x = churned[~np.isnan(churned)]
    assert r["n_churned"] == 37 and r["n_retained"] == 160
    assert close(r["difference"], x.mean() - retained.mean())
    ref = st.ttest_ind(x, retained, equal_var=False)
    assert close(r["welch"]["t"], ref.statistic) and close(r["welch"]["p"], ref.pvalue)
    u = st.mannwhitneyu(x, retained, method="asymptotic", use_continuity=True)
    assert r["mwu"]["U_churned"] == u.statistic and close(r["mwu"]["p"], u.pvalue)
    assert close(r["mwu"]["cliffs_delta"], float(pg.mwu(x, retained)["RBC"].iloc[0]), abs_=1e-14)
    assert close(r["hedges_g"], pg.compute_effsize(x, retained, eftype="hedges"))
    assert r["cliffs_delta_magnitude"] is not None


def test_churn_small_group_is_suppressed_and_constant_groups_are_safe():
    r = churn_comparison([3, 4, 5], list(range(1, 6)) * 4)
    assert r["report_status"] == "suppressed_min_n" and r["n_churned"] is None
    assert r["difference"] is None and r["mwu"]["U_churned"] is None
    contract(r)
    r = churn_comparison([9] * 6, [10] * 8, levels=range(11))
    assert r["report_status"] == "no_variance" and r["welch"]["t"] is None
    assert r["difference"] == -1.0 and r["mwu"]["cliffs_delta"] == -1.0
    assert any(u.startswith("welch:") for u in r["undefined"])
    contract(r)
    with pytest.raises(ValueError, match="within"):
        churn_comparison([11] * 6, [10] * 8, levels=range(11))


# --------------------------------------------------------------------------- #
# bootstrap
# --------------------------------------------------------------------------- #
A, B = [1, 2, 4, 9, 4], [6, 10, 14, 12, 8]


def test_bootstrap_is_reproducible_and_close_to_scipy():
    r1 = bootstrap_from_counts(A, B, L5, n_resamples=4000, seed=42)
    r2 = bootstrap_from_counts(A, B, L5, n_resamples=4000, seed=42)
    assert r1 == r2 and r1["estimate"] == pytest.approx(0.53)
    x, y = expand_counts(A, L5), expand_counts(B, L5)
    # scipy: bootstrap((x, y), mean diff, method="percentile") — same distribution,
    # different random stream: endpoints agree within Monte-Carlo error only
    ref = st.bootstrap(
        (x, y), lambda a, b, axis: a.mean(axis) - b.mean(axis), n_resamples=4000,
        method="percentile", rng=np.random.default_rng(1),
    ).confidence_interval  # fmt: skip
    assert abs(r1["ci_low"] - ref.low) < 0.06 and abs(r1["ci_high"] - ref.high) < 0.06
    # and close to the Welch CI for this well-behaved table
    assert abs(r1["ci_low"] - (-0.079218)) < 0.1 and abs(r1["ci_high"] - 1.139218) < 0.1


@pytest.mark.parametrize("statistic", ["gap", "topbox_diff"])
def test_bca_from_counts_agrees_with_scipy_bca_on_the_raw_answers(statistic):
    """The same interval as scipy.stats.bootstrap(method="BCa") on expanded rows, within Monte-Carlo error
    (different random streams, B = 20 000 each); the acceleration is exact (see the jackknife test)."""
    x, y = expand_counts(A, L5), expand_counts(B, L5)
    if statistic == "gap":
        def fn(a, b, axis):
            return a.mean(axis) - b.mean(axis)
    else:
        def fn(a, b, axis):
            return (a >= 4).mean(axis) - (b >= 4).mean(axis)
    ref = st.bootstrap((x, y), fn, n_resamples=20_000, method="BCa", rng=np.random.default_rng(5)).confidence_interval
    r = bootstrap_from_counts(A, B, L5, statistic=statistic, topbox_levels=[4, 5], method="bca",
                              n_resamples=20_000, seed=0)
    assert abs(r["ci_low"] - ref.low) < 0.03 and abs(r["ci_high"] - ref.high) < 0.03
    assert r == bootstrap_from_counts(A, B, L5, statistic=statistic, topbox_levels=[4, 5], method="bca",
                                      n_resamples=20_000, seed=0)


@pytest.mark.parametrize("statistic", ["gap", "cliffs_delta", "topbox_diff"])
@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("counts", [(A, B), ([0, 1, 2, 6, 11], [9, 14, 10, 5, 2]), ([3, 0, 0, 1, 8], [1, 1, 1, 1, 40])])
def test_on_the_same_replicates_the_interval_is_scipys_exactly(statistic, method, counts):
    """scipy.stats.bootstrap given our bootstrap distribution (``bootstrap_result``, no new resamples) computes
    its percentile or BCa interval with its own raw-row jackknife: the endpoints must be the same numbers.
    The replicates are redrawn as the library draws them (staff's multinomial first, then the customers')."""
    a, b = (np.asarray(c) for c in counts)
    x, y = expand_counts(a, L5), expand_counts(b, L5)
    n1, n2 = a.sum(), b.sum()
    rng = np.random.default_rng(11)
    a_star = rng.multinomial(n1, a / n1, size=3000)
    b_star = rng.multinomial(n2, b / n2, size=3000)
    v = np.asarray(L5, dtype=float)
    if statistic == "gap":
        theta = a_star @ v / n1 - b_star @ v / n2

        def fn(s, t, axis):
            return s.mean(axis) - t.mean(axis)
    elif statistic == "topbox_diff":
        theta = a_star[:, 3:].sum(1) / n1 - b_star[:, 3:].sum(1) / n2

        def fn(s, t, axis):
            return (s >= 4).mean(axis) - (t >= 4).mean(axis)
    else:
        below = np.cumsum(b_star, axis=1) - b_star
        above = n2 - np.cumsum(b_star, axis=1)
        theta = (a_star * (below - above)).sum(1) / (n1 * n2)

        def fn(s, t, axis):
            return np.sign(s[..., :, None] - t[..., None, :]).mean(axis=(-2, -1))
    seed_run = st.bootstrap((x, y), fn, n_resamples=2, method="percentile", vectorized=True,
                            rng=np.random.default_rng(0))
    ref = st.bootstrap((x, y), fn, n_resamples=0, method="BCa" if method == "bca" else "percentile",
                       vectorized=True, bootstrap_result=dataclasses.replace(seed_run, bootstrap_distribution=theta))
    r = bootstrap_from_counts(a, b, L5, statistic=statistic, topbox_levels=[4, 5], method=method, n_resamples=3000,
                              seed=11)
    assert r["ci_low"] == pytest.approx(float(ref.confidence_interval.low), rel=1e-12, abs=1e-12)
    assert r["ci_high"] == pytest.approx(float(ref.confidence_interval.high), rel=1e-12, abs=1e-12)


def test_the_item_bootstrap_block_is_the_librarys_intervals_and_explains_its_nulls():
    from reports.stats import item_comparison

    r = item_comparison(A, B, L5, [4, 5], bootstrap={"n_resamples": 1000, "seed": 3, "method": "bca"})
    for stat in ("gap", "cliffs_delta", "topbox_diff"):
        ref = bootstrap_from_counts(A, B, L5, statistic=stat, topbox_levels=[4, 5], n_resamples=1000, seed=3,
                                    method="bca")
        assert r["bootstrap"][stat] == {"ci_low": ref["ci_low"], "ci_high": ref["ci_high"]}
    assert (r["bootstrap"]["method"], r["bootstrap"]["n_resamples"], r["bootstrap"]["seed"]) == ("bca", 1000, 3)
    # A suppressed item: the options are told, no interval is, and every null has the status as its reason.
    hidden = item_comparison([1, 1, 0, 0, 0], B, L5, [4, 5], bootstrap={"n_resamples": 1000, "method": "bca"})
    assert hidden["report_status"] == "suppressed_anonymity"
    assert hidden["bootstrap"]["method"] == "bca" and hidden["bootstrap"]["n_resamples"] == 1000
    assert all(hidden["bootstrap"][s] == {"ci_low": None, "ci_high": None}
               for s in ("gap", "cliffs_delta", "topbox_diff"))
    contract(hidden)


def test_bca_acceleration_equals_raw_jackknife():
    x, y = expand_counts(A, L5), expand_counts(B, L5)

    def delta(a, b):
        return np.sign(a[:, None] - b[None, :]).mean()

    r = bootstrap_from_counts(A, B, L5, statistic="cliffs_delta", method="bca", n_resamples=2000, seed=3)
    # brute-force leave-one-out over raw rows, scipy's multi-sample formula: influence U = (n_j − 1)(θ̄ − θ_(i))
    num = den = 0.0
    for j, sample in enumerate((x, y)):
        th = np.array([
            delta(np.delete(sample, i), y) if j == 0 else delta(x, np.delete(sample, i))
            for i in range(sample.size)
        ])  # fmt: skip
        u = (sample.size - 1) * (th.mean() - th)
        num += (u**3).sum() / sample.size**3
        den += (u**2).sum() / sample.size**2
    assert close(r["acceleration"], num / (6 * den**1.5), abs_=1e-13)
    assert r["ci_low"] < 0.25 < r["ci_high"] and -1 <= r["ci_low"] and r["ci_high"] <= 1
    tb = bootstrap_from_counts(A, B, L5, statistic="topbox_diff", topbox_levels=[4, 5], n_resamples=500)
    assert tb["estimate"] == pytest.approx(0.25)


def test_item_comparison_bootstrap_block_and_bad_options():
    from reports.stats import item_comparison

    r = item_comparison(A, B, L5, [4, 5], bootstrap={"n_resamples": 1000, "seed": 7})
    assert set(r["bootstrap"]) == {"gap", "cliffs_delta", "topbox_diff", "n_resamples", "seed", "method"}
    assert r["bootstrap"]["gap"]["ci_low"] < 0.53 < r["bootstrap"]["gap"]["ci_high"]
    contract(r)
    r = item_comparison([1, 1, 1, 0, 0], B, L5, [4, 5], bootstrap={"n_resamples": 1000})
    assert r["bootstrap"]["gap"]["ci_low"] is None
    contract(r)
    with pytest.raises(ValueError, match="statistic"):
        bootstrap_from_counts(A, B, L5, statistic="median")
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_from_counts(A, B, L5, n_resamples=10)
