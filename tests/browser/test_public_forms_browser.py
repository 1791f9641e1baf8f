"""Respondents in a real browser: phone and desktop, JavaScript on and off, axe-core on every form page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from surveys import models as m
from surveys import services
from tests.surveys.test_public_support import open_wave

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def wave(org) -> m.Wave:
    return open_wave(org, anonymity_threshold=6)


def assert_accessible(page: Page, axe_source: str) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    # Evaluated through DevTools, not as an inline <script>: the pages' Content Security Policy
    # (script-src 'self' + nonce) rightly blocks injected inline scripts.
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], "\n".join(bad)
    assert result["passes"] is not None


def answer(page: Page, key: str, value: str) -> None:
    page.locator(f"label[for='q-{key}-{value}']").click()


def scale_is_horizontal(page: Page, key: str) -> bool:
    first = page.locator(f"label[for='q-{key}-1']").bounding_box()
    second = page.locator(f"label[for='q-{key}-2']").bounding_box()
    return abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]


def test_a_customer_fills_the_japanese_form_on_a_phone(browser: Browser, site, wave, axe_source,
                                                      artifacts: Path):
    token = services.invitation_create(wave=wave, side="customer", language="ja").token
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="ja-JP")
    page = context.new_page()
    response = page.goto(f"{site}/r/{token}/")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    # The survey's title for customers, not the instrument's (internal) name.
    expect(page.get_by_role("heading", level=1)).to_have_text("ミラー株式会社 お客様アンケート")
    expect(page.get_by_role("group", name="ミラー株式会社は私に優れた体験を提供している。")).to_be_visible()
    assert_accessible(page, axe_source)
    assert not scale_is_horizontal(page, "superior")  # a vertical list of big targets on a phone
    assert page.locator("label[for='q-superior-1']").bounding_box()["height"] >= 44
    page.screenshot(path=str(artifacts / "form-customer-ja-mobile.png"), full_page=True)

    for key, value in {"superior": "4", "everyone": "na", "quick": "6", "nps": "9", "ces": "6", "csat": "4",
                       "renewal": "5"}.items():
        answer(page, key, value)
    expect(page.locator("#progress-label")).to_have_text("7問中 7問回答済み")
    page.get_by_label("ほかにお伝えいただきたいことはありますか？").fill("いつも迅速な対応に感謝しています。")
    page.get_by_role("button", name="回答を送信する").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("ありがとうございました。回答を受け付けました。")
    assert_accessible(page, axe_source)
    stored = m.SurveyResponse.objects.get()
    assert (stored.language, stored.channel) == ("ja", "invitation")
    assert stored.comment == "いつも迅速な対応に感謝しています。"
    assert dict(stored.answers.values_list("item__key", "value")) == {
        "superior": 4, "everyone": None, "quick": 6, "nps": 9, "ces": 6, "csat": 4, "renewal": 5}
    context.close()


def test_a_staff_member_fills_the_english_form_with_javascript_disabled(browser: Browser, site, wave, axe_source,
                                                                        artifacts: Path):
    token = services.invitation_create(wave=wave, side="staff", language="en", segments={"tenure": "3-5y"}).token
    url = f"{site}/r/{token}/"

    # axe-core needs JavaScript: check the very same page in a context that has it.
    checker = browser.new_context(viewport=DESKTOP)
    checker_page = checker.new_page()
    checker_page.goto(url)
    assert_accessible(checker_page, axe_source)
    checker.close()

    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False, locale="en-US")
    page = context.new_page()
    assert page.goto(url).status == 200
    expect(page.get_by_role("heading", name="How your anonymity is protected")).to_be_visible()
    expect(page.get_by_text("groups of at least 6 people")).to_be_visible()
    expect(page.get_by_text("published only in batches of at least 6 new answers")).to_be_visible()
    assert scale_is_horizontal(page, "superior")  # a segmented row on a wide screen
    page.screenshot(path=str(artifacts / "form-staff-en-desktop-nojs.png"), full_page=True)

    answer(page, "superior", "5")
    answer(page, "everyone", "2")
    page.get_by_role("group", name="We answer customers quickly.").get_by_label("Don't know / not applicable").check()
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you — your answers have been received.")
    stored = m.SurveyResponse.objects.get()
    assert (stored.side, stored.submitted_at, stored.invitation_id, stored.segments) == (
        "staff", None, None, {"tenure": "3-5y"})
    assert dict(stored.answers.values_list("item__key", "value")) == {"superior": 5, "everyone": 2, "quick": None}
    context.close()


def test_a_validation_error_keeps_every_other_answer(browser: Browser, site, wave, axe_source, artifacts: Path):
    # The admin's choice: this wave's anonymous link also asks the touch model (by default it does not).
    wave.customer_segment_fields = [{**f, "ask_anonymous": f["ask_anonymous"] or f["key"] == "touch_model"}
                                    for f in wave.customer_segment_fields]
    wave.save(update_fields=["customer_segment_fields"])
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{site}/s/{wave.slug}/customer/?lang=en")
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "form-customer-en-anonymous.png"), full_page=True)
    page.get_by_label("Touch model").select_option("low")
    page.get_by_label("Region").fill("Kansai")
    for key, value in {"superior": "2", "everyone": "3", "quick": "na", "nps": "6", "ces": "3",
                       "renewal": "4"}.items():
        answer(page, key, value)  # no satisfaction answer
    page.get_by_label("Is there anything else you would like to tell us?").fill("Onboarding was slow.")
    page.get_by_role("button", name="Send my answers").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(page.locator("#q-csat-error")).to_have_text("Error: Please choose an answer.")
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "form-customer-en-error.png"), full_page=True)
    for key, value in {"superior": "2", "everyone": "3", "quick": "na", "nps": "6", "ces": "3",
                       "renewal": "4"}.items():
        expect(page.locator(f"#q-{key}-{value}")).to_be_checked()
    expect(page.get_by_label("Touch model")).to_have_value("low")
    expect(page.get_by_label("Region")).to_have_value("Kansai")
    expect(page.get_by_label("Is there anything else you would like to tell us?")).to_have_value(
        "Onboarding was slow.")
    assert m.SurveyResponse.objects.count() == 0

    summary.get_by_role("link").click()
    answer(page, "csat", "3")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you — your answers have been received.")
    stored = m.SurveyResponse.objects.get()
    assert stored.segments == {"touch_model": "low", "region": "Kansai"}
    assert stored.answers.get(item__key="csat").value == 3
    context.close()


def test_a_second_visit_to_a_used_link_says_it_was_already_answered(browser: Browser, site, wave, axe_source):
    token = services.invitation_create(wave=wave, side="customer", language="en").token
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{site}/r/{token}/")
    for key, value in {"superior": "3", "everyone": "3", "quick": "3", "nps": "8", "ces": "4", "csat": "3",
                       "renewal": "3"}.items():
        answer(page, key, value)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")

    again = page.goto(f"{site}/r/{token}/")
    assert again.status == 409
    expect(page.get_by_role("heading", level=1)).to_have_text("You have already answered this survey")
    assert_accessible(page, axe_source)
    # The anonymous link remembers this browser too.
    page.goto(f"{site}/s/{wave.slug}/customer/?lang=en")
    for key, value in {"superior": "3", "everyone": "3", "quick": "3", "nps": "8", "ces": "4", "csat": "3",
                       "renewal": "3"}.items():
        answer(page, key, value)
    page.get_by_role("button", name="Send my answers").click()
    assert page.goto(f"{site}/s/{wave.slug}/customer/?lang=en").status == 409
    assert m.SurveyResponse.objects.count() == 2
    context.close()


def test_the_language_switch_keeps_the_answers_given_so_far(browser: Browser, site, wave, axe_source,
                                                           artifacts: Path):
    token = services.invitation_create(wave=wave, side="customer", language="ja").token
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site}/r/{token}/")
    answer(page, "superior", "5")
    answer(page, "nps", "10")
    page.get_by_label("ほかにお伝えいただきたいことはありますか？").fill("Half-way comment")
    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("group", name="Mirror Corp delivers a superior experience to me.")).to_be_visible()
    expect(page.locator("#q-superior-5")).to_be_checked()
    expect(page.locator("#q-nps-10")).to_be_checked()
    expect(page.get_by_label("Is there anything else you would like to tell us?")).to_have_value("Half-way comment")
    expect(page.locator("#progress-label")).to_have_text("2 of 7 answered")
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "form-customer-en-mobile-switched.png"), full_page=True)
    assert m.SurveyResponse.objects.count() == 0

    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#q-superior-5")).to_be_checked()
    context.close()
