"""Dimensions: respondent scores, each side's reliability, dimension gap (docs/methods.md §3).

Cronbach's alpha itself and its Feldt interval are :mod:`reports.stats.reliability`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._core import (
    STATUS_REASONS,
    SUPPRESSED_STATUSES,
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
from .items import materiality_delta, two_sample_section
from .reliability import alpha_interpretation, cronbach_alpha

__all__ = [
    "dimension_scores",
    "dimension_reliability",
    "dimension_comparison",
]

PENDING = "family adjustment not applied yet (call adjust_dimension_family)"
_RELIABILITY_FIELDS = (
    "n_complete_cases",
    "cronbach_alpha_listwise",
    "cronbach_alpha_pairwise",
    "cronbach_alpha_display",
    "cronbach_alpha_listwise_ci_low",
    "cronbach_alpha_listwise_ci_high",
)


def _as_matrix(answers, levels: np.ndarray, name: str = "answers") -> np.ndarray:
    try:
        x = np.asarray(answers, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 2-D table of numbers (None/NaN = missing)") from exc
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (respondents × items), got shape {x.shape}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one item column")
    seen = x[~np.isnan(x)]
    bad = seen[~np.isin(seen, levels)]
    if bad.size:
        raise ValueError(f"{name} contains values that are not scale levels: {sorted(set(bad.tolist()))[:5]}")
    return x


def _recode(x: np.ndarray, v: np.ndarray, reverse_keyed) -> np.ndarray:
    m = x.shape[1]
    if reverse_keyed is None:
        return x
    rk = np.asarray(reverse_keyed, dtype=bool)
    if rk.shape != (m,):
        raise ValueError(f"reverse_keyed must have one flag per item ({m}), got {len(rk)}")
    x = x.copy()
    x[:, rk] = (v[0] + v[-1]) - x[:, rk]
    return x


def dimension_scores(
    answers: Sequence[Sequence[float | None]] | np.ndarray | pd.DataFrame,
    *,
    levels: Sequence[float],
    reverse_keyed: Sequence[bool] | None = None,
    min_answered: int | None = None,
) -> np.ndarray:
    """Respondent dimension scores with the half rule and reverse keying.

    Parameters
    ----------
    answers : 2-D array-like (respondents × items)
        Item answers on the scale; None / NaN = missing.
    levels : sequence of float
        Scale points; every answer must be one of them.
    reverse_keyed : sequence of bool, optional
        One flag per item; flagged items are recoded ``x' = (v_1 + v_k) − x``
        first.
    min_answered : int, optional
        Minimum answered items for a score; default ``ceil(m / 2)``.

    Returns
    -------
    numpy.ndarray
        One float per respondent: mean of the answered items, or NaN when fewer
        than ``min_answered`` items were answered.

    Notes
    -----
    ``score_r = mean_{i ∈ A_r} x_ri`` if ``|A_r| ≥ ceil(m/2)``, else missing.

    Examples
    --------
    >>> dimension_scores([[5, 4, None], [1, None, None]], levels=[1, 2, 3, 4, 5]).tolist()
    [4.5, nan]
    """
    v = _as_levels(levels)
    x = _recode(_as_matrix(answers, v), v, reverse_keyed)
    m = x.shape[1]
    k = math.ceil(m / 2) if min_answered is None else min_answered
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ValueError(f"min_answered must be an integer in 1..{m}, got {min_answered!r}")
    answered = (~np.isnan(x)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.nansum(x, axis=1) / answered
    scores[answered < k] = np.nan
    return scores


def dimension_reliability(
    answers: Sequence[Sequence[float | None]] | np.ndarray | pd.DataFrame,
    *,
    levels: Sequence[float],
    reverse_keyed: Sequence[bool] | None = None,
    min_answered: int | None = None,
) -> dict[str, Any]:
    """Reliability summary of one side of one dimension, with the display rules.

    Compute it on the whole side in a wave, not per small segment.

    Parameters
    ----------
    answers : 2-D array-like (respondents × items)
        Item answers of the whole side; None / NaN = missing.
    levels, reverse_keyed, min_answered
        As for :func:`dimension_scores`.

    Returns
    -------
    dict
        ``n_scored``, ``n_complete_cases``, ``cronbach_alpha_listwise`` (+
        ``_ci_low`` / ``_ci_high``), ``cronbach_alpha_pairwise``,
        ``cronbach_alpha_display`` ("insufficient_data" if n_complete < 10,
        "low_base" if < 30, else "show"), ``show_pairwise`` (n_complete below
        half of n_scored), ``interpretation`` and ``undefined``.

    Notes
    -----
    Listwise alpha is null below 10 complete cases. The pairwise value is
    computed whenever defined and flagged for display by ``show_pairwise``.

    Examples
    --------
    >>> r = dimension_reliability([[5, 4], [4, 4], [2, 1]] * 4, levels=[1, 2, 3, 4, 5])
    >>> r["n_complete_cases"], r["cronbach_alpha_display"]
    (12, 'low_base')
    """
    v = _as_levels(levels)
    x = _recode(_as_matrix(answers, v), v, reverse_keyed)
    scores = dimension_scores(x, levels=v, min_answered=min_answered)
    reasons = _Reasons()
    n_scored = int((~np.isnan(scores)).sum())
    lw = cronbach_alpha(x, nan_policy="listwise")
    pw = cronbach_alpha(x, nan_policy="pairwise")
    n_complete = int(lw["n"])
    display = "insufficient_data" if n_complete < 10 else "low_base" if n_complete < 30 else "show"
    out: dict[str, Any] = {
        "n_scored": n_scored,
        "n_complete_cases": n_complete,
        "n_items": x.shape[1],
        "cronbach_alpha_listwise": None,
        "cronbach_alpha_listwise_ci_low": None,
        "cronbach_alpha_listwise_ci_high": None,
        "cronbach_alpha_pairwise": pw["alpha"],
        "cronbach_alpha_display": display,
        "show_pairwise": bool(n_complete < n_scored / 2),
        "interpretation": None,
        "undefined": [],
    }
    if display == "insufficient_data" or lw["alpha"] is None:
        why = "fewer than 10 complete cases" if display == "insufficient_data" else lw["reason"]
        for field in ("cronbach_alpha_listwise", "cronbach_alpha_listwise_ci_low", "cronbach_alpha_listwise_ci_high"):
            reasons.add(field, why)
    else:
        out["cronbach_alpha_listwise"] = lw["alpha"]
        out["cronbach_alpha_listwise_ci_low"] = lw["ci_low"]
        out["cronbach_alpha_listwise_ci_high"] = lw["ci_high"]
        out["interpretation"] = alpha_interpretation(lw["alpha"])
    if pw["alpha"] is None:
        reasons.add("cronbach_alpha_pairwise", pw["reason"])
    out["undefined"] = reasons.items
    _ensure_reasons(out, "listwise alpha not shown")
    return _jsonify(out)


def dimension_comparison(
    scores_staff: Sequence[float | None] | np.ndarray,
    scores_customer: Sequence[float | None] | np.ndarray,
    *,
    levels: Sequence[float],
    reliability_staff: dict[str, Any] | None = None,
    reliability_customer: dict[str, Any] | None = None,
    k_min_staff: int = 5,
    k_min_customer: int = 5,
    alpha: float = 0.05,
    complementary_suppressed: bool = False,
) -> dict[str, Any]:
    """Dimension gap of one comparison from respondent scores (§3.2, §11).

    Parameters
    ----------
    scores_staff, scores_customer : 1-D array-like
        Respondent dimension scores (:func:`dimension_scores`); NaN = unscored.
    levels : sequence of float
        The item scale (for validation and δ).
    reliability_staff, reliability_customer : dict, optional
        :func:`dimension_reliability` of the whole side in the wave.
    k_min_staff, k_min_customer : int, default 5
        Applied to the number of scored respondents.
    alpha : float, default 0.05
    complementary_suppressed : bool, default False

    Returns
    -------
    dict
        Like :func:`item_comparison` without counts and top-box, plus per side
        ``n_scored_*``, ``n_complete_cases_*``, ``cronbach_alpha_listwise_*``,
        ``cronbach_alpha_pairwise_*`` and ``cronbach_alpha_display_*``.
        ``p_adjusted`` has ``welch_bh``, ``welch_holm``, ``mwu_bh``, ``mwu_holm``;
        fill it with :func:`adjust_dimension_family`.

    Notes
    -----
    Welch, Hedges' g and the tie-corrected Mann–Whitney are computed on the
    scores exactly as for items (scores are tabulated on their distinct
    values). The dimension gap is not the mean of its item gaps.

    Examples
    --------
    >>> r = dimension_comparison([4, 4.5, 3, 5, 4] * 3, [3, 3.5, 4, 2, 3] * 4, levels=[1, 2, 3, 4, 5])
    >>> r["report_status"], round(r["gap"], 2)
    ('ok_low_base', 1.0)
    """
    v_scale = _as_levels(levels)
    alpha = _as_alpha(alpha)
    k1 = _as_k_min(k_min_staff, "k_min_staff")
    k2 = _as_k_min(k_min_customer, "k_min_customer")
    s1 = _as_scores(scores_staff, "scores_staff")
    s2 = _as_scores(scores_customer, "scores_customer")
    for name, s in (("scores_staff", s1), ("scores_customer", s2)):
        if s.size and (s.min() < v_scale[0] or s.max() > v_scale[-1]):
            raise ValueError(f"{name} must lie within the scale [{v_scale[0]}, {v_scale[-1]}]")
    values, (a, b) = tabulate(s1, s2)
    if values.size == 0:
        values = v_scale[:1]
        a = b = np.zeros(1, dtype=np.int64)
    n1, _, var1 = _describe(a, values)
    n2, _, var2 = _describe(b, values)
    status = _status(
        n1, n2, zero_var1=var1 == 0, zero_var2=var2 == 0, k_min_staff=k1, k_min_customer=k2,
        complementary_suppressed=bool(complementary_suppressed),
    )  # fmt: skip
    reasons = _Reasons()
    core = two_sample_section(
        a, b, values, status=status, alpha=alpha, reasons=reasons, k_min_staff=k1, k_min_customer=k2
    )
    del core["counts_staff"], core["counts_customer"]
    out: dict[str, Any] = dict(core)
    for side, rel, n, kmin in (
        ("staff", reliability_staff, n1, k1),
        ("customer", reliability_customer, n2, k2),
    ):
        shown = status not in SUPPRESSED_STATUSES and (n == 0 or n >= kmin)
        out[f"n_scored_{side}"] = n if shown else None
        for field in _RELIABILITY_FIELDS:
            val = None
            if shown and rel is not None:
                val = rel.get(field)
                if val is None:
                    reasons.add(f"{field}_{side}", _reason_from(rel, field))
            elif shown:
                reasons.add(f"{field}_{side}", "reliability not supplied")
            out[f"{field}_{side}"] = val
    out["p_adjusted"] = {k: None for k in ("welch_bh", "welch_holm", "mwu_bh", "mwu_holm")}
    out["report_status"] = status
    out["undefined"] = []
    assessable = status in ("ok", "ok_low_base") and out["welch"]["p"] is not None
    out["classification"] = {
        "class": None if assessable else "not_assessed",
        "delta": materiality_delta(v_scale.size),
        "hedges_g_magnitude": hedges_g_magnitude(out["hedges_g"]),
        "cliffs_delta_magnitude": cliffs_delta_magnitude(out["mwu"]["cliffs_delta"]),
        "robustness": None,
    }
    if status in ("ok", "ok_low_base", "no_variance"):
        reasons.add("p_adjusted", PENDING)
        if assessable:
            reasons.add("classification.class", PENDING)
        reasons.add("classification.robustness", PENDING)
    out["undefined"] = list(reasons.items)
    _ensure_reasons(out, STATUS_REASONS.get(status, "undefined"))
    return _jsonify(out)


def _reason_from(rel: dict[str, Any], field: str) -> str:
    for u in rel.get("undefined", []):
        path, _, why = u.partition(": ")
        if path == field:
            return why
    return "undefined"
