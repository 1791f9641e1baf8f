"""Issue 13 item 2: someone guessing links behind an office's NAT address must not lock that office out.

A request for a valid link is never refused because of its address's failure count (only the flood
ceiling applies); once the address is over its failure budget, unknown links are answered 429 (and
still counted). Another address is unaffected.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from surveys import models as m
from surveys import services
from surveys.public import throttling
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, as_json, form_post, open_wave

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")

OFFICE = "203.0.113.77"
ELSEWHERE = "203.0.113.78"



@pytest.fixture
def wave(org) -> m.Wave:
    return open_wave(org)



def _guess(n: int, *, api: bool = False) -> list[int]:
    """n requests for unknown links from the office address, alternating HTML and JSON, GET and POST."""
    codes = []
    for i in range(n):
        client = APIClient(REMOTE_ADDR=OFFICE) if api or i % 2 else Client(REMOTE_ADDR=OFFICE)
        url = f"/api/v1/public/forms/guess{i}/" if isinstance(client, APIClient) else f"/r/guess{i}/"
        codes.append((client.get(url) if i % 3 else client.post(url, {})).status_code)
    return codes


def _staff_ticket_html(client: Client, wave: m.Wave) -> dict[str, str]:
    page = client.get(f"/s/{wave.slug}/staff/")
    assert page.status_code == 200, page.status_code
    return {"ticket": re.search(r'name="ticket" value="([^"]+)"', page.content.decode()).group(1)}


def test_an_office_keeps_answering_while_someone_at_its_address_guesses_links(wave, monkeypatch):
    monkeypatch.setattr(throttling, "FAILURE_LIMIT", 6)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    assert _guess(6) == [404] * 6

    # HTML: a colleague's invitation link, and both anonymous links, open and submit from the same address.
    colleague = services.invitation_create(wave=wave, side=m.Side.CUSTOMER, language="en").token
    staff_colleague = services.invitation_create(wave=wave, side=m.Side.STAFF, language="en").token
    browser = Client(REMOTE_ADDR=OFFICE)
    assert browser.get(f"/r/{colleague}/").status_code == 200
    assert browser.post(f"/r/{colleague}/", form_post("customer")).status_code == 302
    assert browser.get(f"/r/{staff_colleague}/").status_code == 200
    assert browser.post(f"/r/{staff_colleague}/", form_post("staff")).status_code == 302
    assert browser.get(f"/s/{wave.slug}/customer/").status_code == 200
    assert browser.post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    other = Client(REMOTE_ADDR=OFFICE)
    assert other.post(f"/s/{wave.slug}/staff/", form_post("staff") | _staff_ticket_html(other, wave)).status_code \
        == 302

    # JSON: the same, through /api/v1/public/.
    api_colleague = services.invitation_create(wave=wave, side=m.Side.CUSTOMER, language="en").token
    api = APIClient(REMOTE_ADDR=OFFICE)
    assert api.get(f"/api/v1/public/forms/{api_colleague}/").status_code == 200
    assert api.post(f"/api/v1/public/forms/{api_colleague}/", {"answers": as_json(CUSTOMER_ANSWERS)},
                    format="json").status_code == 201
    assert api.get(f"/api/v1/public/waves/{wave.slug}/customer/").status_code == 200
    assert api.post(f"/api/v1/public/waves/{wave.slug}/customer/", {"answers": as_json(CUSTOMER_ANSWERS)},
                    format="json").status_code == 201
    staff_api = APIClient(REMOTE_ADDR=OFFICE)
    ticket = staff_api.get(f"/api/v1/public/waves/{wave.slug}/staff/").json()["ticket"]
    assert staff_api.post(f"/api/v1/public/waves/{wave.slug}/staff/",
                          {"answers": as_json(STAFF_ANSWERS), "ticket": ticket}, format="json").status_code == 201
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 7


def test_over_its_failure_budget_an_address_gets_429_for_unknown_links_and_keeps_being_counted(wave, monkeypatch):
    monkeypatch.setattr(throttling, "FAILURE_LIMIT", 4)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    assert _guess(4) == [404] * 4
    html = Client(REMOTE_ADDR=OFFICE).get("/r/another-guess/")
    assert html.status_code == 429 and int(html["Retry-After"]) > 0
    assert Client(REMOTE_ADDR=OFFICE).post("/r/another-guess/", {}).status_code == 429
    assert Client(REMOTE_ADDR=OFFICE).get("/s/no-such-wave/customer/").status_code == 429
    assert Client(REMOTE_ADDR=OFFICE).get("/r/another-guess/thanks/").status_code == 429
    api = APIClient(REMOTE_ADDR=OFFICE).get("/api/v1/public/forms/another-guess/")
    assert (api.status_code, api.json()["code"]) == (429, "throttled") and int(api["Retry-After"]) > 0
    assert APIClient(REMOTE_ADDR=OFFICE).post("/api/v1/public/forms/another-guess/", {"answers": {}},
                                              format="json").status_code == 429
    key = throttling._window_key("fail", OFFICE, throttling.FAILURE_WINDOW)[0]
    assert cache.get(key) == 10  # the refused guesses count too

    # Another address: unknown links are plain 404s, valid ones work.
    assert Client(REMOTE_ADDR=ELSEWHERE).get("/r/another-guess/").status_code == 404
    assert Client(REMOTE_ADDR=ELSEWHERE).post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302


def test_the_flood_ceiling_still_applies_to_valid_links(wave, monkeypatch):
    monkeypatch.setattr(throttling, "FLOOD_LIMIT", 3)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    codes = [Client(REMOTE_ADDR=OFFICE).post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code
             for _ in range(4)]
    assert codes == [302] * 3 + [429]
