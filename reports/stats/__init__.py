"""Kagami statistics layer: pure functions, numpy / scipy / pandas only (no Django).

Methods, formulas and sources: ``docs/methods.md``. Every result dict is JSON-safe (no NaN/inf);
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
Dimensions and reliability (§3)
    dimension_scores           respondent scores: reverse keying + half rule
    cronbach_alpha             listwise / pairwise alpha with Feldt CI
    feldt_interval             Feldt CI of listwise alpha from (alpha, complete cases, items)
    dimension_reliability      per-side alpha summary with the §3.3 display rules
    dimension_comparison       dimension gap from scores (same contract as items)
    alpha_interpretation       poor / questionable / acceptable
    invariance.measurement_invariance  configural / metric / scalar two-group CFA of a dimension (§3.5)
Segments, waves, weights, churn (§6, §7, §9)
    gap_difference_shared_comparator  gap(1) − gap(2) sharing the comparator (Welch)
    gap_difference_independent        difference of gaps, four independent groups
    did_from_counts, did_from_scores  wave-over-wave change of the gap (+ top-box DiD)
    contrast_status                   §5.3 status for a contrast of several groups
    weighted_summary_from_counts      weighted mean, Kish n_eff, deff, linearisation SE
    weighted_item_comparison          staff vs weighted customers (+ weighted Cliff's δ)
    churn_comparison                  churned vs retained accounts' scores
    health_association                accounts' scores vs their health scores (Spearman, §10)
    key_drivers                       LMG (Shapley) shares of R² of account-level outcomes, bootstrap CIs (§8.1)
Status and suppression (§5)
    report_status              status code in the order of §5.3
    complementary_suppression  differencing rule across sibling groups
Helpers
    expand_counts, tabulate, CountedScores, check_json_safe, unexplained_nulls,
    hedges_g_magnitude, cliffs_delta_magnitude
"""

from __future__ import annotations

from ._core import (
    CountedScores,
    check_json_safe,
    cliffs_delta_magnitude,
    expand_counts,
    hedges_g_magnitude,
    tabulate,
    unexplained_nulls,
)
from .bootstrap import bootstrap_from_counts
from .churn import churn_comparison
from .classify import CLASSES, classify_gap, importance_performance
from .did import contrast_status, did_from_counts, did_from_scores
from .dimensions import dimension_comparison, dimension_reliability, dimension_scores
from .drivers import key_drivers
from .family import adjust_dimension_family, adjust_item_family
from .health import health_association
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
from .reliability import alpha_interpretation, cronbach_alpha, feldt_interval
from .segments import gap_difference_independent, gap_difference_shared_comparator
from .status import STATUS_ORDER, complementary_suppression, report_status
from .weighting import weighted_item_comparison, weighted_summary_from_counts

__all__ = [
    "CLASSES",
    "CountedScores",
    "STATUS_ORDER",
    "adjust_dimension_family",
    "adjust_item_family",
    "adjust_p_values",
    "alpha_interpretation",
    "benjamini_hochberg",
    "bootstrap_from_counts",
    "check_json_safe",
    "churn_comparison",
    "health_association",
    "classify_gap",
    "cliffs_delta_magnitude",
    "complementary_suppression",
    "contrast_status",
    "cronbach_alpha",
    "feldt_interval",
    "describe_counts",
    "did_from_counts",
    "did_from_scores",
    "dimension_comparison",
    "dimension_reliability",
    "dimension_scores",
    "effect_size_from_counts",
    "expand_counts",
    "gap_difference_independent",
    "gap_difference_shared_comparator",
    "hedges_g_magnitude",
    "holm",
    "importance_performance",
    "key_drivers",
    "item_comparison",
    "mann_whitney_from_counts",
    "materiality_delta",
    "newcombe_interval",
    "report_status",
    "tabulate",
    "topbox_from_counts",
    "unexplained_nulls",
    "weighted_item_comparison",
    "weighted_summary_from_counts",
    "welch_from_counts",
    "wilson_interval",
]
