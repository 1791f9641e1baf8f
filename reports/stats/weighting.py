"""Weighted customer estimates from per-level weight sums (docs/methods.md §9)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as _st

from ._core import (
    SUPPRESSED_STATUSES,
    _as_alpha,
    _as_counts,
    _as_k_min,
    _as_levels,
    _describe,
    _ensure_reasons,
    _jsonify,
    _Reasons,
    _satterthwaite,
    _status,
    _t_sf2,
    _topbox_mask,
)

__all__ = ["weighted_summary_from_counts", "weighted_item_comparison"]


def _as_weight_sums(w, k: int, name: str, counts: np.ndarray) -> np.ndarray:
    try:
        arr = np.asarray(w, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of non-negative numbers") from exc
    if arr.ndim != 1 or arr.size != k:
        raise ValueError(f"{name} must have one value per level ({k}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if np.any((counts > 0) != (arr > 0)):
        raise ValueError(f"{name} must be > 0 exactly at the levels with answers (weights are > 0)")
    return arr


def _weighted(c, w, w2, v, mask):
    n = int(c.sum())
    sw, sw2 = float(w.sum()), float(w2.sum())
    mw = float(w @ v) / sw
    n_eff = sw**2 / sw2
    res = {"n": n, "sum_w": sw, "mean_weighted": mw, "kish_n_eff": n_eff, "design_effect": n / n_eff,
           "se_linearization": None, "topbox_weighted": None, "topbox_weighted_se": None}  # fmt: skip
    if mask is not None:
        res["topbox_weighted"] = float(w[mask].sum()) / sw
    if n >= 2:
        res["se_linearization"] = math.sqrt(n / (n - 1) * float(w2 @ (v - mw) ** 2)) / sw
        if mask is not None:
            ind = mask.astype(float)
            res["topbox_weighted_se"] = (
                math.sqrt(n / (n - 1) * float(w2 @ (ind - res["topbox_weighted"]) ** 2)) / sw
            )
    return res


def weighted_summary_from_counts(
    counts: Sequence[int],
    weight_sums: Sequence[float],
    weight_sq_sums: Sequence[float],
    levels: Sequence[float],
    *,
    topbox_levels: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Weighted mean, Kish n_eff, design effect and linearisation SE of one side.

    Parameters
    ----------
    counts : sequence of int
        Respondents per level (unweighted n).
    weight_sums, weight_sq_sums : sequence of float
        ``SUM(w)`` and ``SUM(w²)`` per level (weights > 0; any scale).
    levels : sequence of float
    topbox_levels : sequence of float, optional
        Also the weighted top-box share and its SE.

    Returns
    -------
    dict
        ``n``, ``sum_w``, ``mean_weighted``, ``kish_n_eff``, ``design_effect``,
        ``se_linearization`` (None if n < 2), ``topbox_weighted``,
        ``topbox_weighted_se``.

    Notes
    -----
    ``m_w = Σ W_l v_l / Σ W``, ``n_eff = (Σ W)²/Σ W2``, ``deff = n/n_eff``,
    ``SE = √(n/(n − 1) · Σ_l W2_l (v_l − m_w)²) / Σ W`` — equals
    ``statsmodels WLS(x, 1, weights=w).fit(cov_type="HC1").bse`` and the
    with-replacement linearisation estimator (R ``survey::svymean``).

    References
    ----------
    Kish L (1965). Survey Sampling. Lumley T (2010). Complex Surveys.

    Examples
    --------
    >>> r = weighted_summary_from_counts([2, 2], [2.0, 6.0], [2.0, 18.0], [1, 2])
    >>> r["mean_weighted"], r["kish_n_eff"]
    (1.75, 3.2)
    """
    v = _as_levels(levels)
    c = _as_counts(counts, v.size, "counts")
    if c.sum() == 0:
        raise ValueError("weighted summary needs at least one answer")
    w = _as_weight_sums(weight_sums, v.size, "weight_sums", c)
    w2 = _as_weight_sums(weight_sq_sums, v.size, "weight_sq_sums", c)
    mask = None if topbox_levels is None else _topbox_mask(v, topbox_levels)
    return _jsonify(_weighted(c, w, w2, v, mask))


