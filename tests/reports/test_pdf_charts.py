"""The PDF's charts reach WeasyPrint as SVG images served from memory, not as <svg> in the HTML (no database).

Why: the charts are two thirds of the report's HTML; inline, every element of them went through WeasyPrint's
pure-Python HTML parser and the HTML cascade (bench/NOTES.md, "The PDF report"). Drawn as images they are the
same vector paths and real text.
"""

from __future__ import annotations

import re

import pytest

from reports.context import build_report_context
from reports.pdf.render import CHART_SCHEME, FetchRefused, _Charts, _make_fetcher_class, _render_html, render_html
from tests.reports.sample import sample_analysis


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_html_given_to_weasyprint_names_each_chart_instead_of_holding_it(language):
    ctx = build_report_context(sample_analysis(language), language=language)
    inline = re.findall(r"<svg.*?</svg>", render_html(ctx), flags=re.S)
    html, documents = _render_html(ctx, _Charts())
    assert "<svg" not in html
    assert len(inline) >= 2  # the mirror chart and the answer distributions at least
    # The same charts, where the inline ones were, each behind its own URL named once in the HTML.
    named = re.findall(rf'<img class="chart-svg" src="({CHART_SCHEME}:\d+)"', html)
    assert sorted(named) == sorted(documents) and len(set(named)) == len(named)
    assert [documents[url].decode() for url in named] == inline


def test_the_charts_are_drawn_in_the_pdf_as_text_and_paths(sample_reports, sample_pages):
    # Labels that only the charts carry: the mirror chart's axis and gap column, the answer scale's legend.
    for language, labels in (("en", ["Average answer (1 = strongly disagree)", "Strongly agree", "95% CI"]),
                             ("ja", ["平均回答（1 = まったくそう思わない）", "とてもそう思う"])):
        _ctx, rendered = sample_reports[language]
        text = "\n".join(sample_pages[language])
        for label in labels:
            assert label in text, (language, label)
        assert b"/Subtype /Image" not in rendered.pdf
        assert rendered.refused == []


def test_the_fetcher_serves_only_the_charts_of_its_own_render():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10"/>'
    fetcher = _make_fetcher_class()(charts={f"{CHART_SCHEME}:1": svg})
    response = fetcher.fetch(f"{CHART_SCHEME}:1")
    assert response.read() == svg and response.content_type == "image/svg+xml"
    for url in (f"{CHART_SCHEME}:2", f"{CHART_SCHEME}:1/../2", f"{CHART_SCHEME.upper()}:1"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    with pytest.raises(FetchRefused):
        _make_fetcher_class()().fetch(f"{CHART_SCHEME}:1")  # another render's fetcher has no charts
