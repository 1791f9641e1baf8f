"""Measurement invariance of one dimension between staff and customers (docs/methods.md §3.5).

A two-group confirmatory factor analysis of a one-factor model, fitted by normal-theory maximum
likelihood with a mean structure from each side's sufficient statistics — the number of complete
cases, the item means and the item covariance matrix — which is all an ML multi-group CFA depends
on. Three nested models: configural (same structure, every parameter free per side), metric (equal
loadings) and scalar (equal loadings and intercepts). The level reached is decided by the changes of
CFI and RMSEA between the steps (Chen 2007); the scaled Δχ² is reported, not used, because at the
sample sizes of a survey it rejects trivial differences.

The Likert answers are treated as continuous (ML on the item values): an ordinal (WLSMV) fit needs
polychoric correlations from each pair's bivariate table, which the count readers do not keep. With
five or more categories ML is close to the ordinal estimator for loadings (Rhemtulla, Brosseau-Liard
& Savalei 2012); the normal-theory χ² is not robust to non-normal data, which is one more reason the
verdict uses ΔCFI/ΔRMSEA. Pure numpy/scipy, no Django.

Why one file: the fit function, its gradient, the three nested models, the fit indices and the
decision rule are one method whose parts only make sense together; splitting would scatter the
identification constraints that tie them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as _st

__all__ = [
    "GroupMoments",
    "LEVELS",
    "MIN_ITEMS",
    "MIN_N_FLOOR",
    "MIN_N_PER_PARAMETER",
    "fit_invariance_model",
    "measurement_invariance",
    "min_complete_cases",
    "moments_from_rows",
]

LEVELS = ("configural", "metric", "scalar")
MIN_ITEMS = 3  # a one-factor model of 3 items is just identified at the configural level
MIN_N_FLOOR = 100  # complete cases per side, at least
MIN_N_PER_PARAMETER = 5  # … and at least 5 per free parameter of one side's configural model (3 per item)
# Configural fit deemed acceptable: CFI ≥ .95 with SRMR ≤ .08, Hu & Bentler's (1999) two-index rule. Not RMSEA: at
# the few degrees of freedom of a 3–5 item model it swings with sampling noise (Kenny, Kaniskan & McCoach 2015).
CONFIGURAL_CFI_MIN = 0.95
CONFIGURAL_SRMR_MAX = 0.08
# A step fails when CFI drops by more than .010 supplemented by a rise of RMSEA above .015 (Chen 2007; Cheung &
# Rensvold 2002 for ΔCFI alone): both must say so, as either alone flags sampling noise at small df.
DELTA_CFI_MAX = 0.01
DELTA_RMSEA_MAX = 0.015


@dataclass(frozen=True)
class GroupMoments:
    """One side's sufficient statistics over its complete cases: n, item means, ML covariance (divisor n)."""

    n: int
    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def from_sums(cls, n: int, sums: np.ndarray, cross: np.ndarray) -> GroupMoments:
        """From n, Σx_i and Σx_i x_j over the same n respondents (the listwise cross-product sums)."""
        sums = np.asarray(sums, dtype=float)
        mean = sums / n
        cov = np.asarray(cross, dtype=float) / n - np.outer(mean, mean)
        return cls(int(n), mean, (cov + cov.T) / 2)


