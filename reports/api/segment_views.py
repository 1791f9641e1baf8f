"""GET /api/v1/waves/<id>/gap/segments/ — does one segment's gap differ from another's? (docs/methods.md §6)"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.gap_views import visible_wave
from surveys import services as survey_services
from surveys.models import AuditEvent, Side


class SegmentDifferenceQuerySerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Side.choices, help_text="Which side's segments are compared.")
    field = serializers.CharField(max_length=80, help_text="Segment field, e.g. department or tier.")
    first = serializers.CharField(max_length=120, help_text="First segment value, e.g. Sales.")
    second = serializers.CharField(max_length=120, help_text="Second segment value, e.g. Support.")
    lang = serializers.ChoiceField(choices=["en", "ja"], required=False, default="en")


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


_ERROR = OpenApiResponse(description='Error: {"detail": "...", "code": "..."}')


class WaveSegmentDifferenceView(APIView):
    permission_classes = [permissions.IsAuthenticated]

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
        parameters=[SegmentDifferenceQuerySerializer, OpenApiParameter("id", OpenApiTypes.INT,
                                                                       OpenApiParameter.PATH)],
        responses={200: SegmentDifferenceSerializer, 400: _ERROR, 401: _ERROR, 403: _ERROR, 404: _ERROR},
        tags=["gap"],
    )
    def get(self, request: Request, pk: str) -> Response:
        wave = visible_wave(request, pk)
        query = SegmentDifferenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        from reports import services  # numpy/pandas/scipy on first use, not at URL import

        result = services.segment_difference(wave=wave, side=params["side"], field=params["field"],
                                             first=params["first"], second=params["second"],
                                             language=params["lang"])
        survey_services.audit_record(  # every read of staff-derived data (P7): both sides compare with staff
            organization_id=wave.organization_id, user=request.user, action=AuditEvent.Action.SEGMENT_DIFFERENCE,
            wave=wave, details={"side": params["side"], **{k: params[k] for k in ("field", "first", "second")}},
        )
        return Response(SegmentDifferenceSerializer(result).data)
