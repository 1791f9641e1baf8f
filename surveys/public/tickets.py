"""The anonymous staff link's guard: one person cannot store many staff responses through it (disclosure P5).

Why: an insider who can store k−1 fake staff responses can pad a released group so that one
colleague's answers stand alone. The staff anonymous link (HTML /s/<slug>/staff/ and JSON
/api/v1/public/waves/<slug>/staff/) takes answers without an invitation, so it is guarded here.

What the guard is, three checks on every submission through that link:

1. A ticket. Every GET of the form (and every re-shown form) carries one: a random nonce signed with
   django.core.signing (the salt names the wave and the side, so a ticket of another wave or of the
   customer side does not verify), valid for TICKET_MAX_AGE. A submission must send it back (HTML:
   hidden field ``ticket``; JSON: the GET's ``ticket``). It is single use: its nonce's hash is added
   to the cache (an atomic add) when a submission starts and kept until the ticket has expired anyway;
   a replay is refused. A submission that stores nothing (bad answers, a closed wave, any error) gives
   the ticket back, so a person who made a mistake sends the same page again.
2. The per-browser cookie (throttling.has_answered), unchanged: a browser that answered is refused
   whatever ticket it brings. A browser without that cookie counts as new only with a fresh ticket.
3. A per-address cap: at most settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY submissions stored per
   client address (throttling.client_ip, which honours KAGAMI_TRUSTED_PROXY_COUNT) and wave in a rolling
   24 hours, counted in hourly steps (a submission stops counting 23 to 24 hours later). A slot is
   taken atomically before storing and given back if nothing is stored, so concurrent posts never
   exceed the cap and failed posts never use it up. Over the cap: 429, nothing stored. Invitation links
   and the customer link are not counted. The counters are keyed by a keyed hash (salted_hmac) of wave
   and address, never the address in clear, and by the hour. Nothing of the guard is stored with the
   response: a used ticket is remembered only as a hash of its nonce, tied to no response or address.

Residual risk, in plain words: tickets are handed out freely by GET, so a script can fetch one per
post; the ticket only makes each stored response cost one fresh page view and stops blind replays.
What actually bounds one person is the cookie (one response per browser, trivially cleared) and the
address cap: someone with several browsers and addresses (home, phone, office, VPN) can still store up
to N per address per day, and far more than k−1. No cap usable by an office behind one NAT can stop
k−1 padded responses (4 at the default threshold of 5), which is why the analysis must never let
self-declared segments of anonymous-link responses lift a group over the anonymity threshold (that part
is done elsewhere). The address is only as good as KAGAMI_TRUSTED_PROXY_COUNT: 0 behind a proxy puts
every respondent in one bucket (the whole company shares N a day); a count higher than the real number
of proxies lets a client forge X-Forwarded-For and get a new bucket per post.
The "used" records and counters live in the Django cache: shared and atomic with Redis (production,
REDIS_URL); with the process-local default every web process has its own, so the cap is N per process
and a ticket could be replayed once per process. Losing the cache (Redis restart, flush, eviction)
forgets used tickets (no worse than fetching new ones) and resets the counts (an attacker may then
store N more that day). For tickets a cache is enough: a lost record gives no more than a GET does.
For the counters a database table would survive a Redis restart; that rare, visible event is accepted
rather than a model (and its migration) for a counter. Redis must not evict these keys under memory
pressure (no allkeys-* maxmemory policy), or the cap silently weakens.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from surveys.errors import KagamiError
from surveys.models import Language, Side, Wave
from surveys.public import throttling

TICKET_FIELD = "ticket"
TICKET_MAX_AGE = 4 * 3600  # a form left open all morning still goes through; older: re-shown with a new one
MAX_TICKET_CHARS = 200  # a real ticket is ~70 characters
DEFAULT_PER_ADDRESS_DAILY = 50
HOUR = 3600
WINDOW_HOURS = 24
_SALT = "kagami.public.anonymous-ticket"
_KEY_PREFIX = "kagami:stafflink"


def _now() -> float:
    """The cap's clock (a function so tests can move it)."""
    return time.time()


def guarded(side: str, *, anonymous: bool) -> bool:
    """Whether submissions to this form need a ticket and count against the address cap."""
    return anonymous and side == Side.STAFF


def per_address_daily_limit() -> int:
    return int(getattr(settings, "KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY", DEFAULT_PER_ADDRESS_DAILY))


# --------------------------------------------------------------------------- errors

