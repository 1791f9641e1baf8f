"""The import job as the API shows it (surveys/api/import_job_views.py; 202 of the import endpoints)."""

from __future__ import annotations

from rest_framework import serializers

from surveys.api.serializers import ImportRowErrorSerializer
from surveys.models import ImportJob, Side


class ImportJobSerializer(serializers.ModelSerializer):
    skipped = ImportRowErrorSerializer(many=True, read_only=True,
                                       help_text="Rows left out (skip_bad_rows), with the reason.")
    errors = ImportRowErrorSerializer(many=True, read_only=True,
                                      help_text="Why a failed import imported nothing, by row and column.")
    ignored_columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    side = serializers.ChoiceField(choices=Side.choices, allow_null=True, read_only=True,
                                   help_text="The side of an invitations import; null for accounts.")

    def to_representation(self, instance: ImportJob) -> dict:
        data = super().to_representation(instance)
        data["side"] = data["side"] or None  # stored blank for imports that have no side
        return data

    class Meta:
        model = ImportJob
        fields = ["id", "kind", "organization", "wave", "side", "filename", "status", "rows_total", "rows_done",
                  "created", "skipped", "errors", "error", "ignored_columns", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields
