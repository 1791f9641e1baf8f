"""Shared building blocks: input validation, JSON-safe output, the two-sample engine.

Everything here works on per-level count vectors ``(a, b, v)`` (see docs/methods.md §1.1).
Raw score arrays (dimension scores, NPS answers) are first tabulated on their
distinct values with :func:`tabulate`, so one engine serves items, dimensions and
churn comparisons.

Why one file: it is the package's private toolbox, used by every other module of
``reports.stats``; the validators, the status rules and the two-sample tests are
small, call one another, and are read (and checked against docs/methods.md) together.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import special
from scipy import stats as _st

__all__ = [
    "REPORTABLE_STATUSES",
    "ASSESSABLE_STATUSES",
    "SUPPRESSED_STATUSES",
    "check_json_safe",
    "unexplained_nulls",
    "expand_counts",
    "tabulate",
    "cliffs_delta_magnitude",
    "hedges_g_magnitude",
]

#: statuses whose numbers may be shown (§5.3)
REPORTABLE_STATUSES = ("ok", "ok_low_base", "no_variance")
#: statuses for which the classification of §8 is attempted
ASSESSABLE_STATUSES = ("ok", "ok_low_base")
#: statuses for which nothing at all may be shown
SUPPRESSED_STATUSES = (
    "suppressed_anonymity",
    "suppressed_min_n",
    "suppressed_complementary",
)


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #
def _as_levels(levels: Sequence[float] | np.ndarray, name: str = "levels") -> np.ndarray:
    try:
        v = np.asarray(levels, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers") from exc
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"{name} must be a 1-D sequence of at least 2 scale points, got {levels!r}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite numbers, got {levels!r}")
    if not np.all(np.diff(v) > 0):
        raise ValueError(f"{name} must be strictly increasing, got {levels!r}")
    return v


def _as_counts(counts: Sequence[int] | np.ndarray, k: int, name: str) -> np.ndarray:
    """Validate a per-level count vector: length k, finite, non-negative integers."""
    if counts is None:
        raise ValueError(f"{name} is required")
    try:
        c = np.asarray(counts, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of non-negative integers") from exc
    if c.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {c.shape}")
    if c.size != k:
        raise ValueError(f"{name} has length {c.size} but there are {k} levels")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} contains non-finite values")
    if np.any(c < 0):
        raise ValueError(f"{name} contains negative counts: {list(np.asarray(counts).tolist())}")
    if np.any(c != np.round(c)):
        raise ValueError(f"{name} must contain whole numbers, got {list(np.asarray(counts).tolist())}")
    return c.astype(np.int64)


def _as_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return float(alpha)


def _as_k_min(k_min: int, name: str) -> int:
    if isinstance(k_min, bool) or not isinstance(k_min, (int, np.integer)) or k_min < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {k_min!r}")
    return int(k_min)


def _topbox_mask(v: np.ndarray, topbox_levels: Iterable[float]) -> np.ndarray:
    if topbox_levels is None:
        raise ValueError("topbox_levels is required (e.g. [4, 5] for a 5-point top-2 box)")
    tb = list(topbox_levels)
    if not tb:
        raise ValueError("topbox_levels must not be empty")
    mask = np.zeros(v.size, dtype=bool)
    for level in tb:
        hit = np.flatnonzero(v == float(level))
        if hit.size == 0:
            raise ValueError(f"topbox level {level!r} is not one of the scale levels {v.tolist()}")
        mask[hit] = True
    return mask


class CountedScores:
    """A sample given as distinct values and how often each occurs (a score table), never expanded.

    Every function here that takes raw respondent scores accepts one in their
    place and gives the same result: they tabulate the scores first anyway
    (:func:`tabulate`). A wave of a million respondents then costs a handful of
    distinct scores, not a million floats.

    Examples
    --------
    >>> s = CountedScores([3.0, 4.5], [2, 1])
    >>> s.size, s.min(), s.max()
    (3, 3.0, 4.5)
    """

    __slots__ = ("values", "counts")

    def __init__(self, values: Sequence[float] | np.ndarray, counts: Sequence[int] | np.ndarray):
        v = np.asarray(values, dtype=float)
        c = np.asarray(counts, dtype=np.int64)
        if v.shape != c.shape or v.ndim != 1:
            raise ValueError("values and counts must be 1-D and of the same length")
        if np.any(c < 0):
            raise ValueError("counts must be non-negative")
        keep = (c > 0) & ~np.isnan(v)
        self.values, self.counts = v[keep], c[keep]

    @property
    def size(self) -> int:
        return int(self.counts.sum())

    def min(self) -> float:
        return float(self.values.min())

    def max(self) -> float:
        return float(self.values.max())


def _as_scores(x: Sequence[float] | np.ndarray | CountedScores, name: str) -> np.ndarray | CountedScores:
    """Raw score array; NaN / None = missing and dropped. A :class:`CountedScores` passes as it is."""
    if isinstance(x, CountedScores):
        if np.any(np.isinf(x.values)):
            raise ValueError(f"{name} contains infinite values")
        return x
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D sequence of numbers (None/NaN = missing)") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if np.any(np.isinf(arr)):
        raise ValueError(f"{name} contains infinite values")
    return arr[~np.isnan(arr)]


# --------------------------------------------------------------------------- #
# small public helpers
# --------------------------------------------------------------------------- #
def expand_counts(counts: Sequence[int], levels: Sequence[float]) -> np.ndarray:
    """Expand a per-level count vector into the raw answers it summarises.

    Parameters
    ----------
    counts : sequence of int
        ``counts[l]`` = number of answers at ``levels[l]``.
    levels : sequence of float
        Strictly increasing scale points.

    Returns
    -------
    numpy.ndarray
        Sorted 1-D float array of length ``sum(counts)``.

    Examples
    --------
    >>> expand_counts([2, 0, 1], [1, 2, 3]).tolist()
    [1.0, 1.0, 3.0]
    """
    v = _as_levels(levels)
    c = _as_counts(counts, v.size, "counts")
    return np.repeat(v, c)


def tabulate(*samples: Sequence[float] | np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Count table of one or more raw samples on their pooled distinct values.

    Parameters
    ----------
    *samples : array-like
        1-D arrays of numbers; NaN / None are dropped (missing).

    Returns
    -------
    values : numpy.ndarray
        Sorted distinct values over all samples.
    counts : list of numpy.ndarray
        One int64 count vector per sample, aligned with ``values``.

    Examples
    --------
    >>> values, (a, b) = tabulate([1, 2, 2], [2, 3])
    >>> values.tolist(), a.tolist(), b.tolist()
    ([1.0, 2.0, 3.0], [1, 2, 0], [0, 1, 1])
    """
    clean = [_as_scores(s, f"sample {i}") for i, s in enumerate(samples)]
    raw = [s.values if isinstance(s, CountedScores) else s for s in clean]
    values = np.unique(np.concatenate(raw)) if clean else np.array([])
    counts = [
        np.bincount(np.searchsorted(values, s.values), weights=s.counts, minlength=values.size).astype(np.int64)
        if isinstance(s, CountedScores)
        else np.bincount(np.searchsorted(values, s), minlength=values.size).astype(np.int64)
        for s in clean
    ]
    return values, counts


