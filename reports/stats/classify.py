"""Blind-spot classification and importance–performance helper (docs/methods.md §8)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

from ._core import ASSESSABLE_STATUSES, _as_alpha

__all__ = ["CLASSES", "classify_gap", "importance_performance"]

#: classes in the order their rules are checked (not_assessed first)
CLASSES = (
    "not_assessed",
    "blind_spot",
    "hidden_strength",
    "minor_gap",
    "aligned",
    "inconclusive",
)


def _finite(x: Any) -> bool:
    return x is not None and not isinstance(x, bool) and math.isfinite(float(x))


def classify_gap(
    gap: float | None,
    p_adjusted: float | None,
    ci90_low: float | None,
    ci90_high: float | None,
    *,
    p_adjusted_mwu: float | None,
    delta: float,
    status: str = "ok",
    alpha: float = 0.05,
) -> str:
    """Classify one item / dimension gap.

    Parameters
    ----------
    gap : float or None
        Mean gap staff − customer.
    p_adjusted : float or None
        Multiplicity-adjusted Welch p (BH for items, Holm for dimension
        headlines); None if undefined.
    ci90_low, ci90_high : float or None
        90 % Welch CI of the gap (TOST equivalence at 5 %).
    p_adjusted_mwu : float or None
        The Mann–Whitney p of the same comparison, adjusted over the same
        family with the same method as ``p_adjusted``. A gap is a discovery
        only when this one is ≤ α as well; None (undefined) never confirms.
    delta : float
        Materiality margin, see :func:`materiality_delta` (0.25 on 5 points,
        0.375 on 7 points).
    status : str, default "ok"
        Report status of the comparison.
    alpha : float, default 0.05

    Returns
    -------
    str
        One of :data:`CLASSES`.

    Notes
    -----
    Checked in order::

        not_assessed     status not ok / ok_low_base, or Welch undefined
        (significant     p ≤ α and p_mwu ≤ α: both adjusted tests agree)
        blind_spot       significant, gap > 0, gap ≥ δ
        hidden_strength  significant, gap < 0, |gap| ≥ δ
        minor_gap        significant, |gap| < δ
        inconclusive     p ≤ α but not p_mwu ≤ α (Welch alone)
        aligned          −δ < ci90_low and ci90_high < δ
        inconclusive     otherwise

    "aligned" needs equivalence evidence; a non-significant test alone is
    "inconclusive". Requiring the Mann–Whitney p as well keeps the false
    discovery rate of the classes at or below α where the Welch p alone,
    in the far tail BH uses, did not (few staff, answers piled at the top;
    docs/methods.md §12.1).

    References
    ----------
    docs/methods.md §8. Schuirmann DJ (1987) for TOST.

    Examples
    --------
    >>> classify_gap(0.53, 0.09, 0.02, 1.04, p_adjusted_mwu=0.2, delta=0.25)
    'inconclusive'
    >>> classify_gap(0.61, 0.001, 0.4, 0.82, p_adjusted_mwu=0.004, delta=0.25)
    'blind_spot'
    >>> classify_gap(0.61, 0.001, 0.4, 0.82, p_adjusted_mwu=0.09, delta=0.25)
    'inconclusive'
    >>> classify_gap(0.02, 0.8, -0.1, 0.14, p_adjusted_mwu=0.7, delta=0.25)
    'aligned'
    """
    alpha = _as_alpha(alpha)
    if not _finite(delta) or float(delta) <= 0:
        raise ValueError(f"delta must be a positive number, got {delta!r}")
    if status not in ASSESSABLE_STATUSES:
        return "not_assessed"
    if not all(_finite(x) for x in (gap, p_adjusted, ci90_low, ci90_high)):
        return "not_assessed"
    if ci90_low > ci90_high:
        raise ValueError(f"ci90_low ({ci90_low}) must not exceed ci90_high ({ci90_high})")
    if not 0 <= p_adjusted <= 1:
        raise ValueError(f"p_adjusted must be in [0, 1], got {p_adjusted!r}")
    if p_adjusted_mwu is not None and not (_finite(p_adjusted_mwu) and 0 <= p_adjusted_mwu <= 1):
        raise ValueError(f"p_adjusted_mwu must be None or in [0, 1], got {p_adjusted_mwu!r}")
    if p_adjusted <= alpha:
        if p_adjusted_mwu is None or p_adjusted_mwu > alpha:
            return "inconclusive"  # Welch alone: not confirmed by the ordinal test
        if gap > 0 and gap >= delta:
            return "blind_spot"
        if gap < 0 and -gap >= delta:
            return "hidden_strength"
        return "minor_gap"
    if -delta < ci90_low and ci90_high < delta:
        return "aligned"
    return "inconclusive"


def importance_performance(
    item_ids: Sequence[Hashable],
    performance: Sequence[float | None],
    importance: Sequence[float | None],
    *,
    classes: Sequence[str | None] | None = None,
    gaps: Sequence[float | None] | None = None,
) -> dict[str, Any]:
    """Importance–performance quadrants and the action lists.

    Parameters
    ----------
    item_ids : sequence
        Item identifiers (returned as given).
    performance : sequence of float or None
        Customer mean per item (None = not shown, e.g. suppressed).
    importance : sequence of float or None
        Stated or derived importance per item.
    classes : sequence of str, optional
        Classification per item (:func:`classify_gap`).
    gaps : sequence of float, optional
        Gap per item; needed to order the priority list.

    Returns
    -------
    dict
        ``performance_split`` and ``importance_split`` (grand means over the
        items with both values), ``items`` (one dict per item with
        ``item``, ``quadrant`` in {"concentrate_here", "keep_up_the_good_work",
        "low_priority", "possible_overkill"} or None), ``priority`` (blind-spot
        items in the high-importance half, by gap × importance descending) and
        ``messaging`` (hidden-strength items in the high-importance half, by
        |gap| × importance descending).

    Notes
    -----
    Values at the grand mean count as "high".

    References
    ----------
    Martilla JA, James JC (1977). Importance-performance analysis.
    J Marketing 41:77–79.

    Examples
    --------
    >>> r = importance_performance(["a", "b"], [3.0, 4.0], [4.5, 2.0])
    >>> [i["quadrant"] for i in r["items"]]
    ['concentrate_here', 'possible_overkill']
    """
    n = len(item_ids)
    for name, seq in (("performance", performance), ("importance", importance),
                      ("classes", classes), ("gaps", gaps)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has length {len(seq)} but there are {n} items")
    usable = [
        i for i in range(n) if _finite(performance[i]) and _finite(importance[i])
    ]
    if not usable:
        return {"performance_split": None, "importance_split": None,
                "items": [{"item": item_ids[i], "quadrant": None} for i in range(n)],
                "priority": [], "messaging": []}
    perf_split = sum(float(performance[i]) for i in usable) / len(usable)
    imp_split = sum(float(importance[i]) for i in usable) / len(usable)
    items = []
    priority, messaging = [], []
    for i in range(n):
        quadrant = None
        if i in usable:
            hi_imp = float(importance[i]) >= imp_split
            hi_perf = float(performance[i]) >= perf_split
            quadrant = {
                (True, False): "concentrate_here",
                (True, True): "keep_up_the_good_work",
                (False, False): "low_priority",
                (False, True): "possible_overkill",
            }[(hi_imp, hi_perf)]
            cls = classes[i] if classes is not None else None
            if hi_imp and cls in ("blind_spot", "hidden_strength"):
                if gaps is None or not _finite(gaps[i]):
                    raise ValueError("gaps are required to order blind-spot / hidden-strength items")
                score = abs(float(gaps[i])) * float(importance[i])
                (priority if cls == "blind_spot" else messaging).append((score, i))
        items.append({"item": item_ids[i], "quadrant": quadrant})
    priority.sort(key=lambda t: (-t[0], t[1]))
    messaging.sort(key=lambda t: (-t[0], t[1]))
    return {
        "performance_split": perf_split,
        "importance_split": imp_split,
        "items": items,
        "priority": [item_ids[i] for _, i in priority],
        "messaging": [item_ids[i] for _, i in messaging],
    }
