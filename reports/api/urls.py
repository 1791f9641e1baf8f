"""Report API routes, mounted at /api/v1/ by backend/urls.py: nested under the wave like the staff API's."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from reports.api import views

router = SimpleRouter()
router.register(r"waves/(?P<wave_pk>[^/.]+)/reports", views.WaveReportViewSet, basename="wave-report")
router.register("reports", views.ReportJobViewSet, basename="report-job")

urlpatterns = router.urls
