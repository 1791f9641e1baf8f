"""Disclosure promise P5, second half: one person cannot store many staff responses through the anonymous link.

An insider who can store k−1 fake staff responses can pad a released group so that one colleague's
answers stand alone. The anonymous staff link (HTML /s/<slug>/staff/ and JSON
/api/v1/public/waves/<slug>/staff/) therefore takes a submission only with a single-use ticket that a
GET of the form issued (signed, bound to the wave and the side, expiring), keeps the per-browser cookie
guard, and stores at most KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY staff submissions per client address and
wave in any 24 hours. These tests play the attacker (no cookie, replayed, foreign, expired, garbled
tickets, many fresh browsers from one address) and count what is stored; and they check that a person
answering normally (mistakes and the language switch included) is not hindered.
"""

from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from surveys import models as m
from surveys import services
from surveys.public import throttling
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, as_json, form_post, open_wave

pytestmark = pytest.mark.django_db

TICKET_INPUT = re.compile(r'<input type="hidden" name="ticket" value="([^"]*)"')


@pytest.fixture
def wave(org) -> m.Wave:
    return open_wave(org, slug="padding")


def staff_stored(wave: m.Wave) -> int:
    return m.SurveyResponse.objects.filter(wave=wave, side="staff").count()


def html_url(wave: m.Wave, side: str = "staff") -> str:
    return f"/s/{wave.slug}/{side}/"


def api_url(wave: m.Wave, side: str = "staff") -> str:
    return f"/api/v1/public/waves/{wave.slug}/{side}/"



def page_ticket(response) -> str:
    found = TICKET_INPUT.findall(response.content.decode())
    assert len(found) == 1 and found[0], "the staff form carries exactly one ticket"
    return found[0]


def html_ticket(client: Client, wave: m.Wave) -> str:
    response = client.get(html_url(wave) + "?lang=en")
    assert response.status_code == 200, response.status_code
    return page_ticket(response)


def api_ticket(client: APIClient, wave: m.Wave) -> str:
    response = client.get(api_url(wave))
    assert response.status_code == 200, response.status_code
    ticket = response.json().get("ticket")
    assert isinstance(ticket, str) and ticket
    return ticket


def api_body(ticket: str | None = None, **extra) -> dict:
    body = {"answers": as_json(STAFF_ANSWERS), "language": "en", **extra}
    if ticket is not None:
        body["ticket"] = ticket
    return body


def checked(page: str) -> dict[str, str]:
    found = {}
    for tag in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", page):
        if " checked" in tag:
            found[re.search(r'name="([^"]+)"', tag).group(1)] = re.search(r'value="([^"]+)"', tag).group(1)
    return found


def assert_refused_html(response, code: str) -> None:
    """The form again: 403, the answers kept, a message naming the problem, a fresh ticket to send them with."""
    page = response.content.decode()
    assert response.status_code == 403, response.status_code
    assert 'id="survey-form"' in page and 'id="error-summary"' in page
    assert f'data-ticket-problem="{code}"' in page
    assert checked(page) == {"a_superior": "4", "a_everyone": "na", "a_quick": "6"}
    page_ticket(response)


def assert_refused_json(response, code: str) -> None:
    assert response.status_code == 403, (response.status_code, response.content)
    body = response.json()
    assert body["code"] == code and body["detail"] and body["ticket"], body


# --------------------------------------------------------------------------- the attacker


def test_twenty_html_posts_without_the_cookie_and_without_a_ticket_store_nothing(wave):
    responses = [Client().post(html_url(wave), form_post("staff")) for _ in range(20)]
    assert staff_stored(wave) == 0
    for response in responses:
        assert_refused_html(response, "ticket_missing")


def test_twenty_json_posts_without_the_cookie_and_without_a_ticket_store_nothing(wave):
    responses = [APIClient().post(api_url(wave), api_body(), format="json") for _ in range(20)]
    assert staff_stored(wave) == 0
    for response in responses:
        assert_refused_json(response, "ticket_missing")


def test_one_html_ticket_replayed_from_twenty_cookieless_browsers_stores_one_response(wave):
    ticket = html_ticket(Client(), wave)
    statuses = [Client().post(html_url(wave), form_post("staff") | {"ticket": ticket}).status_code
                for _ in range(20)]
    assert statuses == [302] + [403] * 19
    assert staff_stored(wave) == 1
    assert_refused_html(Client().post(html_url(wave), form_post("staff") | {"ticket": ticket}), "ticket_used")


def test_one_json_ticket_replayed_from_twenty_cookieless_clients_stores_one_response(wave):
    ticket = api_ticket(APIClient(), wave)
    responses = [APIClient().post(api_url(wave), api_body(ticket), format="json") for _ in range(20)]
    assert [r.status_code for r in responses] == [201] + [403] * 19
    for response in responses[1:]:
        assert_refused_json(response, "ticket_used")
    assert staff_stored(wave) == 1


