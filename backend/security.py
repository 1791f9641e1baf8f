"""Security glue the settings point to: login throttling that also covers DRF's token endpoint,
and the response a locked-out client gets (JSON under /api/, a plain page elsewhere)."""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


def client_ip(request: HttpRequest) -> str | None:
    """The client address for login throttling: the public forms' rule (KAGAMI_TRUSTED_PROXY_COUNT),
    or None when there is no valid address — axes stores it in an inet column, which PostgreSQL
    validates (Django's force_login and some test clients send no REMOTE_ADDR at all)."""
    from surveys.public.throttling import client_ip as forms_client_ip

    address = forms_client_ip(getattr(request, "_request", request))
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class KagamiAxesBackend(AxesStandaloneBackend):
    """django-axes' guard, unwrapping DRF's Request.

    DRF's AuthTokenSerializer passes its own Request to authenticate(); axes flags
    the request object it gets, and AxesMiddleware only sees Django's HttpRequest.
    Unwrapping makes a locked-out token request a 429 like the login pages.
    """

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        request = getattr(request, "_request", request)
        return super().authenticate(request, username=username, password=password, **kwargs)


def _lockout_reaches_django_request(sender: Any, request: Any = None, **kwargs: Any) -> None:
    # axes' own user_login_failed receiver (connected before this one) flags the request it was given;
    # for DRF that is the Request wrapper, which AxesMiddleware never sees. Copy the flag through.
    inner = getattr(request, "_request", None)
    if inner is not None and getattr(request, "axes_locked_out", False):
        inner.axes_locked_out = True
        inner.axes_credentials = getattr(request, "axes_credentials", None)


# Connected on import, i.e. when Django loads KagamiAxesBackend, before its first authenticate() call.
user_login_failed.connect(_lockout_reaches_django_request, dispatch_uid="kagami-axes-drf-lockout")


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """429 for a client that failed to log in too often (AXES_FAILURE_LIMIT within AXES_COOLOFF_TIME)."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    detail = _("Too many failed login attempts. Try again in %(minutes)d minutes.") % {"minutes": minutes}
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": detail, "code": "login_locked_out"}, status=429)
    else:
        response = HttpResponse(detail, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = retry_after
    return response
