"""A PDF that never misleads (issue 15, item 3): each finding read back from the PDF's text (no database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from reports.context import build_report_context
from reports.models import ReportJob
from reports.pdf.render import render_pdf
from surveys.models import Wave
from tests.reports.conftest import pdf_pages
from tests.reports.sample import sample_analysis

EFFORT_EN = "Doing business with us takes customers more effort than it should."
EFFORT_JA = "当社との取引には、本来必要な以上の手間がかかっている。"
LONG_CONSTRUCT = "Customer success is everyone's job, not only the customer-facing teams'"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def edge_analysis(language: str) -> dict:
    """The sample with a reverse-keyed hidden strength, a minor gap, a long label and a legal name."""
    analysis = sample_analysis(language)
    effort = analysis["items"][4]  # "ease-1", classified hidden_strength, gap −0.52
    effort.update(reverse_keyed=True, construct="Doing business takes more effort than it should (reverse-keyed)",
                  staff_text=EFFORT_EN if language == "en" else EFFORT_JA)
    # The engine's counts are recoded (docs/methods.md §0): level l counted at k + 1 − l.
    effort["counts_staff"] = [2, 4, 8, 16, 10]  # as given: [10, 16, 8, 4, 2] → 25 %, 40 %, 20 %, 10 %, 5 %
    analysis["items"][5]["classification"]["class"] = "minor_gap"
    analysis["items"][0]["construct"] = LONG_CONSTRUCT
    analysis["wave"]["organization"]["name"] = "Kagami Legal Entity KK"
    return analysis


@pytest.fixture(scope="module")
def edge_pages() -> dict[str, tuple[dict, list[str]]]:
    out = {}
    for language in ("en", "ja"):
        ctx = build_report_context(edge_analysis(language), language=language)
        out[language] = (ctx, pdf_pages(render_pdf(ctx).pdf))
    return out


def _after(text: str, marker: str, size: int = 60) -> str:
    at = text.index(marker)
    return text[at: at + len(marker) + size]


def test_a_reverse_keyed_item_is_drawn_in_its_own_wording_with_its_own_scale(edge_pages):
    for language, start, staff in (("en", "Doing business takes", "Staff"), ("ja", "当社との取引には", "社員")):
        _ctx, pages = edge_pages[language]
        page = next(p for p in pages if ("How each side answered" in p or "双方の回答分布" in p))
        chunk = squash(_after(page, start, 200))
        # The distribution chart shows the answers as given: 25 % strongly disagree … 10 % agree (5 % unlabelled),
        # not the recoded 10 %, 20 %, 40 %, 25 % that read as "staff disagree that it takes effort".
        assert re.search(rf"{staff}25402010{'Customers' if language == 'en' else '顧客'}", chunk), chunk


def test_a_reverse_keyed_item_says_so_on_every_chart_and_table_in_both_languages(edge_pages):
    for language, marker, note in (("en", "(reversed)", "scored reversed"), ("ja", "（逆転）", "逆転して採点")):
        ctx, pages = edge_pages[language]
        text = "\n".join(pages)
        mirror = next(p for p in pages if ("The mirror" in p or "ミラー：" in p))
        assert marker in mirror, mirror
        assert note in squash(mirror) or note in mirror, mirror
        details = next(p for p in pages if ("Question details" in p or "設問別の詳細" in p))
        assert marker in details
        assert text.count(marker) >= 4, language  # summary, mirror, distribution, details


def test_the_summary_calls_a_reverse_keyed_hidden_strength_in_the_reversed_direction(edge_pages):
    ctx, pages = edge_pages["en"]
    summary = squash(pages[1])
    assert squash("Scored reversed (agreeing is unfavourable): customers rate this 0.52 points more favourably "
                  "than staff do") in summary
    assert squash("Customers rate this 0.52 points higher than staff do") not in summary
    ctx_ja, pages_ja = edge_pages["ja"]
    sentence_ja = "逆転して採点（同意は好ましくない評価）：顧客の評価が社員より0.52点好ましくなっています"
    assert squash(sentence_ja) in squash(pages_ja[1])


def test_labels_are_cut_at_a_word_boundary_with_an_ellipsis(edge_pages):
    ctx, pages = edge_pages["en"]
    words = set(re.findall(r"[\w'’-]+", LONG_CONSTRUCT))
    text = "\n".join(pages)
    cut = re.findall(r"([\w'’-]+)…", text)
    assert cut, "expected a shortened label"
    assert all(word in words or word not in LONG_CONSTRUCT for word in cut), cut
    assert "Customer success is everyone's job, not…" in text  # the mirror chart's 44 characters, cut at a space
    # Japanese has no spaces: cut by characters, still with an ellipsis.
    ctx_ja, _pages = edge_pages["ja"]
    long_ja = next(r for r in ctx_ja["items"] if r["key"] == "culture-1")
    assert long_ja["short_label"].startswith(long_ja["label"][:10])


def test_the_class_counts_are_pluralised_and_count_every_class(edge_pages):
    ctx, pages = edge_pages["en"]
    summary = squash(pages[1])
    assert squash("Of 7 item pairs: 5 blind spots, 1 hidden strength, 1 minor gap, 0 aligned, 0 inconclusive.") \
        in summary, pages[1]
    assert "hiddenstrengths," not in summary
    ctx_ja, pages_ja = edge_pages["ja"]
    assert squash("7組の設問ペアのうち、盲点 5、隠れた強み 1、小さな差 1、一致 0、判定保留 0。") in squash(pages_ja[1])


def test_the_cover_names_the_organisation_once_by_its_display_name(edge_pages):
    for language, name in (("en", "Mirror Corp"), ("ja", "ミラー株式会社")):
        _ctx, pages = edge_pages[language]
        assert name in pages[0]
        assert "Kagami Legal Entity KK" not in "\n".join(pages), language


def test_the_comparison_page_says_change_since_the_earlier_wave(edge_pages):
    _ctx, pages = edge_pages["en"]
    text = "\n".join(pages)
    assert "Change since “Spring 2026”" in text
    assert "compared with this wave" not in text
    assert "Gap in Spring 2026" in squash(text) or squash("Gap in Spring 2026") in squash(text)
    _ctx, pages_ja = edge_pages["ja"]
    assert "「Spring 2026」からの変化" in "\n".join(pages_ja)


def test_answered_invitations_show_for_customers_and_a_footnoted_dash_for_staff(edge_pages):
    for language, staff, customers in (("en", "Staff", "Customers"), ("ja", "社員", "顧客")):
        _ctx, pages = edge_pages[language]
        lines = "\n".join(pages).splitlines()
        assert any(re.match(rf"{customers} 160 600 160 27%", line) for line in lines), language
        staff_line = next(line for line in lines if re.match(rf"{staff} 40 52 ", line))
        assert "—*" in staff_line, staff_line
    text = squash("\n".join(edge_pages["en"][1]))  # every page of the English report
    assert squash("* Staff: not shown, since it would change when one colleague answers") in text


def test_the_file_name_carries_the_local_date_of_generation(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    job = ReportJob(wave=Wave(slug="h2"), language="en", created_at=datetime(2026, 12, 6, 16, 30, tzinfo=UTC),
                    finished_at=datetime(2026, 12, 6, 16, 31, tzinfo=UTC))
    assert job.filename() == "kagami-h2-en-2026-12-07.pdf"  # 01:31 in Tokyo, still the 6th in UTC
