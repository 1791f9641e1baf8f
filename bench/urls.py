"""Kagami's URLs plus /bench/ping/: the cheapest Django view, to measure what the stack itself costs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from backend.urls import urlpatterns as kagami_urlpatterns


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ping/", ping), *kagami_urlpatterns]
