"""Key drivers (reports/stats/drivers.py): LMG / Shapley decomposition of R² and its account bootstrap.

References: pingouin's ``linear_regression(relimp=True)`` (an independent LMG implementation), statsmodels OLS
for every subset's R², the closed form of LMG for two predictors, scipy's Pearson r.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from reports.stats.drivers import MIN_EXTRA_ACCOUNTS, key_drivers, lmg_weights, subset_r2


def _correlated(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n, 1))
    x = np.round(np.clip(3 + common + rng.normal(size=(n, p)), 1, 5) * 3) / 3  # account means of 1-5 answers
    y = x @ np.linspace(0.2, 1.0, p) + rng.normal(scale=1.5, size=n)
    return x, y


def test_every_subset_r2_is_statsmodels_ols_r2():
    x, y = _correlated(60, 3, 1)
    r2 = subset_r2(np.cov(np.column_stack([x, y]), rowvar=False))
    assert r2[0] == 0
    for mask in range(1, 8):
        cols = [j for j in range(3) if mask >> j & 1]
        ref = sm.OLS(y, sm.add_constant(x[:, cols])).fit().rsquared
        assert r2[mask] == pytest.approx(ref, rel=1e-10), cols


def test_lmg_weights_are_pingouins_relative_importance():
    x, y = _correlated(200, 5, 2)
    keys = list("abcde")
    got = key_drivers(x, y, keys, k_min=5, reps=50)
    frame = pd.DataFrame(x, columns=keys)
    ref = pg.linear_regression(frame, pd.Series(y), relimp=True).set_index("names")
    for d in got["drivers"]:
        assert d["weight"] == pytest.approx(ref.loc[d["key"], "relimp"], rel=1e-9), d["key"]
        assert d["share"] == pytest.approx(ref.loc[d["key"], "relimp_perc"] / 100, rel=1e-9)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    assert got["r2"] == pytest.approx(fit.rsquared, rel=1e-10)
    assert got["r2_adjusted"] == pytest.approx(fit.rsquared_adj, rel=1e-10)
    assert sum(d["weight"] for d in got["drivers"]) == pytest.approx(got["r2"], rel=1e-12)
    ranks = sorted(got["drivers"], key=lambda d: d["rank"])
    assert [d["weight"] for d in ranks] == sorted((d["weight"] for d in ranks), reverse=True)


def test_two_predictors_have_the_closed_form_by_hand():
    """p = 2: LMG_1 = (r_1y² + R² − r_2y²) / 2, each predictor's own R² averaged with its increment."""
    x = np.array([[1, 2], [2, 1], [3, 4], [4, 3], [5, 5], [2, 2], [3, 3], [4, 5], [1, 1], [5, 4], [3, 2], [2, 4]],
                 dtype=float)
    y = np.array([1, 2, 3, 3, 5, 2, 3, 4, 1, 5, 3, 2], dtype=float)
    r1, r2_ = (np.corrcoef(x[:, j], y)[0, 1] for j in (0, 1))
    r12 = np.corrcoef(x[:, 0], x[:, 1])[0, 1]
    full = (r1**2 + r2_**2 - 2 * r1 * r2_ * r12) / (1 - r12**2)  # the textbook two-predictor R²
    got = key_drivers(x, y, ["a", "b"], k_min=5, reps=20)
    assert got["r2"] == pytest.approx(full, rel=1e-12)
    assert got["drivers"][0]["weight"] == pytest.approx((r1**2 + full - r2_**2) / 2, rel=1e-12)
    assert got["drivers"][1]["weight"] == pytest.approx((r2_**2 + full - r1**2) / 2, rel=1e-12)
    assert got["drivers"][0]["correlation"] == pytest.approx(sps.pearsonr(x[:, 0], y).statistic, rel=1e-12)


def test_lmg_averages_over_all_orders_of_entry():
    """The Shapley form (subset weights) equals the mean over all p! orders of each predictor's R² increment."""
    x, y = _correlated(80, 4, 3)
    r2 = subset_r2(np.cov(np.column_stack([x, y]), rowvar=False))
    weights = lmg_weights(r2, 4)
    by_orders = np.zeros(4)
    orders = list(itertools.permutations(range(4)))
    for order in orders:
        mask = 0
        for j in order:
            by_orders[j] += r2[mask | 1 << j] - r2[mask]
            mask |= 1 << j
    np.testing.assert_allclose(weights, by_orders / len(orders), rtol=1e-12)


