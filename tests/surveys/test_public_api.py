"""The JSON twin of the public forms: form definitions, submissions, errors, and one response per invitation."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from surveys import models as m
from surveys import services
from surveys.public import throttling
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, as_json, open_wave

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")



@pytest.fixture
def wave(org) -> m.Wave:
    return open_wave(org)


@pytest.fixture
def customer_token(wave) -> str:
    return services.invitation_create(wave=wave, side="customer", language="ja").token


@pytest.fixture
def staff_token(wave) -> str:
    return services.invitation_create(wave=wave, side="staff", language="en").token



def test_it_describes_an_invitation_form_in_the_invitees_language(anon_client, customer_token):
    response = anon_client.get(f"/api/v1/public/forms/{customer_token}/")
    assert response.status_code == 200
    body = response.json()
    # The survey's title and introduction for respondents, never the instrument's (internal) name.
    assert body["wave"] == {"slug": "spring", "company": "ミラー株式会社", "title": "ミラー株式会社 お客様アンケート",
                            "description": "ミラー株式会社とのお取引について、日頃どのように感じていらっしゃるかを"
                                           "お聞かせください。所要時間は約5分です。"}
    assert (body["side"], body["language"], body["languages"]) == ("customer", "ja", ["ja", "en"])
    assert [item["key"] for item in body["items"]] == ["superior", "everyone", "quick", "nps", "ces", "csat",
                                                      "renewal"]
    assert body["items"][0] == {
        "key": "superior", "kind": "likert", "text": "ミラー株式会社は私に優れた体験を提供している。",
        "dimension": "顧客中心の文化", "is_headline": True, "scale_min": 1, "scale_max": 5,
        "levels": [{"value": 1, "label": "全くそう思わない"}, {"value": 2, "label": "そう思わない"},
                   {"value": 3, "label": "どちらともいえない"}, {"value": 4, "label": "そう思う"},
                   {"value": 5, "label": "とてもそう思う"}],
        "allow_na": False, "na_label": None, "required": True,
    }
    nps = body["items"][3]
    assert (nps["scale_min"], nps["scale_max"], nps["dimension"]) == (0, 10, "全体的な評価")
    assert nps["levels"][0] == {"value": 0, "label": "全く勧めない"}
    assert nps["levels"][10] == {"value": 10, "label": "非常に勧めたい"}
    assert body["items"][1]["na_label"] == "わからない・該当しない"
    assert body["segment_fields"] == [] and body["anonymity_statement"] == []
    assert body["comment_max_length"] == 5000


def test_lang_chooses_the_language_and_an_unknown_one_is_a_400(anon_client, customer_token):
    english = anon_client.get(f"/api/v1/public/forms/{customer_token}/?lang=en").json()
    assert english["items"][0]["text"] == "Mirror Corp delivers a superior experience to me."
    bad = anon_client.get(f"/api/v1/public/forms/{customer_token}/?lang=fr")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_choice" and "lang" in bad.json()


def test_a_staff_form_carries_the_anonymity_statement_and_no_outcome_items(anon_client, staff_token):
    body = anon_client.get(f"/api/v1/public/forms/{staff_token}/").json()
    assert [item["key"] for item in body["items"]] == ["superior", "everyone", "quick"]
    assert body["items"][0]["text"] == "We deliver a superior experience to our customers."
    assert body["anonymity_statement"][0].startswith("Results are only ever shown for groups of at least 5 people")
    assert "never linked to your invitation" in body["anonymity_statement"][1]
    assert "batches of at least 5 new answers" in body["anonymity_statement"][2]


def test_an_anonymous_link_describes_its_segment_fields(anon_client, wave):
    # By default the customer link does not ask the account's attributes (tier, touch model, plan).
    body = anon_client.get(f"/api/v1/public/waves/{wave.slug}/customer/?lang=en").json()
    assert [f["key"] for f in body["segment_fields"]] == ["region"]
    wave.customer_segment_fields = [{**f, "ask_anonymous": True} for f in wave.customer_segment_fields]
    wave.save(update_fields=["customer_segment_fields"])
    body = anon_client.get(f"/api/v1/public/waves/{wave.slug}/customer/?lang=en").json()
    assert body["segment_fields"][1] == {
        "key": "touch_model", "label": "Touch model", "choices": ["high", "low", "tech"],
        "options": [{"value": "high", "label": "High touch"}, {"value": "low", "label": "Low touch"},
                    {"value": "tech", "label": "Tech touch"}], "required": False}
    assert [f["key"] for f in body["segment_fields"]] == ["tier", "touch_model", "plan", "region"]


def test_a_submission_is_stored_through_the_same_service_and_acknowledged_with_201(anon_client, customer_token):
    payload = {"answers": as_json(CUSTOMER_ANSWERS), "comment": "Great support", "language": "en"}
    response = anon_client.post(f"/api/v1/public/forms/{customer_token}/", payload, format="json")
    assert response.status_code == 201
    assert response.json()["received"] is True and response.json()["language"] == "en"
    stored = m.SurveyResponse.objects.get()
    assert (stored.channel, stored.comment, stored.language) == ("api", "Great support", "en")
    assert dict(stored.answers.values_list("item__key", "value")) == {
        "superior": 2, "everyone": 3, "quick": None, "nps": 7, "ces": 5, "csat": 4, "renewal": 5}


def test_bad_answers_are_a_400_naming_every_field(anon_client, customer_token):
    answers = as_json(CUSTOMER_ANSWERS) | {"nps": 11, "superior": "na", "bogus": 3, "ces": "three"}
    del answers["csat"]
    response = anon_client.post(f"/api/v1/public/forms/{customer_token}/", {"answers": answers}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Some answers are not valid.", "code": "invalid",
        "answers.bogus": ["Unknown item."],
        "answers.superior": ["This question has no “not applicable” option."],
        "answers.nps": ["Must be between 0 and 10."],
        "answers.ces": ["Must be a whole number."],
        "answers.csat": ["An answer is required."],
    }
    assert m.SurveyResponse.objects.count() == 0 and not m.InvitationUse.objects.exists()


@pytest.mark.parametrize("payload, field", [
    ({"answers": "all good"}, "answers"),
    ({"answers": as_json(CUSTOMER_ANSWERS), "comment": "x" * 5001}, "comment"),
    ({"answers": as_json(CUSTOMER_ANSWERS), "language": "de"}, "language"),
])
def test_malformed_fields_are_a_400_naming_the_field(anon_client, customer_token, payload, field):
    response = anon_client.post(f"/api/v1/public/forms/{customer_token}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_an_oversized_body_is_a_413(anon_client, customer_token):
    payload = {"answers": as_json(CUSTOMER_ANSWERS), "comment": "x" * (throttling.MAX_BODY_BYTES + 1)}
    response = anon_client.post(f"/api/v1/public/forms/{customer_token}/", payload, format="json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large.", "code": "payload_too_large"}


def test_a_body_that_is_not_json_is_a_415(anon_client, customer_token):
    response = anon_client.post(f"/api/v1/public/forms/{customer_token}/", "answers=1", content_type="text/plain")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"


def test_unknown_links_are_a_plain_404(anon_client, wave):
    for url in ("/api/v1/public/forms/nope/", f"/api/v1/public/waves/{wave.slug}/partners/",
                "/api/v1/public/waves/unknown/staff/"):
        for method in (anon_client.get, anon_client.post):
            response = method(url, {}, format="json") if method == anon_client.post else method(url)
            assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "code": "not_found"})


def test_a_used_invitation_is_a_409_and_a_closed_wave_a_410(anon_client, wave, customer_token):
    url = f"/api/v1/public/forms/{customer_token}/"
    assert anon_client.post(url, {"answers": as_json(CUSTOMER_ANSWERS)}, format="json").status_code == 201
    for response in (anon_client.get(url), anon_client.post(url, {"answers": as_json(CUSTOMER_ANSWERS)},
                                                            format="json")):
        assert response.status_code == 409 and response.json()["code"] == "already_answered"
    services.wave_close(wave=wave)
    closed = anon_client.get(f"/api/v1/public/waves/{wave.slug}/staff/")
    assert (closed.status_code, closed.json()["code"]) == (410, "wave_closed")
    assert m.SurveyResponse.objects.count() == 1


def test_an_anonymous_submission_takes_segments_and_checks_them(anon_client, wave):
    url = f"/api/v1/public/waves/{wave.slug}/staff/"
    ticket = anon_client.get(url).json()["ticket"]  # the staff link takes a post only with its form's ticket
    bad = anon_client.post(url, {"answers": as_json(STAFF_ANSWERS), "segments": {"tenure": "forever"},
                                 "ticket": ticket}, format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["detail", "code", "segments.tenure"]
    good = anon_client.post(url, {"answers": as_json(STAFF_ANSWERS), "segments": {"tenure": "<1y", "role": "CSM"},
                                  "ticket": ticket}, format="json")  # a refused post did not use it up
    assert good.status_code == 201
    stored = m.SurveyResponse.objects.get()
    assert stored.segments == {"tenure": "<1y", "role": "CSM"} and stored.submitted_at is None
    # The same browser (cookie) cannot answer again; another browser can, with a ticket of its own.
    again = anon_client.post(url, {"answers": as_json(STAFF_ANSWERS), "ticket": APIClient().get(url).json()["ticket"]},
                             format="json")
    assert again.status_code == 409
    other = APIClient()
    assert other.post(url, {"answers": as_json(STAFF_ANSWERS), "ticket": other.get(url).json()["ticket"]},
                      format="json").status_code == 201
    no_ticket = APIClient().post(url, {"answers": as_json(STAFF_ANSWERS)}, format="json")
    assert no_ticket.status_code == 403 and no_ticket.json()["code"] == "ticket_missing" and no_ticket.json()["ticket"]
    assert m.SurveyResponse.objects.count() == 2


def test_token_guessing_through_the_api_is_rate_limited(wave, monkeypatch):
    monkeypatch.setattr(throttling, "FAILURE_LIMIT", 2)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    guesser = APIClient(REMOTE_ADDR="192.0.2.1")
    assert [guesser.get(f"/api/v1/public/forms/guess{n}/").status_code for n in range(2)] == [404, 404]
    blocked = guesser.get("/api/v1/public/forms/guess3/")
    assert blocked.status_code == 429 and blocked.json()["code"] == "throttled"
    assert int(blocked["Retry-After"]) > 0
    # A valid link from the same address still works (tests/surveys/test_public_lockout.py).
    assert guesser.get(f"/api/v1/public/waves/{wave.slug}/customer/").status_code == 200
    assert APIClient(REMOTE_ADDR="192.0.2.2").get(f"/api/v1/public/waves/{wave.slug}/customer/").status_code == 200


def test_the_api_needs_no_csrf_token_and_no_login(customer_token):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"/api/v1/public/forms/{customer_token}/", {"answers": as_json(CUSTOMER_ANSWERS)},
                           content_type="application/json")
    assert response.status_code == 201


def test_the_schema_documents_every_status_of_the_public_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    form = schema["paths"]["/api/v1/public/forms/{token}/"]
    wave = schema["paths"]["/api/v1/public/waves/{slug}/{side}/"]
    for operation in (form["get"], wave["get"]):
        assert sorted(operation["responses"]) == ["200", "400", "404", "409", "410", "429"]
        assert operation["security"] == [{}]
    assert sorted(form["post"]["responses"]) == ["201", "400", "404", "409", "410", "413", "415", "429"]
    # The anonymous links add 403: the staff link's ticket was missing, foreign, expired or used.
    assert sorted(wave["post"]["responses"]) == ["201", "400", "403", "404", "409", "410", "413", "415", "429"]
    assert "ticket" in schema["components"]["schemas"]["PublicAnonymousSubmissionRequest"]["properties"]
    assert "ticket" in schema["components"]["schemas"]["PublicFormDefinition"]["properties"]
    assert form["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PublicInvitationSubmissionRequest")
    assert "segments" in schema["components"]["schemas"]["PublicAnonymousSubmissionRequest"]["properties"]
    side = next(p for p in wave["get"]["parameters"] if p["name"] == "side")
    assert side["schema"]["enum"] == ["customer", "staff"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_token_store_exactly_one_response(org):
    wave = open_wave(org, slug="race")
    token = services.invitation_create(wave=wave, side="customer", language="en").token
    url = f"/api/v1/public/forms/{token}/"
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        try:
            client = APIClient(REMOTE_ADDR=f"10.0.0.{n}")
            barrier.wait(timeout=10)
            status = client.post(url, {"answers": as_json(CUSTOMER_ANSWERS)}, format="json").status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] + [409] * (threads_count - 1)
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 1
    assert m.InvitationUse.objects.filter(invitation__wave=wave).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_html_submissions_of_one_token_show_already_answered_to_all_but_one(org):
    wave = open_wave(org, slug="race-html")
    token = services.invitation_create(wave=wave, side="staff", language="en").token
    data = {f"a_{k}": v for k, v in STAFF_ANSWERS.items()} | {"language": "en"}
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def submit() -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            statuses.append(client.post(f"/r/{token}/", data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302] + [409] * 7
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 1
