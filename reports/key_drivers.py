"""Which dimensions (and so which gaps) matter: the key-driver section of the gap analysis (docs/methods.md §8.1).

For each account-level outcome — every customer outcome item (NPS, renewal intent, effort, satisfaction)
answered by the accounts, the accounts' health score, and churned or not — the core dimensions'
account scores (docs/methods.md §10) are the predictors of :func:`reports.stats.drivers.key_drivers`.
Its weights are the derived importance of the importance–performance grid
(:func:`reports.stats.classify.importance_performance`): customer mean × importance per dimension, with
the dimension's gap and class from the gap analysis, so the priority list names the blind spots that
matter for that outcome.

Only accounts, never persons: the table is :mod:`reports.counts` ``account_frame`` (released customer
responses linked to an account, contacts averaged per account), an outcome needs at least the customer
k accounts (for churn k churned and k retained), and nothing names an account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from reports import memo
from reports.stats.classify import importance_performance
from reports.stats.drivers import BOOTSTRAP_REPS, BOOTSTRAP_SEED, MIN_EXTRA_ACCOUNTS, key_drivers
from reports.stats.health import HEALTH_SCALE

__all__ = ["drivers_section"]

GRID_STATUSES = ("ok", "ok_low_base")
# Bump when key_drivers' result changes for the same inputs: results are kept under it (reports/memo.py).
DRIVERS_FORMAT = 1


def _grid(drivers: list[dict], dimensions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The importance–performance grid of one outcome: customer mean × LMG weight per dimension."""
    keys = [d["key"] for d in drivers]
    entries = [dimensions.get(k, {}) for k in keys]
    shown = [e.get("report_status") in GRID_STATUSES for e in entries]
    pairs = list(zip(entries, shown, strict=True))
    performance = [e.get("mean_customer") if ok else None for e, ok in pairs]
    importance = [d["weight"] for d in drivers]
    classes = [(e.get("classification") or {}).get("class") if ok else None for e, ok in pairs]
    gaps = [e.get("gap") if ok else None for e, ok in pairs]
    grid = importance_performance(keys, performance, importance, classes=classes, gaps=gaps)
    for point, perf, imp, gap, cls in zip(grid["items"], performance, importance, gaps, classes, strict=True):
        point.update({"performance": perf if point["quadrant"] else None,
                      "importance": imp if point["quadrant"] else None, "gap": gap, "class": cls})
    return grid


def drivers_section(accounts: pd.DataFrame, *, predictors: Sequence[tuple[str, str, str]],
                    outcomes: Sequence[tuple[str, str, str, str]], dimensions: Sequence[Mapping[str, Any]],
                    k_customer: int) -> dict[str, Any] | None:
    """The key drivers of every account-level outcome, each with its importance–performance grid.

    Parameters
    ----------
    accounts : the accounts table (``account_id, status, measure, score, health, health_on``).
    predictors : ``(measure, key, name)`` per core dimension, e.g. ``("dim:3", "listening", "Listening")``.
    outcomes : ``(measure, key, kind, label)`` per customer outcome item.
    dimensions : the gap analysis's dimension entries (``key``, ``mean_customer``, ``gap``, ``class``).
    k_customer : the customer k.

    Returns None when there are no accounts or no predictors.
    """
    if accounts.empty or not predictors:
        return None
    wide = accounts.pivot_table(index="account_id", columns="measure", values="score", aggfunc="first")
    per_account = accounts.drop_duplicates("account_id").set_index("account_id").reindex(wide.index)
    x = np.column_stack([wide[m].to_numpy(dtype=float) if m in wide.columns else np.full(len(wide), np.nan)
                         for m, _key, _name in predictors])
    keys = [key for _m, key, _name in predictors]
    targets: list[tuple[str, str, str, np.ndarray, bool]] = [
        (key, kind, label, wide[m].to_numpy(dtype=float) if m in wide.columns else np.full(len(wide), np.nan), False)
        for m, key, kind, label in outcomes]
    health = per_account.health.to_numpy(dtype=float)
    if np.isfinite(health).any():
        targets.append(("health", "health", "", np.clip(health, *HEALTH_SCALE), False))
    churned = (per_account.status == "churned").to_numpy(dtype=float)
    targets.append(("churn", "churn", "", churned, True))
    by_key = {d.get("key"): d for d in dimensions}
    results = []
    for key, kind, label, y, binary in targets:
        # A whole-side figure asked by every view: kept under its inputs (reports/memo.py says why it pays).
        res = memo.kept("key_drivers", DRIVERS_FORMAT, [x, y, keys, binary, k_customer],
                        partial(key_drivers, x, y, keys, binary=binary, k_min=k_customer))
        res.update({"outcome": key, "kind": kind, "label": label})
        res["grid"] = _grid(res["drivers"], by_key) if res["report_status"] in GRID_STATUSES else None
        if res["grid"] is None:
            res["undefined"].append("grid: no driver weights for this outcome")
        results.append(res)
    return {"predictors": [{"key": key, "name": name} for _m, key, name in predictors],
            "bootstrap_reps": BOOTSTRAP_REPS, "bootstrap_seed": BOOTSTRAP_SEED,
            "min_extra_accounts": MIN_EXTRA_ACCOUNTS, "outcomes": results}
