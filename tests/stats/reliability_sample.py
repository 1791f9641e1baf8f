"""A small dimension with skipped items and Cronbach's alpha with its Feldt interval computed by hand.

Shared by the library test (tests/stats/test_stats_dimensions.py) and the engine test on a file
(tests/reports/test_analyse_csv_engine.py). The hand computation uses only the standard library's
sample variance and scipy's F quantiles (``ppf``; the code under test uses ``isf``).
"""

from __future__ import annotations

import statistics

from scipy.stats import f

# Three items; None is a skipped item. Staff: 14 respondents, 11 answered all three. Customers: 12, 10.
STAFF = [[4, 4, 5], [3, 4, 4], [5, 5, 5], [2, 3, 2], [4, 3, 4], [3, 3, 3], [5, 4, 4], [4, 5, 5], [2, 2, 3],
         [3, 4, 3], [4, 4, 4], [None, 4, 5], [3, None, 2], [5, 5, None]]
CUSTOMER = [[3, 2, 3], [2, 2, 1], [4, 3, 4], [1, 2, 2], [3, 3, 2], [2, 1, 2], [4, 4, 3], [3, 2, 2], [2, 3, 3],
            [5, 4, 4], [None, 2, 3], [3, None, None]]

# The hand results below, written out, so that a change of the hand function cannot hide a change of the code.
EXPECTED = {
    "staff": {"n_complete": 11, "alpha": 0.8961538461538461, "ci_low": 0.7119648956524037,
              "ci_high": 0.9696226906708965},
    "customer": {"n_complete": 10, "alpha": 0.8716502115655853, "ci_low": 0.6240490312070281,
                 "ci_high": 0.9653247465698572},
}
# What pingouin 0.7 gives for the staff rows (listwise): the same alpha, but df from all 14 rows.
PINGOUIN_STAFF_CI = (0.745, 0.964)


def alpha_by_hand(rows: list[list[int | None]]) -> dict:
    """α = m/(m − 1)·(1 − Σ var(item) / var(total)) over complete rows; Feldt with df1 = n_complete − 1."""
    complete = [r for r in rows if None not in r]
    n, m = len(complete), len(rows[0])
    item_var = sum(statistics.variance([r[i] for r in complete]) for i in range(m))
    total_var = statistics.variance([sum(r) for r in complete])
    alpha = m / (m - 1) * (1 - item_var / total_var)
    df1 = n - 1
    df2 = df1 * (m - 1)
    return {"n_complete": n, "alpha": alpha, "ci_low": 1 - (1 - alpha) * f.ppf(0.975, df1, df2),
            "ci_high": 1 - (1 - alpha) * f.ppf(0.025, df1, df2)}
