"""Kagami statistics layer: pure functions, numpy / scipy / pandas only (no Django).

Normative spec: ``docs/stats.md``. Every result dict is JSON-safe (no NaN/inf);
each null value has a ``"path: reason"`` entry in the result's ``undefined`` list.
Gap direction is always staff − customer.

Items (per-level count vectors, §1–2, §11)
    item_comparison            all item statistics of one comparison × item (§11 contract)
    describe_counts            n, mean, SD of one side
    welch_from_counts          Welch t-test, 95 % and 90 % CI of the mean gap
    effect_size_from_counts    Cohen's d, Hedges' g (+ approximate SE, label)
    mann_whitney_from_counts   U with exact tie correction, p, Cliff's δ, rank-biserial, CLES
    topbox_from_counts         top-box shares, Newcombe CI, z-test, Fisher fallback
    wilson_interval            Wilson score CI for one proportion
    newcombe_interval          Newcombe (method 10) CI for p1 − p2
    bootstrap_from_counts      stratified multinomial bootstrap CI (percentile / BCa)
    materiality_delta          δ = 0.25 · (k − 1)/4
Families (§4, §8)
    adjust_item_family         BH + Holm p for Welch / MWU / top-box, then classification
    adjust_dimension_family    same for dimensions (classification on Holm by default)
    holm, benjamini_hochberg, adjust_p_values
    classify_gap               blind_spot / hidden_strength / minor_gap / aligned / ...
    importance_performance     quadrants, priority and messaging lists
Status and suppression (§5)
    report_status              status code in the order of §5.3
    complementary_suppression  differencing rule across sibling groups
Helpers
    expand_counts, tabulate, check_json_safe, unexplained_nulls,
    hedges_g_magnitude, cliffs_delta_magnitude
"""

from __future__ import annotations

from ._core import (
    check_json_safe,
    cliffs_delta_magnitude,
    expand_counts,
    hedges_g_magnitude,
    tabulate,
    unexplained_nulls,
)
from .bootstrap import bootstrap_from_counts
from .classify import CLASSES, classify_gap, importance_performance
from .family import adjust_dimension_family, adjust_item_family
from .items import (
    describe_counts,
    effect_size_from_counts,
    item_comparison,
    mann_whitney_from_counts,
    materiality_delta,
    newcombe_interval,
    topbox_from_counts,
    welch_from_counts,
    wilson_interval,
)
from .multiplicity import adjust_p_values, benjamini_hochberg, holm
from .status import STATUS_ORDER, complementary_suppression, report_status

__all__ = [
    "CLASSES",
    "STATUS_ORDER",
    "adjust_dimension_family",
    "adjust_item_family",
    "adjust_p_values",
    "benjamini_hochberg",
    "bootstrap_from_counts",
    "check_json_safe",
    "classify_gap",
    "cliffs_delta_magnitude",
    "complementary_suppression",
    "describe_counts",
    "effect_size_from_counts",
    "expand_counts",
    "hedges_g_magnitude",
    "holm",
    "importance_performance",
    "item_comparison",
    "mann_whitney_from_counts",
    "materiality_delta",
    "newcombe_interval",
    "report_status",
    "tabulate",
    "topbox_from_counts",
    "unexplained_nulls",
    "welch_from_counts",
    "wilson_interval",
]