def check_json_safe(obj: Any) -> str:
    """Serialise ``obj`` strictly; raise ``ValueError`` on NaN, inf or non-JSON types.

    Parameters
    ----------
    obj : any
        A result dict of this package.

    Returns
    -------
    str
        The JSON text (``json.dumps(obj, allow_nan=False)``).

    Examples
    --------
    >>> check_json_safe({"p": None, "n": 3})
    '{"p": null, "n": 3}'
    """
    try:
        return json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"result is not JSON-safe: {exc}") from exc


def hedges_g_magnitude(g: float | None) -> str | None:
    """Cohen's labels for |g|: <0.2 negligible, <0.5 small, <0.8 medium, else large.

    Examples
    --------
    >>> hedges_g_magnitude(0.432579)
    'small'
    """
    if g is None:
        return None
    g = abs(float(g))
    if g < 0.2:
        return "negligible"
    if g < 0.5:
        return "small"
    if g < 0.8:
        return "medium"
    return "large"


def cliffs_delta_magnitude(delta: float | None) -> str | None:
    """Romano et al. (2006) labels for |δ|: <0.147, <0.33, <0.474, else large.

    Examples
    --------
    >>> cliffs_delta_magnitude(0.25)
    'small'
    """
    if delta is None:
        return None
    d = abs(float(delta))
    if d < 0.147:
        return "negligible"
    if d < 0.33:
        return "small"
    if d < 0.474:
        return "medium"
    return "large"


