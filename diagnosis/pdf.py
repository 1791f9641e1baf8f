"""The printable one-page PDF of a result, with real WeasyPrint.

Not reports.pdf.render: that renders a report context into the report's template. This is the same
setup at a smaller scale: the same fonts (Noto Sans CJK JP, so Japanese never falls back to a font
without its glyphs), the chart of the result page (diagnosis.chart), and a fetcher that loads nothing
at all (the page's style is in the document; nothing from outside can be pulled in by any wording).
WeasyPrint is imported on the first render only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from diagnosis.chart import localized_chart
from diagnosis.models import DiagnosisResult
from diagnosis.present import result_payload


class FetchRefused(ValueError):
    """The diagnosis PDF loads no URL at all."""


def refusing_fetcher():
    from weasyprint.urls import URLFetcher

    class RefuseEverything(URLFetcher):
        def fetch(self, url, headers=None):
            raise FetchRefused(f"The diagnosis PDF loads nothing: {url[:200]!r}")

    return RefuseEverything()


@dataclass
class RenderedDiagnosis:
    pdf: bytes
    page_count: int


def render_html(result: DiagnosisResult, language: str) -> str:
    with translation.override(language):
        payload = result_payload(result, language)
        return render_to_string("diagnosis/pdf/result.html", {
            "result": payload, "page_language": language,
            "chart": mark_safe(localized_chart(payload)),  # noqa: S308 (diagnosis.chart escapes every text it draws)
            "printed_on": timezone.localdate().isoformat(),
        })


def render_result_pdf(result: DiagnosisResult, language: str) -> RenderedDiagnosis:
    import weasyprint

    document = weasyprint.HTML(string=render_html(result, language), url_fetcher=refusing_fetcher()).render()
    return RenderedDiagnosis(pdf=document.write_pdf(), page_count=len(document.pages))
