"""Item-level statistics from per-level count vectors (docs/methods.md §1–2, §5.3, §11).

Every statistic is an exact function of the staff counts ``a``, the customer
counts ``b`` and the scale levels ``v``; no respondent rows are needed.

Why one file: each public function is one statistic of the same count vectors
(docs/methods.md §1–2 in order), and :func:`item_comparison` assembles all of them
into one item's result; splitting them would separate a statistic from the only
assembler that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from ._core import (
    STATUS_REASONS,
    SUPPRESSED_STATUSES,
    _as_alpha,
    _as_counts,
    _as_k_min,
    _as_levels,
    _cohen,
    _describe,
    _ensure_reasons,
    _fisher,
    _jsonify,
    _mwu,
    _newcombe,
    _Reasons,
    _status,
    _topbox_mask,
    _welch,
    _wilson,
    _ztest_2prop,
    cliffs_delta_magnitude,
    hedges_g_magnitude,
)

__all__ = [
    "describe_counts",
    "welch_from_counts",
    "effect_size_from_counts",
    "mann_whitney_from_counts",
    "wilson_interval",
    "newcombe_interval",
    "topbox_from_counts",
    "item_comparison",
    "materiality_delta",
    "WELCH_KEYS",
    "MWU_KEYS",
    "TOPBOX_KEYS",
    "P_ADJUSTED_KEYS",
]

WELCH_KEYS = ("t", "df", "p", "se", "ci_low", "ci_high", "ci90_low", "ci90_high")
MWU_KEYS = ("U_staff", "U_customer", "sigma_U", "p", "cliffs_delta", "rank_biserial", "cles")
TOPBOX_KEYS = (
    "levels",
    "x_staff",
    "x_customer",
    "p_staff",
    "p_customer",
    "diff",
    "newcombe_low",
    "newcombe_high",
    "z",
    "p",
    "fisher_p",
    "min_expected_count",
    "test",
    "p_primary",
)
P_ADJUSTED_KEYS = ("welch_bh", "welch_holm", "mwu_bh", "mwu_holm", "topbox_bh", "topbox_holm")

PENDING_ADJUSTMENT = "family adjustment not applied yet (call adjust_item_family)"
PENDING_CLASS = "needs the family's BH-adjusted p (call adjust_item_family)"


def materiality_delta(k: int) -> float:
    """Materiality margin δ = 0.25 · (k − 1) / 4 scale points for a k-point scale.

    Examples
    --------
    >>> materiality_delta(5), materiality_delta(7)
    (0.25, 0.375)
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k (number of scale points) must be an integer >= 2, got {k!r}")
    return 0.25 * (int(k) - 1) / 4


# --------------------------------------------------------------------------- #
# building blocks
# --------------------------------------------------------------------------- #
def describe_counts(counts: Sequence[int], levels: Sequence[float]) -> dict[str, Any]:
    """n, mean and SD (ddof = 1) of one side from its per-level counts.

    Parameters
    ----------
    counts : sequence of int
        ``counts[l]`` = answers at ``levels[l]``.
    levels : sequence of float
        Strictly increasing scale points ``v_1 < … < v_k``.

    Returns
    -------
    dict
        ``n``, ``mean`` (None if n = 0), ``sd`` and ``variance`` (None if n < 2).

    Notes
    -----
    ``n = Σ a_l``, ``m = Σ a_l v_l / n``, ``s² = Σ a_l (v_l − m)² / (n − 1)``.

    Examples
    --------
    >>> d = describe_counts([1, 2, 4, 9, 4], [1, 2, 3, 4, 5])
    >>> d["n"], round(d["mean"], 2), round(d["sd"], 6)
    (20, 3.65, 1.089423)
    """
    v = _as_levels(levels)
    c = _as_counts(counts, v.size, "counts")
    n, m, var = _describe(c, v)
    return _jsonify(
        {"n": n, "mean": m, "sd": None if var is None else math.sqrt(var), "variance": var}
    )


def _prep(counts_staff, counts_customer, levels):
    v = _as_levels(levels)
    a = _as_counts(counts_staff, v.size, "counts_staff")
    b = _as_counts(counts_customer, v.size, "counts_customer")
    return a, b, v


