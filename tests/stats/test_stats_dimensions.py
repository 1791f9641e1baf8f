"""Dimension scores, Cronbach's alpha and the dimension gap (docs/methods.md §3)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import scipy.stats as st

from reports.stats import (
    adjust_dimension_family,
    check_json_safe,
    cronbach_alpha,
    dimension_comparison,
    dimension_reliability,
    dimension_scores,
    feldt_interval,
    unexplained_nulls,
)
from tests.stats import reliability_sample as sample

L5 = [1, 2, 3, 4, 5]
NAN = np.nan


def correlated_answers(rng, n, m, missing=0.0):
    latent = rng.normal(0, 1, n)
    x = np.clip(np.round(3 + latent[:, None] + rng.normal(0, 0.9, (n, m))), 1, 5)
    if missing:
        x[rng.uniform(size=x.shape) < missing] = np.nan
    return x


def test_half_rule_and_reverse_keying():
    answers = [
        [5, 4, NAN, 1],  # 3 of 4 answered; item 4 reversed → 5
        [5, NAN, NAN, 2],  # 2 of 4 = ceil(4/2) → scored
        [3, NAN, NAN, NAN],  # 1 of 4 → missing
    ]
    s = dimension_scores(answers, levels=L5, reverse_keyed=[False, False, False, True])
    assert s[0] == pytest.approx((5 + 4 + 5) / 3)
    assert s[1] == pytest.approx((5 + 4) / 2)
    assert math.isnan(s[2])
    # ceil(m/2) for odd m: 3 items need 2 answers
    s = dimension_scores([[4, NAN, NAN], [4, 2, NAN]], levels=L5)
    assert math.isnan(s[0]) and s[1] == 3.0
    s = dimension_scores([[4, NAN, NAN]], levels=L5, min_answered=1)
    assert s[0] == 4.0
    # 7-point recode: x' = 8 − x
    assert dimension_scores([[7, 1]], levels=range(1, 8), reverse_keyed=[True, False])[0] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"answers": [[1, 6]]}, "not scale levels"),
        ({"answers": [1, 2]}, "2-D"),
        ({"answers": [[1, 2]], "reverse_keyed": [True]}, "one flag per item"),
        ({"answers": [[1, 2]], "min_answered": 3}, "min_answered"),
    ],
)
def test_dimension_scores_bad_input(kwargs, msg):
    answers = kwargs.pop("answers")
    with pytest.raises(ValueError, match=msg):
        dimension_scores(answers, levels=L5, **kwargs)


@pytest.mark.parametrize("seed", range(12))
def test_cronbach_alpha_matches_pingouin(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(15, 200)), int(rng.integers(2, 7))
    full = correlated_answers(rng, n, m)
    df = pd.DataFrame(full, columns=[f"i{j}" for j in range(m)])
    # pingouin: cronbach_alpha(wide_df, nan_policy="listwise")
    ref_alpha, ref_ci = pg.cronbach_alpha(df, nan_policy="listwise")
    r = cronbach_alpha(full)
    assert math.isclose(r["alpha"], ref_alpha, rel_tol=1e-9)
    assert r["n"] == n
    # pingouin rounds its Feldt CI to 3 decimals
    assert round(r["ci_low"], 3) == pytest.approx(ref_ci[0], abs=1e-3)
    assert round(r["ci_high"], 3) == pytest.approx(ref_ci[1], abs=1e-3)
    # Feldt CI unrounded: 1 − (1 − α)·F.isf(α/2, n − 1, (n − 1)(m − 1))
    lo = 1 - (1 - r["alpha"]) * st.f.isf(0.025, n - 1, (n - 1) * (m - 1))
    assert math.isclose(r["ci_low"], lo, rel_tol=1e-12)
    # with missing answers: listwise drops incomplete rows, pairwise uses pandas cov
    holes = full.copy()
    holes[rng.uniform(size=holes.shape) < 0.1] = np.nan
    dfh = pd.DataFrame(holes)
    lw = cronbach_alpha(holes, nan_policy="listwise")
    pw = cronbach_alpha(holes, nan_policy="pairwise")
    complete = dfh.dropna()
    if len(complete) >= 2 and complete.sum(axis=1).var() > 0:
        assert lw["n"] == len(complete)
        assert math.isclose(lw["alpha"], pg.cronbach_alpha(dfh, nan_policy="listwise")[0], rel_tol=1e-9)
    # pingouin: cronbach_alpha(df, nan_policy="pairwise")
    assert math.isclose(pw["alpha"], pg.cronbach_alpha(dfh, nan_policy="pairwise")[0], rel_tol=1e-9)


@pytest.mark.parametrize("side", ["staff", "customer"])
def test_feldt_interval_counts_complete_cases_not_rows_on_a_hand_computed_example(side):
    rows = sample.STAFF if side == "staff" else sample.CUSTOMER
    hand = sample.alpha_by_hand(rows)
    for key, value in sample.EXPECTED[side].items():
        assert hand[key] == pytest.approx(value, rel=1e-12), key
    x = np.array([[NAN if v is None else v for v in r] for r in rows], dtype=float)
    r = cronbach_alpha(x)
    assert r["n"] == hand["n_complete"] < len(rows)
    assert r["alpha"] == pytest.approx(hand["alpha"], rel=1e-12)
    assert r["ci_low"] == pytest.approx(hand["ci_low"], rel=1e-12)
    assert r["ci_high"] == pytest.approx(hand["ci_high"], rel=1e-12)
    assert feldt_interval(hand["alpha"], hand["n_complete"], 3) == pytest.approx((hand["ci_low"], hand["ci_high"]))
    rel = dimension_reliability(x, levels=L5)
    assert rel["cronbach_alpha_listwise_ci_low"] == pytest.approx(hand["ci_low"], rel=1e-12)
    assert rel["cronbach_alpha_listwise_ci_high"] == pytest.approx(hand["ci_high"], rel=1e-12)
    # pingouin agrees once it is handed only the complete rows (its n is the number of rows it is given)...
    frame = pd.DataFrame(x)
    _, ci_complete = pg.cronbach_alpha(frame.dropna(), nan_policy="listwise")
    assert tuple(ci_complete) == (round(hand["ci_low"], 3), round(hand["ci_high"], 3))
    # ...and is too narrow when handed every row: its df count the respondents who skipped an item.
    alpha_pg, ci_rows = pg.cronbach_alpha(frame, nan_policy="listwise")
    assert alpha_pg == pytest.approx(hand["alpha"], rel=1e-12)
    assert ci_rows[0] > hand["ci_low"] + 0.005 and ci_rows[1] < hand["ci_high"] - 0.002
    if side == "staff":
        assert tuple(ci_rows) == sample.PINGOUIN_STAFF_CI


@pytest.mark.parametrize("args, message", [
    ((0.8, 1, 3), "n_complete"), ((0.8, 10.5, 3), "n_complete"), ((0.8, 10, 1), "n_items"),
    ((float("nan"), 10, 3), "alpha"), ((1.2, 10, 3), "alpha"),
])
def test_feldt_interval_refuses_what_has_no_interval(args, message):
    with pytest.raises(ValueError, match=message):
        feldt_interval(*args)


def test_feldt_interval_is_the_fs_quantiles_and_widens_as_complete_cases_fall():
    lo, hi = feldt_interval(0.7, 40, 5, ci=0.9)
    assert lo == pytest.approx(1 - 0.3 * st.f.ppf(0.95, 39, 156), rel=1e-12)
    assert hi == pytest.approx(1 - 0.3 * st.f.ppf(0.05, 39, 156), rel=1e-12)
    assert lo < 0.7 < hi
    narrow, wide = feldt_interval(0.7, 200, 5), feldt_interval(0.7, 20, 5)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_a_reliability_without_listwise_alpha_explains_its_null_interval():
    rng = np.random.default_rng(3)
    r = dimension_reliability(correlated_answers(rng, 9, 4), levels=L5)
    assert r["cronbach_alpha_listwise_ci_low"] is None and r["cronbach_alpha_listwise_ci_high"] is None
    assert "cronbach_alpha_listwise_ci_low: fewer than 10 complete cases" in r["undefined"]
    assert unexplained_nulls(r) == []


def test_alpha_undefined_cases_have_reasons():
    assert cronbach_alpha([[1], [2]])["reason"] == "needs at least 2 items"
    assert cronbach_alpha([[1, 2], [NAN, 3]])["reason"] == "fewer than 2 complete cases"
    r = cronbach_alpha([[3, 3], [3, 3], [3, 3]])
    assert r["alpha"] is None and r["reason"] == "variance of the total score is zero"
    with pytest.raises(ValueError, match="nan_policy"):
        cronbach_alpha([[1, 2]], nan_policy="mean")


def test_reliability_display_rules():
    rng = np.random.default_rng(3)
    r = dimension_reliability(correlated_answers(rng, 9, 4), levels=L5)
    assert r["n_complete_cases"] == 9 and r["cronbach_alpha_display"] == "insufficient_data"
    assert r["cronbach_alpha_listwise"] is None
    assert "cronbach_alpha_listwise: fewer than 10 complete cases" in r["undefined"]
    r = dimension_reliability(correlated_answers(rng, 25, 4), levels=L5)
    assert r["cronbach_alpha_display"] == "low_base" and r["cronbach_alpha_listwise"] is not None
    r = dimension_reliability(correlated_answers(rng, 60, 4), levels=L5)
    assert r["cronbach_alpha_display"] == "show" and r["show_pairwise"] is False
    assert r["interpretation"] in ("poor", "questionable", "acceptable")
    # routed items: most respondents skip one item → n_complete < half of scored
    x = correlated_answers(rng, 80, 4)
    x[:60, 3] = np.nan
    r = dimension_reliability(x, levels=L5)
    assert r["n_scored"] == 80 and r["n_complete_cases"] == 20
    assert r["show_pairwise"] is True and r["cronbach_alpha_pairwise"] is not None
    check_json_safe(r)
    assert unexplained_nulls(r) == []


def test_reliability_recodes_reverse_keyed_items_first():
    rng = np.random.default_rng(11)
    x = correlated_answers(rng, 100, 3)
    flipped = x.copy()
    flipped[:, 2] = 6 - flipped[:, 2]
    a = dimension_reliability(x, levels=L5)["cronbach_alpha_listwise"]
    b = dimension_reliability(flipped, levels=L5, reverse_keyed=[False, False, True])
    assert math.isclose(a, b["cronbach_alpha_listwise"], rel_tol=1e-12)


def test_dimension_gap_from_scores_matches_scipy():
    rng = np.random.default_rng(5)
    staff = dimension_scores(correlated_answers(rng, 40, 4, missing=0.2), levels=L5)
    cust = dimension_scores(correlated_answers(rng, 90, 4, missing=0.2) - 0, levels=L5)
    rel_s = dimension_reliability(correlated_answers(rng, 40, 4), levels=L5)
    r = dimension_comparison(staff, cust, levels=L5, reliability_staff=rel_s)
    check_json_safe(r)
    assert unexplained_nulls(r) == []
    x, y = staff[~np.isnan(staff)], cust[~np.isnan(cust)]
    assert r["n_staff"] == x.size == r["n_scored_staff"]
    # scipy: ttest_ind(x, y, equal_var=False); mannwhitneyu(asymptotic, continuity)
    ref = st.ttest_ind(x, y, equal_var=False)
    assert math.isclose(r["welch"]["t"], ref.statistic, rel_tol=1e-9)
    assert math.isclose(r["welch"]["p"], ref.pvalue, rel_tol=1e-9)
    u = st.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
    assert r["mwu"]["U_staff"] == u.statistic
    assert math.isclose(r["mwu"]["p"], u.pvalue, rel_tol=1e-9)
    assert math.isclose(r["hedges_g"], pg.compute_effsize(x, y, eftype="hedges"), rel_tol=1e-9)
    assert r["cronbach_alpha_listwise_staff"] == rel_s["cronbach_alpha_listwise"]
    assert r["cronbach_alpha_listwise_customer"] is None
    assert "cronbach_alpha_listwise_customer: reliability not supplied" in r["undefined"]
    assert "counts_staff" not in r and "topbox" not in r


def test_dimension_gap_is_not_the_mean_of_item_gaps():
    staff = [[5, NAN], [5, NAN], [1, 1], [1, 1], [5, 5]] * 2
    cust = [[3, 3]] * 10
    s = dimension_scores(staff, levels=L5)
    c = dimension_scores(cust, levels=L5, min_answered=1)
    r = dimension_comparison(s, c, levels=L5)
    item_gaps = [np.nanmean(np.array(staff)[:, j]) - 3 for j in range(2)]
    assert r["gap"] == pytest.approx(np.mean(s) - 3)
    assert not math.isclose(r["gap"], float(np.mean(item_gaps)))


def test_dimension_family_uses_holm_for_classification_by_default():
    rng = np.random.default_rng(9)
    results = []
    for shift in (0.0, 0.45, 0.5, 0.55):
        s = np.clip(rng.normal(3.4 + shift, 0.8, 120), 1, 5)
        c = np.clip(rng.normal(3.4, 0.8, 120), 1, 5)
        results.append(dimension_comparison(s, c, levels=L5))
    holm_out = adjust_dimension_family(results)
    bh_out = adjust_dimension_family(results, classify_with="bh")
    for r in holm_out:
        assert set(r["p_adjusted"]) == {"welch_bh", "welch_holm", "mwu_bh", "mwu_holm"}
        assert r["p_adjusted"]["welch_holm"] >= r["p_adjusted"]["welch_bh"]
        check_json_safe(r)
        assert unexplained_nulls(r) == []
    # reconstruct: class follows the Holm p unless asked for BH (Welch and Mann–Whitney, both adjusted that way)
    for h, b in zip(holm_out, bh_out, strict=True):
        sig_h = h["p_adjusted"]["welch_holm"] <= 0.05 and h["p_adjusted"]["mwu_holm"] <= 0.05
        sig_b = b["p_adjusted"]["welch_bh"] <= 0.05 and b["p_adjusted"]["mwu_bh"] <= 0.05
        assert (h["classification"]["class"] in ("blind_spot", "hidden_strength", "minor_gap")) == sig_h
        assert (b["classification"]["class"] in ("blind_spot", "hidden_strength", "minor_gap")) == sig_b


def test_suppressed_dimension_hides_reliability_too():
    rel = dimension_reliability(correlated_answers(np.random.default_rng(1), 50, 3), levels=L5)
    r = dimension_comparison([4, 4, 5], [3, 3, 4, 2, 3, 3], levels=L5, reliability_staff=rel)
    assert r["report_status"] == "suppressed_anonymity"
    assert r["n_scored_staff"] is None and r["cronbach_alpha_listwise_staff"] is None
    assert r["n_customer"] is None and r["mean_staff"] is None
    assert unexplained_nulls(r) == []
    with pytest.raises(ValueError, match="within the scale"):
        dimension_comparison([6.0] * 5, [3.0] * 5, levels=L5)
