"""GET /api/v1/waves/<id>/gap/segments/ — does one segment's gap differ from another's? (docs/methods.md §6)"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.base import WAVE_PK, WaveNestedMixin
from backend.api.schema import DETAIL, errs
from reports import gap
from reports.selectors import REPORT_READERS
from surveys.models import Side


class SegmentDifferenceQuerySerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Side.choices, help_text="Which side's segments are compared.")
    field = serializers.CharField(max_length=80, help_text="Segment field, e.g. department or tier.")
    first = serializers.CharField(max_length=120, help_text="First segment value, e.g. Sales.")
    second = serializers.CharField(max_length=120, help_text="Second segment value, e.g. Support.")
    lang = serializers.ChoiceField(choices=["en", "ja"], required=False, default="en")
    department = serializers.CharField(
        max_length=40, required=False,
        help_text="Internal waves (required there): the serving department whose numbers are shown, by key. "
                  "Refused for an external wave.")


class SegmentDifferenceEntrySerializer(serializers.Serializer):
    key = serializers.CharField()
    n_group_1 = serializers.IntegerField(allow_null=True)
    n_group_2 = serializers.IntegerField(allow_null=True)
    difference = serializers.FloatField(allow_null=True, help_text="gap(first) − gap(second)")
    se = serializers.FloatField(allow_null=True)
    df = serializers.FloatField(allow_null=True)
    t = serializers.FloatField(allow_null=True)
    p = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    report_status = serializers.CharField()
    undefined = serializers.ListField(child=serializers.CharField())


class SegmentDifferenceSerializer(serializers.Serializer):
    side = serializers.CharField()
    field = serializers.CharField()
    first = serializers.CharField()
    second = serializers.CharField()
    items = SegmentDifferenceEntrySerializer(many=True)
    dimensions = SegmentDifferenceEntrySerializer(many=True)


class WaveSegmentDifferenceView(WaveNestedMixin, APIView):
    read_roles = REPORT_READERS

    @extend_schema(
        operation_id="waves_gap_segments_retrieve",
        summary="Difference between two segments' gaps (shared comparator)",
        description=(
            "gap(first) − gap(second) per item and dimension for two segments of one side compared with the "
            "same other side: the shared mean cancels, so it is a Welch comparison of the two segments "
            "(docs/methods.md §6). Only released segment values take part, each a union of blocks of at "
            "least k; a segment that is not released, or has fewer than k released answers to an item (scored "
            "respondents for a dimension), shows no number. The p-values are not adjusted for multiplicity."
        ),
        parameters=[SegmentDifferenceQuerySerializer, WAVE_PK],
        responses={200: SegmentDifferenceSerializer, **errs(400, *DETAIL)},
        tags=["gap"],
    )
    def get(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        query = SegmentDifferenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        result = gap.segment_difference_read(wave, user=request.user, via="api", side=params["side"],
                                             field=params["field"], first=params["first"],
                                             second=params["second"], language=params["lang"],
                                             department=params.get("department"))
        return Response(SegmentDifferenceSerializer(result).data)
