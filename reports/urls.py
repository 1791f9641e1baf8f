from __future__ import annotations

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_index, name="index"),
    path("waves/<int:wave_id>/", views.wave_mirror, name="wave"),  # the web mirror (reports/web.py)
    path("waves/<int:wave_id>/<str:language>/", views.report_request, name="request"),
    path("jobs/<uuid:pk>/", views.report_job, name="job"),
    path("jobs/<uuid:pk>/pdf/", views.report_download, name="download"),
]
