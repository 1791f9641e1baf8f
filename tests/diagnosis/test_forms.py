"""The HTML questionnaire and result page: languages, kept answers, bad values, CSRF, and what is stored."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from diagnosis.models import DiagnosisResult
from surveys import services
from tests.diagnosis.conftest import form_post
from tests.gap.conftest import build_instrument

pytestmark = pytest.mark.django_db


def submit(client: Client, answers: dict, url: str = "/diagnosis/", language: str = "en", **extra):
    return client.post(url, form_post(answers, language, **extra))


def test_the_questionnaire_opens_in_english_by_default_and_in_japanese_when_asked():
    client = Client()
    english = client.get("/diagnosis/")
    assert english.status_code == 200 and english["Content-Language"] == "en"
    assert "Customer success: a quick self-diagnosis" in english.content.decode()
    assert "Our top leadership reviews customer outcomes" in english.content.decode()
    japanese = client.get("/diagnosis/?lang=ja")
    page = japanese.content.decode()
    assert japanese["Content-Language"] == "ja" and '<html lang="ja">' in page
    assert "カスタマーサクセス簡易自己診断" in page and "全くそう思わない" in page
    assert "経営陣は、顧客の成果" in page


def test_the_browser_language_decides_when_nothing_is_asked():
    page = Client().get("/diagnosis/", HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9,en;q=0.5")
    assert page["Content-Language"] == "ja"


def test_an_organization_link_opens_in_its_latest_waves_language(org, link_and_token):
    _link, token = link_and_token
    services.wave_create(organization=org, instrument=build_instrument(org), name="W", slug="w-ja",
                         default_language="ja")
    page = Client().get(f"/diagnosis/o/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and page["Content-Language"] == "ja"
    assert "ミラー株式会社" in page.content.decode()  # the organization's name in the header
    assert Client().get(f"/diagnosis/o/{token}/?lang=en")["Content-Language"] == "en"


def test_a_complete_form_stores_the_result_and_shows_it(answers):
    client = Client()
    response = submit(client, answers, language="ja")
    assert response.status_code == 303
    stored = DiagnosisResult.objects.get()
    assert response["Location"] == f"/diagnosis/r/{stored.uuid}/?lang=ja"
    assert stored.answers == answers and stored.language == "ja" and stored.organization is None
    assert stored.scores["elements"] == {"philosophy": 50.0, "team": 65.0, "technology": 50.0}
    page = client.get(response["Location"]).content.decode()
    assert "成熟度プロファイル" in page and "<svg" in page and 'role="img"' in page
    assert "最も弱い2つの領域と次の一手" in page
    assert "ヘルスの把握" in page and "先回りの支援" in page  # the two weakest areas
    assert "ヘルススコアが下がったときの対応手順" in page  # a next step of "health"
    assert "同じ領域を社員と顧客はどう見ていたか" not in page  # no organization: no mirror


def test_missing_answers_rerender_with_errors_and_keep_every_given_answer(answers):
    given = {k: v for k, v in answers.items() if k not in ("q03", "q11")}
    response = submit(Client(), given)
    page = response.content.decode()
    assert response.status_code == 400
    assert DiagnosisResult.objects.count() == 0
    assert 'id="q-q03-error"' in page and 'id="q-q11-error"' in page and "Please choose an answer." in page
    assert page.count('class="error"') == 2
    for key, value in given.items():
        assert f'id="q-{key}-{value}" name="a_{key}" value="{value}" checked' in page, key
    assert 'checked' not in page.split('id="q-q03"')[1].split("</fieldset>")[0]


@pytest.mark.parametrize("bad", ["6", "0", "-1", "3.5", "three", "９"])
def test_a_bad_value_is_an_error_on_that_item_only(answers, bad):
    response = submit(Client(), answers | {"q07": bad})
    page = response.content.decode()
    assert response.status_code == 400 and DiagnosisResult.objects.count() == 0
    assert 'id="q-q07-error"' in page and page.count('class="error"') == 1
    assert f'id="q-q01-{answers["q01"]}" name="a_q01" value="{answers["q01"]}" checked' in page


def test_the_language_switch_keeps_the_answers_and_stores_nothing(answers):
    response = Client().post("/diagnosis/", form_post({"q01": 2, "q02": 5}, "en", switch_lang="ja"))
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "ja"
    assert 'id="q-q01-2" name="a_q01" value="2" checked' in page and 'value="5" checked' in page
    assert DiagnosisResult.objects.count() == 0


def test_the_form_needs_its_csrf_token(answers):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/diagnosis/", form_post(answers)).status_code == 403
    assert DiagnosisResult.objects.count() == 0
    page = client.get("/diagnosis/")
    token = page.cookies["csrftoken"].value
    assert client.post("/diagnosis/", form_post(answers, csrfmiddlewaretoken=token)).status_code == 303


def test_the_honeypot_stores_nothing(answers):
    response = submit(Client(), answers, website="http://spam.example")
    assert response.status_code == 302 and DiagnosisResult.objects.count() == 0


def test_stored_results_keep_the_day_and_nothing_that_identifies_anyone(answers, link_and_token):
    link, token = link_and_token
    client = Client(HTTP_USER_AGENT="Secret-Agent/1.0", REMOTE_ADDR="203.0.113.77")
    assert submit(client, answers, url=f"/diagnosis/o/{token}/").status_code == 303
    stored = DiagnosisResult.objects.get()
    assert (stored.organization_id, stored.link_id) == (link.organization_id, link.pk)
    fields = {f.name for f in DiagnosisResult._meta.get_fields()}
    assert fields == {"id", "uuid", "organization", "link", "language", "version", "answers", "scores",
                      "created_on"}
    assert isinstance(stored.created_on, datetime.date) and not isinstance(stored.created_on, datetime.datetime)
    assert stored.created_on == timezone.localdate()
    row = DiagnosisResult.objects.filter(pk=stored.pk).values().get()
    flat = repr(row)
    assert "203.0.113.77" not in flat and "Secret-Agent" not in flat
    assert not any(isinstance(v, datetime.datetime) for v in row.values())


def test_an_unknown_or_switched_off_link_is_a_plain_404(link_and_token, answers):
    from diagnosis import services as diagnosis_services

    link, token = link_and_token
    client = Client()
    assert client.get("/diagnosis/o/not-a-token/").status_code == 404
    diagnosis_services.link_deactivate(link=link)
    assert client.get(f"/diagnosis/o/{token}/").status_code == 404
    assert submit(client, answers, url=f"/diagnosis/o/{token}/").status_code == 404
    assert DiagnosisResult.objects.count() == 0


def test_an_unknown_result_is_a_plain_404():
    client = Client()
    assert client.get("/diagnosis/r/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert client.get("/diagnosis/r/not-a-uuid/").status_code == 404
    assert client.get("/diagnosis/r/not-a-uuid/pdf/").status_code == 404
