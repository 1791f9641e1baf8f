"""Perception vs churn: churned vs retained accounts' customer scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import (
    STATUS_REASONS,
    _as_alpha,
    _as_k_min,
    _as_levels,
    _as_scores,
    _describe,
    _ensure_reasons,
    _jsonify,
    _Reasons,
    _status,
    cliffs_delta_magnitude,
    hedges_g_magnitude,
    tabulate,
)
from .items import two_sample_section

__all__ = ["churn_comparison"]

_RENAME = {
    "n_staff": "n_churned",
    "n_customer": "n_retained",
    "mean_staff": "mean_churned",
    "mean_customer": "mean_retained",
    "sd_staff": "sd_churned",
    "sd_customer": "sd_retained",
    "gap": "difference",
}


def churn_comparison(
    scores_churned: Sequence[float | None] | np.ndarray,
    scores_retained: Sequence[float | None] | np.ndarray,
    *,
    levels: Sequence[float] | None = None,
    k_min: int = 5,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Compare the customer scores of churned and retained accounts.

    Parameters
    ----------
    scores_churned, scores_retained : 1-D array-like
        One score per account (aggregate contacts to the account first, §10):
        a dimension score, an item answer or an NPS answer 0–10. NaN = missing.
    levels : sequence of float, optional
        The scale (e.g. ``range(11)`` for NPS); if given, scores outside
        ``[v_1, v_k]`` raise ``ValueError``.
    k_min : int, default 5
        Minimum n per group; a smaller group is ``suppressed_min_n`` and nothing
        is shown.
    alpha : float, default 0.05

    Returns
    -------
    dict
        ``n_churned``, ``n_retained``, ``mean_churned``, ``mean_retained``,
        ``sd_churned``, ``sd_retained``, ``difference`` (churned − retained),
        ``welch`` {t, df, p, se, ci_low, ci_high, ci90_low, ci90_high},
        ``cohen_d``, ``hedges_g``, ``mwu`` {U_churned, U_retained, sigma_U, p,
        cliffs_delta, rank_biserial, cles}, ``hedges_g_magnitude``,
        ``cliffs_delta_magnitude``, ``report_status``, ``undefined``.

    Notes
    -----
    Same formulas and status rules as item comparisons (§2, §5.3) with side 1
    = churned. A negative difference / Cliff's δ means churned accounts rated
    lower. Association only: churn can have causes the survey does not see.

    Examples
    --------
    >>> r = churn_comparison([2, 3, 4, 3, 2, 5], [4, 5, 4, 3, 5, 4, 5], levels=range(1, 6))
    >>> round(r["difference"], 3), r["report_status"]
    (-1.119, 'ok_low_base')
    """
    alpha = _as_alpha(alpha)
    k = _as_k_min(k_min, "k_min")
    s1 = _as_scores(scores_churned, "scores_churned")
    s2 = _as_scores(scores_retained, "scores_retained")
    if levels is not None:
        v = _as_levels(list(levels))
        for name, s in (("scores_churned", s1), ("scores_retained", s2)):
            if s.size and (s.min() < v[0] or s.max() > v[-1]):
                raise ValueError(f"{name} must lie within [{v[0]}, {v[-1]}]")
    values, (a, b) = tabulate(s1, s2)
    if values.size == 0:
        values = np.array([0.0])
        a = b = np.zeros(1, dtype=np.int64)
    n1, _, var1 = _describe(a, values)
    n2, _, var2 = _describe(b, values)
    status = _status(
        n1, n2, zero_var1=var1 == 0, zero_var2=var2 == 0, k_min_staff=k, k_min_customer=k,
        complementary_suppressed=False,
    )  # fmt: skip
    if status == "suppressed_anonymity":  # both groups are customers
        status = "suppressed_min_n"
    reasons = _Reasons()
    core = two_sample_section(
        a, b, values, status=status, alpha=alpha, reasons=reasons, k_min_staff=k, k_min_customer=k
    )
    del core["counts_staff"], core["counts_customer"]
    out: dict[str, Any] = {_RENAME.get(key, key): val for key, val in core.items()}
    mwu = out["mwu"]
    out["mwu"] = {
        ("U_churned" if key == "U_staff" else "U_retained" if key == "U_customer" else key): val
        for key, val in mwu.items()
    }
    out["hedges_g_magnitude"] = hedges_g_magnitude(out["hedges_g"])
    out["cliffs_delta_magnitude"] = cliffs_delta_magnitude(out["mwu"]["cliffs_delta"])
    out["report_status"] = status
    out["undefined"] = [
        u.replace("gap", "difference", 1) if u.startswith("gap") else u for u in reasons.items
    ]
    reason = STATUS_REASONS.get(status, "undefined")
    out["undefined"] = [
        u.replace("staff", "churned").replace("customer", "retained") for u in out["undefined"]
    ]
    _ensure_reasons(out, reason.replace("staff", "churned").replace("customer", "retained"))
    return _jsonify(out)