# --------------------------------------------------------------------------- #
# output helpers
# --------------------------------------------------------------------------- #
class _Reasons:
    """Collects ``"path: reason"`` strings for every null value."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, reason: str) -> None:
        entry = f"{path}: {reason}"
        if entry not in self.items:
            self.items.append(entry)

    def num(self, path: str, value: Any, reason: str | None = None) -> float | None:
        """Python float, or None (+ reason) if value is None or not finite."""
        if value is None:
            self.add(path, reason or "undefined")
            return None
        f = float(value)
        if not math.isfinite(f):
            self.add(path, reason or "not a finite number")
            return None
        return f


def _covered(path: str, reasons: Sequence[str]) -> bool:
    for r in reasons:
        p = r.split(": ", 1)[0]
        if p == path or path.startswith(p + ".") or p == "*":
            return True
    return False


def _null_leaves(obj: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(obj, Mapping):
        for k, val in obj.items():
            if k == "undefined":
                continue
            out.extend(_null_leaves(val, f"{prefix}.{k}" if prefix else str(k)))
    elif obj is None:
        out.append(prefix)
    return out


def _ensure_reasons(result: dict, default_reason: str) -> None:
    """Give every null leaf a reason (the most specific already recorded wins)."""
    undefined = result.setdefault("undefined", [])
    for path in _null_leaves(result):
        if not _covered(path, undefined):
            top = path.split(".", 1)[0]
            if isinstance(result.get(top), Mapping) and all(
                v is None for v in result[top].values()
            ):
                path = top
            entry = f"{path}: {default_reason}"
            if entry not in undefined:
                undefined.append(entry)


# --------------------------------------------------------------------------- #
# core formulas on counts
# --------------------------------------------------------------------------- #
def _describe(c: np.ndarray, v: np.ndarray) -> tuple[int, float | None, float | None]:
    """n, mean, variance (ddof=1) from counts; None where undefined."""
    n = int(c.sum())
    if n == 0:
        return 0, None, None
    m = float(c @ v) / n
    if n < 2:
        return n, m, None
    var = float(c @ (v - m) ** 2) / (n - 1)
    return n, m, var


def _t_sf2(t: float, df: float) -> float:
    """Two-sided p = 2·(1 − F_t(|t|; df)), via the survival function for accuracy."""
    return float(2.0 * special.stdtr(df, -abs(t)))


def _welch(
    m1: float, var1: float, n1: int, m2: float, var2: float, n2: int, alpha: float
) -> tuple[dict[str, float] | None, str | None]:
    """Welch t-test and CIs (§2.2) from moments; (None, reason) if undefined."""
    if n1 < 2 or n2 < 2:
        return None, "fewer than 2 answers on a side"
    q1, q2 = var1 / n1, var2 / n2
    q = q1 + q2
    if not q > 0:
        return None, "both sides have zero variance"
    se = math.sqrt(q)
    df = q**2 / (q1**2 / (n1 - 1) + q2**2 / (n2 - 1))
    gap = m1 - m2
    t = gap / se
    tcrit = float(_st.t.ppf(1 - alpha / 2, df))
    tcrit90 = float(_st.t.ppf(0.95, df))
    return (
        {
            "t": t,
            "df": df,
            "p": _t_sf2(t, df),
            "se": se,
            "ci_low": gap - tcrit * se,
            "ci_high": gap + tcrit * se,
            "ci90_low": gap - tcrit90 * se,
            "ci90_high": gap + tcrit90 * se,
        },
        None,
    )


def _satterthwaite(components: Sequence[tuple[float, float]]) -> float:
    """df = (Σ q_j)² / Σ q_j²/df_j for components (q_j, df_j) with df_j > 0."""
    num = sum(q for q, _ in components) ** 2
    den = sum(q**2 / d for q, d in components)
    return num / den


def _cohen(
    m1: float, var1: float, n1: int, m2: float, var2: float, n2: int
) -> tuple[float | None, float | None, str | None]:
    """Cohen's d and Hedges' g (§2.3); (None, None, reason) if undefined."""
    if n1 < 2 or n2 < 2:
        return None, None, "fewer than 2 answers on a side"
    sp2 = ((n1 - 1) * var1 + (n2 - 1) * var2) / (n1 + n2 - 2)
    if not sp2 > 0:
        return None, None, "pooled SD is zero"
    d = (m1 - m2) / math.sqrt(sp2)
    g = d * (1 - 3 / (4 * (n1 + n2) - 9))
    return d, g, None


def _mwu(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Mann–Whitney U with exact tie correction from counts (§2.4).

    Integer arithmetic (Python ints) keeps U, δ and the tie term exact.
    """
    ai = [int(x) for x in a]
    bi = [int(x) for x in b]
    n1, n2 = sum(ai), sum(bi)
    n = n1 + n2
    below = 0  # B_<l
    twice_u1 = 0  # 2·U1 = Σ a_l (2 B_<l + b_l)
    dom = 0  # Σ a_l (B_<l − B_>l)
    tie_term = 0
    for al, bl in zip(ai, bi, strict=True):
        above = n2 - below - bl
        twice_u1 += al * (2 * below + bl)
        dom += al * (below - above)
        t = al + bl
        tie_term += t**3 - t
        below += bl
    u1 = twice_u1 / 2
    u2 = n1 * n2 - u1
    nn = n1 * n2
    sigma2 = nn / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    out: dict[str, Any] = {
        "U_staff": u1,
        "U_customer": u2,
        "tie_term": tie_term,
        "sigma2_U": sigma2,
        "sigma_U": math.sqrt(sigma2) if sigma2 > 0 else 0.0,
        "cliffs_delta": dom / nn,
        "rank_biserial": twice_u1 / nn - 1,
        "cles": u1 / nn,
        "z": None,
        "p": None,
    }
    if sigma2 > 0:
        z = (max(u1, u2) - nn / 2 - 0.5) / math.sqrt(sigma2)
        out["z"] = z
        out["p"] = min(1.0, float(2.0 * special.ndtr(-z)))
    return out


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = 2 * n * p + z**2
    half = z * math.sqrt(z**2 + 4 * n * p * (1 - p))
    den = 2 * (n + z**2)
    return (centre - half) / den, (centre + half) / den


