"""The measurement-invariance block of a gap dimension (docs/methods.md §3.5), only with ``?invariance=true``.

Its own module so that the gap response schema (:mod:`reports.api.gap_serializers`) gains one field per place.
"""

from __future__ import annotations

from rest_framework import serializers

INVARIANCE_STATUSES = ["tested", "not_testable", "too_few", "not_estimable", "not_shown"]
INVARIANCE_LEVELS = ["configural", "metric", "scalar", "none"]


def _num(**kw) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kw)


class GapInvarianceStepSerializer(serializers.Serializer):
    """One fitted level of the two-group one-factor model (ML on the item values)."""

    level = serializers.ChoiceField(choices=["configural", "metric", "scalar"])
    chi2 = serializers.FloatField(help_text="Normal-theory ML χ² = Σ n_g F_g.")
    df = serializers.IntegerField(help_text="Degrees of freedom (0: a 3-item configural model is just identified).")
    p_value = _num(help_text="p of χ²; null when df = 0.")
    cfi = serializers.FloatField()
    rmsea = _num(help_text="RMSEA × √2 (two groups, Steiger 1998); null when df = 0.")
    srmr = serializers.FloatField(help_text="Covariance-part SRMR, averaged over the sides by n.")
    converged = serializers.BooleanField()
    holds = serializers.BooleanField(
        help_text="Configural: CFI ≥ 0.95 and SRMR ≤ 0.08. Metric and scalar: the previous level holds and not "
                  "(ΔCFI < −0.01 and ΔRMSEA > 0.015).")
    delta_chi2 = _num(required=False, help_text="χ² change from the previous level (metric and scalar only).")
    delta_df = serializers.IntegerField(required=False)
    delta_p_value = _num(required=False, help_text="p of Δχ²: reported, not used for the decision.")
    delta_cfi = _num(required=False)
    delta_rmsea = _num(required=False)


class GapInvarianceNSerializer(serializers.Serializer):
    staff = serializers.IntegerField(allow_null=True)
    customer = serializers.IntegerField(allow_null=True)


class GapInvarianceSerializer(serializers.Serializer):
    """Are staff and customers answering the same question? Measurement invariance of the dimension."""

    status = serializers.ChoiceField(
        choices=INVARIANCE_STATUSES,
        help_text="tested; not_testable (fewer than 3 items); too_few (a side below min_n complete cases); "
                  "not_estimable (singular covariance or no convergence); not_shown (next to a suppressed cell).")
    level = serializers.ChoiceField(choices=INVARIANCE_LEVELS, allow_null=True,
                                    help_text="Highest level reached; null unless tested.")
    mean_gap_interpretable = serializers.BooleanField(
        help_text="True only at scalar invariance: otherwise the mean gap may reflect the two wordings, not a gap.")
    steps = GapInvarianceStepSerializer(many=True)
    n_complete = GapInvarianceNSerializer(help_text="Complete cases per side (the whole side's published responses).")
    min_n = serializers.IntegerField(help_text="Complete cases each side needs: max(100, 15 × items).")
    reason = serializers.CharField(allow_null=True)