def test_a_browser_that_answered_is_refused_whatever_fresh_ticket_it_brings(wave):
    browser = Client()
    assert browser.post(html_url(wave), form_post("staff") | {"ticket": html_ticket(browser, wave)}).status_code == 302
    assert browser.get(html_url(wave)).status_code == 409  # no form, so no ticket, for this browser
    for _ in range(5):  # tickets fetched elsewhere (a cookieless client) do not lift the cookie guard
        fresh = html_ticket(Client(), wave)
        assert browser.post(html_url(wave), form_post("staff") | {"ticket": fresh}).status_code == 409
    api_browser = APIClient()
    assert api_browser.post(api_url(wave), api_body(api_ticket(api_browser, wave)), format="json").status_code == 201
    again = api_browser.post(api_url(wave), api_body(api_ticket(APIClient(), wave)), format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    assert staff_stored(wave) == 2


def test_a_ticket_of_another_wave_or_of_the_other_side_is_refused(org, wave):
    from surveys.public import tickets

    other = open_wave(org, slug="other-wave")
    foreign = html_ticket(Client(), other)
    assert_refused_html(Client().post(html_url(wave), form_post("staff") | {"ticket": foreign}), "ticket_invalid")
    assert_refused_json(APIClient().post(api_url(wave), api_body(api_ticket(APIClient(), other)), format="json"),
                        "ticket_invalid")
    customer_side = tickets.issue(wave, "customer")
    assert_refused_html(Client().post(html_url(wave), form_post("staff") | {"ticket": customer_side}),
                        "ticket_invalid")
    assert_refused_json(APIClient().post(api_url(wave), api_body(customer_side), format="json"), "ticket_invalid")
    # A ticket of the other wave does not become usable there by being refused here.
    assert Client().post(html_url(other), form_post("staff") | {"ticket": foreign}).status_code == 302
    assert staff_stored(wave) == 0


def test_an_expired_ticket_is_refused_and_the_form_comes_back_with_a_fresh_one(wave, monkeypatch):
    from surveys.public import tickets

    hours_ago = int(time.time()) - tickets.TICKET_MAX_AGE - 60
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(hours_ago))
        old_html = html_ticket(Client(), wave)
        old_api = api_ticket(APIClient(), wave)
    refused = Client().post(html_url(wave), form_post("staff") | {"ticket": old_html})
    assert_refused_html(refused, "ticket_expired")
    assert_refused_json(APIClient().post(api_url(wave), api_body(old_api), format="json"), "ticket_expired")
    assert staff_stored(wave) == 0
    # The person whose page sat open too long sends the kept answers again with the page's new ticket.
    fresh = page_ticket(refused)
    assert fresh != old_html
    assert Client().post(html_url(wave), form_post("staff") | {"ticket": fresh}).status_code == 302
    assert staff_stored(wave) == 1


@pytest.mark.parametrize("garbled", ["x", "a" * 5000, "é☃\u0000", "..::..", "1:2:3"])
def test_a_garbled_ticket_is_refused_without_a_500(wave, garbled):
    assert_refused_html(Client().post(html_url(wave), form_post("staff") | {"ticket": garbled}), "ticket_invalid")
    response = APIClient().post(api_url(wave), api_body(garbled), format="json")
    if "\x00" in garbled:  # DRF's string field refuses it first: a 400 naming the field
        assert response.status_code == 400 and response.json()["ticket"]
    else:
        assert_refused_json(response, "ticket_invalid")
    assert staff_stored(wave) == 0


def test_a_forged_signature_and_a_ticket_of_the_wrong_type_are_refused_without_a_500(wave):
    real = api_ticket(APIClient(), wave)
    forged = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    assert_refused_json(APIClient().post(api_url(wave), api_body(forged), format="json"), "ticket_invalid")
    for wrong in (12345, ["a"], {"t": real}, None):
        response = APIClient().post(api_url(wave), api_body() | {"ticket": wrong}, format="json")
        assert response.status_code in (400, 403) and "ticket" in response.json(), (wrong, response.content)
    assert staff_stored(wave) == 0