def test_the_bootstrap_is_a_percentile_interval_of_pingouin_weights_over_resampled_accounts():
    x, y = _correlated(40, 3, 4)
    reps, seed = 40, 123
    got = key_drivers(x, y, ["a", "b", "c"], k_min=5, reps=reps, seed=seed)
    idx = np.random.default_rng(seed).integers(0, 40, size=(reps, 40))
    boot_w, boot_r2 = [], []
    for rows in idx:
        frame = pd.DataFrame(x[rows], columns=["a", "b", "c"])
        fit = pg.linear_regression(frame, pd.Series(y[rows]), relimp=True).set_index("names")
        boot_w.append(fit.loc[["a", "b", "c"], "relimp"].to_numpy())
        boot_r2.append(fit["r2"].iloc[0])
    boot_w = np.array(boot_w)
    assert got["n_bootstrap"] == reps
    for j, d in enumerate(got["drivers"]):
        lo, hi = np.quantile(boot_w[:, j], [0.025, 0.975])
        assert (d["ci_low"], d["ci_high"]) == (pytest.approx(lo, rel=1e-8), pytest.approx(hi, rel=1e-8))
    assert (got["r2_ci_low"], got["r2_ci_high"]) == tuple(pytest.approx(v, rel=1e-8)
                                                         for v in np.quantile(boot_r2, [0.025, 0.975]))
    again = key_drivers(x, y, ["a", "b", "c"], k_min=5, reps=reps, seed=seed)
    assert again == got  # seeded: the same data give the same interval


def test_resampling_in_chunks_gives_the_same_intervals(monkeypatch):
    """Large account tables are resampled in chunks (bounded memory): the same resamples, the same result."""
    from reports.stats import drivers

    x, y = _correlated(50, 3, 12)
    whole = key_drivers(x, y, ["a", "b", "c"], k_min=5, reps=70)
    monkeypatch.setattr(drivers, "BOOTSTRAP_CHUNK_CELLS", 50 * 8)  # chunks of 8 resamples, the last one of 6
    chunked = key_drivers(x, y, ["a", "b", "c"], k_min=5, reps=70)
    assert chunked["drivers"] == [{**d, "ci_low": pytest.approx(d["ci_low"], rel=1e-9),
                                   "ci_high": pytest.approx(d["ci_high"], rel=1e-9)} for d in whole["drivers"]]
    assert chunked["r2_ci_low"] == pytest.approx(whole["r2_ci_low"], rel=1e-9)


def test_churn_is_a_linear_probability_model_whose_r2_is_statsmodels():
    rng = np.random.default_rng(5)
    x = rng.uniform(1, 5, size=(50, 3))
    churned = (rng.uniform(size=50) < 1 / (1 + np.exp(2 * (x[:, 0] - 3)))).astype(float)
    got = key_drivers(x, churned, ["a", "b", "c"], binary=True, k_min=5, reps=100)
    assert got["r2"] == pytest.approx(sm.OLS(churned, sm.add_constant(x)).fit().rsquared, rel=1e-10)
    assert got["drivers"][0]["correlation"] < 0  # lower scores, more churn: the direction is told
    assert got["n_bootstrap"] <= 100


def test_accounts_missing_the_outcome_or_a_predictor_are_left_out_listwise():
    x, y = _correlated(30, 2, 6)
    x_missing = x.copy().astype(object)
    x_missing[3, 1] = None
    y_missing = y.copy().astype(object)
    y_missing[7] = None
    got = key_drivers(x_missing, y_missing, ["a", "b"], k_min=5, reps=20)
    keep = [i for i in range(30) if i not in (3, 7)]
    assert got["n_accounts"] == 28
    assert got["r2"] == pytest.approx(sm.OLS(y[keep], sm.add_constant(x[keep])).fit().rsquared, rel=1e-10)


def test_a_predictor_constant_in_some_resamples_still_gives_intervals():
    rng = np.random.default_rng(7)
    x = np.column_stack([rng.uniform(1, 5, 25), np.r_[np.full(23, 3.0), 4.0, 5.0]])
    y = x[:, 0] + rng.normal(size=25)
    got = key_drivers(x, y, ["a", "rare"], k_min=5, reps=300)
    assert got["n_bootstrap"] == 300
    assert all(d["ci_low"] is not None and d["ci_low"] >= 0 for d in got["drivers"])


