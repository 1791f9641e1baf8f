"""The public API twin and the staff API: shapes, 400s naming the field, 404s, roles, the aggregate's k."""

from __future__ import annotations

import pytest
from django.test import Client

from diagnosis import selectors
from diagnosis import services as diagnosis_services
from diagnosis.models import DiagnosisLink, DiagnosisResult
from diagnosis.questions import ITEM_KEYS
from tests.diagnosis.conftest import ANSWERS, form_post

pytestmark = pytest.mark.django_db

QUESTIONS = "/api/v1/public/diagnosis/questions/"
RESULTS = "/api/v1/public/diagnosis/results/"


def post(client, body, **extra):
    return client.post(RESULTS, body, format="json", **extra)


def test_the_questionnaire_in_both_languages(anon_client):
    en = anon_client.get(QUESTIONS).json()
    ja = anon_client.get(QUESTIONS, {"lang": "ja"}).json()
    assert [i["key"] for i in en["items"]] == list(ITEM_KEYS) == [i["key"] for i in ja["items"]]
    assert en["scale"]["labels"][0] == {"value": 1, "label": "Strongly disagree"}
    assert ja["scale"]["labels"][4] == {"value": 5, "label": "強くそう思う"}
    assert [e["key"] for e in en["elements"]] == ["philosophy", "team", "technology"]
    assert len(en["areas"]) == 10 and ja["areas"][3]["name"] == "ヘルスの把握"
    assert all(i["required"] for i in en["items"])
    bad = anon_client.get(QUESTIONS, {"lang": "fr"})
    assert bad.status_code == 400 and "lang" in bad.json()


def test_a_submission_answers_201_with_the_same_result_as_the_page(anon_client):
    response = post(anon_client, {"language": "en", "answers": ANSWERS})
    assert response.status_code == 201
    body = response.json()
    stored = DiagnosisResult.objects.get()
    assert body["id"] == str(stored.uuid) and body["comparison"] is None and body["organization"] is None
    assert [(e["key"], e["score"], e["band"]) for e in body["elements"]] == [
        ("philosophy", 50.0, "established"), ("team", 65.0, "established"), ("technology", 50.0, "established")]
    assert [w["key"] for w in body["weakest"]] == ["health", "proactive"]
    assert 2 <= len(body["weakest"][0]["steps"]) <= 3
    assert body["result_url"] == f"/diagnosis/r/{stored.uuid}/?lang=en"
    assert body["pdf_url"] == f"/diagnosis/r/{stored.uuid}/pdf/?lang=en"
    again = anon_client.get(f"{RESULTS}{stored.uuid}/")
    assert again.status_code == 200 and again.json() == body
    japanese = anon_client.get(f"{RESULTS}{stored.uuid}/", {"lang": "ja"}).json()
    assert japanese["weakest"][0]["name"] == "ヘルスの把握" and japanese["elements"][0]["band_label"] == "定着"
    # The page shows the same numbers and areas.
    page = Client().get(body["result_url"]).content.decode()
    for area in body["weakest"]:
        assert area["name"] in page and area["steps"][0] in page


