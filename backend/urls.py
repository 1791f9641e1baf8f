"""Kagami's URLs: the staff API, its documentation, the public forms, the quick diagnosis, admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from diagnosis import api_urls as diagnosis_api_urls
from reports.views import home
from surveys.join import JoinView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/public/diagnosis/", include(diagnosis_api_urls.public_urlpatterns)),
    path("api/v1/public/", include("surveys.public.api_urls")),
    path("api/v1/", include("surveys.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/", include("reports.api.gap_urls")),
    path("api/v1/", include(diagnosis_api_urls.staff_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("accounts/join/<str:token>/", JoinView.as_view(), name="membership-join"),  # invitation links
    path("accounts/", include("backend.account_limits")),  # auth pages; password reset throttled
    path("reports/", include("reports.urls")),
    path("diagnosis/", include("diagnosis.urls")),  # the public quick self-diagnosis
    # The address `make run` prints: what Kagami is, a log-in button, and a member's waves.
    path("", home, name="home"),
    path("", include("surveys.public.urls")),
]

handler404 = "backend.views.not_found"
handler500 = "backend.views.server_failure"
