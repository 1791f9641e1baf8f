from __future__ import annotations

from django.urls import path

from reports.api.gap_views import WaveGapView

urlpatterns = [
    path("waves/<str:pk>/gap/", WaveGapView.as_view(), name="wave-gap"),
]
