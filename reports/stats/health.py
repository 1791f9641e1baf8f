"""Perception vs health: how customers' account-level scores move with the accounts' health scores.

The health score (0–100) is the organisation's own reading of an account, kept on the
account (``CustomerAccount.health_score``). Churn is a yes/no that arrives late; health
is the early signal customer-success teams steer by. Where perception and health move
together, the survey confirms the health model; where they do not (healthy accounts
that rate the company low), the health model misses something customers feel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as _st

from ._core import _as_alpha, _as_k_min, _ensure_reasons, _jsonify, _Reasons

__all__ = ["HEALTH_SCALE", "LOW_HEALTH_BELOW", "health_association"]

#: The health score's range (``CustomerAccount.health_score``; a database constraint keeps it there).
HEALTH_SCALE = (0, 100)
#: Accounts scored below this are "at risk" in the split shown next to the correlation (the
#: common red/amber cut of a 0–100 health score; a convention, stated in docs/methods.md §10).
LOW_HEALTH_BELOW = 50

_REASONS = {
    "no_data": "no_data (no account has both a score and a health score)",
    "suppressed_min_n": "suppressed_min_n (fewer than k_min accounts)",
    "insufficient_data": "insufficient_data (fewer than 4 accounts: no interval)",
    "no_variance": "no_variance (every account has the same score or the same health)",
}


def _paired(values: Sequence[float | None] | np.ndarray, name: str) -> np.ndarray:
    """A 1-D float array with NaN kept in place (the pairs are matched by position)."""
    try:
        arr = np.asarray([math.nan if v is None else v for v in values], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D sequence of numbers (None/NaN = missing)") from exc
    if arr.ndim != 1 or np.any(np.isinf(arr)):
        raise ValueError(f"{name} must be a 1-D sequence of finite numbers (None/NaN = missing)")
    return arr


def _status(n: int, k: int, constant: bool) -> str:
    if n == 0:
        return "no_data"
    if n < k:
        return "suppressed_min_n"
    if constant:
        return "no_variance"
    if n < 4:
        return "insufficient_data"
    if n < 30:
        return "ok_low_base"
    return "ok"


def health_association(
    scores: Sequence[float | None] | np.ndarray,
    health: Sequence[float | None] | np.ndarray,
    *,
    k_min: int = 5,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Spearman's rank correlation between accounts' perception scores and their health scores.

    Parameters
    ----------
    scores, health : 1-D array-like of equal length
        One pair per account: its perception score (a dimension score or an outcome
        answer, aggregated to the account, docs/methods.md §10) and its health score
        0–100. A pair with a missing value on either side is left out.
    k_min : int, default 5
        Minimum number of accounts (the customer k); fewer is ``suppressed_min_n``
        and nothing but the status is shown.
    alpha : float, default 0.05

    Returns
    -------
    dict
        ``n_accounts``, ``spearman_rho``, ``ci_low``, ``ci_high`` (Fisher z with the
        Bonett–Wright standard error), ``p`` (two-sided, t with n − 2 df, as
        :func:`scipy.stats.spearmanr`), ``n_low_health`` / ``n_healthy`` and
        ``mean_low_health`` / ``mean_healthy`` (the perception of accounts below and at or
        above :data:`LOW_HEALTH_BELOW`; a group smaller than k_min is null), ``report_status``
        and ``undefined`` (a reason for every null).

    Notes
    -----
    Spearman, not Pearson: the health score is a composite whose steps are not equal
    intervals, and both variables are bounded and often skewed. The interval is
    ``tanh(atanh(ρ) ± z · √((1 + ρ²/2)/(n − 3)))`` (Bonett & Wright 2000), which keeps
    its coverage for rank correlations where the Pearson SE ``1/√(n − 3)`` is too narrow.
    An association only: both may follow a third cause (size, tenure, product).

    Examples
    --------
    >>> r = health_association([2.0, 3.0, 3.5, 4.0, 4.5, 5.0], [20, 35, 30, 60, 80, 90], k_min=5)
    >>> round(r["spearman_rho"], 3), r["report_status"]
    (0.943, 'ok_low_base')
    """
    alpha = _as_alpha(alpha)
    k = _as_k_min(k_min, "k_min")
    x, y = _paired(scores, "scores"), _paired(health, "health")
    if x.shape != y.shape:
        raise ValueError("scores and health must have the same length (one pair per account)")
    given = y[np.isfinite(y)]
    if given.size and (given.min() < HEALTH_SCALE[0] or given.max() > HEALTH_SCALE[1]):
        raise ValueError(f"health must lie within [{HEALTH_SCALE[0]}, {HEALTH_SCALE[1]}]")
    both = np.isfinite(x) & np.isfinite(y)
    x, y = x[both], y[both]
    n = int(x.size)
    constant = n > 0 and (np.ptp(x) == 0 or np.ptp(y) == 0)
    status = _status(n, k, bool(constant))
    reasons = _Reasons()
    out: dict[str, Any] = {"n_accounts": n if status != "suppressed_min_n" else None,
                           "spearman_rho": None, "ci_low": None, "ci_high": None, "p": None,
                           "n_low_health": None, "n_healthy": None, "mean_low_health": None, "mean_healthy": None}
    if status in ("ok", "ok_low_base", "insufficient_data"):
        rho, p = _st.spearmanr(x, y)
        out["spearman_rho"] = reasons.num("spearman_rho", rho)
        out["p"] = reasons.num("p", p)
        if status != "insufficient_data":
            if abs(rho) < 1:
                half = _st.norm.ppf(1 - alpha / 2) * math.sqrt((1 + rho * rho / 2) / (n - 3))
                z = math.atanh(rho)
                out["ci_low"], out["ci_high"] = math.tanh(z - half), math.tanh(z + half)
            else:
                reasons.add("ci_low", "a perfect rank correlation has no Fisher-z interval")
                reasons.add("ci_high", "a perfect rank correlation has no Fisher-z interval")
    if status in ("ok", "ok_low_base", "insufficient_data", "no_variance"):
        low = y < LOW_HEALTH_BELOW
        for name, mask in (("low_health", low), ("healthy", ~low)):
            size = int(mask.sum())
            if size >= k:  # each group needs the customer k, as the churn groups do
                out[f"n_{name}"] = size
                out[f"mean_{name}"] = float(x[mask].mean())
            else:
                reasons.add(f"n_{name}", "fewer than k_min accounts in this group")
                reasons.add(f"mean_{name}", "fewer than k_min accounts in this group")
    out["report_status"] = status
    out["undefined"] = reasons.items
    _ensure_reasons(out, _REASONS.get(status, "undefined"))
    return _jsonify(out)
