"""The public JSON form API (mounted at /api/v1/public/)."""

from __future__ import annotations

from django.urls import path

from surveys.public import api

urlpatterns = [
    path("forms/<str:token>/", api.PublicInvitationFormAPIView.as_view(), name="public-api-invitation-form"),
    path("waves/<slug:slug>/<str:side>/", api.PublicAnonymousFormAPIView.as_view(),
         name="public-api-anonymous-form"),
]
