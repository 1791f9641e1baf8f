"""Multiplicity adjustment within one family of tests (docs/methods.md §4)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["holm", "benjamini_hochberg", "adjust_p_values"]


def _prepare(p_values: Sequence[float | None]) -> tuple[list[int], np.ndarray]:
    idx: list[int] = []
    vals: list[float] = []
    for i, p in enumerate(p_values):
        if p is None:
            continue
        if isinstance(p, bool):
            raise ValueError(f"p-value at position {i} is a bool, not a number")
        f = float(p)
        if not math.isfinite(f) or f < 0 or f > 1:
            raise ValueError(f"p-value at position {i} must be in [0, 1], got {p!r}")
        idx.append(i)
        vals.append(f)
    return idx, np.asarray(vals, dtype=float)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm (1979) step-down adjusted p-values; None entries stay None.

    Parameters
    ----------
    p_values : sequence of float or None
        Unadjusted p-values of one family; None = undefined (excluded from m).

    Returns
    -------
    list of float or None
        Adjusted p-values in the original order.

    Notes
    -----
    With the m defined p-values sorted ascending,
    ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``. Reject when p̃ ≤ α.
    Controls the family-wise error rate under any dependence.

    References
    ----------
    Holm S (1979). Scand J Stat 6:65–70.

    Examples
    --------
    >>> holm([0.5, None, 0.25, 0.125])
    [0.5, None, 0.5, 0.375]
    """
    idx, p = _prepare(p_values)
    out: list[float | None] = [None] * len(p_values)
    m = p.size
    if m == 0:
        return out
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adj = np.maximum.accumulate(adj)
    for rank, pos in enumerate(order):
        out[idx[pos]] = float(adj[rank])
    return out


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg (1995) step-up adjusted p-values; None entries stay None.

    Parameters
    ----------
    p_values : sequence of float or None
        Unadjusted p-values of one family; None = undefined (excluded from m).

    Returns
    -------
    list of float or None
        Adjusted p-values (q-values) in the original order.

    Notes
    -----
    With the m defined p-values sorted ascending,
    ``p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j)``. Reject when p̃ ≤ q (0.05).
    Controls the false discovery rate under independence and positive
    regression dependence.

    References
    ----------
    Benjamini Y, Hochberg Y (1995). JRSS-B 57:289–300.
    Benjamini Y, Yekutieli D (2001). Ann Stat 29:1165–1188.

    Examples
    --------
    >>> [round(x, 4) for x in benjamini_hochberg([0.01, 0.04, 0.03])]
    [0.03, 0.04, 0.04]
    """
    idx, p = _prepare(p_values)
    out: list[float | None] = [None] * len(p_values)
    m = p.size
    if m == 0:
        return out
    order = np.argsort(p, kind="stable")
    raw = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    adj = np.minimum.accumulate(raw[::-1])[::-1]
    for rank, pos in enumerate(order):
        out[idx[pos]] = float(adj[rank])
    return out


def adjust_p_values(p_values: Sequence[float | None], *, method: str) -> list[float | None]:
    """Adjust one family with ``method`` = ``"holm"`` or ``"bh"``.

    Examples
    --------
    >>> adjust_p_values([0.2, None], method="bh")
    [0.2, None]
    """
    if method == "holm":
        return holm(p_values)
    if method in ("bh", "fdr_bh"):
        return benjamini_hochberg(p_values)
    raise ValueError(f"method must be 'holm' or 'bh', got {method!r}")
