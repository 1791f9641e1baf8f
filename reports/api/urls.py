"""Report API routes, mounted at /api/v1/ by backend/urls.py."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from reports.api import views

router = SimpleRouter()
router.register("reports", views.ReportJobViewSet, basename="report-job")

urlpatterns = [
    path("waves/<int:wave_id>/reports/", views.WaveReportCreateView.as_view(), name="wave-reports"),
    *router.urls,
]
