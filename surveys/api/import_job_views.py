"""``GET /api/v1/import-jobs/{id}/``: the progress and outcome of a background import (admin).

Jobs are started by the import endpoints (``POST /waves/{id}/invitations/import/``,
``POST /accounts/import/``) when a file has more rows than ``KAGAMI_IMPORT_SYNC_ROWS``; see
surveys/import_jobs.py. Another organisation's job is 404, a member without the admin role 403.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins
from rest_framework.viewsets import GenericViewSet

from backend.api.base import KagamiAPIMixin
from backend.api.permissions import ADMIN
from backend.api.schema import errs
from backend.ids import parse_uuid
from surveys import import_jobs
from surveys.api.import_job_serializers import ImportJobSerializer
from surveys.models import ImportJob


@extend_schema_view(
    retrieve=extend_schema(summary="Progress and outcome of a background import (admin)",
                           description="Poll until `status` is `done` or `failed`. `rows_done` counts rows "
                                       "written so far out of `rows_total`; a failed import wrote nothing "
                                       "and lists its problems in `errors`. Invitation links are never "
                                       "returned by a job: send them with `send` or a reminder.",
                           responses={200: ImportJobSerializer, **errs(401, 403, 404)}),
)
@extend_schema(tags=["imports"])
class ImportJobViewSet(KagamiAPIMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()
    read_roles = ADMIN

    def get_queryset(self):
        return ImportJob.objects.filter(organization_id__in=self.org_ids()).defer("data")

    def get_object(self) -> Any:
        pk = parse_uuid(self.kwargs.get("pk", ""))
        if pk is None:
            raise exceptions.NotFound()
        import_jobs.import_job_sweep_stale(organization_ids=self.org_ids())
        job = get_object_or_404(self.get_queryset(), pk=pk)
        self.check_object_permissions(self.request, job)
        return job
