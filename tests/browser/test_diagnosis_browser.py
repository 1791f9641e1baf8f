"""The quick diagnosis in real Chromium: fill the Japanese questionnaire, submit, read the result page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from diagnosis.models import DiagnosisResult
from tests.browser.test_public_forms_browser import DESKTOP, PHONE, assert_accessible
from tests.diagnosis.conftest import ANSWERS


def test_a_leader_fills_the_japanese_diagnosis_and_sees_the_result(browser: Browser, site, axe_source,
                                                                    artifacts: Path):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="ja-JP")
    page = context.new_page()
    response = page.goto(f"{site}/diagnosis/")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("カスタマーサクセス簡易自己診断")
    assert_accessible(page, axe_source)

    missing = ("q11",)
    for key, value in ANSWERS.items():
        if key not in missing:
            page.locator(f"label[for='q-{key}-{value}']").click()
    expect(page.locator("#progress-label")).to_have_text("15問中 14問回答済み")
    page.get_by_role("button", name="結果を見る").click()

    # One statement left out: the page comes back with the error there and every other answer kept.
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(page.locator("#q-q11-error")).to_contain_text("回答を選んでください。")
    for key, value in ANSWERS.items():
        if key not in missing:
            expect(page.locator(f"#q-{key}-{value}")).to_be_checked()
    assert DiagnosisResult.objects.count() == 0
    page.locator("label[for='q-q11-1']").click()
    page.get_by_role("button", name="結果を見る").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("カスタマーサクセス診断の結果")
    chart = page.get_by_role("img", name="成熟度プロファイル")
    expect(chart).to_be_visible()
    expect(chart.locator("text", has_text="ヘルスの把握")).to_have_count(1)
    weakest = page.locator(".weak-area h3")
    expect(weakest).to_have_count(2)
    expect(weakest.nth(0)).to_contain_text("ヘルスの把握")
    expect(weakest.nth(1)).to_contain_text("先回りの支援")
    expect(page.get_by_text("ヘルススコアが下がったときの対応手順", exact=False)).to_be_visible()
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "diagnosis-result-ja-mobile.png"), full_page=True)
    stored = DiagnosisResult.objects.get()
    assert stored.language == "ja" and stored.answers == ANSWERS
    assert page.url.endswith(f"/diagnosis/r/{stored.uuid}/?lang=ja")

    # The PDF link answers a real PDF.
    href = page.get_by_role("link", name="印刷 / PDFをダウンロード").get_attribute("href")
    pdf = page.request.get(f"{site}{href}")
    assert pdf.status == 200 and pdf.body()[:4] == b"%PDF"
    context.close()


def test_the_english_questionnaire_on_a_desktop_is_accessible(browser: Browser, site, axe_source, artifacts: Path):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.goto(f"{site}/diagnosis/?lang=en")
    expect(page.get_by_role("group", name="Every account has a health score, built from usage, outcomes and "
                                          "relationship signals, that the team trusts.")).to_be_visible()
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "diagnosis-form-en-desktop.png"), full_page=True)
    context.close()
