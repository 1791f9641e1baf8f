"""Report context → PDF bytes with WeasyPrint, fetching nothing but Kagami's own static files and the
report's own charts.

WeasyPrint is imported here, lazily, so Django start-up and API requests never
pay its ~2–3 s import; only a process that renders does.

The charts reach WeasyPrint as images (``<img src="kagami-chart:N">``) that the fetcher serves from memory,
not as ``<svg>`` inside the HTML: they are drawn the same way (vector paths and real text), but their
elements (two thirds of the report's HTML) are no longer tokenised by the pure-Python HTML parser nor
matched against every CSS rule of the HTML cascade — XML parsing of the chart is done by ElementTree in C
(bench/NOTES.md, "The PDF report").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from reports.pdf import charts as charts_mod

logger = logging.getLogger(__name__)
# WeasyPrint logs every layout step at INFO; a job log needs only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# The only directory WeasyPrint may read from.
STATIC_DIR = (Path(__file__).resolve().parent.parent / "static" / "reports").resolve()
# The URL scheme of a render's own charts, served from memory by that render's fetcher only.
CHART_SCHEME = "kagami-chart"
LIKERT_ROWS_PER_PAGE = 11

Progress = Callable[[int, str], None]


class FetchRefused(ValueError):
    """A URL outside Kagami's packaged static files. WeasyPrint logs it and renders without it."""


def _make_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class KagamiURLFetcher(URLFetcher):
        """Serves files under reports/static/reports/ and refuses everything else.

        Refused: http(s), ftp, data: URLs, and file: URLs outside the static
        directory (after resolving ``..`` and symlinks). ``refused`` keeps the
        refused URLs so tests and logs can show what a template or a wording
        tried to load. ``charts`` maps the ``kagami-chart:`` URLs of this render
        to the SVG documents Kagami drew for it; any other such URL is refused.
        """

        def __init__(self, *args: Any, charts: dict[str, bytes] | None = None, **kwargs: Any) -> None:
            kwargs.setdefault("allowed_protocols", {"file"})
            kwargs.setdefault("allow_redirects", False)
            super().__init__(*args, **kwargs)
            self.charts: dict[str, bytes] = dict(charts or {})
            self.refused: list[str] = []
            self.served: list[str] = []

        def fetch(self, url: str, headers: dict | None = None):
            if url in self.charts:
                self.served.append(url)
                return URLFetcherResponse(url, body=self.charts[url], headers={"Content-Type": "image/svg+xml"})
            path = allowed_static_path(url)
            if path is None:
                self.refused.append(url)
                logger.warning("report renderer refused to fetch %.200s", url)
                raise FetchRefused(f"Refused to fetch {url[:200]!r}: reports only load Kagami's own static files.")
            self.served.append(url)
            return super().fetch(path.as_uri(), headers)

    return KagamiURLFetcher


def allowed_static_path(url: str) -> Path | None:
    """The local file a URL names, if it lies inside the report's static directory; else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(unquote(parts.path)).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    return path


def css_string(text: str) -> str:
    """A CSS string literal whose every non-alphanumeric character is a hex escape (inert in <style>)."""
    out = []
    for ch in str(text):
        # Six hex digits and no trailing space: a space after an escape would be swallowed as its terminator.
        out.append(ch if ch.isascii() and ch.isalnum() else f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'


def _page_css(ctx: dict[str, Any]) -> str:
    generated = _("Generated %(when)s") % {"when": ctx["generated_at_display"]}
    before, after = _("Page "), ""
    if ctx["language"] == "ja":
        before, after = "", " ページ"
    return (
        "@page { @bottom-left { content: " + css_string(generated) + "; }"
        " @bottom-right { content: " + css_string(before) + " counter(page) \" / \" counter(pages) "
        + css_string(after) + "; } }"
    )


def _chunks(rows: list, size: int) -> list[list]:
    return [rows[i : i + size] for i in range(0, len(rows), size)] or []


def journey_svg(ctx: dict[str, Any]) -> str:
    """The journey chart of a report context (touchpoints in order), in its language; "" without touchpoints.

    Call inside ``translation.override(ctx["language"])``; the web mirror draws the same chart.
    """
    if not ctx.get("touchpoints"):
        return ""
    return charts_mod.journey_chart(
        ctx["touchpoints"], staff_label=_("Staff"), customer_label=_("Customers"),
        gap_label=_("Gap (staff − customers) with 95% CI"), means_label=_("Average score (1 = strongly disagree)"),
        title=_("Customer journey"),
    )


class _Charts:
    """The charts of one render: each SVG document kept under a ``kagami-chart:N`` URL, and the ``<img>``
    that names it in the HTML."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}

    def img(self, svg: str) -> str:
        if not svg:
            return ""
        url = f"{CHART_SCHEME}:{len(self.documents) + 1}"
        self.documents[url] = str(svg).encode()
        # The URL is Kagami's own (no wording reaches it); charts.* escapes every text inside the SVG.
        return mark_safe(f'<img class="chart-svg" src="{url}" alt="">')  # noqa: S308


