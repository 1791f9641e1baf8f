"""Report status codes (docs/methods.md §5.3) and complementary suppression (§5.1).

The gap engine does not use complementary suppression: its views are unions of
released blocks of at least k (docs/anonymity.md). The rule stays here, tested,
for callers of the library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._core import _as_k_min, _status

__all__ = ["STATUS_ORDER", "report_status", "complementary_suppression"]

#: status codes in the order their conditions are checked (§5.3)
STATUS_ORDER = (
    "no_data",
    "suppressed_anonymity",
    "suppressed_min_n",
    "suppressed_complementary",
    "insufficient_data",
    "no_variance",
    "ok_low_base",
    "ok",
)


def report_status(
    n_staff: int,
    n_customer: int,
    *,
    zero_variance_staff: bool = False,
    zero_variance_customer: bool = False,
    k_min_staff: int = 5,
    k_min_customer: int = 5,
    complementary_suppressed: bool = False,
) -> str:
    """Status code of one comparison × item / dimension.

    Parameters
    ----------
    n_staff, n_customer : int
        Non-missing answers (items) or scored respondents (dimensions) per side.
    zero_variance_staff, zero_variance_customer : bool
        Whether every answer on that side is the same value.
    k_min_staff, k_min_customer : int, default 5
        Anonymity threshold (staff) and minimum n (customers).
    complementary_suppressed : bool, default False
        The group was removed by the differencing rule, see
        :func:`complementary_suppression`.

    Returns
    -------
    str
        One of :data:`STATUS_ORDER`.

    Notes
    -----
    Conditions are checked in this order (the first that holds wins)::

        no_data                   n1 = 0 or n2 = 0
        suppressed_anonymity      n1 < k_min_staff
        suppressed_min_n          n2 < k_min_customer
        suppressed_complementary  removed by the differencing rule
        insufficient_data         n1 < 2 or n2 < 2
        no_variance               both sides have zero variance
        ok_low_base               min(n1, n2) < 30
        ok                        otherwise

    References
    ----------
    docs/methods.md §5.3.

    Examples
    --------
    >>> report_status(20, 50)
    'ok_low_base'
    >>> report_status(4, 50)
    'suppressed_anonymity'
    """
    for name, n in (("n_staff", n_staff), ("n_customer", n_customer)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            try:
                ok = int(n) == n and n >= 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"{name} must be a non-negative integer, got {n!r}")
    return _status(
        int(n_staff),
        int(n_customer),
        zero_var1=bool(zero_variance_staff),
        zero_var2=bool(zero_variance_customer),
        k_min_staff=_as_k_min(k_min_staff, "k_min_staff"),
        k_min_customer=_as_k_min(k_min_customer, "k_min_customer"),
        complementary_suppressed=bool(complementary_suppressed),
    )


def complementary_suppression(
    sizes: Mapping[str, int] | Sequence[int],
    *,
    k_min: int = 5,
    merge_other: bool = False,
) -> dict:
    """Which sibling groups to hide so that no small group can be recovered.

    Parameters
    ----------
    sizes : mapping of name → n, or sequence of n
        The n of each child group of one displayed parent (e.g. departments
        under "all staff"), for the unit displayed (one item, one dimension).
    k_min : int, default 5
        Threshold.
    merge_other : bool, default False
        If True and the suppressed groups together reach ``k_min``, report them
        as one merged "Other" group that may be shown.

    Returns
    -------
    dict
        ``primary`` — groups with 0 < n < k_min (status ``suppressed_anonymity``
        / ``suppressed_min_n``); ``complementary`` — visible groups also hidden
        by the differencing rule (status ``suppressed_complementary``);
        ``visible`` — the rest (groups with n = 0 are visible as ``no_data``);
        ``other`` — ``{"members": [...], "n": N}`` when ``merge_other`` and the
        hidden groups together reach ``k_min``, else ``None``. Names keep the
        input order (indices when ``sizes`` is a sequence).

    Notes
    -----
    After suppressing children with n < k_min, while the suppressed total is
    > 0 and < k_min the smallest visible sibling (first in input order on ties)
    is also suppressed; otherwise the parent total minus the visible children
    would reveal the small group(s). Example: 30 / 12 / 8 / 3 → the 3 is
    suppressed, then the 8. Apply it per displayed unit, per filter dimension
    (department × tenure: to the rows and to the columns) and across waves.

    References
    ----------
    docs/methods.md §5.1.

    Examples
    --------
    >>> r = complementary_suppression({"A": 30, "B": 12, "C": 8, "D": 3})
    >>> r["primary"], r["complementary"], r["visible"]
    (['D'], ['C'], ['A', 'B'])
    """
    k = _as_k_min(k_min, "k_min")
    if isinstance(sizes, Mapping):
        names = list(sizes.keys())
        ns = list(sizes.values())
    else:
        ns = list(sizes)
        names = list(range(len(ns)))
    for name, n in zip(names, ns, strict=True):
        if isinstance(n, bool) or not float(n).is_integer() or n < 0:
            raise ValueError(f"group {name!r} has invalid size {n!r}; sizes must be non-negative integers")
    ns = [int(n) for n in ns]
    primary = [i for i, n in enumerate(ns) if 0 < n < k]
    complementary: list[int] = []
    hidden_total = sum(ns[i] for i in primary)
    while 0 < hidden_total < k:
        candidates = [
            i for i, n in enumerate(ns) if n >= k and i not in primary and i not in complementary
        ]
        if not candidates:
            break
        smallest = min(candidates, key=lambda i: (ns[i], i))
        complementary.append(smallest)
        hidden_total += ns[smallest]
    hidden = set(primary) | set(complementary)
    other = None
    if merge_other and hidden and hidden_total >= k:
        other = {"members": [names[i] for i in sorted(hidden)], "n": hidden_total}
    return {
        "primary": [names[i] for i in primary],
        "complementary": [names[i] for i in sorted(complementary)],
        "visible": [names[i] for i in range(len(ns)) if i not in hidden],
        "other": other,
    }
