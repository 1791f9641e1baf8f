"""The respondent's HTML forms: invitation links and anonymous links."""

from __future__ import annotations

from django.urls import path

from surveys.public import views

urlpatterns = [
    path("r/<str:token>/", views.InvitationFormView.as_view(), name="public-invitation-form"),
    path("r/<str:token>/thanks/", views.invitation_thanks, name="public-invitation-thanks"),
    path("s/<slug:slug>/<str:side>/", views.AnonymousFormView.as_view(), name="public-anonymous-form"),
    path("s/<slug:slug>/<str:side>/thanks/", views.anonymous_thanks, name="public-anonymous-thanks"),
]
