"""Differences of two gaps between segments (docs/methods.md §6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._core import (
    _as_alpha,
    _as_counts,
    _as_k_min,
    _as_levels,
    _describe,
    _ensure_reasons,
    _jsonify,
    _Reasons,
    _welch,
)
from .did import contrast_status, linear_contrast

__all__ = ["gap_difference_shared_comparator", "gap_difference_independent"]

_RESULT_KEYS = ("difference", "se", "df", "t", "p", "ci_low", "ci_high")


def gap_difference_shared_comparator(
    counts_group_1: Sequence[int],
    counts_group_2: Sequence[int],
    levels: Sequence[float],
    *,
    shared: str = "customer",
    k_min: int = 5,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """gap(group 1) − gap(group 2) when both gaps share the comparator group.

    Parameters
    ----------
    counts_group_1, counts_group_2 : sequence of int
        Per-level counts of the two segments being compared.
    levels : sequence of float
    shared : {"customer", "staff"}, default "customer"
        ``"customer"``: the groups are staff segments compared with the same
        customers, so the difference is ``mean(1) − mean(2)``.
        ``"staff"``: the groups are customer tiers compared with the same staff,
        so gap(staff vs 1) − gap(staff vs 2) = ``mean(2) − mean(1)``.
    k_min : int, default 5
        Threshold applied to both segments.
    alpha : float, default 0.05

    Returns
    -------
    dict
        ``n_group_1``, ``n_group_2``, ``difference``, ``se``, ``df``, ``t``, ``p``,
        ``ci_low``, ``ci_high``, ``report_status``, ``undefined``.

    Notes
    -----
    The shared mean cancels, so this is a Welch comparison of the two segments
    directly; the comparator's variance is not added (that would be wrong and
    too wide).

    References
    ----------
    docs/methods.md §6.

    Examples
    --------
    >>> r = gap_difference_shared_comparator([1, 2, 4, 9, 4], [2, 3, 5, 6, 4], [1, 2, 3, 4, 5])
    >>> round(r["difference"], 2)
    0.3
    """
    if shared not in ("customer", "staff"):
        raise ValueError(f"shared must be 'customer' or 'staff', got {shared!r}")
    v = _as_levels(levels)
    alpha = _as_alpha(alpha)
    k = _as_k_min(k_min, "k_min")
    c1 = _as_counts(counts_group_1, v.size, "counts_group_1")
    c2 = _as_counts(counts_group_2, v.size, "counts_group_2")
    g1, g2 = _describe(c1, v), _describe(c2, v)
    if shared == "staff":  # gap(S vs 1) − gap(S vs 2) = m2 − m1
        g1, g2 = g2, g1
    is_staff = shared == "customer"
    status = contrast_status(
        [g1[0], g2[0]], [g1[2] == 0, g2[2] == 0], is_staff=[is_staff, is_staff],
        k_min_staff=k, k_min_customer=k,
    )  # fmt: skip
    reasons = _Reasons()
    n_first, n_second = (g1[0], g2[0]) if shared == "customer" else (g2[0], g1[0])
    out: dict[str, Any] = {"n_group_1": None, "n_group_2": None, **dict.fromkeys(_RESULT_KEYS)}
    out["report_status"] = status
    if not status.startswith("suppressed"):
        out["n_group_1"] = n_first if (n_first == 0 or n_first >= k) else None
        out["n_group_2"] = n_second if (n_second == 0 or n_second >= k) else None
    if status in ("insufficient_data", "no_variance", "ok", "ok_low_base"):
        out["difference"] = g1[1] - g2[1]
        if status != "insufficient_data":
            w, why = _welch(g1[1], g1[2], g1[0], g2[1], g2[2], g2[0], alpha)
            if w is None:
                for key in ("se", "df", "t", "p", "ci_low", "ci_high"):
                    reasons.add(key, why)
            else:
                out.update({k2: w[k2] for k2 in ("se", "df", "t", "p", "ci_low", "ci_high")})
    out["undefined"] = list(reasons.items)
    _ensure_reasons(out, status)
    return _jsonify(out)


def gap_difference_independent(
    counts_staff_1: Sequence[int],
    counts_customer_1: Sequence[int],
    counts_staff_2: Sequence[int],
    counts_customer_2: Sequence[int],
    levels: Sequence[float],
    *,
    k_min_staff: int = 5,
    k_min_customer: int = 5,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Δ = (mS1 − mC1) − (mS2 − mC2) for two comparisons with four distinct groups.

    Parameters
    ----------
    counts_staff_1, counts_customer_1, counts_staff_2, counts_customer_2
        Per-level counts (e.g. Sales vs Gold, Support vs Bronze).
    levels : sequence of float
    k_min_staff, k_min_customer : int, default 5
    alpha : float, default 0.05

    Returns
    -------
    dict
        ``n_staff_1``, ``n_customer_1``, ``n_staff_2``, ``n_customer_2``,
        ``difference``, ``se``, ``df``, ``t``, ``p``, ``ci_low``, ``ci_high``,
        ``report_status``, ``undefined``.

    Notes
    -----
    ``SE² = Σ_{4 groups} s²/n``; Satterthwaite df
    ``(Σ q_j)² / Σ q_j²/(n_j − 1)`` as in §7.

    Examples
    --------
    >>> r = gap_difference_independent([1, 2, 4, 9, 4], [6, 10, 14, 12, 8],
    ...                                [2, 3, 5, 6, 4], [6, 10, 14, 12, 8], [1, 2, 3, 4, 5])
    >>> round(r["difference"], 2)
    0.3
    """
    v = _as_levels(levels)
    alpha = _as_alpha(alpha)
    k1 = _as_k_min(k_min_staff, "k_min_staff")
    k2 = _as_k_min(k_min_customer, "k_min_customer")
    names = ("staff_1", "customer_1", "staff_2", "customer_2")
    cs = [
        _as_counts(c, v.size, f"counts_{nm}")
        for c, nm in zip(
            (counts_staff_1, counts_customer_1, counts_staff_2, counts_customer_2), names, strict=True
        )
    ]
    groups = [_describe(c, v) for c in cs]
    ns = [g[0] for g in groups]
    status = contrast_status(
        ns, [g[2] == 0 for g in groups], is_staff=[True, False, True, False],
        k_min_staff=k1, k_min_customer=k2,
    )  # fmt: skip
    reasons = _Reasons()
    out: dict[str, Any] = {f"n_{nm}": None for nm in names}
    out.update(dict.fromkeys(_RESULT_KEYS))
    out["report_status"] = status
    if not status.startswith("suppressed"):
        for nm, n, kmin in zip(names, ns, (k1, k2, k1, k2), strict=True):
            out[f"n_{nm}"] = n if (n == 0 or n >= kmin) else None
    if status in ("insufficient_data", "no_variance", "ok", "ok_low_base"):
        (_, m1, _), (_, m2, _), (_, m3, _), (_, m4, _) = groups
        out["difference"] = (m1 - m2) - (m3 - m4)
        if status != "insufficient_data":
            _, res = linear_contrast(groups, (1, -1, -1, 1), alpha)
            if res is None:
                for key in ("se", "df", "t", "p", "ci_low", "ci_high"):
                    reasons.add(key, "all four groups have zero variance")
            else:
                out.update(res)
    out["undefined"] = list(reasons.items)
    _ensure_reasons(out, status)
    return _jsonify(out)
