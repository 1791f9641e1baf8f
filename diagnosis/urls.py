"""The diagnosis's pages (mounted at /diagnosis/ by backend/urls.py)."""

from __future__ import annotations

from django.urls import path

from diagnosis import views

urlpatterns = [
    path("", views.DiagnosisFormView.as_view(), name="diagnosis-form"),
    path("o/<str:token>/", views.DiagnosisFormView.as_view(), name="diagnosis-link-form"),
    path("r/<str:uuid>/", views.result_page, name="diagnosis-result"),
    path("r/<str:uuid>/pdf/", views.result_pdf, name="diagnosis-result-pdf"),
]