@pytest.mark.parametrize(("body", "field"), [
    ({"language": "en", "answers": {k: v for k, v in ANSWERS.items() if k != "q05"}}, "answers.q05"),
    ({"language": "en", "answers": ANSWERS | {"q05": 6}}, "answers.q05"),
    ({"language": "en", "answers": ANSWERS | {"q05": 0}}, "answers.q05"),
    ({"language": "en", "answers": ANSWERS | {"q05": True}}, "answers.q05"),
    ({"language": "en", "answers": ANSWERS | {"q05": 2.5}}, "answers.q05"),
    ({"language": "en", "answers": ANSWERS | {"q05": None}}, "answers.q05"),
    ({"language": "en", "answers": ANSWERS | {"q05": [3]}}, "answers.q05"),
    ({"language": "en", "answers": ANSWERS | {"bogus": 3}}, "answers.bogus"),
    ({"language": "en", "answers": [3] * 15}, "answers"),
    ({"language": "en", "answers": "3"}, "answers"),
    ({"language": "fr", "answers": ANSWERS}, "language"),
    ({"answers": ANSWERS}, "language"),
    ({"language": "en"}, "answers"),
    ({"language": "en", "answers": ANSWERS, "token": ""}, "token"),
    ({"language": "en", "answers": ANSWERS, "token": "x" * 101}, "token"),
])
def test_bad_input_is_a_400_naming_the_field(anon_client, body, field):
    response = post(anon_client, body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert field in payload and payload[field] and payload["code"]
    assert DiagnosisResult.objects.count() == 0


def test_a_body_that_is_not_json_is_415_and_a_huge_one_413(anon_client):
    assert anon_client.post(RESULTS, "q01=3", content_type="application/x-www-form-urlencoded").status_code == 415
    huge = {"language": "en", "answers": ANSWERS, "pad": "x" * 200_000}
    assert post(anon_client, huge).status_code == 413


def test_an_unknown_result_or_token_is_404(anon_client, link_and_token):
    link, token = link_and_token
    assert anon_client.get(f"{RESULTS}00000000-0000-4000-8000-000000000000/").status_code == 404
    assert anon_client.get(f"{RESULTS}nope/").status_code == 404
    assert post(anon_client, {"language": "en", "answers": ANSWERS, "token": "wrong"}).status_code == 404
    diagnosis_services.link_deactivate(link=link)
    response = post(anon_client, {"language": "en", "answers": ANSWERS, "token": token})
    assert response.status_code == 404 and set(response.json()) == {"detail", "code"}
    assert DiagnosisResult.objects.count() == 0


def test_a_token_stores_the_result_against_its_organization(anon_client, link_and_token, org):
    link, token = link_and_token
    body = post(anon_client, {"language": "ja", "answers": ANSWERS, "token": token}).json()
    stored = DiagnosisResult.objects.get()
    assert (stored.organization, stored.link) == (org, link)
    assert body["organization"] == "ミラー株式会社"
    # No closed wave yet: the comparison says so, with no numbers.
    assert body["comparison"] == {"wave": None, "staff_k": None, "customer_k": None, "areas": []}


# --------------------------------------------------------------------------- staff API


def links_url(org_id) -> str:
    return f"/api/v1/organizations/{org_id}/diagnosis/links/"


def test_admins_create_list_and_switch_off_links(owner_client, org):
    created = owner_client.post(links_url(org.pk), {"label": "Board"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["url"].endswith(f"/diagnosis/o/{body['token']}/") and body["is_active"] and body["label"] == "Board"
    link = DiagnosisLink.objects.get()
    assert body["token"] not in link.token_hash and selectors.active_link(body["token"]) == link
    listed = owner_client.get(links_url(org.pk)).json()
    assert [row["id"] for row in listed] == [link.pk] and "token" not in listed[0]
    off = owner_client.post(f"{links_url(org.pk)}{link.pk}/deactivate/")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert Client().get(f"/diagnosis/o/{body['token']}/").status_code == 404
    too_long = owner_client.post(links_url(org.pk), {"label": "x" * 101}, format="json")
    assert too_long.status_code == 400 and "label" in too_long.json()


@pytest.mark.parametrize(("who", "links", "summary"), [
    ("anonymous", 401, 401), ("admin", 200, 200), ("analyst", 403, 200), ("executive", 403, 200),
    ("outsider", 404, 404)])
def test_who_may_see_links_and_the_summary(clients, org, who, links, summary):
    client = clients[who]
    assert client.get(links_url(org.pk)).status_code == links
    assert client.post(links_url(org.pk), {}, format="json").status_code == (links if links != 200 else 201)
    assert client.get(f"/api/v1/organizations/{org.pk}/diagnosis/summary/").status_code == summary


def test_an_outsider_cannot_switch_off_another_organizations_link(outsider_client, link_and_token, org):
    link, _ = link_and_token
    assert outsider_client.post(f"{links_url(org.pk)}{link.pk}/deactivate/").status_code == 404
    link.refresh_from_db()
    assert link.is_active
    assert outsider_client.get(links_url("abc")).status_code == 404


def _submit_through(token: str, answers: dict) -> None:
    response = Client().post(f"/diagnosis/o/{token}/", form_post(answers))
    assert response.status_code == 303


def test_the_summary_shows_nothing_below_k_and_only_whole_blocks_of_k(analyst_client, org, link_and_token):
    _, token = link_and_token
    url = f"/api/v1/organizations/{org.pk}/diagnosis/summary/"
    Client().post("/diagnosis/", form_post(dict.fromkeys(ANSWERS, 1)))  # anonymous: never counted
    for _ in range(4):
        _submit_through(token, dict.fromkeys(ANSWERS, 3))
    below = analyst_client.get(url).json()
    assert below["k"] == 5 and below["n_results"] == 4 and below["status"] == "suppressed_min_n"
    assert below["elements"] is None and below["areas"] is None and below["n_included"] == 0

    _submit_through(token, dict.fromkeys(ANSWERS, 5))
    at_k = analyst_client.get(url).json()
    assert at_k["status"] == "ok" and at_k["n_included"] == 5
    # Four results at 50 and one at 100: the mean is 60, one "leading", four "established".
    assert {e["key"]: e["mean"] for e in at_k["elements"]} == {"philosophy": 60.0, "team": 60.0,
                                                               "technology": 60.0}
    assert at_k["areas"][0]["distribution"] == {"starting": 0, "developing": 0, "established": 4, "leading": 1}

    # The attacker: one more leader answers. Differencing the summaries must not reveal their scores.
    _submit_through(token, dict.fromkeys(ANSWERS, 1))
    after = analyst_client.get(url).json()
    assert after["n_results"] == 6 and after["n_included"] == 5
    assert after["elements"] == at_k["elements"] and after["areas"] == at_k["areas"]


def test_the_summary_counts_only_its_own_organization(analyst_client, org, other_org):
    other_link, other_token = diagnosis_services.link_create(organization=other_org)
    for _ in range(5):
        _submit_through(other_token, dict.fromkeys(ANSWERS, 2))
    body = analyst_client.get(f"/api/v1/organizations/{org.pk}/diagnosis/summary/").json()
    assert body["n_results"] == 0 and body["elements"] is None


def test_result_reads_count_towards_the_flood_ceiling_and_form_views_do_not(anon_client, settings, monkeypatch):
    from surveys.public import throttling

    monkeypatch.setattr(throttling, "FLOOD_LIMIT", 3)
    # One window for the whole test: the counters are per clock-aligned window, and a run that crosses a minute
    # boundary between the reads started a fresh count (CI: the PDF read got 200 instead of 429).
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**9)
    result = diagnosis_services.result_submit(answers=ANSWERS, language="en")  # not through HTTP: uncounted
    client = Client()
    for _ in range(5):
        assert client.get("/diagnosis/").status_code == 200
    assert anon_client.get(f"{RESULTS}{result.uuid}/").status_code == 200
    assert client.get(f"/diagnosis/r/{result.uuid}/").status_code == 200
    assert client.get(f"/diagnosis/r/{result.uuid}/").status_code == 200
    refused = client.get(f"/diagnosis/r/{result.uuid}/pdf/")
    assert refused.status_code == 429 and refused["Retry-After"]
    api = anon_client.get(f"{RESULTS}{result.uuid}/")
    assert api.status_code == 429 and api.json()["code"] == "throttled"
