"""Measurement invariance (reports/stats/invariance.py, docs/methods.md §3.5) against independent references.

* semopy (its own single-group ML CFA on the raw rows): the configural model has no constraint across the
  sides and saturated means, so its χ² is the sum of the two single-group χ², and its loadings are semopy's
  standardised on the factor variance.
* A raw-data likelihood written here from scipy.stats.multivariate_normal, with another identification
  (marker loading = 1) and another optimiser: the metric and scalar χ² = 2(ℓ_saturated − ℓ_model).
* Hand computation: population moments that fit the scalar model exactly give χ² = 0 at every level and
  the true parameters; degrees of freedom counted by hand.
* Seeded simulations: invariance holds (different factor means and variances) → scalar in most
  replications; one intercept shifted on one side → metric, not scalar; one loading changed → configural.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as st

from reports.stats import invariance as inv

LAM = np.array([0.8, 0.7, 0.9, 0.6])
NU = np.array([3.0, 3.2, 2.9, 3.1])
THETA = np.array([0.4, 0.5, 0.3, 0.6])


def simulate(rng, n, lam=LAM, nu=NU, theta=THETA, kappa=0.0, phi=1.0):
    eta = rng.normal(kappa, np.sqrt(phi), n)
    return nu + np.outer(eta, lam) + rng.normal(0, np.sqrt(theta), (n, len(lam)))


def likert(x, cuts=(2.2, 2.8, 3.4, 4.0)):
    """Five ordered categories, the same thresholds on both sides."""
    return 1.0 + np.searchsorted(np.asarray(cuts), x)


def level_of(a, b):
    return inv.measurement_invariance(inv.moments_from_rows(a), inv.moments_from_rows(b), n_items=a.shape[1])


# --------------------------------------------------------------------------- independent references


def test_configural_chi2_and_loadings_match_semopy_single_group_fits():
    semopy = pytest.importorskip("semopy")
    rng = np.random.default_rng(5)
    a = simulate(rng, 250)
    b = simulate(rng, 350, lam=LAM * [1, 0.8, 1, 1.1], kappa=0.5, phi=1.3)
    cols = ["x1", "x2", "x3", "x4"]
    ours = inv.fit_invariance_model([inv.moments_from_rows(a), inv.moments_from_rows(b)], "configural")
    chi2 = base = 0.0
    for g, x in enumerate((a, b)):
        model = semopy.Model("eta =~ x1 + x2 + x3 + x4")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(pd.DataFrame(x, columns=cols), obj="MLW")
        stats = semopy.calc_stats(model)
        chi2 += float(stats.loc["Value", "chi2"])
        base += float(stats.loc["Value", "chi2 Baseline"])
        est = model.inspect()
        loads = est[(est.op == "~") & (est.rval == "eta")].set_index("lval")["Estimate"].astype(float)
        phi = float(est[(est.lval == "eta") & (est.op == "~~")]["Estimate"].iloc[0])
        # semopy fixes the first loading to 1; ours fixes the factor variance to 1: λ_ours = λ_semopy · √φ.
        np.testing.assert_allclose(np.abs(ours["estimates"][g]["loadings"]), loads[cols].to_numpy() * np.sqrt(phi),
                                   rtol=5e-3)
        np.testing.assert_allclose(ours["estimates"][g]["intercepts"], x.mean(axis=0), atol=1e-5)
    assert ours["df"] == 4
    assert ours["chi2"] == pytest.approx(chi2, rel=1e-3)
    assert inv._baseline_chi2([inv.moments_from_rows(a), inv.moments_from_rows(b)]) == pytest.approx(base, rel=1e-6)


def _raw_loglik_chi2(a, b, level):
    """χ² of a level from the raw rows: marker identification (λ₁ = 1, factor variances and means free where
    identified), BFGS on −Σ log N(x; μ, Σ) with numerical gradients, against the saturated model."""
    p = a.shape[1]

    def unpack(x):
        pos = 0
        out = []
        lam_shared = nu_shared = None
        for g in range(2):
            if level == "configural" or g == 0:
                lam = np.r_[1.0, x[pos:pos + p - 1]]
                pos += p - 1
                lam_shared = lam
            else:
                lam = lam_shared
            if level != "scalar" or g == 0:
                nu = x[pos:pos + p]
                pos += p
                nu_shared = nu
            else:
                nu = nu_shared
            theta = np.exp(x[pos:pos + p])
            pos += p
            phi = np.exp(x[pos])
            pos += 1
            kappa = 0.0
            if level == "scalar" and g == 1:
                kappa = x[pos]
                pos += 1
            out.append((phi * np.outer(lam, lam) + np.diag(theta), nu + lam * kappa))
        return out

    def size():
        per = (p - 1) + p + p + 1
        return {"configural": 2 * per, "metric": 2 * per - (p - 1), "scalar": 2 * per - (p - 1) - p + 1}[level]

    def nll(x):
        total = 0.0
        for (sigma, mu), data in zip(unpack(x), (a, b), strict=True):
            try:
                total -= st.multivariate_normal.logpdf(data, mean=mu, cov=sigma).sum()
            except (np.linalg.LinAlgError, ValueError):
                return 1e12
        return total

    x0 = np.zeros(size())
    # start: loadings 1, intercepts at the first side's means, log variances of half the item variances
    pos = 0
    for g, data in enumerate((a, b)):
        if level == "configural" or g == 0:
            x0[pos:pos + p - 1] = 1.0
            pos += p - 1
        if level != "scalar" or g == 0:
            x0[pos:pos + p] = data.mean(axis=0)
            pos += p
        x0[pos:pos + p] = np.log(data.var(axis=0) / 2)
        pos += p
        x0[pos] = np.log(data[:, 0].var() / 2)
        pos += 1
        if level == "scalar" and g == 1:
            x0[pos] = b[:, 0].mean() - a[:, 0].mean()
            pos += 1
    res = optimize.minimize(nll, x0, method="BFGS", options={"gtol": 1e-6, "maxiter": 5000})
    saturated = sum(st.multivariate_normal.logpdf(d, mean=d.mean(axis=0), cov=np.cov(d, rowvar=False, ddof=0)).sum()
                    for d in (a, b))
    return 2 * (saturated + res.fun)


@pytest.mark.parametrize("level", inv.LEVELS)
def test_chi2_of_each_level_matches_a_raw_data_likelihood_fit(level):
    rng = np.random.default_rng(11)
    a = simulate(rng, 200)
    b = simulate(rng, 240, nu=NU + [0, 0, 0.3, 0], kappa=0.4, phi=1.2)
    ours = inv.fit_invariance_model([inv.moments_from_rows(a), inv.moments_from_rows(b)], level)
    assert ours["chi2"] == pytest.approx(_raw_loglik_chi2(a, b, level), rel=1e-4, abs=1e-4)
    assert ours["p_value"] == pytest.approx(st.chi2.sf(ours["chi2"], ours["df"]))


def test_population_moments_of_a_scalar_model_fit_exactly_and_give_back_the_parameters():
    lam, nu, theta = LAM, NU, THETA
    kappa2, phi2 = 0.5, 1.44
    groups = [inv.GroupMoments(400, nu.copy(), np.outer(lam, lam) + np.diag(theta)),
              inv.GroupMoments(300, nu + lam * kappa2, phi2 * np.outer(lam, lam) + np.diag(theta))]
    fits = {level: inv.fit_invariance_model(groups, level) for level in inv.LEVELS}
    for fit in fits.values():
        assert fit["chi2"] == pytest.approx(0.0, abs=1e-6)
        assert fit["cfi"] == 1.0 and fit["srmr"] == pytest.approx(0.0, abs=1e-4)
    est = fits["scalar"]["estimates"]
    np.testing.assert_allclose(est[0]["loadings"], lam, atol=1e-4)
    np.testing.assert_allclose(est[0]["intercepts"], nu, atol=1e-4)
    np.testing.assert_allclose(est[1]["residual_variances"], theta, atol=1e-4)
    assert est[1]["factor_mean"] == pytest.approx(kappa2, abs=1e-4)
    assert est[1]["factor_variance"] == pytest.approx(phi2, abs=1e-4)


def test_degrees_of_freedom_counted_by_hand():
    rng = np.random.default_rng(3)
    for p, expected in ((3, (0, 2, 4)), (4, (4, 7, 10)), (6, (18, 23, 28))):
        lam = np.full(p, 0.8)
        a = simulate(rng, 300, lam=lam, nu=np.full(p, 3.0), theta=np.full(p, 0.4))
        b = simulate(rng, 300, lam=lam, nu=np.full(p, 3.0), theta=np.full(p, 0.4), kappa=0.3)
        groups = [inv.moments_from_rows(a), inv.moments_from_rows(b)]
        # per side p(p+1)/2 + p moments; configural 3p parameters per side; metric shares p loadings and frees
        # one factor variance; scalar shares p intercepts and frees one factor mean.
        dfs = tuple(inv.fit_invariance_model(groups, level)["df"] for level in inv.LEVELS)
        assert dfs == expected


def test_cfi_and_rmsea_follow_their_definitions():
    rng = np.random.default_rng(8)
    a, b = simulate(rng, 300), simulate(rng, 300, nu=NU + [0.5, 0, 0, 0])
    groups = [inv.moments_from_rows(a), inv.moments_from_rows(b)]
    fit = inv.fit_invariance_model(groups, "scalar")
    n = 600
    # independence model by hand: per side n·(Σ log s_ii − log|S|), df = p(p − 1)/2 per side
    base = sum(len(x) * (np.log(np.var(x, axis=0)).sum() - np.linalg.slogdet(np.cov(x, rowvar=False, ddof=0))[1])
               for x in (a, b))
    chi2, df = fit["chi2"], fit["df"]
    assert fit["cfi"] == pytest.approx(1 - max(chi2 - df, 0) / max(base - 12, chi2 - df), rel=1e-9)
    assert fit["rmsea"] == pytest.approx(np.sqrt(max(chi2 - df, 0) / (df * n)) * np.sqrt(2), rel=1e-9)


# --------------------------------------------------------------------------- statuses


def test_two_items_are_not_testable_and_small_sides_too_few():
    rng = np.random.default_rng(1)
    two = inv.measurement_invariance(inv.moments_from_rows(simulate(rng, 500)[:, :2]),
                                     inv.moments_from_rows(simulate(rng, 500)[:, :2]), n_items=2)
    assert two["status"] == "not_testable" and two["level"] is None and not two["mean_gap_interpretable"]
    assert two["steps"] == []
    assert inv.min_complete_cases(4) == 100 and inv.min_complete_cases(8) == 120
    few = level_of(simulate(rng, 500), simulate(rng, 99))
    assert few["status"] == "too_few" and few["level"] is None and few["steps"] == []
    assert few["n_complete"] == {"staff": 500, "customer": 99}
    enough = level_of(simulate(rng, 500), simulate(rng, 100))
    assert enough["status"] == "tested"


def test_missing_answers_count_only_complete_cases():
    rng = np.random.default_rng(2)
    a = simulate(rng, 130)
    a[:40, 1] = np.nan
    res = level_of(a, simulate(rng, 200))
    assert res["n_complete"]["staff"] == 90 and res["status"] == "too_few"


def test_a_constant_item_is_not_estimable():
    rng = np.random.default_rng(4)
    a = simulate(rng, 200)
    a[:, 2] = 3.0
    res = level_of(a, simulate(rng, 200))
    assert res["status"] == "not_estimable" and res["level"] is None and not res["mean_gap_interpretable"]


def test_the_decision_needs_both_delta_cfi_and_delta_rmsea():
    prev = {"chi2": 5.0, "df": 4, "cfi": 0.999, "rmsea": 0.01}
    assert inv._step_holds(prev, {"chi2": 9.0, "df": 7, "cfi": 0.985, "rmsea": 0.02})[0]  # ΔCFI only
    assert inv._step_holds(prev, {"chi2": 9.0, "df": 7, "cfi": 0.995, "rmsea": 0.05})[0]  # ΔRMSEA only
    assert not inv._step_holds(prev, {"chi2": 60.0, "df": 7, "cfi": 0.95, "rmsea": 0.08})[0]


# --------------------------------------------------------------------------- simulations


@pytest.mark.parametrize("scenario, expected", [
    ("holds", "scalar"),
    ("intercept_shifted", "metric"),
    ("loading_changed", "configural"),
])
def test_simulation_reaches_the_designed_level_in_most_replications(scenario, expected):
    rng = np.random.default_rng({"holds": 101, "intercept_shifted": 202, "loading_changed": 303}[scenario])
    reps, hits = 20, 0
    for _ in range(reps):
        a = simulate(rng, 300)
        if scenario == "holds":  # same loadings and intercepts, different factor mean and variance
            b = simulate(rng, 300, kappa=0.5, phi=1.3)
        elif scenario == "intercept_shifted":  # one intercept 0.6 higher on the customer side
            b = simulate(rng, 300, nu=NU + [0, 0, 0.6, 0], kappa=0.5, phi=1.3)
        else:  # one loading much weaker on the customer side
            b = simulate(rng, 300, lam=LAM * [1, 1, 0.2, 1], kappa=0.5, phi=1.3)
        res = level_of(a, b)
        assert res["status"] == "tested"
        assert res["mean_gap_interpretable"] is (res["level"] == "scalar")
        hits += res["level"] == expected
    assert hits >= 0.8 * reps


def test_simulation_on_five_point_answers_keeps_scalar_when_it_holds_and_breaks_when_an_intercept_moves():
    rng = np.random.default_rng(404)
    held = broken = 0
    reps = 15
    for _ in range(reps):
        a = likert(simulate(rng, 400))
        held += level_of(a, likert(simulate(rng, 400, kappa=0.3)))["level"] == "scalar"
        broken += level_of(a, likert(simulate(rng, 400, nu=NU + [0, 0, 0.8, 0], kappa=0.3)))["level"] != "scalar"
    assert held >= 0.8 * reps and broken >= 0.8 * reps
