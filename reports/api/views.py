"""Report job API: request a PDF (202), poll its status, download it."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.serializers import ReportJobCreateSerializer, ReportJobSerializer
from reports.filters import parse_filter_strings
from reports.jobs import ReportNotReady, report_job_request, report_jobs_sweep_stale
from reports.models import ReportJob, ReportStatus
from surveys import errors
from surveys import services as survey_services
from surveys.api.serializers import ErrorResponseSerializer
from surveys.errors import ValidationFailed
from surveys.models import AuditEvent, Wave


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponseSerializer, description=description)


ERRORS = {
    400: _error("Invalid options, with per-field messages."),
    401: _error("Not logged in."),
    403: _error("Not allowed (a session login without its CSRF token)."),
    404: _error("No such wave or report in your organizations."),
}
BODY_ERRORS = {
    413: _error("Request body too large."),
    415: _error("Unsupported or malformed body (send JSON)."),
}
_MAX_ID_DIGITS = 18  # larger ids exist nowhere and would overflow the database driver (SQLite: OverflowError)
_ID = re.compile(rf"[0-9]{{1,{_MAX_ID_DIGITS}}}")  # ASCII digits: str.isdigit() accepts "²", int() refuses it


def visible_waves(user) -> QuerySet[Wave]:
    """Waves of the organizations the user is a member of (any role may read reports)."""
    return Wave.objects.filter(organization__memberships__user=user).distinct()


def audit_report_request(*, request: Any, wave: Wave, job: ReportJob, created: bool, via: str) -> None:
    """Every report request shows staff-derived data (P7): record who asked, when, for which wave and options."""
    survey_services.audit_record(
        organization_id=wave.organization_id, user=request.user, action=AuditEvent.Action.REPORT_REQUEST,
        wave=wave, details={"via": via, "report": str(job.pk), "language": job.language,
                            "segments": bool(job.options.get("segments")),
                            "weighted": bool(job.options.get("weighted")),
                            "compare_wave": job.options.get("compare_wave"), "reused": not created},
    )


def audit_report_download(*, request: Any, job: ReportJob, via: str) -> None:
    """Reading a report is a read of staff-derived data (P7): who, when, which report."""
    survey_services.audit_record(
        organization_id=job.wave.organization_id, user=request.user, action=AuditEvent.Action.REPORT_DOWNLOAD,
        wave=job.wave, details={"via": via, "report": str(job.pk), "language": job.language})


def visible_jobs(user) -> QuerySet[ReportJob]:
    return ReportJob.objects.filter(wave__organization__memberships__user=user).select_related("wave").distinct()


class WaveReportCreateView(APIView):
    """POST /api/v1/waves/<id>/reports/ — queue a PDF report of a wave (or reuse an identical finished one)."""

    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # DRF's JSON parser streams the body and so skips DATA_UPLOAD_MAX_MEMORY_SIZE: check here.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise errors.PayloadTooLarge()

    @extend_schema(
        operation_id="waves_reports_create",
        request=ReportJobCreateSerializer,
        responses={202: ReportJobSerializer, **ERRORS, **BODY_ERRORS},
        summary="Request the executive PDF report of a wave",
        description="Returns 202 with the report job. An identical request on unchanged data returns the "
        "existing job (possibly already done) instead of rendering again.",
    )
    def post(self, request: Request, wave_id: int) -> Response:
        wave = get_object_or_404(visible_waves(request.user).select_related("previous_wave"), pk=wave_id)
        serializer = ReportJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "compare_wave" in data:
            compare = None
            if data["compare_wave"] is not None:
                compare = visible_waves(request.user).filter(pk=data["compare_wave"],
                                                             organization_id=wave.organization_id).first()
                if compare is None or compare.pk == wave.pk:
                    raise ValidationFailed(field_errors={"compare_wave": ["Choose another wave of this organization."]})
        else:
            previous = wave.previous_wave
            compare = previous if previous is not None and previous.organization_id == wave.organization_id else None
        job, created = report_job_request(wave=wave, user=request.user, language=data["language"],
                                          compare_wave=compare, segments=data["segments"],
                                          weighted=data["weighted"],
                                          staff_filter=parse_filter_strings(data["staff"], "staff"),
                                          customer_filter=parse_filter_strings(data["customer"], "customer"))
        audit_report_request(request=request, wave=wave, job=job, created=created, via="api")
        return Response(ReportJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class ReportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Report jobs of the organizations you belong to."""

    serializer_class = ReportJobSerializer

    def get_queryset(self) -> QuerySet[ReportJob]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ReportJob.objects.none()
        qs = visible_jobs(self.request.user)
        wave = self.request.query_params.get("wave")
        if wave:  # empty means no filter, as in the staff API's filters
            if not _ID.fullmatch(wave):
                raise ValidationFailed(field_errors={"wave": [
                    f"Must be a wave id: up to {_MAX_ID_DIGITS} digits."]})
            qs = qs.filter(wave_id=int(wave))
        return qs.order_by("-created_at")

    @extend_schema(
        parameters=[OpenApiParameter(
            "wave", {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**_MAX_ID_DIGITS - 1},
            description="Only the reports of this wave.")],
        responses={200: ReportJobSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ReportJobSerializer, **ERRORS})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        # Polling is when a crashed job would be noticed: sweep before answering.
        report_jobs_sweep_stale()
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                   409: OpenApiResponse(description="The report is not done yet (code report_not_ready)."),
                   **ERRORS},
        summary="Download the PDF of a finished report",
    )
    @action(detail=True, methods=["get"], url_path="pdf", url_name="pdf")
    def pdf(self, request: Request, pk: str | None = None) -> FileResponse:
        job = self.get_object()
        if job.status != ReportStatus.DONE or not job.file:
            raise ReportNotReady(
                f"The report is {job.status} ({job.progress}%)." if job.status != ReportStatus.FAILED
                else f"The report failed: {job.error}")
        audit_report_download(request=request, job=job, via="api")
        return FileResponse(job.file.open("rb"), content_type="application/pdf", as_attachment=True,
                            filename=job.filename())