_TICKET_DETAILS = {
    "ticket_missing": "No ticket: GET this form first and send back the ticket it returned. Nothing was saved.",
    "ticket_invalid": "Not a ticket of this form (another wave or side, or altered): GET the form for a new one. "
                      "Nothing was saved.",
    "ticket_expired": "The ticket has expired: GET the form for a new one. Nothing was saved.",
    "ticket_used": "The ticket was already used: each ticket stores one response. Nothing was saved.",
}

# What the re-shown HTML form says, in the form's language. (Kept here rather than in the .po file.)
_FORM_MESSAGES = {
    "ticket_missing": {
        Language.EN: "We could not confirm that these answers were sent from this survey's page, so they were "
                     "not saved. They are kept below: please send them again.",
        Language.JA: "このアンケートのページから送信されたことを確認できなかったため、回答は保存されていません。"
                     "回答は下に残っていますので、もう一度送信してください。",
    },
    "ticket_expired": {
        Language.EN: "This page was open for a long time, so your answers were not saved. They are kept below: "
                     "please send them again.",
        Language.JA: "ページを開いてから時間が経ちすぎたため、回答は保存されていません。"
                     "回答は下に残っていますので、もう一度送信してください。",
    },
    "ticket_used": {
        Language.EN: "Answers were already sent once from this page, so these were not saved again. If you did "
                     "not see the thank-you page, please send them again.",
        Language.JA: "このページからはすでに一度送信されているため、回答は重ねて保存されていません。"
                     "お礼のページが表示されなかった場合は、もう一度送信してください。",
    },
}
_FORM_MESSAGES["ticket_invalid"] = _FORM_MESSAGES["ticket_missing"]

_LIMIT_MESSAGES = {
    Language.EN: ("This link has reached today's limit for your network",
                  "The staff survey link has already received as many answers from your network as it accepts "
                  "in one day, so your answers were not saved. Please try again tomorrow, or ask the person "
                  "running the survey for a personal invitation link."),
    Language.JA: ("このネットワークからの本日の回答数が上限に達しました",
                  "このアンケートの社員用リンクには、このネットワークから1日に受け付けられる数の回答がすでに"
                  "届いているため、回答は保存されていません。明日もう一度お試しいただくか、アンケートの担当者に"
                  "個別の招待リンクを依頼してください。"),
}


class TicketRefused(KagamiError):
    """The submission's ticket is missing, not this form's, expired or used: nothing was stored."""

    status = 403
    code = "ticket_invalid"
    default_detail = _TICKET_DETAILS["ticket_invalid"]

    def __init__(self, code: str):
        detail = _TICKET_DETAILS[code]
        super().__init__(detail, code=code, field_errors={TICKET_FIELD: [detail]})


class AddressLimitReached(throttling.RateLimited):
    code = "staff_link_address_limit"
    default_detail = ("This staff link has already stored as many answers from your network as it accepts in "
                      "24 hours. Nothing was saved; try again later, or use a personal invitation link.")


def form_message(code: str, language: str) -> str:
    messages = _FORM_MESSAGES.get(code, _FORM_MESSAGES["ticket_invalid"])
    return messages.get(language, messages[Language.EN])


def limit_message(language: str | None) -> tuple[str, str]:
    """(heading, paragraph) of the HTML page for AddressLimitReached."""
    return _LIMIT_MESSAGES.get(language or "", _LIMIT_MESSAGES[Language.EN])


# --------------------------------------------------------------------------- tickets


def _ticket_salt(wave: Wave, side: str) -> str:
    return f"{_SALT}:{wave.pk}:{side}"


def issue(wave: Wave, side: str) -> str:
    """A fresh ticket for one submission to (wave, side)."""
    return signing.dumps(secrets.token_urlsafe(16), salt=_ticket_salt(wave, side), compress=False)


def _used_key(wave: Wave, side: str, nonce: str) -> str:
    return f"{_KEY_PREFIX}:used:" + hashlib.sha256(f"{wave.pk}:{side}:{nonce}".encode()).hexdigest()


def _verified_key(ticket: Any, wave: Wave, side: str) -> str:
    """The cache key recording the ticket's use, if the ticket is this form's and unexpired; else TicketRefused."""
    if ticket is None or ticket == "":
        raise TicketRefused("ticket_missing")
    if not isinstance(ticket, str) or len(ticket) > MAX_TICKET_CHARS:
        raise TicketRefused("ticket_invalid")
    try:
        nonce = signing.loads(ticket, salt=_ticket_salt(wave, side), max_age=TICKET_MAX_AGE)
    except signing.SignatureExpired:
        raise TicketRefused("ticket_expired") from None
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise TicketRefused("ticket_invalid") from None
    if not isinstance(nonce, str) or not nonce:
        raise TicketRefused("ticket_invalid")
    return _used_key(wave, side, nonce)


