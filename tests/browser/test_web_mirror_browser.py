"""A newcomer's first minute in a real browser: `/`, log in as the demo executive, open the web mirror,
apply a filter, ask for the PDF; axe-core on every page, screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect

from surveys.demo import DEMO_PASSWORD
from surveys.models import Wave
from tests.browser.test_public_forms_browser import DESKTOP, PHONE, assert_accessible


@pytest.fixture(autouse=True)
def _no_render(monkeypatch) -> list[str]:
    """The PDF job is queued, not rendered: a render thread would still read the database at teardown."""
    from reports import jobs

    queued: list[str] = []
    monkeypatch.setattr(jobs, "report_job_dispatch", lambda job: queued.append(str(job.pk)))
    return queued


@pytest.fixture
def demo(db) -> Wave:
    call_command("load_demo", "--responses", "40", "--seed", "3", stdout=open("/dev/null", "w"))
    return Wave.objects.filter(previous_wave__isnull=False).select_related("previous_wave").get()


def test_a_newcomer_logs_in_opens_the_mirror_filters_it_and_asks_for_the_pdf(browser: Browser, site, demo,
                                                                            axe_source, artifacts: Path,
                                                                            _no_render):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    # Opening the mirror runs the gap engine for a view not computed yet: well over 30 s on a loaded machine.
    context.set_default_timeout(120_000)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)

    # 1. The first page: what Kagami is, and a log-in button.
    assert page.goto(f"{site}/").status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("How your staff see you, and how your customers do")
    expect(page.locator("main")).to_contain_text("8%")
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "web-home-en.png"), full_page=True)

    # 2. The login page, in the product's style.
    page.get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "web-login-en.png"), full_page=True)
    page.get_by_label("Username").fill("demo-exec")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # 3. Back on `/`, now with the executive's waves.
    expect(page.get_by_role("heading", name="Your survey waves")).to_be_visible()
    page.get_by_role("link", name=demo.name).click()
    expect(page).to_have_url(re.compile(rf"/reports/waves/{demo.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(demo.name)
    expect(page.locator("#headline-staff")).to_have_text(re.compile(r"^\d+%$"))
    expect(page.locator("#chart svg[role=img]")).to_have_count(1)
    expect(page.locator("#trend svg[role=img]").first).to_be_visible()
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "web-mirror-en.png"), full_page=True)
    everyone = int(page.locator("#n-customer").text_content())

    # 4. A filter (a GET form; reports/static/reports/mirror.js swaps the results in place, tested in
    # test_mirror_js.py). The click does not wait for the new view: the URL changes once it is shown, after
    # the gap engine computed it.
    page.locator("#filter-customer-tier").select_option("Enterprise")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"customer%3Atier=Enterprise"), timeout=120_000)
    filtered = page.locator("#n-customer").text_content()
    assert not filtered.isdigit() or int(filtered) < everyone
    expect(page.locator("#filter-customer-tier")).to_have_value("Enterprise")
    assert_accessible(page, axe_source)

    # 5. The same view as PDF: a job page answers (the PDF itself is not awaited).
    with page.expect_navigation():
        page.get_by_role("button", name="Download as PDF").click()
    expect(page).to_have_url(re.compile(r"/reports/jobs/[0-9a-f-]+/$"))
    expect(page.locator("[role=status]")).to_be_visible()
    assert len(_no_render) == 1  # one report job was asked for
    assert csp_errors == []
    context.close()


def test_the_mirror_reads_in_japanese_on_a_phone(browser: Browser, site, demo, axe_source, artifacts: Path):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="ja-JP")
    page = context.new_page()
    page.goto(f"{site}/accounts/login/?lang=ja&next=/reports/waves/{demo.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert_accessible(page, axe_source)
    page.locator("#id_username").fill("demo-exec")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form.web-card button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/reports/waves/{demo.pk}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#headline")).to_contain_text("%")
    assert_accessible(page, axe_source)
    page.screenshot(path=str(artifacts / "web-mirror-ja-mobile.png"), full_page=True)
    context.close()