def moments_from_rows(rows: np.ndarray) -> GroupMoments:
    """The sufficient statistics of a respondents × items array, complete cases only."""
    x = np.asarray(rows, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    return GroupMoments.from_sums(len(x), x.sum(axis=0), x.T @ x)


def min_complete_cases(n_items: int) -> int:
    """Complete cases each side needs: max(100, 5 × the 3p free parameters of one side's configural model)."""
    return max(MIN_N_FLOOR, MIN_N_PER_PARAMETER * 3 * n_items)


# --------------------------------------------------------------------------- the model


class _Layout:
    """Where each parameter of a level lives in the optimiser's vector, two groups, p items.

    Per group g: loadings λ_g, intercepts ν_g, residual variances θ_g, factor variance φ_g, factor mean κ_g.
    Identification: configural fixes φ_g = 1 and κ_g = 0 in both groups; metric shares λ and frees φ_2;
    scalar shares λ and ν and frees κ_2 (group 1 is the reference: φ_1 = 1, κ_1 = 0).
    """

    def __init__(self, p: int, level: str):
        self.p, self.level = p, level
        pos = 0
        self.lam: list[slice] = []
        self.nu: list[slice] = []
        self.theta: list[slice] = []
        shared_lam = level in ("metric", "scalar")
        shared_nu = level == "scalar"
        for g in range(2):
            if g == 0 or not shared_lam:
                self.lam.append(slice(pos, pos + p))
                pos += p
            else:
                self.lam.append(self.lam[0])
            if g == 0 or not shared_nu:
                self.nu.append(slice(pos, pos + p))
                pos += p
            else:
                self.nu.append(self.nu[0])
            self.theta.append(slice(pos, pos + p))
            pos += p
        self.phi2 = None
        self.kappa2 = None
        if shared_lam:
            self.phi2 = pos
            pos += 1
        if shared_nu:
            self.kappa2 = pos
            pos += 1
        self.size = pos

    def unpack(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """The parameters of group g; variances are stored as logarithms (positive by construction)."""
        phi = math.exp(x[self.phi2]) if (g == 1 and self.phi2 is not None) else 1.0
        kappa = x[self.kappa2] if (g == 1 and self.kappa2 is not None) else 0.0
        return x[self.lam[g]], x[self.nu[g]], np.exp(x[self.theta[g]]), float(phi), float(kappa)


def _implied(lam, nu, theta, phi, kappa) -> tuple[np.ndarray, np.ndarray]:
    return phi * np.outer(lam, lam) + np.diag(theta), nu + lam * kappa


def _objective(x: np.ndarray, layout: _Layout, groups: Sequence[GroupMoments]) -> tuple[float, np.ndarray]:
    """Σ_g (n_g/N) F_g and its gradient, F_g = log|Σ| + tr(SΣ⁻¹) − log|S| − p + (m − μ)ᵀΣ⁻¹(m − μ)."""
    total_n = sum(g.n for g in groups)
    value = 0.0
    grad = np.zeros_like(x)
    for g, grp in enumerate(groups):
        lam, nu, theta, phi, kappa = layout.unpack(x, g)
        sigma, mu = _implied(lam, nu, theta, phi, kappa)
        sign, logdet = np.linalg.slogdet(sigma)
        if sign <= 0:
            return 1e10, np.zeros_like(x)
        inv = np.linalg.inv(sigma)
        d = grp.mean - mu
        inv_d = inv @ d
        _, logdet_s = np.linalg.slogdet(grp.cov)
        f = logdet + np.trace(grp.cov @ inv) - logdet_s - layout.p + d @ inv_d
        w = grp.n / total_n
        value += w * f
        # dF/dΣ = Σ⁻¹ − Σ⁻¹(S + ddᵀ)Σ⁻¹ ; dF/dμ = −2Σ⁻¹d
        gs = inv - inv @ (grp.cov + np.outer(d, d)) @ inv
        gmu = -2 * inv_d
        grad[layout.lam[g]] += w * (2 * phi * (gs @ lam) + gmu * kappa)
        grad[layout.nu[g]] += w * gmu
        grad[layout.theta[g]] += w * np.diag(gs) * theta  # d/d log θ
        if g == 1 and layout.phi2 is not None:
            grad[layout.phi2] += w * float(lam @ gs @ lam) * phi  # d/d log φ
        if g == 1 and layout.kappa2 is not None:
            grad[layout.kappa2] += w * float(lam @ gmu)
    return float(value), grad


def _start(layout: _Layout, groups: Sequence[GroupMoments]) -> np.ndarray:
    """Start values: loadings from each side's first principal component, residuals as the rest of the variance."""
    x = np.zeros(layout.size)
    for g, grp in enumerate(groups):
        vals, vecs = np.linalg.eigh(grp.cov)
        vec = vecs[:, -1] * (1 if vecs[:, -1].sum() >= 0 else -1)
        lam = vec * math.sqrt(max(vals[-1], 1e-6))
        if g == 0 or layout.lam[1] != layout.lam[0]:
            x[layout.lam[g]] = lam
        if g == 0 or layout.nu[1] != layout.nu[0]:
            x[layout.nu[g]] = grp.mean
        x[layout.theta[g]] = np.log(np.maximum(np.diag(grp.cov) - lam**2, 0.05 * np.diag(grp.cov) + 1e-3))
    return x  # log φ₂ = 0, κ₂ = 0


def _baseline_chi2(groups: Sequence[GroupMoments]) -> float:
    """χ² of the independence model (free means and variances per side, no covariances)."""
    return float(sum(g.n * (np.sum(np.log(np.diag(g.cov))) - np.linalg.slogdet(g.cov)[1]) for g in groups))


def _srmr(groups: Sequence[GroupMoments], implied: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """Covariance-part SRMR (Bentler), averaged over the sides with weights n_g/N."""
    total_n = sum(g.n for g in groups)
    out = 0.0
    for grp, (sigma, _mu) in zip(groups, implied, strict=True):
        sd = np.sqrt(np.diag(grp.cov))
        resid = (grp.cov - sigma) / np.outer(sd, sd)
        low = resid[np.tril_indices(len(sd))]
        out += grp.n / total_n * math.sqrt(float(np.mean(low**2)))
    return out


def fit_invariance_model(groups: Sequence[GroupMoments], level: str) -> dict[str, Any]:
    """Fit one level (``configural``/``metric``/``scalar``) of the two-group one-factor model by ML.

    Returns χ² (= Σ n_g F_g at the minimum), df, p, CFI, RMSEA (× √G, Steiger 1998), SRMR, the
    estimates per side (``loadings``, ``intercepts``, ``residual_variances``, ``factor_variance``,
    ``factor_mean``) and ``converged``.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if len(groups) != 2:
        raise ValueError("exactly two groups (staff, customers)")
    p = len(groups[0].mean)
    layout = _Layout(p, level)
    # BFGS on an unconstrained vector (log variances): no bounds needed, and on tiny problems it costs a
    # fraction of L-BFGS-B's per-iteration overhead.
    res = optimize.minimize(_objective, _start(layout, groups), args=(layout, groups), jac=True,
                            method="BFGS", options={"maxiter": 2000, "gtol": 1e-9})
    total_n = sum(g.n for g in groups)
    chi2 = max(float(res.fun) * total_n, 0.0)
    n_moments = 2 * (p * (p + 1) // 2 + p)
    df = n_moments - layout.size
    base = _baseline_chi2(groups)
    df_base = 2 * p * (p - 1) // 2
    implied = [_implied(*layout.unpack(res.x, g)[:3], *layout.unpack(res.x, g)[3:]) for g in range(2)]
    cfi_den = max(base - df_base, chi2 - df, 0.0)
    cfi = 1.0 - max(chi2 - df, 0.0) / cfi_den if cfi_den > 0 else 1.0
    rmsea = math.sqrt(max(chi2 - df, 0.0) / (df * total_n)) * math.sqrt(2) if df > 0 else 0.0
    estimates = []
    for g in range(2):
        lam, nu, theta, phi, kappa = layout.unpack(res.x, g)
        estimates.append({"loadings": lam.tolist(), "intercepts": nu.tolist(), "residual_variances": theta.tolist(),
                          "factor_variance": phi, "factor_mean": kappa})
    grad_ok = bool(np.max(np.abs(_objective(res.x, layout, groups)[1])) < 1e-4)
    return {
        "level": level, "chi2": chi2, "df": int(df),
        "p_value": float(_st.chi2.sf(chi2, df)) if df > 0 else None,
        "cfi": float(cfi), "rmsea": float(rmsea) if df > 0 else None,
        "srmr": _srmr(groups, implied), "estimates": estimates,
        "converged": bool(res.success or grad_ok),
    }


# --------------------------------------------------------------------------- the decision


def _step_holds(previous: dict, current: dict) -> tuple[bool, dict[str, Any]]:
    d_chi2 = current["chi2"] - previous["chi2"]
    d_df = current["df"] - previous["df"]
    d_cfi = current["cfi"] - previous["cfi"]
    d_rmsea = (current["rmsea"] or 0.0) - (previous["rmsea"] or 0.0)
    delta = {"delta_chi2": d_chi2, "delta_df": d_df, "delta_p_value": float(_st.chi2.sf(max(d_chi2, 0.0), d_df)),
             "delta_cfi": d_cfi, "delta_rmsea": d_rmsea}
    return not (d_cfi < -DELTA_CFI_MAX and d_rmsea > DELTA_RMSEA_MAX), delta


def _rounded(step: dict) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in step.items() if k != "estimates"}


def measurement_invariance(staff: GroupMoments | None, customer: GroupMoments | None, *,
                           n_items: int) -> dict[str, Any]:
    """The invariance verdict of one dimension between the sides.

    Returns ``status`` (``tested``, ``not_testable`` — fewer than 3 items —, ``too_few`` — a side below
    :func:`min_complete_cases` —, or ``not_estimable`` — a covariance matrix not positive definite or the
    fit did not converge), ``level`` (``configural``/``metric``/``scalar``/``none``, None unless tested),
    ``mean_gap_interpretable`` (True only at scalar), ``steps`` (χ², df, p, CFI, RMSEA, SRMR and the
    changes from the previous step, per fitted level), ``n_complete`` per side, ``min_n`` and ``reason``.
    """
    n = {"staff": staff.n if staff else 0, "customer": customer.n if customer else 0}
    out: dict[str, Any] = {"status": None, "level": None, "mean_gap_interpretable": False, "steps": [],
                           "n_complete": n, "min_n": min_complete_cases(n_items), "reason": None}
    if n_items < MIN_ITEMS:
        out.update(status="not_testable", reason="fewer than 3 items: a one-factor model cannot be tested")
        return out
    if min(n.values()) < out["min_n"]:
        out.update(status="too_few", reason=f"fewer than {out['min_n']} complete cases on a side")
        return out
    groups = [staff, customer]
    for grp in groups:
        if np.linalg.eigvalsh(grp.cov).min() <= 1e-10 * max(np.trace(grp.cov), 1e-12):
            out.update(status="not_estimable", reason="an item covariance matrix is not positive definite")
            return out
    fits = [fit_invariance_model(groups, level) for level in LEVELS]
    if not all(f["converged"] for f in fits):
        out.update(status="not_estimable", reason="the maximum-likelihood fit did not converge")
        return out
    configural_ok = fits[0]["cfi"] >= CONFIGURAL_CFI_MIN and fits[0]["srmr"] <= CONFIGURAL_SRMR_MAX
    level = "configural" if configural_ok else "none"
    steps = [{**_rounded(fits[0]), "holds": configural_ok}]
    for prev, cur in zip(fits, fits[1:], strict=False):
        holds, delta = _step_holds(prev, cur)
        holds = holds and level == prev["level"]
        if holds:
            level = cur["level"]
        steps.append({**_rounded(cur), **{k: round(v, 6) if isinstance(v, float) else v for k, v in delta.items()},
                      "holds": holds})
    out.update(status="tested", level=level, mean_gap_interpretable=level == "scalar", steps=steps)
    return out
