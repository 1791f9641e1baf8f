"""The query parameters of the gap endpoint (GET /api/v1/waves/<id>/gap/), checked into a 400 naming the field."""

from __future__ import annotations

from rest_framework import serializers

from reports.filters import BOOTSTRAP_METHODS, BOOTSTRAP_REPS_DEFAULT, BOOTSTRAP_REPS_MAX, BOOTSTRAP_REPS_MIN
from surveys.models import Language


class GapQuerySerializer(serializers.Serializer):
    """Query parameters of the gap endpoint."""

    staff = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list,
        help_text="Staff group filter, repeatable, as field:value (e.g. department:Sales).",
    )
    customer = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list,
        help_text="Customer group filter, repeatable, as field:value (e.g. tier:Enterprise).",
    )
    compare_wave = serializers.IntegerField(required=False, min_value=1,
                                            help_text="Earlier wave for the change-over-time (DiD) view.")
    weighted = serializers.BooleanField(required=False, default=False,
                                        help_text="Add customer-weighted results next to the unweighted ones.")
    segments = serializers.BooleanField(required=False, default=True, help_text="Include the segment views.")
    dimension_correction = serializers.ChoiceField(choices=["holm", "bh"], required=False, default="holm",
                                                   help_text="Adjusted p that classifies dimensions (§4).")
    lang = serializers.ChoiceField(choices=Language.choices, required=False, default=Language.EN)
    department = serializers.CharField(
        max_length=40, required=False,
        help_text="Internal waves (required there): the serving department whose numbers are shown, by key. "
                  "Refused for an external wave.")
    bootstrap = serializers.ChoiceField(
        choices=list(BOOTSTRAP_METHODS), required=False,
        help_text="Opt-in: add seeded bootstrap intervals (percentile or BCa) to every item (docs/methods.md §2.6).")
    bootstrap_reps = serializers.IntegerField(
        required=False, min_value=BOOTSTRAP_REPS_MIN, max_value=BOOTSTRAP_REPS_MAX,
        help_text=f"Resamples of the bootstrap (default {BOOTSTRAP_REPS_DEFAULT}); only with bootstrap.")

    invariance = serializers.BooleanField(
        required=False, default=False,
        help_text="Opt-in: test each dimension's measurement invariance between the sides (configural, metric, "
                  "scalar; docs/methods.md §3.5) and say whether its mean gap can be read as a gap.")

    def validate(self, attrs):
        if "bootstrap_reps" in attrs and not attrs.get("bootstrap"):
            raise serializers.ValidationError({"bootstrap_reps": ["Only with bootstrap=percentile or bootstrap=bca."]})
        return attrs
