"""Contrasts of four independent groups: wave-over-wave change of the gap (§7)
and the difference of two gaps with independent groups (§6)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special
from scipy import stats as _st

from ._core import (
    _as_alpha,
    _as_counts,
    _as_k_min,
    _as_levels,
    _as_scores,
    _describe,
    _ensure_reasons,
    _jsonify,
    _Reasons,
    _satterthwaite,
    _t_sf2,
    _topbox_mask,
    _welch,
    _wilson,
    tabulate,
)

__all__ = ["did_from_counts", "did_from_scores", "contrast_status", "mover_interval"]

_GROUPS = ("staff_wave1", "customer_wave1", "staff_wave2", "customer_wave2")


def contrast_status(
    ns: Sequence[int],
    zero_variance: Sequence[bool],
    *,
    is_staff: Sequence[bool],
    k_min_staff: int = 5,
    k_min_customer: int = 5,
) -> str:
    """§5.3 status for a contrast of several groups (every group must pass).

    Examples
    --------
    >>> contrast_status([40, 50, 3, 60], [False] * 4, is_staff=[True, False, True, False])
    'suppressed_anonymity'
    """
    if any(n == 0 for n in ns):
        return "no_data"
    if any(s and n < k_min_staff for n, s in zip(ns, is_staff, strict=True)):
        return "suppressed_anonymity"
    if any((not s) and n < k_min_customer for n, s in zip(ns, is_staff, strict=True)):
        return "suppressed_min_n"
    if any(n < 2 for n in ns):
        return "insufficient_data"
    if all(zero_variance):
        return "no_variance"
    if min(ns) < 30:
        return "ok_low_base"
    return "ok"


def linear_contrast(groups, coefs, alpha):
    """Σ c_j m_j with SE² = Σ s_j²/n_j and Satterthwaite df (groups: (n, m, var))."""
    est = sum(c * m for c, (_, m, _) in zip(coefs, groups, strict=True))
    comps = [(var / n, n - 1) for (n, _, var) in groups]
    q = sum(c for c, _ in comps)
    if not q > 0:
        return est, None
    se = math.sqrt(q)
    df = _satterthwaite([c for c in comps if c[0] > 0])
    t = est / se
    tcrit = float(_st.t.ppf(1 - alpha / 2, df))
    return est, {
        "se": se, "df": df, "t": t, "p": _t_sf2(t, df),
        "ci_low": est - tcrit * se, "ci_high": est + tcrit * se,
    }  # fmt: skip


def mover_interval(xs: Sequence[int], ns: Sequence[int], coefs: Sequence[float], z: float) -> tuple[float, float]:
    """MOVER limits of Σ c_j p_j over independent proportions, from each p_j's Wilson limits.

    ``L = θ − √Σ (c_j p_j − min(c_j l_j, c_j u_j))²``, ``U = θ + √Σ (max(c_j l_j, c_j u_j) − c_j p_j)²``
    (Zou & Donner 2008; Zou, Huang & Zhang 2009); with two groups and c = (1, −1) it is Newcombe's interval.
    Clipped to the range Σ c_j p_j can take.
    """
    est = lower = upper = 0.0
    for x, n, c in zip(xs, ns, coefs, strict=True):
        p = x / n
        lo, hi = _wilson(x, n, z)
        est += c * p
        lower += (c * p - min(c * lo, c * hi)) ** 2
        upper += (max(c * lo, c * hi) - c * p) ** 2
    floor = sum(min(c, 0.0) for c in coefs)
    ceiling = sum(max(c, 0.0) for c in coefs)
    return max(floor, est - math.sqrt(lower)), min(ceiling, est + math.sqrt(upper))


def _did(groups, *, alpha, k1, k2, topbox=None) -> dict[str, Any]:
    reasons = _Reasons()
    ns = [g[0] for g in groups]
    status = contrast_status(
        ns,
        [g[2] == 0 for g in groups],
        is_staff=[True, False, True, False],
        k_min_staff=k1,
        k_min_customer=k2,
    )
    out: dict[str, Any] = {f"n_{g}": None for g in _GROUPS}
    keys = ("gap_wave1", "gap_wave1_ci_low", "gap_wave1_ci_high", "gap_wave2",
            "gap_wave2_ci_low", "gap_wave2_ci_high", "did", "se", "df", "t", "p",
            "ci_low", "ci_high", "ci_excludes_zero")  # fmt: skip
    out.update(dict.fromkeys(keys))
    if topbox is not None:
        out["topbox_did"] = dict.fromkeys(("diff", "se", "ci_low", "ci_high", "low_base"))
    out["report_status"] = status
    out["undefined"] = []
    if status.startswith("suppressed"):
        _ensure_reasons(out, f"{status} (a group is below its threshold)")
        return _jsonify(out)
    for name, n, kmin in zip(_GROUPS, ns, (k1, k2, k1, k2), strict=True):
        if n == 0 or n >= kmin:
            out[f"n_{name}"] = n
    if status == "no_data":
        _ensure_reasons(out, "no_data (a group has no responses)")
        return _jsonify(out)
    (n1, m1, v1), (n2, m2, v2), (n3, m3, v3), (n4, m4, v4) = groups
    out["gap_wave1"], out["gap_wave2"] = m1 - m2, m3 - m4
    if status != "insufficient_data":
        for wave, (a, b) in (("wave1", (groups[0], groups[1])), ("wave2", (groups[2], groups[3]))):
            w, why = _welch(a[1], a[2], a[0], b[1], b[2], b[0], alpha)
            if w is None:
                reasons.add(f"gap_{wave}_ci_low", why)
                reasons.add(f"gap_{wave}_ci_high", why)
            else:
                out[f"gap_{wave}_ci_low"], out[f"gap_{wave}_ci_high"] = w["ci_low"], w["ci_high"]
        est, res = linear_contrast(groups, (-1, 1, 1, -1), alpha)
        out["did"] = est
        if res is None:
            for k in ("se", "df", "t", "p", "ci_low", "ci_high", "ci_excludes_zero"):
                reasons.add(k, "all four groups have zero variance")
        else:
            out.update(res)
            out["ci_excludes_zero"] = bool(res["ci_low"] > 0 or res["ci_high"] < 0)
    else:
        out["did"] = out["gap_wave2"] - out["gap_wave1"]
    if topbox is not None:
        xs, z = topbox
        ps = [x / n for x, n in zip(xs, ns, strict=True)]
        tb = out["topbox_did"]
        tb["diff"] = (ps[2] - ps[3]) - (ps[0] - ps[1])
        tb["low_base"] = bool(min(ns) < 30)
        var = sum(p * (1 - p) / n for p, n in zip(ps, ns, strict=True))
        if status != "insufficient_data":
            # the interval is MOVER from the four Wilson limits, not Δp ± z·SE: the normal interval undercovered
            # with few staff (docs/methods.md §12.1); it stays defined when every share is 0 or 1
            tb["ci_low"], tb["ci_high"] = mover_interval(xs, ns, (-1, 1, 1, -1), z)
            if var > 0:
                tb["se"] = math.sqrt(var)
            else:
                reasons.add("topbox_did.se", "every top-box share is 0 or 1")
    out["undefined"] = list(reasons.items)
    _ensure_reasons(out, f"{status} (fewer than 2 answers in a group)")
    return _jsonify(out)


def did_from_counts(
    counts_staff_wave1: Sequence[int],
    counts_customer_wave1: Sequence[int],
    counts_staff_wave2: Sequence[int],
    counts_customer_wave2: Sequence[int],
    levels: Sequence[float],
    *,
    topbox_levels: Sequence[float] | None = None,
    k_min_staff: int = 5,
    k_min_customer: int = 5,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Difference in differences of the item gap between two waves (§7).

    Parameters
    ----------
    counts_staff_wave1, counts_customer_wave1, counts_staff_wave2, counts_customer_wave2
        Per-level counts of the four groups.
    levels : sequence of float
    topbox_levels : sequence of float, optional
        If given, also the top-box DiD.
    k_min_staff, k_min_customer : int, default 5
        Every group must reach its threshold, else nothing is shown.
    alpha : float, default 0.05

    Returns
    -------
    dict
        ``n_<group>`` for the 4 groups, ``gap_wave1`` / ``gap_wave2`` with their
        Welch CIs, ``did``, ``se``, ``df``, ``t``, ``p``, ``ci_low``, ``ci_high``,
        ``ci_excludes_zero`` ("the gap changed" only if True), optional
        ``topbox_did`` {diff, se, ci_low, ci_high, low_base}, ``report_status``
        and ``undefined``.

    Notes
    -----
    ``G_w = mS_w − mC_w``, ``DiD = G_2 − G_1``, ``SE² = Σ_j s_j²/n_j``,
    ``df = (Σ q_j)²/Σ(q_j²/(n_j − 1))``, t-based CI. Waves are treated as
    independent cross-sections. Equals the interaction coefficient of
    ``OLS(y ~ staff + wave2 + staff:wave2)`` and its HC2 SE. Top-box:
    ``Δp = (p_S2 − p_C2) − (p_S1 − p_C1)``, ``SE² = Σ p_j(1 − p_j)/n_j`` (for
    reference), and the MOVER interval from the four groups' Wilson limits
    (:func:`mover_interval`; ``low_base`` when any n_j < 30).

    References
    ----------
    docs/methods.md §7. Zou GY, Donner A (2008). Construction of confidence
    limits about effect measures: a general approach. Stat Med 27:1693–1702.
    Newcombe RG (1998). Stat Med 17:873–890.

    Examples
    --------
    >>> r = did_from_counts([1, 2, 4, 9, 4], [6, 10, 14, 12, 8], [2, 3, 5, 6, 4], [6, 10, 14, 12, 8],
    ...                     [1, 2, 3, 4, 5])
    >>> round(r["did"], 4)
    -0.3
    """
    v = _as_levels(levels)
    alpha = _as_alpha(alpha)
    cs = [
        _as_counts(c, v.size, name)
        for c, name in zip(
            (counts_staff_wave1, counts_customer_wave1, counts_staff_wave2, counts_customer_wave2),
            ("counts_staff_wave1", "counts_customer_wave1", "counts_staff_wave2", "counts_customer_wave2"),
            strict=True,
        )
    ]
    groups = [_describe(c, v) for c in cs]
    topbox = None
    if topbox_levels is not None:
        mask = _topbox_mask(v, topbox_levels)
        topbox = ([int(c[mask].sum()) for c in cs], float(special.ndtri(1 - alpha / 2)))
    return _did(
        groups,
        alpha=alpha,
        k1=_as_k_min(k_min_staff, "k_min_staff"),
        k2=_as_k_min(k_min_customer, "k_min_customer"),
        topbox=topbox,
    )


