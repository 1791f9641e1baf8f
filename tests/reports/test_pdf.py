"""The PDF itself: its text, fonts, pages, suppression and the locked-down fetcher (no database)."""

from __future__ import annotations

import re

import pytest

from reports.context import build_report_context
from reports.pdf.render import STATIC_DIR, FetchRefused, _make_fetcher_class, css_string, render_pdf
from tests.reports.conftest import pdf_text, pdffonts, save_page_images
from tests.reports.sample import sample_analysis


def test_the_english_pdf_shows_the_headline_and_blind_spots_of_its_context(sample_reports, sample_pages):
    ctx, rendered = sample_reports["en"]
    summary = sample_pages["en"][1]
    assert "Executive summary" in summary
    assert f"{ctx['headline']['staff_pct']} of staff say we deliver a superior experience" in summary
    assert f"{ctx['headline']['customer_pct']} of customers agree" in summary
    assert "95% CI 65%–90%" in summary and "95% CI 5%–13%" in summary
    for row in ctx["blind_spots"]:
        assert row["label"] in summary
        assert f"Staff rate this {row['gap_display'].lstrip('+')} points higher" in summary
    assert ctx["hidden_strengths"][0]["label"] in summary


def test_every_page_is_numbered_and_stamped_with_the_generation_time(sample_reports, sample_pages):
    ctx, rendered = sample_reports["en"]
    pages = sample_pages["en"]
    assert len(pages) == rendered.page_count == 9
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} / {rendered.page_count}" in text
        assert f"Generated {ctx['generated_at_display']}" in text


def test_the_japanese_pdf_extracts_as_japanese_with_an_embedded_cjk_font(sample_reports, sample_pages, tmp_path):
    ctx, rendered = sample_reports["ja"]
    text = "\n".join(sample_pages["ja"])
    assert "エグゼクティブ・サマリー" in text
    assert "社員の80%が「当社は優れた顧客体験を提供している」と回答しています。" in text
    assert "方法と注意点" in text
    assert "2 / 9 ページ" in text
    fonts = pdffonts(rendered.pdf, tmp_path)
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk, fonts
    # columns: name type encoding emb sub uni …: every CJK font is embedded
    assert all(line.split()[-5] == "yes" for line in cjk), fonts


def test_a_suppressed_segment_shows_no_number_anywhere_in_the_pdf(sample_pages):
    for language, suppressed_word in (("en", "suppressed"), ("ja", "非表示")):
        lines = "\n".join(sample_pages[language]).splitlines()
        for value in ("Legal", "Platinum"):
            rows = [line for line in lines if line.startswith(value)]
            assert rows, value
            for line in rows:
                assert suppressed_word in line
                assert not re.search(r"\d", line), line


def test_the_charts_are_vector_and_the_pages_are_kept_as_images(sample_reports):
    for language in ("en", "ja"):
        _ctx, rendered = sample_reports[language]
        assert b"/Subtype /Image" not in rendered.pdf  # charts are paths and text, not bitmaps
        images = save_page_images(rendered.pdf, f"sample-{language}")
        assert len(images) == rendered.page_count


def test_the_fetcher_serves_only_the_reports_own_static_files():
    fetcher = _make_fetcher_class()()
    css = (STATIC_DIR / "report.css").as_uri()
    response = fetcher.fetch(css)
    assert b"@page" in response.read()
    response.close()
    for url in ("file:///etc/passwd", "http://example.com/x.png", "https://example.com/", "ftp://example.com/a",
                "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", css.replace("report.css", "../../models.py"),
                (STATIC_DIR / "missing.css").as_uri(), "file://evil.example/etc/passwd"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    assert fetcher.served == [css]
    assert len(fetcher.refused) == 8


def test_weasyprint_asks_the_fetcher_and_gets_nothing_for_foreign_urls():
    import weasyprint

    fetcher = _make_fetcher_class()()
    html = ('<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">'
            '<link rel="stylesheet" href="http://127.0.0.1:9/a.css"><p>x</p>')
    weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert set(fetcher.refused) == {"file:///etc/passwd", "http://127.0.0.1:9/x.png", "http://127.0.0.1:9/a.css"}
    assert fetcher.served == []


def test_hostile_wordings_are_printed_as_text_and_fetch_nothing():
    analysis = sample_analysis("en")
    evil_img = '<img src="file:///etc/passwd">'
    analysis["items"][0]["staff_text"] = f"We care {evil_img}"
    analysis["items"][0]["construct"] = f"Owns success {evil_img} http://evil.example/x.png"
    analysis["items"][1]["construct"] = '<link rel="stylesheet" href="http://evil.example/a.css">'
    analysis["dimensions"][0]["name"] = '<svg><image href="file:///etc/shadow"/></svg>'
    analysis["segments"]["staff"]["department"][0]["value"] = '<img src="http://evil.example/seg.png">'
    analysis["wave"]["name"] = '"; } @import url(http://evil.example/x.css); {'
    ctx = build_report_context(analysis, language="en")
    rendered = render_pdf(ctx)
    assert rendered.refused == []  # escaped markup asks for nothing at all
    text = pdf_text(rendered.pdf)
    assert "Owns success <img" in text
    assert "file:///etc/passwd" in text


def test_css_strings_escape_everything_but_letters_and_digits():
    assert css_string('a"b') == '"a\\000022b"'
    assert css_string("作成 1") == '"\\004f5c\\006210\\0000201"'
