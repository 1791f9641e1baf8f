"""The web mirror's JavaScript enhancement (reports/static/reports/mirror.js) in real Chromium: a filter swaps
the results in place (no navigation), the URL and the PDF form follow, Back and Forward restore earlier views,
the update is announced, a failed fetch falls back to a page load, and without JavaScript the same filter
works by a full page load. Screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Page, expect

from surveys.demo import DEMO_PASSWORD
from surveys.models import Wave
from tests.browser.test_public_forms_browser import DESKTOP, assert_accessible

MARKER = "window.kagamiTestMarker"  # set before an action; a page load would lose it
# A view the server has not computed yet runs the gap engine: seconds, more on a loaded machine.
WAIT = 120_000

# Records, from before the click, whether the results were marked busy and what the live region said.
WATCH_BUSY = """() => {
  window.kagamiSeen = {busy: false, messages: []};
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes' && r.target.getAttribute('aria-busy') === 'true') window.kagamiSeen.busy = true;
    }
  }).observe(document.getElementById('mirror-results'), {attributes: true, attributeFilter: ['aria-busy']});
  const status = document.getElementById('mirror-status');
  new MutationObserver(() => window.kagamiSeen.messages.push(status.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def demo(db) -> Wave:
    call_command("load_demo", "--responses", "40", "--seed", "3", stdout=open("/dev/null", "w"))
    return Wave.objects.filter(previous_wave__isnull=False).select_related("previous_wave").get()


def _log_in(context: BrowserContext, site: str, wave: Wave, lang: str = "en") -> Page:
    context.set_default_timeout(WAIT)  # clicks and history moves that wait for a page the server computes
    page = context.new_page()
    page.goto(f"{site}/accounts/login/?lang={lang}&next=/reports/waves/{wave.pk}/")
    page.locator("#id_username").fill("demo-exec")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form.web-card button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/reports/waves/{wave.pk}/$"), timeout=WAIT)
    return page


def _csp_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return errors


def _pdf_filters(page: Page) -> list[str]:
    return page.locator(".web-pdf form input[name=customer]").evaluate_all("els => els.map(e => e.value)")


def test_a_filter_swaps_the_results_in_place_and_back_restores_the_earlier_view(browser: Browser, site, demo,
                                                                                axe_source, artifacts: Path):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = _log_in(context, site, demo)
    csp_errors = _csp_errors(page)
    everyone = page.locator("#n-customer").text_content()
    headline = page.locator("#headline-customer").text_content()
    documents: list[str] = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    page.evaluate(f"{MARKER} = 42")
    page.evaluate(WATCH_BUSY)

    # Apply: the results change without a page load.
    page.locator("#filter-customer-tier").select_option("Enterprise")
    expect(page.locator("#mirror-status")).to_have_text("")  # choosing an option submits nothing (WCAG 3.2.2)
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"customer%3Atier=Enterprise"), timeout=WAIT)
    expect(page.locator("#mirror-status")).to_have_text("Results updated.")
    assert page.evaluate(MARKER) == 42, "the filter loaded a new page instead of updating this one"
    assert documents == []
    filtered = page.locator("#n-customer").text_content()
    assert filtered != everyone and (not filtered.isdigit() or int(filtered) < int(everyone))
    expect(page.locator("#mirror-summary")).to_contain_text("Customers tier = Enterprise")
    seen = page.evaluate("window.kagamiSeen")
    assert seen["busy"] is True and seen["messages"][0] == "Loading…"
    expect(page.locator("[aria-busy=true]")).to_have_count(0)
    # Focus stays on the button that was pressed; the form shows the view; the PDF form carries it.
    assert page.evaluate("document.activeElement.id") == "filter-apply"
    expect(page.locator("#filter-customer-tier")).to_have_value("Enterprise")
    assert _pdf_filters(page) == ["tier:Enterprise"]
    # The language links keep the view too.
    expect(page.locator("#web-lang a[hreflang=ja]")).to_have_attribute("href", re.compile(r"tier%3AEnterprise"))
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "web-mirror-js-filtered-en.png"), full_page=True)

    # Drill down to a dimension: its questions only, focus on the chart's heading, the filter kept.
    first = page.locator("#dimensions tbody th a").first
    name = first.text_content()
    first.click()
    expect(page).to_have_url(re.compile(r"dimension=.+#chart$"), timeout=WAIT)
    expect(page.locator("#chart-title")).to_contain_text(name)
    assert page.evaluate(MARKER) == 42
    assert page.evaluate("document.activeElement.id") == "chart-title"
    expect(page.locator("#filter-customer-tier")).to_have_value("Enterprise")
    assert page.locator("#mirror-filters input[name=dimension]").input_value() != ""
    assert_accessible(page, axe_source)

    # Back twice: the drill-down goes, then the filter; the earlier numbers and form values return.
    page.go_back()
    expect(page).to_have_url(re.compile(r"customer%3Atier=Enterprise$"), timeout=WAIT)
    expect(page.locator("#chart-title")).not_to_contain_text(name, timeout=WAIT)
    expect(page.locator("#mirror-filters input[name=dimension]")).to_have_value("")
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/reports/waves/{demo.pk}/$"), timeout=WAIT)
    expect(page.locator("#n-customer")).to_have_text(everyone, timeout=WAIT)
    expect(page.locator("#headline-customer")).to_have_text(headline)
    expect(page.locator("#filter-customer-tier")).to_have_value("")
    assert _pdf_filters(page) == []
    # Forward: the filtered view again.
    page.go_forward()
    expect(page).to_have_url(re.compile(r"customer%3Atier=Enterprise$"), timeout=WAIT)
    expect(page.locator("#n-customer")).to_have_text(filtered, timeout=WAIT)
    expect(page.locator("#filter-customer-tier")).to_have_value("Enterprise")
    assert page.evaluate(MARKER) == 42 and documents == []
    assert_accessible(page, axe_source)
    assert csp_errors == []
    context.close()


