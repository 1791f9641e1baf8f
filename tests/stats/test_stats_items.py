"""Item-level statistics from counts (docs/methods.md §2, §11) against the worked example
and against scipy / pingouin / statsmodels on the expanded raw data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pingouin as pg
import pytest
import scipy.stats as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from reports.stats import (
    check_json_safe,
    effect_size_from_counts,
    expand_counts,
    item_comparison,
    mann_whitney_from_counts,
    newcombe_interval,
    topbox_from_counts,
    unexplained_nulls,
    welch_from_counts,
    wilson_interval,
)

L5 = [1, 2, 3, 4, 5]
L7 = [1, 2, 3, 4, 5, 6, 7]
A = [1, 2, 4, 9, 4]
B = [6, 10, 14, 12, 8]


def close(x, y, rel=1e-9, abs_=1e-12):
    return x is not None and math.isclose(x, y, rel_tol=rel, abs_tol=abs_)


def assert_contract(result):
    check_json_safe(result)
    assert unexplained_nulls(result) == []


# --------------------------------------------------------------------------- #
# §2.7 worked example
# --------------------------------------------------------------------------- #
def test_worked_example_reproduces_every_digit_of_the_spec():
    r = item_comparison(A, B, L5, [4, 5])
    assert_contract(r)
    assert r["n_staff"] == 20 and r["n_customer"] == 50
    assert r["counts_staff"] == A and r["counts_customer"] == B
    assert round(r["mean_staff"], 6) == 3.65 and round(r["mean_customer"], 6) == 3.12
    assert round(r["sd_staff"], 6) == 1.089423
    assert round(r["sd_customer"], 6) == 1.255843
    assert round(r["gap"], 6) == 0.53
    w = r["welch"]
    assert round(w["se"], 6) == 0.301471
    assert round(w["df"], 4) == 40.1664
    assert round(w["t"], 6) == 1.758044
    assert round(w["p"], 6) == 0.086359
    assert round(w["ci_low"], 6) == -0.079218
    assert round(w["ci_high"], 6) == 1.139218
    # 90 % CI: gap ± t_{0.95, df} · SE
    tq = st.t.ppf(0.95, w["df"])
    assert close(w["ci90_low"], 0.53 - tq * w["se"]) and close(w["ci90_high"], 0.53 + tq * w["se"])
    assert round(r["cohen_d"], 6) == 0.437421
    assert round(r["hedges_g"], 6) == 0.432579
    m = r["mwu"]
    assert m["U_staff"] == 625 and m["U_customer"] == 375
    assert round(m["sigma_U"] ** 2, 6) == 5591.925466
    assert round(m["p"], 6) == 0.095932
    assert m["cliffs_delta"] == 0.25 and m["rank_biserial"] == 0.25 and m["cles"] == 0.625
    tb = r["topbox"]
    assert tb["levels"] == [4, 5] and tb["x_staff"] == 13 and tb["x_customer"] == 20
    assert tb["p_staff"] == 0.65 and tb["p_customer"] == 0.40 and close(tb["diff"], 0.25)
    assert round(tb["newcombe_low"], 6) == -0.007386
    assert round(tb["newcombe_high"], 6) == 0.459407
    assert round(tb["z"], 6) == 1.892915 and round(tb["p"], 6) == 0.058369
    assert round(tb["min_expected_count"], 2) == 9.43
    assert tb["test"] == "z" and tb["p_primary"] == tb["p"]
    assert tb["fisher_p"] == pytest.approx(
        st.fisher_exact([[13, 7], [20, 30]]).pvalue, rel=1e-12
    )
    assert r["report_status"] == "ok_low_base"
    assert r["classification"]["delta"] == 0.25
    assert r["classification"]["hedges_g_magnitude"] == "small"
    assert r["classification"]["cliffs_delta_magnitude"] == "small"


def test_worked_example_rank_details():
    r = mann_whitney_from_counts(A, B)
    assert r["midranks"] == [4, 13.5, 28.5, 48, 64.5]
    assert r["tie_term"] == 18822
    assert round(r["z"], 6) == 1.664902


def test_output_has_exactly_the_contract_keys():
    r = item_comparison(A, B, L5, [4, 5])
    assert list(r) == [
        "n_staff", "n_customer", "counts_staff", "counts_customer", "mean_staff",
        "mean_customer", "sd_staff", "sd_customer", "gap", "welch", "cohen_d", "hedges_g",
        "mwu", "topbox", "p_adjusted", "report_status", "undefined", "classification",
    ]  # fmt: skip
    assert set(r["welch"]) == {"t", "df", "p", "se", "ci_low", "ci_high", "ci90_low", "ci90_high"}
    assert set(r["mwu"]) == {
        "U_staff", "U_customer", "sigma_U", "p", "cliffs_delta", "rank_biserial", "cles",
    }  # fmt: skip
    assert set(r["p_adjusted"]) == {
        "welch_bh", "welch_holm", "mwu_bh", "mwu_holm", "topbox_bh", "topbox_holm",
    }  # fmt: skip
    # p_adjusted and class are filled at family level; until then null *with* reason
    assert all(v is None for v in r["p_adjusted"].values())
    assert r["classification"]["class"] is None
    assert any(u.startswith("p_adjusted:") for u in r["undefined"])


# --------------------------------------------------------------------------- #
# random count tables vs library results on the expanded raw data
# --------------------------------------------------------------------------- #
def random_table(rng, k, n_max=400):
    conc = rng.choice([0.2, 1.0, 5.0])
    n1 = int(rng.integers(2, n_max))
    n2 = int(rng.integers(2, n_max))
    a = rng.multinomial(n1, rng.dirichlet([conc] * k))
    b = rng.multinomial(n2, rng.dirichlet([conc] * k))
    return a, b


def tables(n=90, seed=20240611):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = 5 if i % 2 else 7
        a, b = random_table(rng, k, n_max=rng.choice([12, 60, 400]))
        out.append((a.tolist(), b.tolist(), L5 if k == 5 else L7))
    return out


TABLES = tables()


@pytest.mark.parametrize(("a", "b", "levels"), TABLES[:60])
def test_welch_matches_scipy(a, b, levels):
    x, y = expand_counts(a, levels), expand_counts(b, levels)
    w = welch_from_counts(a, b, levels)
    if x.var() == 0 and y.var() == 0:
        assert w["t"] is None and w["reason"] == "both sides have zero variance"
        return
    # scipy: ttest_ind(x, y, equal_var=False) + confidence_interval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy: "precision loss" on a constant side
        ref = st.ttest_ind(x, y, equal_var=False)
    ci = ref.confidence_interval(0.95)
    ci90 = ref.confidence_interval(0.90)
    assert close(w["t"], ref.statistic) and close(w["df"], ref.df)
    assert close(w["p"], ref.pvalue, abs_=1e-15)
    assert close(w["ci_low"], ci.low) and close(w["ci_high"], ci.high)
    assert close(w["ci90_low"], ci90.low) and close(w["ci90_high"], ci90.high)
    assert close(w["gap"], x.mean() - y.mean())


@pytest.mark.parametrize(("a", "b", "levels"), TABLES[:60])
def test_effect_sizes_match_pingouin(a, b, levels):
    x, y = expand_counts(a, levels), expand_counts(b, levels)
    e = effect_size_from_counts(a, b, levels)
    if x.var() == 0 and y.var() == 0:
        assert e["cohen_d"] is None and e["hedges_g"] is None
        return
    # pingouin: compute_effsize(x, y, eftype="cohen" / "hedges")
    assert close(e["cohen_d"], pg.compute_effsize(x, y, eftype="cohen"))
    assert close(e["hedges_g"], pg.compute_effsize(x, y, eftype="hedges"))


@pytest.mark.parametrize(("a", "b", "levels"), TABLES)
def test_mann_whitney_matches_scipy_pingouin_and_brute_force(a, b, levels):
    x, y = expand_counts(a, levels), expand_counts(b, levels)
    r = mann_whitney_from_counts(a, b)
    # scipy: mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
    ref = st.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert r["U_staff"] == ref.statistic
    if np.unique(np.concatenate([x, y])).size == 1:
        assert r["p"] is None  # scipy would say 1.0 (pitfall)
    else:
        assert close(r["p"], ref.pvalue, abs_=1e-15)
    # brute-force all pairs: Cliff's delta = P(X>Y) − P(X<Y)
    diff = x[:, None] - y[None, :]
    assert close(r["cliffs_delta"], np.sign(diff).mean(), abs_=1e-14)
    # pingouin 0.7: mwu(x, y) RBC positive = x higher; CLES = P(X>Y) + ½P(X=Y)
    pgr = pg.mwu(x, y, alternative="two-sided", method="asymptotic")
    assert close(r["rank_biserial"], float(pgr["RBC"].iloc[0]), abs_=1e-14)
    assert close(r["cles"], float(pgr["CLES"].iloc[0]), abs_=1e-14)
    assert close(r["rank_biserial"], r["cliffs_delta"], abs_=1e-14)


def test_pingouin_sign_convention_is_positive_when_staff_higher():
    # guards the spec warning: older pingouin used the opposite sign
    x = expand_counts([0, 0, 0, 5, 5], L5)
    y = expand_counts([5, 5, 0, 0, 0], L5)
    assert float(pg.mwu(x, y)["RBC"].iloc[0]) == 1.0
    assert mann_whitney_from_counts([0, 0, 0, 5, 5], [5, 5, 0, 0, 0])["cliffs_delta"] == 1.0


@pytest.mark.parametrize(("a", "b", "levels"), TABLES[:70])
def test_topbox_matches_statsmodels_and_scipy(a, b, levels):
    tbl = [levels[-2], levels[-1]]
    r = topbox_from_counts(a, b, levels, tbl)
    n1, n2 = sum(a), sum(b)
    x1, x2 = sum(a[-2:]), sum(b[-2:])
    assert (r["x_staff"], r["x_customer"]) == (x1, x2)
    # statsmodels: confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert close(r["newcombe_low"], lo, abs_=1e-12) and close(r["newcombe_high"], hi, abs_=1e-12)
    # scipy: fisher_exact([[x1, n1 - x1], [x2, n2 - x2]])
    assert close(r["fisher_p"], st.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue)
    pooled = (x1 + x2) / (n1 + n2)
    if 0 < pooled < 1:
        # statsmodels: proportions_ztest([x1, x2], [n1, n2])
        z, p = proportions_ztest([x1, x2], [n1, n2])
        assert close(r["z"], z) and close(r["p"], p, abs_=1e-15)
        # the z-test is the uncorrected 2×2 chi-square
        chi2 = st.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
        assert close(r["z"] ** 2, chi2.statistic)
    else:
        assert r["z"] is None and r["p"] is None and r["test"] == "fisher"
    exp_min = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    assert close(r["min_expected_count"], exp_min)
    expected_test = "z" if (0 < pooled < 1 and exp_min >= 5) else "fisher"
    assert r["test"] == expected_test
    assert r["p_primary"] == (r["p"] if expected_test == "z" else r["fisher_p"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=hs.lists(hs.integers(0, 30), min_size=5, max_size=5),
    b=hs.lists(hs.integers(0, 30), min_size=5, max_size=5),
)
def test_item_comparison_is_json_safe_and_explained_for_any_table(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy/scipy RuntimeWarning may leak
        r = item_comparison(a, b, L5, [4, 5], k_min_staff=1, k_min_customer=1)
    assert_contract(r)
    n1, n2 = sum(a), sum(b)
    if n1 >= 2 and n2 >= 2 and r["report_status"] in ("ok", "ok_low_base"):
        x, y = expand_counts(a, L5), expand_counts(b, L5)
        ref = st.ttest_ind(x, y, equal_var=False)
        assert close(r["welch"]["t"], ref.statistic)
        u = st.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
        assert r["mwu"]["U_staff"] == u.statistic


def test_wilson_matches_statsmodels_and_edges():
    from statsmodels.stats.proportion import proportion_confint

    for x, n in [(0, 1), (1, 1), (0, 10), (10, 10), (3, 7), (40, 97)]:
        lo, hi = wilson_interval(x, n)
        # statsmodels: proportion_confint(x, n, method="wilson")
        rlo, rhi = proportion_confint(x, n, method="wilson")
        assert close(lo, rlo, abs_=1e-12) and close(hi, rhi, abs_=1e-12)
    assert newcombe_interval(0, 5, 0, 9)[0] < 0 < newcombe_interval(0, 5, 0, 9)[1]
    lo, hi = newcombe_interval(5, 5, 0, 5)
    assert -1 <= lo <= hi <= 1 and lo > 0


# --------------------------------------------------------------------------- #
# statuses and null reasons (§5.3) incl. scipy pitfalls
# --------------------------------------------------------------------------- #
def test_both_sides_constant_but_different_gives_null_welch_not_inf():
    # scipy pitfall: ttest_ind([4,4,...], [2,2,...], equal_var=False) → t = inf, p = 0.0
    r = item_comparison([0, 0, 0, 8, 0], [0, 9, 0, 0, 0], L5, [4, 5])
    assert_contract(r)
    assert r["report_status"] == "no_variance"
    assert all(v is None for v in r["welch"].values())
    assert "welch: both sides have zero variance" in r["undefined"]
    assert r["cohen_d"] is None and r["hedges_g"] is None
    assert r["gap"] == 2.0 and r["sd_staff"] == 0.0
    # MWU p is defined (σ_U > 0) and equals scipy's
    ref = st.mannwhitneyu([4.0] * 8, [2.0] * 9, method="asymptotic", use_continuity=True)
    assert close(r["mwu"]["p"], ref.pvalue)
    assert r["mwu"]["cliffs_delta"] == 1.0
    # expected count 8·9/17 < 5 → Fisher is the primary top-box test
    assert r["topbox"]["diff"] == 1.0 and r["topbox"]["test"] == "fisher"
    assert close(r["topbox"]["p_primary"], st.fisher_exact([[8, 0], [0, 9]]).pvalue)


def test_every_answer_tied_gives_null_mwu_p_not_one():
    # scipy pitfall: mannwhitneyu on all-equal data returns p = 1.0
    r = item_comparison([0, 0, 6, 0, 0], [0, 0, 7, 0, 0], L5, [4, 5])
    assert_contract(r)
    assert r["report_status"] == "no_variance"
    assert r["mwu"]["p"] is None and "mwu.p: every answer tied" in r["undefined"]
    assert r["mwu"]["cliffs_delta"] == 0.0 and r["mwu"]["sigma_U"] == 0.0
    assert r["topbox"]["z"] is None and "topbox.z: pooled proportion is 0 or 1" in r["undefined"]
    assert r["topbox"]["test"] == "fisher" and r["topbox"]["p_primary"] == 1.0
    assert r["classification"]["class"] == "not_assessed"


def test_n_equal_one_is_insufficient_data_with_means_only():
    # scipy pitfall: ttest_ind with n = 1 returns nan
    r = item_comparison([0, 0, 1, 0, 0], [1, 2, 3, 0, 0], L5, [4, 5], k_min_staff=1, k_min_customer=1)
    assert_contract(r)
    assert r["report_status"] == "insufficient_data"
    assert r["mean_staff"] == 3.0 and close(r["mean_customer"], 14 / 6) and close(r["gap"], 2 / 3)
    assert r["sd_staff"] is None and r["sd_customer"] is None
    assert all(v is None for v in r["welch"].values())
    assert all(v is None for v in r["mwu"].values())
    assert r["cohen_d"] is None and r["hedges_g"] is None
    assert r["topbox"]["newcombe_low"] is None and r["topbox"]["p_primary"] is None
    assert r["classification"]["class"] == "not_assessed"


def _no_numbers(r):
    numeric = []

    def walk(o, path=""):
        if isinstance(o, dict):
            for k, v in o.items():
                if k not in ("undefined", "classification", "report_status"):
                    walk(v, f"{path}.{k}")
        elif isinstance(o, list):
            if path != ".topbox.levels":
                numeric.append(path)
        elif isinstance(o, (int, float)) and not isinstance(o, bool):
            numeric.append(path)

    walk(r)
    return numeric


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "status"),
    [
        ([1, 1, 1, 1, 0], B, {}, "suppressed_anonymity"),
        (A, [0, 1, 1, 1, 1], {}, "suppressed_min_n"),
        (A, B, {"complementary_suppressed": True}, "suppressed_complementary"),
        ([1, 1, 1, 1, 1], B, {"k_min_staff": 6}, "suppressed_anonymity"),
        (A, [2, 0, 0, 0, 1], {"k_min_customer": 3}, "ok_low_base"),
    ],
)
def test_suppressed_results_contain_no_number_from_any_side(a, b, kwargs, status):
    r = item_comparison(a, b, L5, [4, 5], **kwargs)
    assert_contract(r)
    assert r["report_status"] == status
    if status.startswith("suppressed"):
        assert _no_numbers(r) == []
        assert r["n_staff"] is None and r["counts_staff"] is None and r["mean_staff"] is None
        assert r["classification"]["class"] == "not_assessed"
        assert any(status in u for u in r["undefined"])
        # the true n must not leak through the reason strings either
        assert not any(str(sum(a)) in u.split(":", 1)[1] for u in r["undefined"] if sum(a) < 5)
    else:
        assert r["n_customer"] == 3


def test_no_data_shows_only_safe_n():
    r = item_comparison([0] * 5, [0, 1, 1, 0, 0], L5, [4, 5])
    assert_contract(r)
    assert r["report_status"] == "no_data"
    assert r["n_staff"] == 0 and r["n_customer"] is None  # 2 < k_min: not shown
    r = item_comparison([0] * 5, B, L5, [4, 5])
    assert r["n_staff"] == 0 and r["n_customer"] == 50 and r["mean_customer"] is None


def test_status_ok_at_30_and_low_base_below():
    a30 = [6, 6, 6, 6, 6]
    assert item_comparison(a30, [6, 6, 6, 6, 6], L5, [4, 5])["report_status"] == "ok"
    assert item_comparison(a30, [6, 6, 6, 6, 5], L5, [4, 5])["report_status"] == "ok_low_base"


def test_fisher_is_primary_when_expected_count_below_five():
    r = item_comparison([3, 3, 3, 1, 0], [20, 20, 15, 3, 2], L5, [4, 5])
    tb = r["topbox"]
    assert tb["min_expected_count"] < 5 and tb["z"] is not None
    assert tb["test"] == "fisher"
    # scipy: fisher_exact([[1, 9], [5, 55]])
    assert close(tb["p_primary"], st.fisher_exact([[1, 9], [5, 55]]).pvalue)


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("a", "b", "levels", "tb", "msg"),
    [
        ([1, -2, 3, 4, 5], B, L5, [4, 5], "negative"),
        ([1, 2, 3, 4], B, L5, [4, 5], "length 4"),
        (A, B, [1, 2, 3, 5, 4], [4, 5], "strictly increasing"),
        (A, B, [1], [1], "at least 2"),
        (A, B, L5, [6], "not one of the scale levels"),
        (A, B, L5, [], "must not be empty"),
        ([1, 2.5, 3, 4, 5], B, L5, [4, 5], "whole numbers"),
        ([1, float("nan"), 3, 4, 5], B, L5, [4, 5], "non-finite"),
        (A, [[1, 2, 3, 4, 5]], L5, [4, 5], "1-D"),
    ],
)
def test_bad_input_raises_value_error(a, b, levels, tb, msg):
    with pytest.raises(ValueError, match=msg):
        item_comparison(a, b, levels, tb)


@pytest.mark.parametrize(
    "kwargs", [{"alpha": 0}, {"alpha": 1.5}, {"k_min_staff": 0}, {"k_min_customer": 2.5}]
)
def test_bad_options_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        item_comparison(A, B, L5, [4, 5], **kwargs)


def test_proportion_helpers_reject_impossible_counts():
    with pytest.raises(ValueError, match="cannot exceed"):
        wilson_interval(6, 5)
    with pytest.raises(ValueError, match=">= 1"):
        newcombe_interval(0, 0, 1, 2)
