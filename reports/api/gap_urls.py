"""Gap routes, nested under the wave like the staff API's (mounted at /api/v1/ by backend/urls.py)."""

from __future__ import annotations

from django.urls import path

from reports.api.gap_views import WaveGapView
from reports.api.segment_views import WaveSegmentDifferenceView

urlpatterns = [
    path("waves/<str:wave_pk>/gap/", WaveGapView.as_view(), name="wave-gap"),
    path("waves/<str:wave_pk>/gap/segments/", WaveSegmentDifferenceView.as_view(), name="wave-gap-segments"),
]