def welch_from_counts(
    counts_staff: Sequence[int],
    counts_customer: Sequence[int],
    levels: Sequence[float],
    *,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Welch t-test and CIs for the mean gap (staff − customer) from counts.

    Parameters
    ----------
    counts_staff, counts_customer : sequence of int
        Per-level counts ``a`` and ``b`` (same length as ``levels``).
    levels : sequence of float
        Scale points.
    alpha : float, default 0.05
        Two-sided level; the CI is ``1 − alpha``. The 90 % CI (for equivalence)
        is always reported as ``ci90_low`` / ``ci90_high``.

    Returns
    -------
    dict
        ``gap``, ``t``, ``df``, ``p``, ``se``, ``ci_low``, ``ci_high``,
        ``ci90_low``, ``ci90_high`` and ``reason``. All but ``gap`` are None with a
        ``reason`` when undefined (n < 2 on a side, or both variances zero).

    Notes
    -----
    ``q_i = s_i²/n_i``, ``SE = √(q1+q2)``,
    ``df = (q1+q2)² / (q1²/(n1−1) + q2²/(n2−1))``, ``t = gap/SE``,
    ``p = 2(1 − F_t(|t|; df))``, ``CI = gap ± t_{1−α/2,df}·SE``.

    References
    ----------
    Welch BL (1947). Biometrika 34:28–35.

    Examples
    --------
    >>> w = welch_from_counts([1, 2, 4, 9, 4], [6, 10, 14, 12, 8], [1, 2, 3, 4, 5])
    >>> round(w["t"], 6), round(w["df"], 4), round(w["p"], 6)
    (1.758044, 40.1664, 0.086359)
    """
    a, b, v = _prep(counts_staff, counts_customer, levels)
    alpha = _as_alpha(alpha)
    n1, m1, var1 = _describe(a, v)
    n2, m2, var2 = _describe(b, v)
    gap = None if m1 is None or m2 is None else m1 - m2
    if gap is None:
        res, reason = None, "no responses on a side"
    else:
        res, reason = _welch(m1, var1, n1, m2, var2, n2, alpha)
    out = {"gap": gap, **(res or dict.fromkeys(WELCH_KEYS)), "reason": reason}
    return _jsonify(out)


def effect_size_from_counts(
    counts_staff: Sequence[int], counts_customer: Sequence[int], levels: Sequence[float]
) -> dict[str, Any]:
    """Cohen's d and Hedges' g (pooled SD, small-sample correction) from counts.

    Returns
    -------
    dict
        ``cohen_d``, ``hedges_g``, ``hedges_g_se`` (approximate), their
        magnitude label and ``reason`` (None values when undefined).

    Notes
    -----
    ``s_p = √(((n1−1)s1² + (n2−1)s2²)/(n1+n2−2))``, ``d = gap/s_p``,
    ``g = d·(1 − 3/(4(n1+n2) − 9))``,
    ``SE_g ≈ √((n1+n2)/(n1 n2) + g²/(2(n1+n2)))``. Labels: |g| < 0.2 negligible,
    < 0.5 small, < 0.8 medium, else large.

    References
    ----------
    Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis.

    Examples
    --------
    >>> e = effect_size_from_counts([1, 2, 4, 9, 4], [6, 10, 14, 12, 8], [1, 2, 3, 4, 5])
    >>> round(e["cohen_d"], 6), round(e["hedges_g"], 6), e["magnitude"]
    (0.437421, 0.432579, 'small')
    """
    a, b, v = _prep(counts_staff, counts_customer, levels)
    n1, m1, var1 = _describe(a, v)
    n2, m2, var2 = _describe(b, v)
    d, g, reason = _cohen(m1, var1, n1, m2, var2, n2)
    se = None if g is None else math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    return _jsonify(
        {
            "cohen_d": d,
            "hedges_g": g,
            "hedges_g_se": se,
            "magnitude": hedges_g_magnitude(g),
            "reason": reason,
        }
    )


def mann_whitney_from_counts(
    counts_staff: Sequence[int], counts_customer: Sequence[int]
) -> dict[str, Any]:
    """Mann–Whitney U (exact tie correction, continuity-corrected normal p) from counts.

    Only the order of the levels matters, so no level values are needed.

    Parameters
    ----------
    counts_staff, counts_customer : sequence of int
        Per-level counts on the same ordered levels.

    Returns
    -------
    dict
        ``U_staff``, ``U_customer``, ``sigma_U``, ``z``, ``p``, ``cliffs_delta``,
        ``rank_biserial``, ``cles``, ``tie_term`` = Σ(t³ − t), ``midranks``,
        ``cliffs_delta_magnitude`` and ``reason`` (``z``/``p`` are None when every
        answer is tied, i.e. σ_U = 0).

    Notes
    -----
    With pooled counts ``t_l = a_l + b_l`` and ``B_<l = Σ_{m<l} b_m``::

        U1 = Σ a_l (B_<l + b_l/2),   U2 = n1 n2 − U1
        σ² = n1 n2/12 · [(N + 1) − Σ(t_l³ − t_l)/(N(N − 1))]
        z  = (max(U1, U2) − n1 n2/2 − 0.5)/σ,   p = min(1, 2(1 − Φ(z)))
        δ  = Σ a_l (B_<l − B_>l)/(n1 n2) = 2 U1/(n1 n2) − 1,  CLES = U1/(n1 n2)

    Equals ``scipy.stats.mannwhitneyu(x, y, method="asymptotic",
    use_continuity=True)`` on the expanded data.

    References
    ----------
    Mann HB, Whitney DR (1947). Ann Math Stat 18:50–60.
    Cliff N (1993). Psychol Bull 114:494–509.
    Vargha A, Delaney HD (2000). J Educ Behav Stat 25:101–132.

    Examples
    --------
    >>> r = mann_whitney_from_counts([1, 2, 4, 9, 4], [6, 10, 14, 12, 8])
    >>> r["U_staff"], r["tie_term"], round(r["p"], 6), r["cliffs_delta"]
    (625.0, 18822, 0.095932, 0.25)
    """
    a = _as_counts(counts_staff, len(counts_staff), "counts_staff")
    b = _as_counts(counts_customer, a.size, "counts_customer")
    if a.sum() == 0 or b.sum() == 0:
        raise ValueError("Mann–Whitney needs at least one answer on each side")
    r = _mwu(a, b)
    t = a + b
    below = np.concatenate([[0], np.cumsum(t)[:-1]])
    r["midranks"] = (below + (t + 1) / 2).tolist()
    r["cliffs_delta_magnitude"] = cliffs_delta_magnitude(r["cliffs_delta"])
    r["reason"] = None if r["p"] is not None else "every answer tied"
    del r["sigma2_U"]
    return _jsonify(r)


def wilson_interval(x: int, n: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion x/n.

    Notes
    -----
    ``L, U = (2np + z² ∓ z·√(z² + 4np(1−p))) / (2(n + z²))``, ``z = z_{1−α/2}``.

    References
    ----------
    Wilson EB (1927). JASA 22:209–212.

    Examples
    --------
    >>> [round(e, 4) for e in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    x, n = _as_xn(x, n, "x", "n")
    z = float(special.ndtri(1 - _as_alpha(alpha) / 2))
    return _wilson(x, n, z)


def _as_xn(x, n, xname, nname) -> tuple[int, int]:
    for name, val in ((xname, x), (nname, n)):
        if isinstance(val, bool) or not float(val).is_integer() or val < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {val!r}")
    x, n = int(x), int(n)
    if n < 1:
        raise ValueError(f"{nname} must be >= 1, got {n}")
    if x > n:
        raise ValueError(f"{xname} ({x}) cannot exceed {nname} ({n})")
    return x, n


def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05
) -> tuple[float, float]:
    """Newcombe hybrid-score CI (method 10) for p1 − p2, clipped to [−1, 1].

    Notes
    -----
    With Wilson limits ``(L_i, U_i)``::

        lower = diff − √((p1 − L1)² + (U2 − p2)²)
        upper = diff + √((U1 − p1)² + (p2 − L2)²)

    References
    ----------
    Newcombe RG (1998). Stat Med 17:873–890 (method 10).

    Examples
    --------
    >>> [round(e, 6) for e in newcombe_interval(13, 20, 20, 50)]
    [-0.007386, 0.459407]
    """
    x1, n1 = _as_xn(x1, n1, "x1", "n1")
    x2, n2 = _as_xn(x2, n2, "x2", "n2")
    return _newcombe(x1, n1, x2, n2, _as_alpha(alpha))


def _topbox_block(a, b, v, mask, alpha) -> dict[str, Any]:
    n1, n2 = int(a.sum()), int(b.sum())
    x1, x2 = int(a[mask].sum()), int(b[mask].sum())
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    lo, hi = _newcombe(x1, n1, x2, n2, alpha)
    z, pz = _ztest_2prop(x1, n1, x2, n2)
    fisher_p = _fisher(x1, n1, x2, n2)
    min_exp = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    use_z = z is not None and min_exp >= 5
    return {
        "levels": [_level_out(x) for x in v[mask]],
        "x_staff": x1,
        "x_customer": x2,
        "p_staff": p1,
        "p_customer": p2,
        "diff": p1 - p2,
        "newcombe_low": lo,
        "newcombe_high": hi,
        "z": z,
        "p": pz,
        "fisher_p": fisher_p,
        "min_expected_count": min_exp,
        "test": "z" if use_z else "fisher",
        "p_primary": pz if use_z else fisher_p,
    }


def _level_out(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def topbox_from_counts(
    counts_staff: Sequence[int],
    counts_customer: Sequence[int],
    levels: Sequence[float],
    topbox_levels: Sequence[float],
    *,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Top-box shares per side, Newcombe CI of the difference, z-test / Fisher.

    Parameters
    ----------
    counts_staff, counts_customer : sequence of int
        Per-level counts (each side needs n ≥ 1).
    levels : sequence of float
        Scale points.
    topbox_levels : sequence of float
        The top-box set T, a non-empty subset of ``levels`` (e.g. ``[4, 5]``).
    alpha : float, default 0.05

    Returns
    -------
    dict
        The §11 ``topbox`` block: ``levels``, ``x_staff``, ``x_customer``,
        ``p_staff``, ``p_customer``, ``diff``, ``newcombe_low``, ``newcombe_high``,
        ``z``, ``p``, ``fisher_p``, ``min_expected_count``, ``test`` and
        ``p_primary``.

    Notes
    -----
    Pooled z-test ``z = (p1 − p2)/√(p̂(1−p̂)(1/n1 + 1/n2))`` (undefined if
    p̂ ∈ {0, 1}). When it is undefined or an expected count ``n_i p̂`` or
    ``n_i(1 − p̂)`` is below 5, the primary p is Fisher's exact two-sided p
    (``test = "fisher"``); else ``test = "z"``.

    References
    ----------
    Newcombe RG (1998). Stat Med 17:873–890.
    Fagerland MW, Lydersen S, Laake P (2015). Stat Methods Med Res 24:224–254.

    Examples
    --------
    >>> r = topbox_from_counts([1, 2, 4, 9, 4], [6, 10, 14, 12, 8], [1, 2, 3, 4, 5], [4, 5])
    >>> round(r["z"], 6), round(r["p"], 6), r["test"]
    (1.892915, 0.058369, 'z')
    """
    a, b, v = _prep(counts_staff, counts_customer, levels)
    mask = _topbox_mask(v, topbox_levels)
    if a.sum() == 0 or b.sum() == 0:
        raise ValueError("top-box statistics need at least one answer on each side")
    return _jsonify(_topbox_block(a, b, v, mask, _as_alpha(alpha)))


# --------------------------------------------------------------------------- #
# the §11 output contract
# --------------------------------------------------------------------------- #
def two_sample_section(
    a: np.ndarray,
    b: np.ndarray,
    v: np.ndarray,
    *,
    status: str,
    alpha: float,
    reasons: _Reasons,
    k_min_staff: int,
    k_min_customer: int,
) -> dict[str, Any]:
    """n, counts, means, SDs, gap, welch, d, g, mwu for a status (generic side names)."""
    n1, m1, var1 = _describe(a, v)
    n2, m2, var2 = _describe(b, v)
    out: dict[str, Any] = {
        "n_staff": None,
        "n_customer": None,
        "counts_staff": None,
        "counts_customer": None,
        "mean_staff": None,
        "mean_customer": None,
        "sd_staff": None,
        "sd_customer": None,
        "gap": None,
        "welch": dict.fromkeys(WELCH_KEYS),
        "cohen_d": None,
        "hedges_g": None,
        "mwu": dict.fromkeys(MWU_KEYS),
    }
    if status in SUPPRESSED_STATUSES:
        return out  # nothing at all, not even n
    if status == "no_data":
        # a zero n or an n at/above the threshold reveals nobody
        if n1 == 0 or n1 >= k_min_staff:
            out["n_staff"] = n1
        if n2 == 0 or n2 >= k_min_customer:
            out["n_customer"] = n2
        return out
    out.update(
        n_staff=n1,
        n_customer=n2,
        counts_staff=[int(x) for x in a],
        counts_customer=[int(x) for x in b],
        mean_staff=m1,
        mean_customer=m2,
        gap=m1 - m2,
    )
    if status == "insufficient_data":
        return out
    out["sd_staff"] = math.sqrt(var1)
    out["sd_customer"] = math.sqrt(var2)
    w, why = _welch(m1, var1, n1, m2, var2, n2, alpha)
    if w is None:
        reasons.add("welch", why)
    else:
        out["welch"] = w
    d, g, why = _cohen(m1, var1, n1, m2, var2, n2)
    if d is None:
        reasons.add("cohen_d", why)
        reasons.add("hedges_g", why)
    out["cohen_d"], out["hedges_g"] = d, g
    mw = _mwu(a, b)
    if mw["p"] is None:
        reasons.add("mwu.p", "every answer tied")
    out["mwu"] = {k: mw[k] for k in MWU_KEYS}
    return out


def _bootstrap_block(a, b, v, topbox_levels, status: str, alpha: float, opts: dict, reasons: _Reasons) -> dict:
    """Bootstrap CIs of the gap, Cliff's δ and the top-box difference (§2.6), where the status shows them."""
    from .bootstrap import bootstrap_from_counts

    boot: dict[str, Any] = {"method": opts.get("method", "percentile"), "n_resamples": opts.get("n_resamples", 10_000),
                            "seed": opts.get("seed", 0)}
    for stat in ("gap", "cliffs_delta", "topbox_diff"):
        boot[stat] = {"ci_low": None, "ci_high": None}
        if status not in ("ok", "ok_low_base", "no_variance"):
            continue  # the status's own reason covers these nulls
        r = bootstrap_from_counts(a, b, v, statistic=stat, alpha=alpha,
                                  topbox_levels=topbox_levels if stat == "topbox_diff" else None, **opts)
        boot[stat] = {"ci_low": r["ci_low"], "ci_high": r["ci_high"]}
        boot.update(method=r["method"], n_resamples=r["n_resamples"], seed=r["seed"])
        if r["reason"]:
            reasons.add(f"bootstrap.{stat}", r["reason"])
    return boot


def item_comparison(
    counts_staff: Sequence[int],
    counts_customer: Sequence[int],
    levels: Sequence[float],
    topbox_levels: Sequence[float],
    *,
    k_min_staff: int = 5,
    k_min_customer: int = 5,
    alpha: float = 0.05,
    complementary_suppressed: bool = False,
    bootstrap: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """All item-level statistics of one comparison × item (the §11 contract).

    Parameters
    ----------
    counts_staff, counts_customer : sequence of int
        Per-level counts ``a`` (staff) and ``b`` (customers), aligned with
        ``levels``; reverse-keyed items must already be recoded.
    levels : sequence of float
        Scale points ``v_1 < … < v_k`` (e.g. ``[1, 2, 3, 4, 5]``).
    topbox_levels : sequence of float
        Top-box set (e.g. ``[4, 5]``).
    k_min_staff, k_min_customer : int, default 5
        Anonymity threshold / customer minimum n (§5.1).
    alpha : float, default 0.05
        Two-sided level for tests and the main CIs.
    complementary_suppressed : bool, default False
        Set by the caller from :func:`complementary_suppression`.
    bootstrap : dict, optional
        If given, also compute count-based bootstrap CIs for the gap, Cliff's
        delta and the top-box difference; keys are passed to
        :func:`bootstrap_from_counts` (``n_resamples``, ``seed``, ``method``).
        Adds a ``bootstrap`` key to the result.

    Returns
    -------
    dict
        Keys ``n_staff``, ``n_customer``, ``counts_staff``, ``counts_customer``,
        ``mean_staff``, ``mean_customer``, ``sd_staff``, ``sd_customer``, ``gap``,
        ``welch`` {t, df, p, se, ci_low, ci_high, ci90_low, ci90_high},
        ``cohen_d``, ``hedges_g``, ``mwu`` {U_staff, U_customer, sigma_U, p,
        cliffs_delta, rank_biserial, cles}, ``topbox`` {…}, ``p_adjusted``
        {welch_bh, welch_holm, mwu_bh, mwu_holm, topbox_bh, topbox_holm},
        ``report_status``, ``undefined`` (``"path: reason"`` for every null) and
        ``classification`` {class, delta, hedges_g_magnitude,
        cliffs_delta_magnitude, robustness}.
        ``p_adjusted`` and ``classification.class`` stay null until the family is
        processed with :func:`adjust_item_family`, unless the item is not
        assessable (``class = "not_assessed"``).

    Notes
    -----
    What is shown depends on ``report_status`` (§5.3): suppressed statuses show
    no number derived from either side (not even n); ``no_data`` shows only the
    n of sides that are 0 or ≥ their threshold; ``insufficient_data`` shows n,
    counts, means, gap and top-box shares only; ``no_variance`` shows everything
    except Welch, d and g (and the MWU p when σ_U = 0). Formulas: see
    :func:`welch_from_counts`, :func:`effect_size_from_counts`,
    :func:`mann_whitney_from_counts`, :func:`topbox_from_counts`.

    References
    ----------
    docs/methods.md §2, §5.3, §11.

    Examples
    --------
    >>> r = item_comparison([1, 2, 4, 9, 4], [6, 10, 14, 12, 8], [1, 2, 3, 4, 5], [4, 5])
    >>> r["report_status"], round(r["gap"], 2), round(r["welch"]["p"], 6)
    ('ok_low_base', 0.53, 0.086359)
    """
    a, b, v = _prep(counts_staff, counts_customer, levels)
    mask = _topbox_mask(v, topbox_levels)
    alpha = _as_alpha(alpha)
    k1 = _as_k_min(k_min_staff, "k_min_staff")
    k2 = _as_k_min(k_min_customer, "k_min_customer")
    n1, _, var1 = _describe(a, v)
    n2, _, var2 = _describe(b, v)
    status = _status(
        n1,
        n2,
        zero_var1=var1 == 0,
        zero_var2=var2 == 0,
        k_min_staff=k1,
        k_min_customer=k2,
        complementary_suppressed=bool(complementary_suppressed),
    )
    reasons = _Reasons()
    out = two_sample_section(
        a, b, v, status=status, alpha=alpha, reasons=reasons, k_min_staff=k1, k_min_customer=k2
    )
    topbox: dict[str, Any] = dict.fromkeys(TOPBOX_KEYS)
    topbox["levels"] = [_level_out(x) for x in v[mask]]
    if status in ("insufficient_data", "no_variance", "ok", "ok_low_base"):
        full = _topbox_block(a, b, v, mask, alpha)
        if status == "insufficient_data":
            for key in ("x_staff", "x_customer", "p_staff", "p_customer", "diff"):
                topbox[key] = full[key]
        else:
            topbox = full
            if full["z"] is None:
                reasons.add("topbox.z", "pooled proportion is 0 or 1")
                reasons.add("topbox.p", "pooled proportion is 0 or 1")
    out["topbox"] = topbox
    out["p_adjusted"] = dict.fromkeys(P_ADJUSTED_KEYS)
    out["report_status"] = status
    out["undefined"] = []
    g = out["hedges_g"]
    cd = out["mwu"]["cliffs_delta"]
    assessable = status in ("ok", "ok_low_base") and out["welch"]["p"] is not None
    out["classification"] = {
        "class": None if assessable else "not_assessed",
        "delta": materiality_delta(v.size),
        "hedges_g_magnitude": hedges_g_magnitude(g),
        "cliffs_delta_magnitude": cliffs_delta_magnitude(cd),
        "robustness": None,
    }
    if status in ("ok", "ok_low_base", "no_variance"):
        reasons.add("p_adjusted", PENDING_ADJUSTMENT)
        if assessable:
            reasons.add("classification.class", PENDING_CLASS)
        reasons.add("classification.robustness", PENDING_ADJUSTMENT)
    if bootstrap is not None:
        out["bootstrap"] = _bootstrap_block(a, b, v, topbox_levels, status, alpha, dict(bootstrap), reasons)
    out["undefined"] = list(reasons.items)
    _ensure_reasons(out, STATUS_REASONS.get(status, "undefined"))
    return _jsonify(out)
