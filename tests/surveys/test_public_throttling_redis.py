"""The public forms' rate limit on Redis, as in production: same limits as the local cache, one round trip a post;
and the staff link's guard (single-use tickets, per-address daily cap) shared and atomic there."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis.connection
from django.core.cache import cache
from django.test import Client, RequestFactory

from surveys import models as m
from surveys.public import throttling, tickets
from tests.surveys.test_public_support import form_post, open_wave

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def redis_cache(settings, redis_url):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    cache.clear()
    yield
    cache.clear()


def _post(ip: str):
    return RequestFactory().post("/s/x/customer/", REMOTE_ADDR=ip)


def _refused(request, *, count: bool = True) -> bool:
    try:
        throttling.check_rate_limit(request, count=count)
    except throttling.RateLimited as exc:
        assert 0 < exc.retry_after <= throttling.FAILURE_WINDOW
        return True
    return False


def test_a_flood_of_posts_is_capped_at_the_limit(monkeypatch):
    monkeypatch.setattr(throttling, "FLOOD_LIMIT", 5)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    assert [_refused(_post("198.51.100.1")) for _ in range(7)] == [False] * 5 + [True] * 2
    assert not _refused(_post("198.51.100.2"))
    # The counter is a plain integer the cache API reads back, and it expires with its window.
    key = throttling._window_key("all", "198.51.100.1", throttling.FLOOD_WINDOW)[0]
    assert cache.get(key) == 7
    ttl = cache._cache.get_client(write=True).ttl(cache.make_and_validate_key(key))
    assert 0 < ttl <= throttling.FLOOD_WINDOW + 5


def _unknown_refused(request) -> bool:
    try:
        throttling.refuse_unknown_link(request)
    except throttling.RateLimited as exc:
        assert 0 < exc.retry_after <= throttling.FAILURE_WINDOW
        return True
    return False


def test_an_address_past_its_failure_budget_gets_429_for_unknown_links_only(monkeypatch):
    monkeypatch.setattr(throttling, "FAILURE_LIMIT", 3)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    guesser = _post("203.0.113.7")
    assert [_unknown_refused(guesser) for _ in range(5)] == [False] * 3 + [True] * 2
    assert cache.get(throttling._window_key("fail", "203.0.113.7", throttling.FAILURE_WINDOW)[0]) == 5
    # Valid links from there are refused only by the flood ceiling.
    assert not _refused(guesser, count=False) and not _refused(guesser)
    assert not _unknown_refused(_post("203.0.113.8"))


def test_a_post_costs_one_round_trip_to_redis(monkeypatch):
    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    throttling.check_rate_limit(_post("192.0.2.44"))  # connect first: the handshake is not the point
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    throttling.check_rate_limit(_post("192.0.2.44"))
    assert len(sent) == 1
    sent.clear()
    throttling.check_rate_limit(_post("192.0.2.44"), count=False)  # a page view: nothing
    throttling.record_failure(_post("192.0.2.44"))
    assert len(sent) == 1


def test_a_form_post_through_redis_is_stored_and_counted(org, monkeypatch):
    monkeypatch.setattr(throttling, "FLOOD_LIMIT", 2)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    wave = open_wave(org)
    codes = [Client(REMOTE_ADDR="192.0.2.50").post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code
             for _ in range(3)]
    assert codes == [302, 302, 429]
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 2


# --------------------------------------------------------------------------- the staff link's guard on Redis


def _staff_post(client: Client, wave: m.Wave) -> int:
    page = client.get(f"/s/{wave.slug}/staff/?lang=en")
    if page.status_code != 200:
        return page.status_code
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(f"/s/{wave.slug}/staff/", form_post("staff") | {"ticket": ticket}).status_code


def test_the_staff_link_cap_and_single_use_tickets_hold_on_redis(org, settings):
    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 3
    wave = open_wave(org)
    assert [_staff_post(Client(REMOTE_ADDR="192.0.2.60"), wave) for _ in range(5)] == [302] * 3 + [429] * 2
    assert _staff_post(Client(REMOTE_ADDR="192.0.2.61"), wave) == 302
    assert m.SurveyResponse.objects.filter(wave=wave, side="staff").count() == 4
    # The counters: raw integers with a day's life, under a hash of wave and address, never the address.
    client = cache._cache.get_client(write=True)
    keys = [k.decode() for k in client.keys("*stafflink:addr:*")]
    assert len(keys) == 2 and not any("192.0.2" in k for k in keys)
    assert sorted(int(client.get(k)) for k in keys) == [1, 3]
    assert all(24 * 3600 < client.ttl(k) <= 25 * 3600 for k in keys)
    # A used ticket is remembered in Redis: a replay from a new browser stores nothing.
    page = Client(REMOTE_ADDR="192.0.2.62").get(f"/s/{wave.slug}/staff/?lang=en").content.decode()
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    replays = [Client(REMOTE_ADDR=f"192.0.2.{70 + n}").post(f"/s/{wave.slug}/staff/", form_post("staff")
                                                             | {"ticket": ticket}).status_code for n in range(3)]
    assert replays == [302, 403, 403]
    assert m.SurveyResponse.objects.filter(wave=wave, side="staff").count() == 5


def test_racing_submissions_never_get_past_the_cap_or_reuse_a_ticket_on_redis(org, settings):
    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 5
    wave = open_wave(org)
    request = RequestFactory().post(f"/s/{wave.slug}/staff/", REMOTE_ADDR="192.0.2.90")
    barrier = threading.Barrier(16)

    def take(_: int) -> bool:
        barrier.wait(timeout=10)
        try:
            tickets._take_slot(request, wave)
        except tickets.AddressLimitReached:
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        taken = sum(pool.map(take, range(16)))
    assert 1 <= taken <= 5
    assert sum(tickets._counts(tickets._address_keys(request, wave, tickets._now()))) == taken

    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 1000
    ticket = tickets.issue(wave, "staff")
    barrier = threading.Barrier(16)

    def claim(_: int) -> bool:
        barrier.wait(timeout=10)
        try:
            with tickets.guarded_submission(request, wave, "staff", anonymous=True, ticket=ticket):
                pass
        except tickets.TicketRefused as exc:
            assert exc.code == "ticket_used"
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sum(pool.map(claim, range(16))) == 1
