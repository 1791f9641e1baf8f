"""Abuse guards of the public forms: body size, per-IP rate limit, per-browser duplicate guard.

Shared by the HTML forms and their JSON twin. The rate limit lives in Django's
cache (settings.CACHES: process-local by default, Redis in production so every
web process sees the same counts).
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
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


_redis_clients: WeakKeyDictionary[BaseCache, Any] = WeakKeyDictionary()


def _redis(backend: BaseCache) -> Any | None:
    """The raw client of a Redis cache, kept per cache object (Django builds a new client for every call)."""
    if not isinstance(backend, RedisCache):
        return None
    client = _redis_clients.get(backend)
    if client is None:
        client = _redis_clients[backend] = backend._cache.get_client(write=True)
    return client


def _count(kind: str, ip: str, window: int) -> int:
    key, _ = _window_key(kind, ip, window)
    return int(cache.get(key, 0))


def bump_counter(kind: str, ip: str, window: int) -> int:
    """Add one to the counter of ``kind`` for a key (an address, an account) in this window; the new count.

    Public: the public forms' limits and the password reset's (backend.account_limits) count with it.
    """
    key, _ = _window_key(kind, ip, window)
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = _redis(backend)
    if client is not None:
        # One round trip. The raw integer is what RedisCache.get reads back as an int.
        pipe = client.pipeline(transaction=False)
        pipe.incr(backend.make_and_validate_key(key))
        pipe.expire(backend.make_and_validate_key(key), window + 5)
        return int(pipe.execute()[0])
    # Other caches (the process-local default): add() then incr(), good enough for one process.
    if backend.add(key, 1, timeout=window + 5):
        return 1
    try:
        return int(backend.incr(key))
    except ValueError:  # expired between add() and incr()
        backend.add(key, 1, timeout=window + 5)
        return 1


def _count_failures_and_bump_flood(ip: str) -> tuple[int, int]:
    """(failures of this window, posts of this window including this one), in one Redis round trip."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = _redis(backend)
    if client is None:
        return _count("fail", ip, FAILURE_WINDOW), bump_counter("all", ip, FLOOD_WINDOW)
    fail_key = backend.make_and_validate_key(_window_key("fail", ip, FAILURE_WINDOW)[0])
    flood_key = backend.make_and_validate_key(_window_key("all", ip, FLOOD_WINDOW)[0])
    pipe = client.pipeline(transaction=False)
    pipe.get(fail_key)
    pipe.incr(flood_key)
    pipe.expire(flood_key, FLOOD_WINDOW + 5)
    failures, posts, _expire = pipe.execute()
    return int(failures or 0), int(posts)


def check_rate_limit(request: HttpRequest, *, count: bool = True) -> None:
    """Raise RateLimited when this address has flooded or failed too often.

    ``count`` adds the request to the flood counter (posts); page views only
    check the failure budget, so reading a form never uses up anything. A post
    is counted before it is judged (one Redis round trip: GET, INCR, EXPIRE), so
    refused posts count too; that changes nothing, the window is refused either way.
    """
    ip = client_ip(request)
    if not count:
        if _count("fail", ip, FAILURE_WINDOW) >= FAILURE_LIMIT:
            raise RateLimited(retry_after=_window_key("fail", ip, FAILURE_WINDOW)[1])
        return
    failures, posts = _count_failures_and_bump_flood(ip)
    if failures >= FAILURE_LIMIT:
        raise RateLimited(retry_after=_window_key("fail", ip, FAILURE_WINDOW)[1])
    if posts > FLOOD_LIMIT:
        raise RateLimited(retry_after=_window_key("all", ip, FLOOD_WINDOW)[1])


def record_failure(request: HttpRequest) -> None:
    """Count a failed or suspicious request against the address's failure budget."""
    bump_counter("fail", client_ip(request), FAILURE_WINDOW)


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