def weighted_item_comparison(
    counts_staff: Sequence[int],
    counts_customer: Sequence[int],
    weight_sums_customer: Sequence[float],
    weight_sq_sums_customer: Sequence[float],
    levels: Sequence[float],
    *,
    topbox_levels: Sequence[float] | None = None,
    k_min_staff: int = 5,
    k_min_customer: int = 5,
    alpha: float = 0.05,
    complementary_suppressed: bool = False,
) -> dict[str, Any]:
    """Staff (unweighted) vs weighted customers for one item (§9).

    Show it next to the unweighted :func:`item_comparison`, never instead of it.

    Parameters
    ----------
    counts_staff, counts_customer : sequence of int
        Unweighted per-level counts (thresholds use these).
    weight_sums_customer, weight_sq_sums_customer : sequence of float
        Customer ``SUM(w)`` and ``SUM(w²)`` per level.
    levels : sequence of float
    topbox_levels : sequence of float, optional
    k_min_staff, k_min_customer : int, default 5
    alpha : float, default 0.05
    complementary_suppressed : bool, default False

    Returns
    -------
    dict
        ``n_staff``, ``n_customer``, ``mean_staff``, ``customer_mean_weighted``,
        ``kish_n_eff``, ``design_effect``, ``se_linearization``,
        ``gap_weighted``, ``gap_weighted_se``, ``gap_weighted_df``,
        ``gap_weighted_t``, ``gap_weighted_p``, ``gap_weighted_ci_low``,
        ``gap_weighted_ci_high``, ``topbox_customer_weighted``,
        ``topbox_customer_weighted_se``, ``cliffs_delta_weighted``
        (descriptive), ``report_status``, ``undefined``.

    Notes
    -----
    ``gap_w = m_S − m_w``, ``SE² = s_S²/n_S + SE(m_w)²``, Satterthwaite df with
    components ``(s_S²/n_S, n_S − 1)`` and ``(SE(m_w)², n − 1)``. Weighted
    Cliff's δ = ``Σ_l a_l (W_<l − W_>l) / (n_S Σ W)``. Rank tests stay unweighted.

    Examples
    --------
    >>> r = weighted_item_comparison([1, 2, 4, 9, 4], [6, 10, 14, 12, 8],
    ...                              [6, 10, 14, 12, 8], [6, 10, 14, 12, 8], [1, 2, 3, 4, 5])
    >>> round(r["gap_weighted"], 2), r["design_effect"]
    (0.53, 1.0)
    """
    v = _as_levels(levels)
    alpha = _as_alpha(alpha)
    a = _as_counts(counts_staff, v.size, "counts_staff")
    b = _as_counts(counts_customer, v.size, "counts_customer")
    w = _as_weight_sums(weight_sums_customer, v.size, "weight_sums_customer", b)
    w2 = _as_weight_sums(weight_sq_sums_customer, v.size, "weight_sq_sums_customer", b)
    mask = None if topbox_levels is None else _topbox_mask(v, topbox_levels)
    k1 = _as_k_min(k_min_staff, "k_min_staff")
    k2 = _as_k_min(k_min_customer, "k_min_customer")
    n1, m1, var1 = _describe(a, v)
    n2, _, var2 = _describe(b, v)
    status = _status(
        n1, n2, zero_var1=var1 == 0, zero_var2=var2 == 0, k_min_staff=k1, k_min_customer=k2,
        complementary_suppressed=bool(complementary_suppressed),
    )  # fmt: skip
    keys = ("n_staff", "n_customer", "mean_staff", "customer_mean_weighted", "kish_n_eff",
            "design_effect", "se_linearization", "gap_weighted", "gap_weighted_se",
            "gap_weighted_df", "gap_weighted_t", "gap_weighted_p", "gap_weighted_ci_low",
            "gap_weighted_ci_high", "topbox_customer_weighted", "topbox_customer_weighted_se",
            "cliffs_delta_weighted")  # fmt: skip
    out: dict[str, Any] = dict.fromkeys(keys)
    out["report_status"] = status
    out["undefined"] = []
    reasons = _Reasons()
    if status in SUPPRESSED_STATUSES or status == "no_data":
        if status == "no_data":
            out["n_staff"] = n1 if (n1 == 0 or n1 >= k1) else None
            out["n_customer"] = n2 if (n2 == 0 or n2 >= k2) else None
        _ensure_reasons(out, status)
        return _jsonify(out)
    cw = _weighted(b, w, w2, v, mask)
    out.update(
        n_staff=n1,
        n_customer=n2,
        mean_staff=m1,
        customer_mean_weighted=cw["mean_weighted"],
        kish_n_eff=cw["kish_n_eff"],
        design_effect=cw["design_effect"],
        gap_weighted=m1 - cw["mean_weighted"],
        topbox_customer_weighted=cw["topbox_weighted"],
    )
    if mask is None:
        reasons.add("topbox_customer_weighted", "no top-box levels given")
        reasons.add("topbox_customer_weighted_se", "no top-box levels given")
    sw = cw["sum_w"]
    below = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    above = sw - np.cumsum(w)
    out["cliffs_delta_weighted"] = float(a @ (below - above)) / (n1 * sw)
    if status != "insufficient_data":
        out["se_linearization"] = cw["se_linearization"]
        out["topbox_customer_weighted_se"] = cw["topbox_weighted_se"]
        q1 = var1 / n1
        q2 = cw["se_linearization"] ** 2
        if q1 + q2 > 0:
            se = math.sqrt(q1 + q2)
            df = _satterthwaite([c for c in ((q1, n1 - 1), (q2, n2 - 1)) if c[0] > 0])
            t = out["gap_weighted"] / se
            tcrit = float(_st.t.ppf(1 - alpha / 2, df))
            out.update(
                gap_weighted_se=se,
                gap_weighted_df=df,
                gap_weighted_t=t,
                gap_weighted_p=_t_sf2(t, df),
                gap_weighted_ci_low=out["gap_weighted"] - tcrit * se,
                gap_weighted_ci_high=out["gap_weighted"] + tcrit * se,
            )
        else:
            for k in ("se", "df", "t", "p", "ci_low", "ci_high"):
                reasons.add(f"gap_weighted_{k}", "both sides have zero variance")
    out["undefined"] = list(reasons.items)
    _ensure_reasons(out, status)
    return _jsonify(out)
