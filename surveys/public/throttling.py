"""Abuse guards of the public forms: body size, per-IP rate limit, per-browser duplicate guard.

Shared by the HTML forms and their JSON twin. The rate limit lives in Django's
cache (settings.CACHES: process-local by default, Redis in production so every
web process sees the same counts).
"""

from __future__ import annotations

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from surveys.errors import KagamiError
from surveys.models import Wave

# A survey body is small: 5,000 Japanese characters percent-encoded are ~45 KB.
MAX_BODY_BYTES: int = getattr(settings, "KAGAMI_PUBLIC_MAX_BODY_BYTES", 128 * 1024)

# Why two limits, and why these numbers: a whole office (or a customer's office)
# often reaches us from ONE address behind NAT, and every one of them must be able
# to answer once. So legitimate posts are limited only by a flood ceiling far above
# what a shared office produces in a minute, while *suspicious* requests (unknown
# links, honeypot hits, oversized bodies, repeated API submissions) have a tighter
# budget: that is what spam and token guessing look like. Answers that fail
# validation are NOT counted: people make mistakes, and a busy office would
# otherwise lock its colleagues out.
FLOOD_LIMIT: int = getattr(settings, "KAGAMI_PUBLIC_FLOOD_LIMIT", 300)
FLOOD_WINDOW: int = 60
FAILURE_LIMIT: int = getattr(settings, "KAGAMI_PUBLIC_FAILURE_LIMIT", 60)
FAILURE_WINDOW: int = 600

# Behind a reverse proxy, the client is the n-th address from the right of
# X-Forwarded-For; 0 (default) trusts nothing and uses REMOTE_ADDR.
TRUSTED_PROXY_COUNT: int = getattr(settings, "KAGAMI_TRUSTED_PROXY_COUNT", 0)

DONE_COOKIE_MAX_AGE = 400 * 24 * 3600
_DONE_COOKIE_SALT = "kagami.public.answered"


class PayloadTooLarge(KagamiError):
    code = "payload_too_large"
    status = 413
    default_detail = "The request body is too large."


class RateLimited(KagamiError):
    code = "throttled"
    status = 429
    default_detail = "Too many requests from your network. Please try again in a few minutes."

    def __init__(self, retry_after: int):
        super().__init__()
        self.retry_after = retry_after


UNKNOWN_IP = "0.0.0.0"  # noqa: S104 (a bucket, not a bind address)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address; always a valid IP, because django-axes stores it in an IP column
    (PostgreSQL refuses anything else: a forged X-Forwarded-For or a missing REMOTE_ADDR was a 500)."""
    if TRUSTED_PROXY_COUNT > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= TRUSTED_PROXY_COUNT:
            ip = _valid_ip(forwarded[-TRUSTED_PROXY_COUNT])
            if ip:
                return ip
    return _valid_ip(request.META.get("REMOTE_ADDR", "") or "") or UNKNOWN_IP


def _window_key(kind: str, ip: str, window: int) -> tuple[str, int]:
    bucket = int(time.time()) // window
    return f"kagami:rl:{kind}:{ip}:{bucket}", window - int(time.time()) % window


def _count(kind: str, ip: str, window: int) -> int:
    key, _ = _window_key(kind, ip, window)
    return int(cache.get(key, 0))


def _bump(kind: str, ip: str, window: int) -> None:
    key, _ = _window_key(kind, ip, window)
    # add() then incr() is atomic on Redis and good enough on the local cache.
    if not cache.add(key, 1, timeout=window + 5):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=window + 5)


def check_rate_limit(request: HttpRequest, *, count: bool = True) -> None:
    """Raise RateLimited when this address has flooded or failed too often.

    ``count`` adds the request to the flood counter (posts); page views only
    check the failure budget, so reading a form never uses up anything.
    """
    ip = client_ip(request)
    if _count("fail", ip, FAILURE_WINDOW) >= FAILURE_LIMIT:
        raise RateLimited(retry_after=_window_key("fail", ip, FAILURE_WINDOW)[1])
    if not count:
        return
    if _count("all", ip, FLOOD_WINDOW) >= FLOOD_LIMIT:
        raise RateLimited(retry_after=_window_key("all", ip, FLOOD_WINDOW)[1])
    _bump("all", ip, FLOOD_WINDOW)


def record_failure(request: HttpRequest) -> None:
    """Count a failed or suspicious request against the address's failure budget."""
    _bump("fail", client_ip(request), FAILURE_WINDOW)


def check_body_size(request: HttpRequest) -> None:
    """Raise PayloadTooLarge before the body is parsed, from the declared length."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge()


def done_cookie_name(wave: Wave, side: str) -> str:
    return f"kagami_done_{wave.pk}_{side}"


def has_answered(request: HttpRequest, wave: Wave, side: str) -> bool:
    """True when this browser already answered this wave's anonymous link (signed cookie)."""
    value = request.get_signed_cookie(
        done_cookie_name(wave, side), default=None, salt=_DONE_COOKIE_SALT, max_age=DONE_COOKIE_MAX_AGE
    )
    return value == f"{wave.pk}:{side}"


def mark_answered(response: HttpResponse, wave: Wave, side: str, *, secure: bool) -> None:
    response.set_signed_cookie(
        done_cookie_name(wave, side),
        f"{wave.pk}:{side}",
        salt=_DONE_COOKIE_SALT,
        max_age=DONE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
