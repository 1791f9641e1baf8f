"""The report of the demo wave end to end: same numbers as the gap API, then the PDF via API, page and command."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from reports import jobs
from reports.context import build_report_context
from reports.formatting import fmt_pct, fmt_signed
from reports.models import ReportJob, ReportStatus
from reports.services import gap_analysis
from surveys.models import Wave
from tests.reports.conftest import pdf_pages, pdffonts, save_page_images

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_wave_id):
    wave = Wave.objects.select_related("previous_wave").get(pk=demo_wave_id)
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo-")}
    return wave, users


@pytest.fixture(scope="module")
def demo_api(demo_wave_id, django_db_blocker):
    """The gap API's answer for the demo wave (English, compared with the previous wave), fetched once."""
    with django_db_blocker.unblock():
        wave = Wave.objects.get(pk=demo_wave_id)
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username="demo-analyst"))
        response = client.get(f"/api/v1/waves/{wave.pk}/gap/", {"compare_wave": wave.previous_wave_id, "lang": "en"})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_report_context_holds_the_numbers_of_the_gap_api(demo, demo_api):
    wave, _users = demo
    ctx = build_report_context(gap_analysis(wave=wave, compare_wave=wave.previous_wave, language="en"),
                               language="en", wave=wave)
    api = demo_api
    assert ctx["counts"]["staff"]["n"] == api["response_counts"]["staff"]
    assert ctx["counts"]["customer"]["n"] == api["response_counts"]["customer"]
    tb = api["headline"]["topbox"]
    assert ctx["headline"]["staff_pct"] == fmt_pct(tb["p_staff"])
    assert ctx["headline"]["customer_pct"] == fmt_pct(tb["p_customer"])
    assert ctx["headline"]["p_staff"] == pytest.approx(tb["p_staff"], abs=1e-9)

    api_items = {i["key"]: i for i in api["items"]}
    assert [r["key"] for r in ctx["items"]] == [i["key"] for i in api["items"]]
    for row in ctx["items"]:
        item = api_items[row["key"]]
        assert row["class"] == item["classification"]["class"]
        if row["reportable"]:
            assert row["gap"] == pytest.approx(item["gap"], abs=1e-9)
            assert row["ci_low"] == pytest.approx(item["welch"]["ci_low"], abs=1e-9)
            assert row["p_bh"] == pytest.approx(item["p_adjusted"]["welch_bh"], abs=1e-9)
            assert row["gap_display"] == fmt_signed(item["gap"])
    blind = sorted((i for i in api["items"] if i["classification"]["class"] == "blind_spot"),
                   key=lambda i: i["gap"], reverse=True)[:3]
    assert [r["key"] for r in ctx["blind_spots"]] == [i["key"] for i in blind]
    assert len(ctx["blind_spots"]) == 3
    hidden = sorted((i for i in api["items"] if i["classification"]["class"] == "hidden_strength"),
                    key=lambda i: i["gap"])[:3]
    assert [r["key"] for r in ctx["hidden_strengths"]] == [i["key"] for i in hidden]

    for row, dim in zip(ctx["dimensions"], api["dimensions"], strict=True):
        assert row["key"] == dim["key"] and row["class"] == dim["classification"]["class"]
        if row["reportable"]:
            assert row["gap"] == pytest.approx(dim["gap"], abs=1e-9)
            assert row["p_holm"] == pytest.approx(dim["p_adjusted"]["welch_holm"], abs=1e-9)
    assert [d["key"] for d in ctx["did"]["dimensions"]] == [d["key"] for d in api["did"]["dimensions"]]


def squash(text: str) -> str:
    """Text without whitespace: PDF extraction breaks lines (and drops spaces) where the layout wrapped."""
    return re.sub(r"\s+", "", text)


def test_the_japanese_demo_report_renders_through_the_api_with_the_engines_numbers(
        demo, demo_api, tmp_path, django_capture_on_commit_callbacks):
    wave, users = demo
    language = "ja"
    client = APIClient()
    client.force_authenticate(users["demo-exec"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": language}, format="json")
    assert response.status_code == 202
    job_id = response.json()["id"]
    jobs.report_job_run(job_id)  # what the in-process worker would do after commit
    job = ReportJob.objects.get(pk=job_id)
    assert job.status == ReportStatus.DONE, job.error
    assert client.get(f"/api/v1/reports/{job_id}/").json()["progress"] == 100

    download = client.get(f"/api/v1/reports/{job_id}/pdf/")
    assert download["Content-Type"] == "application/pdf"
    pdf = b"".join(download.streaming_content)
    pages = pdf_pages(pdf)
    assert len(pages) == job.page_count
    save_page_images(pdf, f"demo-{language}")

    analysis = gap_analysis(wave=wave, compare_wave=wave.previous_wave, language=language)
    ctx = build_report_context(analysis, language=language, wave=wave)
    summary = pages[1]
    assert ctx["headline"]["staff_pct"] == fmt_pct(demo_api["headline"]["topbox"]["p_staff"])
    assert squash(ctx["headline"]["sentence"]) in squash(summary)
    assert len(ctx["blind_spots"]) == 3
    for row in ctx["blind_spots"]:
        assert squash(row["sentence"]) in squash(summary)
    assert f"{len(pages)} / {len(pages)} ページ" in pages[-1]
    assert "エグゼクティブ・サマリー" in summary
    fonts = pdffonts(pdf, tmp_path)
    assert any("CJK" in line and line.split()[-5] == "yes" for line in fonts.splitlines()), fonts


def test_render_report_writes_the_english_pdf_from_the_command_line(demo, demo_api, tmp_path):
    wave, _users = demo
    out = tmp_path / "report.pdf"
    stdout = io.StringIO()
    call_command("render_report", "--wave", wave.slug, "--lang", "en", "--out", str(out), "--no-progress",
                 stdout=stdout)
    pdf = out.read_bytes()
    assert pdf[:5] == b"%PDF-"
    pages = pdf_pages(pdf)
    save_page_images(pdf, "demo-en")
    assert stdout.getvalue().startswith(f"Wrote {out} ({len(pages)} pages")
    tb = demo_api["headline"]["topbox"]
    summary = squash(pages[1])
    assert squash(f"{fmt_pct(tb['p_staff'])} of staff say we deliver a superior experience; "
                  f"{fmt_pct(tb['p_customer'])} of customers agree.") in summary
    blind = sorted((i for i in demo_api["items"] if i["classification"]["class"] == "blind_spot"),
                   key=lambda i: i["gap"], reverse=True)[:3]
    for item in blind:
        assert squash(f"Staff rate this {fmt_signed(item['gap']).lstrip('+')} points higher") in summary
    assert f"Page {len(pages)} / {len(pages)}" in pages[-1]
    assert "Gaps by segment" in "".join(pages)
    assert f"Change since “{wave.previous_wave.name}”" in "".join(pages)


def test_render_report_names_an_unknown_wave(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No wave with id or slug 'nope'"):
        call_command("render_report", "--wave", "nope", "--lang", "en", "--out", str(tmp_path / "x.pdf"))
