"""Family-level post-processing: adjusted p-values, then classification (§4, §8)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ._core import REPORTABLE_STATUSES, STATUS_REASONS, _as_alpha, _ensure_reasons
from .classify import classify_gap
from .multiplicity import benjamini_hochberg, holm

__all__ = ["adjust_item_family", "adjust_dimension_family"]

_PENDING_MARK = "(call adjust_"


def _test_p(result: dict, test: str) -> float | None:
    if test == "welch":
        return (result.get("welch") or {}).get("p")
    if test == "mwu":
        return (result.get("mwu") or {}).get("p")
    if test == "topbox":
        return (result.get("topbox") or {}).get("p_primary")
    raise ValueError(f"unknown test {test!r}")


def _adjust_family(
    results: Sequence[dict], *, tests: tuple[str, ...], classify_with: str, alpha: float
) -> list[dict]:
    alpha = _as_alpha(alpha)
    if classify_with not in ("bh", "holm"):
        raise ValueError(f"classify_with must be 'bh' or 'holm', got {classify_with!r}")
    out = []
    for i, r in enumerate(results):
        if not isinstance(r, dict) or "report_status" not in r or "p_adjusted" not in r:
            raise ValueError(f"result {i} is not a comparison result (missing report_status / p_adjusted)")
        out.append(copy.deepcopy(r))
    for r in out:
        r["undefined"] = [u for u in r.get("undefined", []) if _PENDING_MARK not in u]
        r["p_adjusted"] = {}
    for test in tests:
        family: list[float | None] = []
        for r in out:
            p = _test_p(r, test)
            family.append(p if r["report_status"] in REPORTABLE_STATUSES and p is not None else None)
        adj = {"bh": benjamini_hochberg(family), "holm": holm(family)}
        for j, r in enumerate(out):
            for method in ("bh", "holm"):
                key = f"{test}_{method}"
                r["p_adjusted"][key] = adj[method][j]
                if family[j] is None:
                    why = (
                        f"not in the family ({test} p undefined)"
                        if r["report_status"] in REPORTABLE_STATUSES
                        else f"not in the family (status {r['report_status']})"
                    )
                    r["undefined"].append(f"p_adjusted.{key}: {why}")
    for r in out:
        cls = r["classification"]
        welch = r.get("welch") or {}
        pw = r["p_adjusted"].get(f"welch_{classify_with}")
        pm = r["p_adjusted"].get(f"mwu_{classify_with}")
        cls["class"] = classify_gap(
            r.get("gap"),
            pw,
            welch.get("ci90_low"),
            welch.get("ci90_high"),
            p_adjusted_mwu=pm,
            delta=cls["delta"],
            status=r["report_status"],
            alpha=alpha,
        )
        if pw is None or pm is None:
            cls["robustness"] = None
            r["undefined"].append(
                "classification.robustness: needs both Welch and Mann–Whitney adjusted p"
            )
        else:
            cls["robustness"] = "consistent" if (pw <= alpha) == (pm <= alpha) else "mixed"
        _ensure_reasons(r, STATUS_REASONS.get(r["report_status"], "undefined"))
    return out


def adjust_item_family(
    results: Sequence[dict[str, Any]], *, alpha: float = 0.05
) -> list[dict[str, Any]]:
    """Fill ``p_adjusted`` (BH and Holm for Welch, MWU, top-box) and ``classification``.

    Parameters
    ----------
    results : sequence of dict
        :func:`item_comparison` results of **one** comparison view (one staff
        group vs one customer group, one wave) — the family.
    alpha : float, default 0.05
        Rejection level for adjusted p (q = 0.05 for BH).

    Returns
    -------
    list of dict
        New result dicts (inputs are not modified), in the input order.

    Notes
    -----
    For each test, only items with a reportable status (ok, ok_low_base,
    no_variance) and a defined p enter the family; ``m`` counts only those.
    The top-box family uses ``topbox.p_primary`` (z or Fisher). Classification
    uses the BH-adjusted Welch p, and a discovery (blind spot, hidden strength,
    minor gap) needs the BH-adjusted Mann–Whitney p ≤ α as well (§8);
    ``classification.robustness`` is "mixed" when BH-adjusted Welch and
    Mann–Whitney disagree on significance.

    References
    ----------
    Benjamini Y, Hochberg Y (1995); Holm S (1979). docs/methods.md §4, §8.

    Examples
    --------
    >>> from reports.stats import item_comparison
    >>> r = item_comparison([1, 2, 4, 9, 4], [6, 10, 14, 12, 8], [1, 2, 3, 4, 5], [4, 5])
    >>> [x["classification"]["class"] for x in adjust_item_family([r])]
    ['inconclusive']
    """
    return _adjust_family(results, tests=("welch", "mwu", "topbox"), classify_with="bh", alpha=alpha)


def adjust_dimension_family(
    results: Sequence[dict[str, Any]],
    *,
    alpha: float = 0.05,
    classify_with: str = "holm",
) -> list[dict[str, Any]]:
    """Fill ``p_adjusted`` (BH and Holm for Welch, MWU) and classify dimensions.

    Parameters
    ----------
    results : sequence of dict
        :func:`dimension_comparison` results of one comparison view.
    alpha : float, default 0.05
    classify_with : {"holm", "bh"}, default "holm"
        Which adjustment drives the classification: the Welch p and, to
        confirm a discovery, the Mann–Whitney p of the scores, both adjusted
        this way. Holm is the default
        because dimension classes are the headline claims quoted externally
        (§4); both adjusted values are always reported.

    Returns
    -------
    list of dict
        New result dicts in the input order.

    Examples
    --------
    >>> adjust_dimension_family([])
    []
    """
    return _adjust_family(results, tests=("welch", "mwu"), classify_with=classify_with, alpha=alpha)