def test_more_than_n_submissions_from_one_address_with_fresh_tickets_and_cookies_store_n(settings, org, wave):
    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 5
    office = "198.51.100.9"
    outcomes = []
    for n in range(12):  # every one a new browser (no cookie) with a fresh ticket, HTML and JSON mixed
        if n % 2:
            client = APIClient(REMOTE_ADDR=office)
            got = client.get(api_url(wave))
            if got.status_code == 200:
                got = client.post(api_url(wave), api_body(got.json()["ticket"]), format="json")
        else:
            client = Client(REMOTE_ADDR=office)
            got = client.get(html_url(wave) + "?lang=en")
            if got.status_code == 200:
                got = client.post(html_url(wave), form_post("staff") | {"ticket": page_ticket(got)})
        outcomes.append(got)
    assert staff_stored(wave) == 5
    assert [r.status_code for r in outcomes] == [302, 201] * 2 + [302] + [429] * 7
    html_refusal = next(r for r in outcomes[5:] if r["Content-Type"].startswith("text/html"))
    assert "your network" in html_refusal.content.decode() and int(html_refusal["Retry-After"]) > 0
    json_refusal = next(r for r in outcomes[5:] if r["Content-Type"].startswith("application/json"))
    assert json_refusal.json()["code"] == "staff_link_address_limit" and int(json_refusal["Retry-After"]) > 0

    # A ticket fetched before the cap was reached does not get past it either.
    early = html_ticket(Client(REMOTE_ADDR="198.51.100.10"), wave)
    refused = Client(REMOTE_ADDR=office).post(html_url(wave), form_post("staff") | {"ticket": early})
    assert refused.status_code == 429
    assert staff_stored(wave) == 5

    # Other addresses, the customer link, another wave and invitation links are not affected.
    elsewhere = Client(REMOTE_ADDR="198.51.100.77")
    assert elsewhere.post(html_url(wave), form_post("staff") | {"ticket": html_ticket(elsewhere, wave)}
                          ).status_code == 302
    assert Client(REMOTE_ADDR=office).post(html_url(wave, "customer"), form_post("customer")).status_code == 302
    other = open_wave(org, slug="other-wave")
    same_office = Client(REMOTE_ADDR=office)
    assert same_office.post(html_url(other), form_post("staff") | {"ticket": html_ticket(same_office, other)}
                            ).status_code == 302
    token = services.invitation_create(wave=wave, side="staff", language="en").token
    assert Client(REMOTE_ADDR=office).post(f"/r/{token}/", form_post("staff")).status_code == 302
    token = services.invitation_create(wave=wave, side="staff", language="en").token
    assert APIClient(REMOTE_ADDR=office).post(f"/api/v1/public/forms/{token}/", {"answers": as_json(STAFF_ANSWERS)},
                                              format="json").status_code == 201
    assert staff_stored(wave) == 5 + 1 + 2


def test_the_address_cap_is_a_rolling_day(settings, wave, monkeypatch):
    from surveys.public import tickets

    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 2
    start = 1_900_000_000 - 1_900_000_000 % 3600 + 1800  # half past an hour
    clock = {"now": float(start)}
    monkeypatch.setattr(tickets, "_now", lambda: clock["now"])

    def post() -> int:
        browser = Client(REMOTE_ADDR="203.0.113.50")
        got = browser.get(html_url(wave) + "?lang=en")
        if got.status_code != 200:
            return got.status_code
        return browser.post(html_url(wave), form_post("staff") | {"ticket": page_ticket(got)}).status_code

    assert post() == 302
    clock["now"] = start + 5 * 3600
    assert post() == 302
    clock["now"] = start + 23 * 3600
    assert post() == 429  # both within the last 24 hours
    clock["now"] = start + 24 * 3600 + 1800  # the first one is more than a day old
    assert post() == 302
    assert post() == 429
    assert staff_stored(wave) == 3


def test_the_client_address_behind_a_trusted_proxy_is_the_forwarded_one(settings, wave, monkeypatch):
    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 1
    monkeypatch.setattr(throttling, "TRUSTED_PROXY_COUNT", 1)

    def post(forwarded: str) -> int:
        browser = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        got = browser.get(html_url(wave) + "?lang=en")
        if got.status_code != 200:
            return got.status_code
        return browser.post(html_url(wave), form_post("staff") | {"ticket": page_ticket(got)}).status_code

    assert [post("192.0.2.1"), post("192.0.2.2"), post("192.0.2.1"), post("6.6.6.6, 192.0.2.2")] == [
        302, 302, 429, 429]
    assert staff_stored(wave) == 2


# --------------------------------------------------------------------------- the person answering normally


def test_a_normal_visit_stores_exactly_one_response(wave):
    browser = Client()
    page = browser.get(html_url(wave) + "?lang=en")
    assert page.status_code == 200
    sent = browser.post(html_url(wave), form_post("staff") | {"ticket": page_ticket(page)})
    assert sent.status_code == 302 and sent["Location"].startswith(f"/s/{wave.slug}/staff/thanks/")
    assert staff_stored(wave) == 1
    assert browser.get(html_url(wave)).status_code == 409


