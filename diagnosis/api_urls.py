"""The diagnosis's API routes: the public twin (/api/v1/public/diagnosis/) and the staff API (/api/v1/)."""

from __future__ import annotations

from django.urls import path

from diagnosis import api, staff_api

public_urlpatterns = [
    path("questions/", api.QuestionsAPIView.as_view(), name="public-diagnosis-questions"),
    path("results/", api.ResultsAPIView.as_view(), name="public-diagnosis-results"),
    path("results/<str:uuid>/", api.ResultAPIView.as_view(), name="public-diagnosis-result"),
]

staff_urlpatterns = [
    path("organizations/<str:org_pk>/diagnosis/links/", staff_api.DiagnosisLinksView.as_view(),
         name="organization-diagnosis-links"),
    path("organizations/<str:org_pk>/diagnosis/links/<str:pk>/deactivate/",
         staff_api.DiagnosisLinkDeactivateView.as_view(), name="organization-diagnosis-link-deactivate"),
    path("organizations/<str:org_pk>/diagnosis/summary/", staff_api.DiagnosisSummaryView.as_view(),
         name="organization-diagnosis-summary"),
]
