"""Report job API: request a PDF of a wave (202), list a wave's reports, poll a job, download its PDF.

The views are the staff API's (backend/api/): the wave is looked up through the same selectors (another
organization's wave is 404), every member role may read reports (reports.selectors.REPORT_READERS), and
reports.jobs does the work and the audit.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from backend.api.base import ID_SCHEMA, WAVE_PK, KagamiAPIMixin, WaveNestedMixin
from backend.api.schema import DETAIL, errs
from backend.ids import MAX_ID_DIGITS, parse_id, parse_uuid
from reports.api.serializers import ReportJobCreateSerializer, ReportJobSerializer
from reports.filters import compare_wave_of, parse_filter_strings
from reports.jobs import report_job_file, report_job_request, report_jobs_sweep_stale
from reports.models import ReportJob
from reports.selectors import REPORT_READERS, report_job_list
from surveys.errors import ValidationFailed


@extend_schema_view(
    list=extend_schema(summary="Report jobs of a wave, newest first", parameters=[WAVE_PK],
                       responses={200: ReportJobSerializer(many=True), **errs(*DETAIL)}),
    create=extend_schema(
        summary="Request the executive PDF report of a wave", parameters=[WAVE_PK],
        request=ReportJobCreateSerializer, responses={202: ReportJobSerializer, **errs(400, *DETAIL, 413, 415)},
        description="Returns 202 with the report job. An identical request on unchanged data returns the "
        "existing job (possibly already done) instead of rendering again."),
)
@extend_schema(tags=["reports"])
class WaveReportViewSet(WaveNestedMixin, mixins.ListModelMixin, GenericViewSet):
    serializer_class = ReportJobSerializer
    queryset = ReportJob.objects.none()
    read_roles = REPORT_READERS
    write_roles = REPORT_READERS  # asking for a report is reading the wave's gap
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    def get_queryset(self) -> QuerySet[ReportJob]:
        return report_job_list(org_ids=[self.wave.organization_id]).filter(wave=self.wave).order_by("-created_at")

    def create(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        serializer = ReportJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "compare_wave" in data:
            compare = compare_wave_of(wave, data["compare_wave"])
        else:  # the wave's previous wave, when it is one of the organization's
            previous = wave.previous_wave
            compare = previous if previous is not None and previous.organization_id == wave.organization_id else None
        job, created = report_job_request(
            wave=wave, user=request.user, language=data["language"], compare_wave=compare,
            segments=data["segments"], weighted=data["weighted"], via="api",
            staff_filter=parse_filter_strings(data["staff"], "staff"),
            customer_filter=parse_filter_strings(data["customer"], "customer"), department=data.get("department"))
        return Response(ReportJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["reports"])
class ReportJobViewSet(KagamiAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Report jobs of the organizations you belong to."""

    serializer_class = ReportJobSerializer
    queryset = ReportJob.objects.none()
    read_roles = REPORT_READERS
    lookup_parser = staticmethod(parse_uuid)

    def object_organization_id(self, obj: ReportJob) -> int:
        return obj.wave.organization_id

    def get_queryset(self) -> QuerySet[ReportJob]:
        qs = report_job_list(org_ids=self.visible_org_ids())
        wave = self.request.query_params.get("wave")
        if wave:  # empty means no filter, as in the staff API's filters
            wave_id = parse_id(wave)
            if wave_id is None:
                raise ValidationFailed(field_errors={"wave": [f"Must be a wave id: up to {MAX_ID_DIGITS} digits."]})
            qs = qs.filter(wave_id=wave_id)
        return qs.order_by("-created_at")

    @extend_schema(
        parameters=[OpenApiParameter("wave", ID_SCHEMA, description="Only the reports of this wave.")],
        responses={200: ReportJobSerializer(many=True), **errs(400, 401, 403)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ReportJobSerializer, **errs(*DETAIL)})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Polling is when a crashed job would be noticed: sweep before answering.
        report_jobs_sweep_stale()
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                   **errs(*DETAIL, 409, e409="The report is not done yet (code report_not_ready).")},
        summary="Download the PDF of a finished report",
    )
    @action(detail=True, methods=["get"], url_path="pdf", url_name="pdf")
    def pdf(self, request: Request, pk: str | None = None) -> FileResponse:
        job = self.get_object()
        return FileResponse(report_job_file(job=job, user=request.user, via="api"), content_type="application/pdf",
                            as_attachment=True, filename=job.filename())