def _newcombe(x1: int, n1: int, x2: int, n2: int, alpha: float) -> tuple[float, float]:
    z = float(special.ndtri(1 - alpha / 2))
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    diff = p1 - p2
    lo = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lo), min(1.0, hi)


def _ztest_2prop(x1: int, n1: int, x2: int, n2: int) -> tuple[float | None, float | None]:
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return None, None
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, float(2.0 * special.ndtr(-abs(z)))


def _fisher(x1: int, n1: int, x2: int, n2: int) -> float:
    return float(_st.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue)


def _jsonify(obj: Any) -> Any:
    """numpy scalars → Python; non-finite floats must never get here."""
    if isinstance(obj, Mapping):
        return {k: _jsonify(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonify(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if not math.isfinite(f):  # pragma: no cover - guarded upstream
            raise ValueError("internal error: non-finite number in result")
        return f
    return obj


def _status(
    n1: int,
    n2: int,
    *,
    zero_var1: bool,
    zero_var2: bool,
    k_min_staff: int,
    k_min_customer: int,
    complementary_suppressed: bool,
) -> str:
    if n1 == 0 or n2 == 0:
        return "no_data"
    if n1 < k_min_staff:
        return "suppressed_anonymity"
    if n2 < k_min_customer:
        return "suppressed_min_n"
    if complementary_suppressed:
        return "suppressed_complementary"
    if n1 < 2 or n2 < 2:
        return "insufficient_data"
    if zero_var1 and zero_var2:
        return "no_variance"
    if min(n1, n2) < 30:
        return "ok_low_base"
    return "ok"


STATUS_REASONS = {
    "no_data": "no_data (no responses on a side)",
    "suppressed_anonymity": "suppressed_anonymity (fewer than k_min staff responses)",
    "suppressed_min_n": "suppressed_min_n (fewer than k_min customer responses)",
    "suppressed_complementary": "suppressed_complementary (could be derived from the total)",
    "insufficient_data": "insufficient_data (fewer than 2 answers on a side)",
    "no_variance": "no_variance (both sides have zero variance)",
}


def unexplained_nulls(result: Mapping[str, Any]) -> list[str]:
    """Paths of null values in ``result`` that have no reason in ``result["undefined"]``.

    A contract check for API layers and tests: every null must be explained.

    Parameters
    ----------
    result : dict
        A result dict of this package.

    Returns
    -------
    list of str
        Dotted paths (empty when every null has a reason).

    Examples
    --------
    >>> unexplained_nulls({"p": None, "undefined": ["p: every answer tied"]})
    []
    >>> unexplained_nulls({"p": None, "undefined": []})
    ['p']
    """
    reasons = list(result.get("undefined", []))
    return [p for p in _null_leaves(result) if not _covered(p, reasons)]
