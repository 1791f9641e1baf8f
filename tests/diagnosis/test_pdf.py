"""The printable result: real WeasyPrint, one A4 page, its text read back with pypdf, in Japanese and English."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from diagnosis import services as diagnosis_services
from diagnosis.pdf import render_result_pdf
from tests.diagnosis.conftest import ANSWERS, closed_wave
from tests.reports.conftest import pdf_pages

pytestmark = pytest.mark.django_db


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["Your customer success diagnosis", "Maturity profile", "Health monitoring", "Proactive engagement",
            "Company-wide philosophy", "65 · Established", "Your two weakest areas and what to do next",
            "Decide what happens when a score falls"]),
    ("ja", ["カスタマーサクセス診断の結果", "成熟度プロファイル", "ヘルスの把握", "先回りの支援", "全社の哲学",
            "65·定着", "最も弱い2つの領域と次の一手", "ヘルススコアが下がったときの対応手順"]),
])
def test_the_pdf_is_one_page_with_the_profile_and_the_weakest_areas(language, expected):
    result = diagnosis_services.result_submit(answers=ANSWERS, language=language)
    response = Client().get(f"/diagnosis/r/{result.uuid}/pdf/?lang={language}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content)
    assert len(pages) == 1
    text = squash(pages[0])
    for phrase in expected:
        assert squash(phrase) in text, phrase
    assert "同じ領域を社員と顧客" not in text and "How your staff" not in pages[0]


def test_the_pdf_with_the_mirror_stays_on_one_page_and_shows_no_staff_figure_below_k(org, link_and_token):
    link, _ = link_and_token
    closed_wave(org, slug="pdf-tiny", n_staff=3, n_customer=20, k=5)
    result = diagnosis_services.result_submit(answers=ANSWERS, language="ja", link=link)
    rendered = render_result_pdf(result, "ja")
    assert rendered.page_count == 1
    text = squash(pdf_pages(rendered.pdf)[0])
    assert squash("同じ領域を社員と顧客はどう見ていたか") in text
    assert squash("回答が少ないため表示できません") in text
    assert "ミラー株式会社" in text


def test_a_wording_cannot_make_the_pdf_fetch_anything(org):
    from diagnosis.pdf import FetchRefused, refusing_fetcher

    with pytest.raises(FetchRefused):
        refusing_fetcher().fetch("file:///etc/passwd")
    org.display_name_en = '<img src="http://attacker.example/x.png">Evil'
    org.save()
    link, _ = diagnosis_services.link_create(organization=org)
    result = diagnosis_services.result_submit(answers=ANSWERS, language="en", link=link)
    text = pdf_pages(render_result_pdf(result, "en").pdf)[0]
    assert '<img src="http://attacker.example/x.png">Evil' in text  # shown as text, not loaded
