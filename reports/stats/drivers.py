"""Key drivers: how much of an account-level outcome each customer dimension accounts for (docs/methods.md §8.1).

For one outcome (an NPS or renewal answer, the health score, or churned yes/no), one row per account:
the account's customer score on each dimension (aggregated over its contacts, §10) as predictors. The
R² of the least-squares fit with all of them is shared out among the predictors by the LMG / Shapley
decomposition (Lindeman, Merenda & Gold 1980; Grömping 2006): each predictor's weight is its increase
of R² when it joins a subset of the others, averaged over all orders in which the predictors can enter.
The weights are never negative and add up to R², so correlated dimensions share credit instead of one
of them taking it all (as a coefficient would).

For churn the outcome is 0/1 and the fit a linear probability model; its R² is the share of the churn
indicator's variance the scores account for, and decomposes the same way. Uncertainty: a seeded
percentile bootstrap over accounts (every weight and R² recomputed on each resample).

Every subset's R² comes from the covariance matrix, ``R²(S) = c_Sy' C_SS⁻¹ c_Sy / var(y)`` (the OLS R²
with an intercept), by sweeping it in Gray-code order (:func:`subset_r2`), for all resamples at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import _as_alpha, _as_k_min, _ensure_reasons, _jsonify, _Reasons

__all__ = ["BOOTSTRAP_CHUNK_CELLS", "BOOTSTRAP_REPS", "BOOTSTRAP_SEED", "MIN_EXTRA_ACCOUNTS", "MAX_PREDICTORS",
           "key_drivers", "lmg_weights", "subset_r2"]

#: Resamples of the bootstrap over accounts, and its fixed seed (the same data give the same interval).
BOOTSTRAP_REPS = 1000
BOOTSTRAP_SEED = 20261207
#: Resamples are processed in chunks of about this many (resample × account) cells, to bound memory.
BOOTSTRAP_CHUNK_CELLS = 2_000_000
#: An outcome needs at least this many accounts more than it has predictors (10 residual degrees of freedom).
MIN_EXTRA_ACCOUNTS = 10
#: LMG visits every subset of the predictors (2^p); beyond this many it is refused.
MAX_PREDICTORS = 12

_REASONS = {
    "no_data": "no_data (no account has the outcome and every predictor)",
    "suppressed_min_n": "suppressed_min_n (fewer than k_min accounts, or for churn fewer than k_min in a group)",
    "insufficient_data": "insufficient_data (too few accounts for this many predictors)",
    "no_variance": "no_variance (every account has the same outcome)",
}


def _bootstrap_r2(data: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """Every subset's R² (:func:`subset_r2`) on ``reps`` resamples of the rows, shape (2^p, reps).

    Resamples are drawn as ``default_rng(seed).integers(0, n, size=(reps, n))`` would draw them, in chunks: each
    resample's covariance comes from its frequency weights (``W @ X`` and ``W @ XX'``), so memory stays at
    about ``chunk × n`` whatever the number of accounts.
    """
    n, q = data.shape
    x = data - data.mean(axis=0)  # centred once: the moments below then lose no precision
    products = (x[:, :, None] * x[:, None, :]).reshape(n, q * q)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(reps, BOOTSTRAP_CHUNK_CELLS // max(n, 1)))
    parts = []
    for start in range(0, reps, chunk):
        size = min(chunk, reps - start)
        idx = rng.integers(0, n, size=(size, n))
        weights = np.bincount((np.arange(size)[:, None] * n + idx).ravel(), minlength=size * n)
        weights = weights.reshape(size, n).astype(float) / n
        mean = weights @ x
        cov = (weights @ products).reshape(size, q, q) - mean[:, :, None] * mean[:, None, :]
        parts.append(subset_r2(cov))
    return np.concatenate(parts, axis=1)


def _sweep(a: np.ndarray, k: int, act: np.ndarray, entering: bool) -> np.ndarray:
    """Sweep the stacked symmetric matrices ``a`` on pivot ``k`` (in, or back out), where ``act`` is true."""
    d = a[:, k, k]
    col = a[:, :, k] / d[:, None]  # the matrix stays symmetric: row k is column k
    new = a - col[:, :, None] * a[:, k, None, :]
    sign = 1.0 if entering else -1.0
    new[:, :, k] = sign * col
    new[:, k, :] = sign * col
    new[:, k, k] = -1.0 / d
    return new if act.all() else np.where(act[:, None, None], new, a)


def subset_r2(cov: np.ndarray) -> np.ndarray:
    """R² of the OLS fit (with intercept) of the last variable on every subset of the others.

    Parameters
    ----------
    cov : array, shape (q, q) or (B, q, q)
        Covariance matrix (any normalisation) of p = q − 1 predictors followed by the outcome.

    Returns
    -------
    array, shape (2^p,) or (2^p, B)
        Entry ``m`` is the R² on the predictors whose bits are set in ``m`` (entry 0 is 0). NaN where
        the outcome has no variance.

    Notes
    -----
    The subsets are visited in Gray-code order, each one predictor away from the last, and the matrix is
    swept on that predictor (in) or swept back (out) (Goodnight 1979): after sweeping the set S its outcome
    entry is the residual variance ``var(y) − c_yS C_SS⁻¹ c_Sy``, so ``R²(S) = 1 − residual / var(y)``. One
    O(q²) step per subset, for all resamples at once. A predictor that is (nearly) constant or collinear
    with those already in — its remaining variance below 1e-10 of its own — is not swept: it adds nothing,
    as with a pseudo-inverse.
    """
    single = cov.ndim == 2
    a = np.array(cov[None] if single else cov, dtype=float)
    p = a.shape[-1] - 1
    var_y = a[:, p, p].copy()
    own = np.diagonal(a, axis1=1, axis2=2)[:, :p].copy()
    swept = np.zeros(own.shape, dtype=bool)
    out = np.zeros((1 << p, a.shape[0]))
    code = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for step in range(1, 1 << p):
            k = (step & -step).bit_length() - 1  # the bit that changes between consecutive Gray codes
            code ^= 1 << k
            if code >> k & 1:
                act = a[:, k, k] > 1e-10 * own[:, k]
                a = _sweep(a, k, act, True)
                swept[:, k] = act
            else:
                a = _sweep(a, k, swept[:, k], False)
                swept[:, k] = False
                # A member left out as collinear with the one that left may now add something: sweep it in.
                for j in range(p):
                    waiting = ~swept[:, j] & (a[:, j, j] > 1e-10 * own[:, j]) if code >> j & 1 else None
                    if waiting is not None and waiting.any():
                        a = _sweep(a, j, waiting, True)
                        swept[:, j] |= waiting
            out[code] = 1.0 - a[:, p, p] / var_y
        out = np.clip(out, 0.0, 1.0)  # rounding can step a hair outside [0, 1]
        out[:, ~(var_y > 0)] = np.nan
    return out[:, 0] if single else out


def lmg_weights(r2: np.ndarray, p: int) -> np.ndarray:
    """LMG (Shapley) share of R² of each predictor from the R² of every subset (:func:`subset_r2`).

    ``w_j = Σ_{S ∌ j} |S|! (p − |S| − 1)! / p! · (R²(S ∪ {j}) − R²(S))``; the weights sum to R²(all).
    Returns shape (p,) or (p, B).
    """
    weights = np.zeros((p, *r2.shape[1:]))
    size = [bin(m).count("1") for m in range(1 << p)]
    factor = [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
    for j in range(p):
        bit = 1 << j
        for mask in range(1 << p):
            if not mask & bit:
                weights[j] += factor[size[mask]] * (r2[mask | bit] - r2[mask])
    return weights


def _status(n: int, p: int, k: int, constant: bool, small_group: bool) -> str:
    if n == 0 or p == 0:
        return "no_data"
    if n < k or small_group:
        return "suppressed_min_n"
    if n < p + MIN_EXTRA_ACCOUNTS:
        return "insufficient_data"
    if constant:
        return "no_variance"
    return "ok_low_base" if n < 30 else "ok"


def key_drivers(
    predictors: Sequence[Sequence[float | None]] | np.ndarray,
    outcome: Sequence[float | None] | np.ndarray,
    keys: Sequence[str],
    *,
    binary: bool = False,
    k_min: int = 5,
    alpha: float = 0.05,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """LMG relative importance of account-level predictors for one account-level outcome, with bootstrap CIs.

    Parameters
    ----------
    predictors : 2-D array-like, one row per account, one column per predictor (None/NaN = missing)
    outcome : 1-D array-like, one value per account (for ``binary`` 0/1; None/NaN = missing)
    keys : the predictors' names, one per column
    binary : bool
        A 0/1 outcome (churn): both groups need ``k_min`` accounts.
    k_min : int
        The customer k: fewer accounts (or, for a binary outcome, fewer in either group) is
        ``suppressed_min_n`` and nothing but the status is shown.
    alpha : float
        1 − the level of the percentile intervals.
    reps, seed : the bootstrap's resamples and seed.

    Returns
    -------
    dict
        ``n_accounts`` (complete accounts), ``r2``, ``r2_adjusted`` (Wherry: ``1 − (1 − R²)(n − 1)/(n − p − 1)``,
        the in-sample R² is optimistic with few accounts per predictor), ``r2_ci_low``, ``r2_ci_high``, ``n_bootstrap``
        (resamples with a defined R²), ``drivers`` (one per key, in the given order: ``key``, ``weight``
        (its LMG share of R²), ``share`` (weight / R²), ``ci_low``, ``ci_high`` (of the weight),
        ``correlation`` (Pearson r with the outcome: the direction), ``rank`` (1 = largest weight)),
        ``report_status`` and ``undefined``.

    Notes
    -----
    Accounts missing the outcome or any predictor are left out (listwise). Statuses: ``no_data``,
    ``suppressed_min_n``, ``insufficient_data`` (fewer than p + :data:`MIN_EXTRA_ACCOUNTS` accounts),
    ``no_variance`` (constant outcome), ``ok_low_base`` (under 30 accounts), ``ok``.

    References
    ----------
    Lindeman RH, Merenda PF, Gold RZ (1980); Grömping U (2006) J Stat Softw 17(1); Efron & Tibshirani (1993).

    Examples
    --------
    >>> x = [[1, 2], [2, 1], [3, 4], [4, 3], [5, 5], [2, 2], [3, 3], [4, 5], [1, 1], [5, 4], [3, 2], [2, 4]]
    >>> y = [1, 2, 3, 3, 5, 2, 3, 4, 1, 5, 3, 2]
    >>> r = key_drivers(x, y, ["a", "b"], k_min=5, reps=200)
    >>> round(r["r2"], 3), [d["rank"] for d in r["drivers"]], r["report_status"]
    (0.96, [1, 2], 'ok_low_base')
    """
    alpha = _as_alpha(alpha)
    k = _as_k_min(k_min, "k_min")
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be an integer >= 1, got {reps!r}")
    keys = list(keys)
    try:
        x = np.asarray([[math.nan if v is None else v for v in row] for row in predictors], dtype=float)
        y = np.asarray([math.nan if v is None else v for v in outcome], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("predictors and outcome must hold numbers (None/NaN = missing)") from exc
    if x.size == 0:
        x = x.reshape(len(y), len(keys))
    if x.ndim != 2 or y.ndim != 1 or x.shape != (len(y), len(keys)):
        raise ValueError(f"predictors must be (accounts × {len(keys)} keys) and outcome one value per account")
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("predictors and outcome must be finite (None/NaN = missing)")
    p = len(keys)
    if p > MAX_PREDICTORS:
        raise ValueError(f"at most {MAX_PREDICTORS} predictors, got {p}")
    if binary and not np.isin(y[np.isfinite(y)], (0.0, 1.0)).all():
        raise ValueError("a binary outcome must be 0 or 1")
    complete = np.isfinite(y) & np.isfinite(x).all(axis=1)
    x, y = x[complete], y[complete]
    n = int(y.size)
    small_group = binary and n > 0 and min(int(y.sum()), n - int(y.sum())) < k
    status = _status(n, p, k, bool(n and np.ptp(y) == 0), small_group)
    reasons = _Reasons()
    shown = status in ("ok", "ok_low_base", "insufficient_data", "no_variance")
    out: dict[str, Any] = {"n_accounts": n if shown else None, "r2": None, "r2_adjusted": None, "r2_ci_low": None,
                           "r2_ci_high": None, "n_bootstrap": None}
    drivers = [{"key": key, "weight": None, "share": None, "ci_low": None, "ci_high": None,
                "correlation": None, "rank": None} for key in keys]
    if status in ("ok", "ok_low_base"):
        data = np.column_stack([x, y])
        r2_all = subset_r2(np.cov(data, rowvar=False))
        weights = lmg_weights(r2_all, p)
        r2 = float(r2_all[-1])
        r2_boot = _bootstrap_r2(data, reps, seed)
        defined = np.isfinite(r2_boot[-1])
        w_boot = lmg_weights(r2_boot[:, defined], p)
        q = (alpha / 2, 1 - alpha / 2)
        out.update(r2=r2, r2_adjusted=1 - (1 - r2) * (n - 1) / (n - p - 1), n_bootstrap=int(defined.sum()))
        if defined.sum() >= 2:
            out["r2_ci_low"], out["r2_ci_high"] = (float(v) for v in np.quantile(r2_boot[-1, defined], q))
        else:
            reasons.add("r2_ci_low", "fewer than 2 resamples with a defined R²")
            reasons.add("r2_ci_high", "fewer than 2 resamples with a defined R²")
        order = np.argsort(-weights, kind="stable")
        for j, d in enumerate(drivers):
            d["weight"] = float(weights[j])
            d["share"] = float(weights[j] / r2) if r2 > 0 else None
            if d["share"] is None:
                reasons.add(f"drivers.{j}.share", "R² is 0: there is nothing to share")
            if defined.sum() >= 2:
                d["ci_low"], d["ci_high"] = (float(v) for v in np.quantile(w_boot[j], q))
            else:
                reasons.add(f"drivers.{j}.ci_low", "fewer than 2 resamples with a defined R²")
                reasons.add(f"drivers.{j}.ci_high", "fewer than 2 resamples with a defined R²")
            sd_x = x[:, j].std()
            d["correlation"] = (float(np.corrcoef(x[:, j], y)[0, 1]) if sd_x > 0
                                else reasons.num(f"drivers.{j}.correlation", None, "the predictor is constant"))
            d["rank"] = int(np.flatnonzero(order == j)[0]) + 1
    out["drivers"] = drivers
    out["report_status"] = status
    out["undefined"] = reasons.items
    reason = _REASONS.get(status, "undefined")
    for j, d in enumerate(drivers):  # a null inside the list gets its reason by index, as the rest
        for field, value in d.items():
            if value is None and not any(u.startswith(f"drivers.{j}.{field}:") for u in out["undefined"]):
                out["undefined"].append(f"drivers.{j}.{field}: {reason}")
    _ensure_reasons(out, reason)
    return _jsonify(out)