def is_usable(ticket: Any, wave: Wave, side: str) -> bool:
    """True for a ticket of this form that is neither expired nor used (a re-shown form keeps it)."""
    try:
        key = _verified_key(ticket, wave, side)
    except TicketRefused:
        return False
    return caches[DEFAULT_CACHE_ALIAS].get(key) is None


# --------------------------------------------------------------------------- the per-address cap


def _address_keys(request: HttpRequest, wave: Wave, now: float) -> list[str]:
    """The counter keys of this address and wave, oldest hour first, the current hour last."""
    digest = salted_hmac(f"{_SALT}.address", f"{wave.pk}:{throttling.client_ip(request)}").hexdigest()[:32]
    hour = int(now) // HOUR
    return [f"{_KEY_PREFIX}:addr:{digest}:{h}" for h in range(hour - WINDOW_HOURS + 1, hour + 1)]


def _retry_after(counts: list[int], now: float) -> int:
    """Seconds until the oldest counted hour leaves the window."""
    oldest = next((i for i, n in enumerate(counts) if n > 0), len(counts) - 1)
    first_hour = int(now) // HOUR - WINDOW_HOURS + 1
    return max(1, (first_hour + oldest + WINDOW_HOURS) * HOUR - int(now))


def _counts(keys: list[str]) -> list[int]:
    found = caches[DEFAULT_CACHE_ALIAS].get_many(keys)
    return [max(0, int(found.get(key) or 0)) for key in keys]


def check_address(request: HttpRequest, wave: Wave) -> None:
    """Raise AddressLimitReached if this address has used up its allowance (a look, counting nothing)."""
    now = _now()
    counts = _counts(_address_keys(request, wave, now))
    if sum(counts) >= per_address_daily_limit():
        raise AddressLimitReached(retry_after=_retry_after(counts, now))


def _take_slot(request: HttpRequest, wave: Wave) -> str:
    """Count one submission for this address (atomically) and return its key, or AddressLimitReached.

    Counted first and judged after: of posts racing for the last slot none gets past the cap (one may
    be refused that a strict queue would have let in).
    """
    now = _now()
    keys = _address_keys(request, wave, now)
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = throttling.redis_client(backend)
    ttl = WINDOW_HOURS * HOUR + HOUR
    if client is not None:
        raw = [backend.make_and_validate_key(key) for key in keys]
        pipe = client.pipeline(transaction=False)
        pipe.incr(raw[-1])
        pipe.expire(raw[-1], ttl)
        pipe.mget(raw)
        counts = [max(0, int(v or 0)) for v in pipe.execute()[2]]
    else:
        if not backend.add(keys[-1], 1, timeout=ttl):
            try:
                backend.incr(keys[-1])
            except ValueError:  # expired between add() and incr()
                backend.add(keys[-1], 1, timeout=ttl)
        counts = _counts(keys)
    if sum(counts) > per_address_daily_limit():
        _give_back_slot(keys[-1])
        counts[-1] = max(0, counts[-1] - 1)
        raise AddressLimitReached(retry_after=_retry_after(counts, now))
    return keys[-1]


def _give_back_slot(key: str) -> None:
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = throttling.redis_client(backend)
    if client is not None:
        client.decr(backend.make_and_validate_key(key))
        return
    try:
        backend.decr(key)
    except ValueError:  # gone (the cache was cleared): nothing to give back
        pass


# --------------------------------------------------------------------------- the guard


@contextmanager
def guarded_submission(request: HttpRequest, wave: Wave, side: str, *, anonymous: bool,
                       ticket: Any) -> Iterator[None]:
    """Around the storing of one submission: ticket checked and claimed, an address slot taken.

    Raises TicketRefused (403) or AddressLimitReached (429) before anything is stored. If the body
    raises (bad answers, closed wave, anything), the ticket and the slot are given back.
    Forms that are not guarded (invitation links, the customer link) pass straight through.
    """
    if not guarded(side, anonymous=anonymous):
        yield
        return
    used_key = _verified_key(ticket, wave, side)
    slot = _take_slot(request, wave)
    backend = caches[DEFAULT_CACHE_ALIAS]
    try:
        claimed = backend.add(used_key, 1, timeout=TICKET_MAX_AGE + 600)
    except BaseException:
        _give_back_slot(slot)
        raise
    if not claimed:
        _give_back_slot(slot)
        raise TicketRefused("ticket_used")
    try:
        yield
    except BaseException:
        backend.delete(used_key)
        _give_back_slot(slot)
        raise
