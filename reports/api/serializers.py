"""Serializers of the report job API."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.models import ReportJob, ReportStatus


class ReportJobCreateSerializer(serializers.Serializer):
    """What to render: language, segment heat maps, weighting and the wave to compare with."""

    language = serializers.ChoiceField(choices=["ja", "en"], default="ja")
    compare_wave = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="Id of an earlier wave of the same organization for the change-over-time page. "
        "Omitted: the wave's previous wave, if it has one. null: no comparison.",
    )
    segments = serializers.BooleanField(default=True, help_text="Include the segment heat maps.")
    weighted = serializers.BooleanField(default=False, help_text="Weight customer answers by response weight.")
    staff = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list,
        help_text="Staff group of the report, as field:value (e.g. department:Sales), as on the gap endpoint.",
    )
    customer = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list,
        help_text="Customer group of the report, as field:value (e.g. tier:Enterprise).",
    )
    department = serializers.CharField(
        max_length=40, required=False,
        help_text="Internal waves (required there): the serving department the report is about, by key.")


class ReportJobSerializer(serializers.ModelSerializer):
    """A report job: its status, progress and, once done, where to download the PDF."""

    wave = serializers.IntegerField(source="wave_id", read_only=True)
    status = serializers.ChoiceField(choices=ReportStatus.choices, read_only=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportJob
        fields = ["id", "wave", "language", "options", "status", "progress", "error", "page_count", "pdf_url",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    # null until the job is done (queued, running, failed).
    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_pdf_url(self, job: ReportJob) -> str | None:
        if job.status != ReportStatus.DONE:
            return None
        path = reverse("report-job-pdf", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