def did_from_scores(
    scores_staff_wave1: Sequence[float | None] | np.ndarray,
    scores_customer_wave1: Sequence[float | None] | np.ndarray,
    scores_staff_wave2: Sequence[float | None] | np.ndarray,
    scores_customer_wave2: Sequence[float | None] | np.ndarray,
    *,
    k_min_staff: int = 5,
    k_min_customer: int = 5,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Difference in differences of a dimension gap from respondent scores.

    Same output as :func:`did_from_counts` (without ``topbox_did``); NaN scores
    (unscored respondents) are dropped.

    Examples
    --------
    >>> r = did_from_scores([4, 5] * 5, [3, 4] * 5, [4, 4.5] * 5, [3.5, 4] * 5)
    >>> r["did"]
    -0.5
    """
    alpha = _as_alpha(alpha)
    samples = [
        _as_scores(s, name)
        for s, name in zip(
            (scores_staff_wave1, scores_customer_wave1, scores_staff_wave2, scores_customer_wave2),
            ("scores_staff_wave1", "scores_customer_wave1", "scores_staff_wave2", "scores_customer_wave2"),
            strict=True,
        )
    ]
    values, counts = tabulate(*samples)
    if values.size == 0:
        values = np.array([0.0])
        counts = [np.zeros(1, dtype=np.int64)] * 4
    groups = [_describe(c, values) for c in counts]
    return _did(
        groups,
        alpha=alpha,
        k1=_as_k_min(k_min_staff, "k_min_staff"),
        k2=_as_k_min(k_min_customer, "k_min_customer"),
    )
