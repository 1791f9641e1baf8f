"""Schema of the gap analysis's ``drivers`` section (docs/methods.md §8.1): key drivers of the account-level
outcomes and their importance–performance grids, as ``reports.key_drivers.drivers_section`` returns them."""

from __future__ import annotations

from rest_framework import serializers

QUADRANTS = ["concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill"]
CLASS_CHOICES = ["blind_spot", "hidden_strength", "minor_gap", "aligned", "inconclusive", "not_assessed"]


def _num(**kw) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kw)


def _int(**kw) -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, **kw)


class GapDriverWeightSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The dimension's key.")
    weight = _num(help_text="Its LMG (Shapley) share of R²: the R² it adds, averaged over every order of entry. "
                            "The weights add up to r2.")
    share = _num(help_text="weight / r2 (0-1).")
    ci_low = _num(help_text="Percentile bootstrap interval of the weight (resampled accounts, level 95 %).")
    ci_high = _num()
    correlation = _num(help_text="Pearson r of the accounts' dimension score with the outcome: the direction "
                                 "(for churn, negative = lower scores go with churn).")
    rank = _int(help_text="1 = the largest weight.")


class GapGridPointSerializer(serializers.Serializer):
    item = serializers.CharField(help_text="The dimension's key.")
    quadrant = serializers.ChoiceField(choices=QUADRANTS, allow_null=True,
                                       help_text="Null when the dimension's customer mean is not shown.")
    performance = _num(help_text="The dimension's customer mean (as in dimensions[]).")
    importance = _num(help_text="Its driver weight for this outcome.")
    gap = _num(help_text="The dimension's gap, staff − customers (as in dimensions[]).")
    # "class" is a Python keyword: declared below under its JSON name.


GapGridPointSerializer._declared_fields["class"] = serializers.ChoiceField(
    choices=CLASS_CHOICES, allow_null=True, help_text="The dimension's classification (as in dimensions[]).")


class GapGridSerializer(serializers.Serializer):
    performance_split = _num(help_text="The mean of the customer means shown: left/right of the grid.")
    importance_split = _num(help_text="The mean of their weights: below/above.")
    items = GapGridPointSerializer(many=True)
    priority = serializers.ListField(child=serializers.CharField(),
                                     help_text="Blind-spot dimensions in the important half, by |gap| × weight.")
    messaging = serializers.ListField(child=serializers.CharField(),
                                      help_text="Hidden-strength dimensions in the important half, same order.")


class GapDriverOutcomeSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="The outcome item's key, or 'health' or 'churn'.")
    kind = serializers.ChoiceField(choices=["nps", "ces", "csat", "renewal", "health", "churn"])
    label = serializers.CharField(help_text="The outcome item's customer wording; empty for health and churn.")
    n_accounts = _int(help_text="Accounts with the outcome and every dimension score; null below the customer k.")
    r2 = _num(help_text="R² of the least-squares fit of the outcome on all dimension scores (for churn: of the "
                        "0/1 churn indicator, a linear probability model).")
    r2_adjusted = _num(help_text="Adjusted R² (Wherry): the in-sample r2 is optimistic when there are few accounts "
                                 "per dimension.")
    r2_ci_low = _num(help_text="Percentile bootstrap interval of r2.")
    r2_ci_high = _num()
    n_bootstrap = _int(help_text="Resamples with a defined R² (a resample whose outcome is constant has none).")
    drivers = GapDriverWeightSerializer(many=True)
    grid = GapGridSerializer(allow_null=True, help_text="The importance–performance grid with these weights as "
                                                        "importance; null without weights.")
    report_status = serializers.CharField(help_text="no_data, suppressed_min_n (fewer accounts than the customer "
                                                    "k; for churn in either group), insufficient_data (fewer "
                                                    "than predictors + min_extra_accounts), no_variance, "
                                                    "ok_low_base (under 30 accounts) or ok.")
    undefined = serializers.ListField(child=serializers.CharField())


class GapDriverPredictorSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class GapDriversSerializer(serializers.Serializer):
    """Which dimensions matter for each account-level outcome (docs/methods.md §8.1)."""

    predictors = GapDriverPredictorSerializer(many=True, help_text="The core dimensions used as predictors.")
    bootstrap_reps = serializers.IntegerField()
    bootstrap_seed = serializers.IntegerField(help_text="Fixed: the same data give the same intervals.")
    min_extra_accounts = serializers.IntegerField(help_text="An outcome needs this many accounts more than "
                                                            "predictors.")
    outcomes = GapDriverOutcomeSerializer(many=True)
