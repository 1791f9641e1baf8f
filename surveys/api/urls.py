"""Staff API routes, mounted at /api/v1/ by backend/urls.py."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from surveys.api import import_job_views, touchpoint_views, views

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register(r"organizations/(?P<organization_pk>[^/.]+)/touchpoints", touchpoint_views.TouchpointViewSet,
                basename="organization-touchpoint")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("membership-invitations", views.MembershipInvitationViewSet, basename="membership-invitation")
router.register("instruments", views.InstrumentViewSet, basename="instrument")
router.register(r"instruments/(?P<instrument_pk>[^/.]+)/items", views.InstrumentItemViewSet,
                basename="instrument-item")
router.register("waves", views.WaveViewSet, basename="wave")
router.register(r"waves/(?P<wave_pk>[^/.]+)/invitations", views.WaveInvitationViewSet, basename="wave-invitation")
router.register(r"waves/(?P<wave_pk>[^/.]+)/responses", views.WaveResponseViewSet, basename="wave-response")
router.register(r"waves/(?P<wave_pk>[^/.]+)/comments", views.WaveCommentViewSet, basename="wave-comment")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("accounts", views.CustomerAccountViewSet, basename="account")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("import-jobs", import_job_views.ImportJobViewSet, basename="import-job")

urlpatterns = [
    path("auth/token/", views.AuthTokenView.as_view(), name="api-auth-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