@pytest.mark.parametrize("design", ["copy", "sum"])
def test_exactly_collinear_predictors_give_statsmodels_r2_for_every_subset(design):
    """Perfect collinearity (a column twice, or one the sum of two others): every subset's R² is statsmodels'
    (pseudo-inverse) OLS R², whichever member entered first, and the weights average those over all orders."""
    x, y = _correlated(40, 3, 13)
    if design == "copy":
        data = np.column_stack([x[:, 0], x[:, 0], x[:, 1]])
    else:
        data = np.column_stack([x[:, 0], x[:, 1], x[:, 0] + x[:, 1], x[:, 2]])
    p = data.shape[1]
    got = key_drivers(data, y, [f"x{j}" for j in range(p)], k_min=5, reps=50)

    def r2(members) -> float:
        return sm.OLS(y, sm.add_constant(data[:, sorted(members)])).fit().rsquared if members else 0.0

    table = subset_r2(np.cov(np.column_stack([data, y]), rowvar=False))
    for mask in range(1, 1 << p):
        assert table[mask] == pytest.approx(r2([j for j in range(p) if mask >> j & 1]), rel=1e-9, abs=1e-12)
    expected = np.zeros(p)
    orders = list(itertools.permutations(range(p)))
    for order in orders:
        for pos, j in enumerate(order):
            expected[j] += r2(order[:pos + 1]) - r2(order[:pos])
    np.testing.assert_allclose([d["weight"] for d in got["drivers"]], expected / len(orders), rtol=1e-9)


def test_fewer_accounts_than_k_show_nothing_but_the_status():
    x, y = _correlated(4, 2, 8)
    got = key_drivers(x, y, ["a", "b"], k_min=5, reps=20)
    assert got["report_status"] == "suppressed_min_n"
    assert got["n_accounts"] is None and got["r2"] is None
    assert all(d[f] is None for d in got["drivers"] for f in ("weight", "share", "ci_low", "correlation", "rank"))
    assert any(u.startswith("drivers.0.weight: suppressed_min_n") for u in got["undefined"])


def test_a_churn_group_below_k_is_suppressed_even_with_many_accounts():
    """Four churned accounts among 60: a weight would describe those four accounts' scores; it is not shown."""
    x, _ = _correlated(60, 2, 9)
    churned = np.zeros(60)
    churned[:4] = 1
    got = key_drivers(x, churned, ["a", "b"], binary=True, k_min=5, reps=20)
    assert got["report_status"] == "suppressed_min_n" and got["r2"] is None and got["n_accounts"] is None
    retained_small = 1 - churned
    assert key_drivers(x, retained_small, ["a", "b"], binary=True, k_min=5)["report_status"] == "suppressed_min_n"


def test_too_few_accounts_for_the_predictors_is_insufficient_data_without_numbers():
    x, y = _correlated(5 + MIN_EXTRA_ACCOUNTS - 1, 5, 10)
    got = key_drivers(x, y, list("abcde"), k_min=5, reps=20)
    assert got["report_status"] == "insufficient_data"
    assert got["n_accounts"] == 14 and got["r2"] is None and all(d["weight"] is None for d in got["drivers"])
    x, y = _correlated(5 + MIN_EXTRA_ACCOUNTS, 5, 10)
    assert key_drivers(x, y, list("abcde"), k_min=5, reps=20)["report_status"] == "ok_low_base"


def test_a_constant_outcome_has_no_weights():
    x, _ = _correlated(30, 2, 11)
    got = key_drivers(x, np.full(30, 8.0), ["a", "b"], k_min=5, reps=20)
    assert got["report_status"] == "no_variance" and got["r2"] is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"predictors": [[1, 2]], "outcome": [1, 2], "keys": ["a", "b"]}, "predictors must be"),
    ({"predictors": [[1, "x"]], "outcome": [1], "keys": ["a", "b"]}, "must hold numbers"),
    ({"predictors": [[1, np.inf]], "outcome": [1], "keys": ["a", "b"]}, "finite"),
    ({"predictors": [[1]], "outcome": [2], "keys": ["a"], "binary": True}, "0 or 1"),
    ({"predictors": [[1]], "outcome": [1], "keys": ["a"], "reps": 0}, "reps"),
    ({"predictors": [[1] * 13], "outcome": [1], "keys": list("abcdefghijklm")}, "at most 12"),
])
def test_bad_input_is_refused_with_the_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        key_drivers(**kwargs)