def render_html(ctx: dict[str, Any]) -> str:
    """The report's HTML for a context from ``reports.context.build_report_context``, its charts inline (``<svg>``)."""
    return _render_html(ctx, None)[0]


def _render_html(ctx: dict[str, Any], charts: _Charts | None) -> tuple[str, dict[str, bytes]]:
    """The report's HTML; with ``charts``, each chart is an ``<img>`` of a document in ``charts`` instead."""
    def chart(svg: str) -> str:
        return charts.img(svg) if charts is not None else mark_safe(svg)  # noqa: S308 (charts.* escapes its texts)

    with translation.override(ctx["language"]):
        staff, customers = _("Staff"), _("Customers")
        mirror = charts_mod.mirror_chart(
            ctx["mirror_rows"], staff_label=staff, customer_label=customers, gap_label=_("Gap"),
            axis_label=_("Average answer (1 = strongly disagree)"), title=_("Mirror chart"),
        ) if ctx["mirror_rows"] else ""
        k = max([len(r["counts_staff"]) for r in ctx["likert_rows"]] or [5])
        level_labels = (
            [_("Strongly disagree"), _("Disagree"), _("Neutral"), _("Agree"), _("Strongly agree")] if k == 5
            else [str(level) for level in range(1, k + 1)]
        )
        likert = [
            chart(charts_mod.likert_chart(chunk, staff_label=staff, customer_label=customers,
                                          level_labels=level_labels, title=_("Answer distributions")))
            for chunk in _chunks(ctx["likert_rows"], LIKERT_ROWS_PER_PAGE)
        ]
        journey = journey_svg(ctx)
        drivers = ctx.get("drivers")
        if drivers and drivers.get("outcomes"):
            drivers = {**drivers, "outcomes": [{**o, "svg": chart(o["svg"]) if o.get("svg") else o.get("svg")}
                                               for o in drivers["outcomes"]]}
        # charts.* escapes every text it draws; the CSS strings are hex-escaped.
        page = {
            **ctx,
            "mirror_svg": chart(mirror),
            "journey_svg": chart(journey),
            "likert_svgs": likert,
            "drivers": drivers,
            "page_css": mark_safe(_page_css(ctx)),  # noqa: S308
            "stylesheet_url": (STATIC_DIR / "report.css").as_uri(),
        }
        html = render_to_string("reports/pdf/report.html", page)
    return html, (charts.documents if charts is not None else {})


@dataclass
class RenderedReport:
    pdf: bytes
    page_count: int
    refused: list[str]


def render_pdf(ctx: dict[str, Any], progress: Progress | None = None) -> RenderedReport:
    """Render a report context to PDF bytes. ``progress(percent, step)`` is called between steps."""
    progress = progress or (lambda pct, step: None)
    html, chart_documents = _render_html(ctx, _Charts())
    progress(70, "layout")
    import weasyprint

    fetcher = _make_fetcher_class()(charts=chart_documents)
    document = weasyprint.HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher).render()
    progress(90, "pdf")
    pdf = document.write_pdf()
    return RenderedReport(pdf=pdf, page_count=len(document.pages), refused=list(fetcher.refused))