def test_a_normal_json_client_stores_exactly_one_response(wave):
    client = APIClient()
    form = client.get(api_url(wave)).json()
    assert form["ticket"]
    assert client.post(api_url(wave), api_body(form["ticket"]), format="json").status_code == 201
    assert staff_stored(wave) == 1


def test_a_bad_answer_keeps_the_answers_and_the_ticket_which_still_works(settings, wave):
    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 1  # a failed post does not use up the address's allowance
    browser = Client()
    ticket = html_ticket(browser, wave)
    for _ in range(3):
        bad = browser.post(html_url(wave), form_post("staff", superior="", comment="almost") | {"ticket": ticket})
        page = bad.content.decode()
        assert bad.status_code == 400
        assert checked(page) == {"a_everyone": "na", "a_quick": "6"} and "almost</textarea>" in page
        assert page_ticket(bad) == ticket  # the same ticket: not used up by a post that stored nothing
    assert staff_stored(wave) == 0
    assert browser.post(html_url(wave), form_post("staff") | {"ticket": ticket}).status_code == 302
    assert staff_stored(wave) == 1


def test_a_bad_json_answer_does_not_use_up_the_ticket(wave):
    client = APIClient()
    ticket = api_ticket(client, wave)
    bad = client.post(api_url(wave), api_body(ticket, segments={"tenure": "forever"}), format="json")
    assert bad.status_code == 400 and "segments.tenure" in bad.json()
    malformed = client.post(api_url(wave), {"answers": "nope", "ticket": ticket}, format="json")
    assert malformed.status_code == 400
    assert client.post(api_url(wave), api_body(ticket), format="json").status_code == 201
    assert staff_stored(wave) == 1


def test_the_language_switch_keeps_the_answers_and_the_ticket(wave):
    browser = Client()
    first = browser.get(html_url(wave))  # the wave's default language: Japanese
    ticket = page_ticket(first)
    assert '<html lang="ja">' in first.content.decode()
    switched = browser.post(html_url(wave), form_post("staff", language="ja") | {"ticket": ticket,
                                                                                   "switch_lang": "en"})
    page = switched.content.decode()
    assert switched.status_code == 200 and '<html lang="en">' in page
    assert checked(page) == {"a_superior": "4", "a_everyone": "na", "a_quick": "6"}
    assert page_ticket(switched) == ticket
    assert staff_stored(wave) == 0
    done = browser.post(html_url(wave), form_post("staff") | {"ticket": ticket})
    assert done.status_code == 302 and "lang=en" in done["Location"]
    assert staff_stored(wave) == 1


def test_the_customer_link_keeps_taking_posts_without_a_ticket(wave):
    # The benchmark posts to it with wrk, one fixed body; customers are not the disclosure risk.
    assert Client().post(html_url(wave, "customer"), form_post("customer")).status_code == 302
    assert APIClient().post(api_url(wave, "customer"), {"answers": as_json(CUSTOMER_ANSWERS)},
                            format="json").status_code == 201
    assert APIClient().get(api_url(wave, "customer")).json()["ticket"] is None
    assert "name=\"ticket\"" not in Client().get(html_url(wave, "customer")).content.decode()


def test_neither_the_ticket_nor_the_address_is_kept_with_the_response_or_in_clear(wave):
    browser = Client(REMOTE_ADDR="198.51.100.200")
    ticket = html_ticket(browser, wave)
    assert browser.post(html_url(wave), form_post("staff") | {"ticket": ticket}).status_code == 302
    stored = m.SurveyResponse.objects.get()
    row = {f.attname: getattr(stored, f.attname) for f in stored._meta.concrete_fields}
    assert not any(ticket in str(value) or "198.51.100.200" in str(value) for value in row.values())
    # The guard's own entries in the process-local cache of the tests (the older per-minute flood
    # counters name the address; the guard's day-long ones must not).
    keys = [str(k) for k in getattr(cache, "_cache", {}) if "stafflink" in str(k)]
    assert keys and not any("198.51.100.200" in k or ticket in k for k in keys), keys


def test_the_refusals_speak_the_forms_language(settings, wave):
    refused = Client().post(html_url(wave), form_post("staff", language="ja"))
    assert refused.status_code == 403 and "回答は下に残っていますので" in refused.content.decode()
    settings.KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = 1
    browser = Client(REMOTE_ADDR="192.0.2.33")
    assert browser.post(html_url(wave), form_post("staff") | {"ticket": html_ticket(browser, wave)}).status_code == 302
    capped = Client(REMOTE_ADDR="192.0.2.33").get(html_url(wave))  # the wave's default language: Japanese
    page = capped.content.decode()
    assert capped.status_code == 429 and '<html lang="ja">' in page and "上限に達しました" in page
