"""Abuse guards of the public forms: body size, per-IP rate limits, per-browser duplicate guard.

Shared by the HTML forms and their JSON twin. The rate limits live in Django's
cache (settings.CACHES: process-local by default, Redis in production so every
web process sees the same counts).

Two limits per client address, and why a valid link is never refused for its address's failures:

* The flood ceiling (FLOOD_LIMIT posts per FLOOD_WINDOW seconds) applies to every post, valid link
  or not. It is far above what an office behind one NAT address sends.
* The failure budget (FAILURE_LIMIT unknown links, honeypot hits, oversized bodies or repeated API
  submissions per FAILURE_WINDOW seconds). Once an address is over it, requests for *unknown* links
  are answered 429 (with Retry-After) instead of 404, and still counted. Requests for a known, usable
  link are never refused because of it: an office shares one address, and one person guessing (or a
  broken bookmark script) there must not lock every colleague out of their own invitations and the
  wave's anonymous links.

Why that still guards against token guessing: invitation tokens are 256-bit random
(``models.new_token``), so one guess succeeds with probability ~2^-256 whatever the failure count; the
guessing *rate* is bounded by the flood ceiling (posts) and by how fast an address can send GETs that
each cost a 404/429 and a counter increment. Refusing valid links after failures would add nothing to
that bound and only hurt the office. The 429 on unknown links tells a guesser nothing (it does not
depend on whether any token exists) and slows scripted scans down. A burst is logged once per window
per address (logger ``surveys.public.throttling``, a warning when the budget is first exceeded).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse

from surveys import errors
from surveys.errors import KagamiError
from surveys.models import Wave

logger = logging.getLogger(__name__)

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


def redis_client(backend: BaseCache) -> Any | None:
    """A raw Redis client on the server of a Redis cache, kept per cache object; None for other caches.

    Why raw: a counter must be INCR + EXPIRE in one round trip (a pipeline), which Django's cache API
    cannot express. The client is made from the cache's configured LOCATION (public settings), not
    taken from the backend's internals; keys still go through ``backend.make_and_validate_key``.
    """
    if not isinstance(backend, RedisCache):
        return None
    client = _redis_clients.get(backend)
    if client is None:
        import redis

        location = next(alias for alias in settings.CACHES if caches[alias] is backend)
        url = settings.CACHES[location]["LOCATION"]
        client = _redis_clients[backend] = redis.Redis.from_url(url[0] if isinstance(url, list | tuple) else url)
    return client


def bump_counter(kind: str, ip: str, window: int) -> int:
    """Add one to the counter of ``kind`` for a key (an address, an account) in this window; the new count.

    Public: the public forms' limits and the password reset's (backend.account_limits) count with it.
    """
    key, _ = _window_key(kind, ip, window)
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = redis_client(backend)
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


def check_rate_limit(request: HttpRequest, *, count: bool = True) -> None:
    """Raise RateLimited when this address has flooded (posts only; the failure budget is not looked at).

    ``count`` adds the request to the flood counter (posts, one cache round trip); page views
    (``count=False``) count nothing and are never refused here, so reading a form never uses up
    anything. Whether the link is known is decided later; an unknown one goes through
    ``refuse_unknown_link``, the only place the failure budget refuses anything.
    """
    if not count:
        return
    ip = client_ip(request)
    if bump_counter("all", ip, FLOOD_WINDOW) > FLOOD_LIMIT:
        raise RateLimited(retry_after=_window_key("all", ip, FLOOD_WINDOW)[1])


def record_failure(request: HttpRequest) -> int:
    """Count a failed or suspicious request against the address's failure budget; the new count."""
    ip = client_ip(request)
    failures = bump_counter("fail", ip, FAILURE_WINDOW)
    if failures == FAILURE_LIMIT + 1:  # the first refused one of this window: logged once per window
        logger.warning("Public forms: %s failed requests from %s within %s s; its unknown links get 429 until "
                       "the window ends (valid links still work).", failures, ip, FAILURE_WINDOW)
    return failures


def refuse_unknown_link(request: HttpRequest) -> None:
    """Count a request for an unknown link; raise RateLimited once the address is over its failure budget.

    Returns normally (the caller answers its plain 404) while the address is within its budget.
    """
    if record_failure(request) > FAILURE_LIMIT:
        raise RateLimited(retry_after=_window_key("fail", client_ip(request), FAILURE_WINDOW)[1])


def check_body_size(request: HttpRequest) -> None:
    """Raise errors.PayloadTooLarge before the body is parsed, from the declared length."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge()


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