def test_the_update_is_announced_in_japanese(browser: Browser, site, demo, axe_source, artifacts: Path):
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    page = _log_in(context, site, demo, lang="ja")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.evaluate(f"{MARKER} = 42")
    page.locator("#filter-customer-tier").select_option("Enterprise")
    page.locator("#filter-apply").click()
    expect(page).to_have_url(re.compile(r"customer%3Atier=Enterprise"), timeout=WAIT)
    expect(page.locator("#mirror-status")).to_have_text("結果を更新しました。")
    assert page.evaluate(MARKER) == 42
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "web-mirror-js-filtered-ja.png"), full_page=True)
    context.close()


def test_a_failed_fetch_falls_back_to_loading_the_page(browser: Browser, site, demo):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = _log_in(context, site, demo)
    everyone = page.locator("#n-customer").text_content()
    fetches: list[str] = []

    def refuse_fetches(route):
        if route.request.resource_type == "fetch":
            fetches.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/reports/waves/**", refuse_fetches)
    page.evaluate(f"{MARKER} = 42")
    page.locator("#filter-customer-tier").select_option("Enterprise")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"customer%3Atier=Enterprise"), timeout=WAIT)
    assert page.evaluate(f"typeof {MARKER}") == "undefined"  # a real page load
    assert len(fetches) == 1  # the script tried first
    expect(page.locator("#filter-customer-tier")).to_have_value("Enterprise")
    assert page.locator("#n-customer").text_content() != everyone
    context.close()


def test_without_javascript_the_filter_and_the_drill_down_load_whole_pages(browser: Browser, site, demo,
                                                                             artifacts: Path):
    context = browser.new_context(viewport=DESKTOP, locale="en-US", java_script_enabled=False)
    page = _log_in(context, site, demo)
    everyone = page.locator("#n-customer").text_content()
    page.locator("#filter-customer-tier").select_option("Enterprise")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"customer%3Atier=Enterprise"), timeout=WAIT)
    filtered = page.locator("#n-customer").text_content()
    assert filtered != everyone and (not filtered.isdigit() or int(filtered) < int(everyone))
    expect(page.locator("#filter-customer-tier")).to_have_value("Enterprise")
    expect(page.locator("#mirror-status")).to_have_text("")
    assert _pdf_filters(page) == ["tier:Enterprise"]
    first = page.locator("#dimensions tbody th a").first
    name = first.text_content()
    with page.expect_navigation():
        first.click()
    expect(page).to_have_url(re.compile(r"customer=tier%3AEnterprise&dimension=.+#chart$"), timeout=WAIT)
    expect(page.locator("#chart-title")).to_contain_text(name)
    page.screenshot(path=str(artifacts / "web-mirror-nojs-drilled-en.png"), full_page=True)
    context.close()
