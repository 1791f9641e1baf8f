"""Cronbach's alpha of one scale and Feldt's interval for it (docs/methods.md §3.3).

:mod:`reports.stats.dimensions` applies them to a side of a dimension with the display rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = ["cronbach_alpha", "feldt_interval", "alpha_interpretation"]


def alpha_interpretation(alpha: float | None) -> str | None:
    """Guide only: < 0.6 poor, 0.6–0.7 questionable, ≥ 0.7 acceptable.

    Examples
    --------
    >>> alpha_interpretation(0.65)
    'questionable'
    """
    if alpha is None:
        return None
    if alpha < 0.6:
        return "poor"
    if alpha < 0.7:
        return "questionable"
    return "acceptable"


def cronbach_alpha(
    answers: Sequence[Sequence[float | None]] | np.ndarray | pd.DataFrame,
    *,
    nan_policy: str = "listwise",
    ci: float = 0.95,
) -> dict[str, Any]:
    """Cronbach's alpha of one side, listwise (default) or pairwise.

    Parameters
    ----------
    answers : 2-D array-like (respondents × items)
        Item answers, reverse-keyed items already recoded; NaN = missing.
    nan_policy : {"listwise", "pairwise"}, default "listwise"
        Listwise: respondents who answered every item (SPSS RELIABILITY).
        Pairwise: pairwise-complete covariances (psych::alpha default).
    ci : float, default 0.95
        Level of the Feldt CI (listwise only).

    Returns
    -------
    dict
        ``alpha``, ``n`` (complete cases for listwise; respondents with any
        answer for pairwise), ``n_items``, ``ci_low``, ``ci_high`` and
        ``reason`` (None values when undefined).

    Notes
    -----
    ``α = m/(m − 1) · (1 − tr(Σ)/1ᵀΣ1)`` with Σ the item covariance matrix
    (ddof 1). Feldt CI with ``df1 = n − 1``, ``df2 = (n − 1)(m − 1)``:
    ``[1 − (1 − α)·F_{1−c/2}(df1, df2), 1 − (1 − α)·F_{c/2}(df1, df2)]``
    (c = 1 − ci). pingouin reports the same CI rounded to 3 decimals, and for
    listwise with missing rows uses the full n instead of the complete n.

    References
    ----------
    Cronbach LJ (1951). Psychometrika 16:297–334. Feldt LS (1965).
    Psychometrika 30:357–370.

    Examples
    --------
    >>> r = cronbach_alpha([[1, 2], [2, 3], [3, 3], [4, 5]])
    >>> round(r["alpha"], 4)
    0.96
    """
    if nan_policy not in ("listwise", "pairwise"):
        raise ValueError(f"nan_policy must be 'listwise' or 'pairwise', got {nan_policy!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    try:
        x = np.asarray(answers, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("answers must be a 2-D table of numbers") from exc
    if x.ndim != 2:
        raise ValueError(f"answers must be 2-D (respondents × items), got shape {x.shape}")
    if np.any(np.isinf(x)):
        raise ValueError("answers contain infinite values")
    m = x.shape[1]
    out: dict[str, Any] = {
        "alpha": None, "n": 0, "n_items": m, "ci_low": None, "ci_high": None, "reason": None,
    }  # fmt: skip
    if m < 2:
        out["reason"] = "needs at least 2 items"
        return out
    if nan_policy == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
        n = x.shape[0]
        out["n"] = n
        if n < 2:
            out["reason"] = "fewer than 2 complete cases"
            return out
        cov = np.cov(x, rowvar=False, ddof=1)
    else:
        x = x[~np.isnan(x).all(axis=1)]
        n = x.shape[0]
        out["n"] = n
        cov = pd.DataFrame(x).cov().to_numpy()
        if np.isnan(cov).any():
            out["reason"] = "an item pair has fewer than 2 joint answers"
            return out
    total = cov.sum()
    if not total > 0:
        out["reason"] = "variance of the total score is zero"
        return out
    alpha = m / (m - 1) * (1 - np.trace(cov) / total)
    out["alpha"] = float(alpha)
    if nan_policy == "listwise":
        out["ci_low"], out["ci_high"] = feldt_interval(float(alpha), n, m, ci=ci)
    return out


def feldt_interval(alpha: float, n_complete: int, n_items: int, *, ci: float = 0.95) -> tuple[float, float]:
    """Feldt's (1965) interval for listwise Cronbach's alpha.

    Parameters
    ----------
    alpha : float
        Listwise alpha.
    n_complete : int
        Respondents who answered every item (the n listwise alpha was computed
        on), at least 2. Not the number of rows: a respondent who skipped an
        item adds nothing to listwise alpha and must add nothing to its df.
    n_items : int
        Items of the scale, at least 2.
    ci : float, default 0.95

    Returns
    -------
    tuple of float
        ``(low, high)``.

    Notes
    -----
    ``(1 − α̂)/(1 − α) ~ F(n − 1, (n − 1)(m − 1))``, so with c = 1 − ci
    ``low = 1 − (1 − α̂)·F_{1−c/2}``, ``high = 1 − (1 − α̂)·F_{c/2}``
    (``df1 = n − 1``, ``df2 = (n − 1)(m − 1)``). pingouin.cronbach_alpha uses
    the same formula with n = all rows, which is too narrow when rows skip items.

    References
    ----------
    Feldt LS (1965). Psychometrika 30:357–370. docs/methods.md §3.3.

    Examples
    --------
    >>> lo, hi = feldt_interval(0.8, 30, 4)
    >>> round(lo, 4), round(hi, 4)
    (0.6506, 0.8955)
    """
    if isinstance(n_complete, bool) or int(n_complete) != n_complete or n_complete < 2:
        raise ValueError(f"n_complete must be an integer >= 2, got {n_complete!r}")
    if isinstance(n_items, bool) or int(n_items) != n_items or n_items < 2:
        raise ValueError(f"n_items must be an integer >= 2, got {n_items!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    if not math.isfinite(alpha) or alpha > 1:
        raise ValueError(f"alpha must be a finite number of at most 1, got {alpha!r}")
    c = 1 - ci
    df1 = int(n_complete) - 1
    df2 = df1 * (int(n_items) - 1)
    low = 1 - (1 - alpha) * float(_st.f.isf(c / 2, df1, df2))
    high = 1 - (1 - alpha) * float(_st.f.isf(1 - c / 2, df1, df2))
    return float(low), float(high)
