"""Report context → PDF bytes with WeasyPrint, fetching nothing but Kagami's own static files.

WeasyPrint is imported here, lazily, so Django start-up and API requests never
pay its ~2–3 s import; only a process that renders does.
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

from reports.pdf import charts

logger = logging.getLogger(__name__)
# WeasyPrint logs every layout step at INFO; a job log needs only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# The only directory WeasyPrint may read from.
STATIC_DIR = (Path(__file__).resolve().parent.parent / "static" / "reports").resolve()
LIKERT_ROWS_PER_PAGE = 11

Progress = Callable[[int, str], None]


class FetchRefused(ValueError):
    """A URL outside Kagami's packaged static files. WeasyPrint logs it and renders without it."""


def _make_fetcher_class():
    from weasyprint.urls import URLFetcher

    class KagamiURLFetcher(URLFetcher):
        """Serves files under reports/static/reports/ and refuses everything else.

        Refused: http(s), ftp, data: URLs, and file: URLs outside the static
        directory (after resolving ``..`` and symlinks). ``refused`` keeps the
        refused URLs so tests and logs can show what a template or a wording
        tried to load.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("allowed_protocols", {"file"})
            kwargs.setdefault("allow_redirects", False)
            super().__init__(*args, **kwargs)
            self.refused: list[str] = []
            self.served: list[str] = []

        def fetch(self, url: str, headers: dict | None = None):
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
    return charts.journey_chart(
        ctx["touchpoints"], staff_label=_("Staff"), customer_label=_("Customers"),
        gap_label=_("Gap (staff − customers) with 95% CI"), means_label=_("Average score (1 = strongly disagree)"),
        title=_("Customer journey"),
    )


def render_html(ctx: dict[str, Any]) -> str:
    """The report's HTML for a context from ``reports.context.build_report_context``."""
    with translation.override(ctx["language"]):
        staff, customers = _("Staff"), _("Customers")
        mirror = charts.mirror_chart(
            ctx["mirror_rows"], staff_label=staff, customer_label=customers, gap_label=_("Gap"),
            axis_label=_("Average answer (1 = strongly disagree)"), title=_("Mirror chart"),
        ) if ctx["mirror_rows"] else ""
        k = max([len(r["counts_staff"]) for r in ctx["likert_rows"]] or [5])
        level_labels = (
            [_("Strongly disagree"), _("Disagree"), _("Neutral"), _("Agree"), _("Strongly agree")] if k == 5
            else [str(level) for level in range(1, k + 1)]
        )
        likert = [
            mark_safe(charts.likert_chart(chunk, staff_label=staff, customer_label=customers,  # noqa: S308
                                          level_labels=level_labels, title=_("Answer distributions")))
            for chunk in _chunks(ctx["likert_rows"], LIKERT_ROWS_PER_PAGE)
        ]
        journey = journey_svg(ctx)
        # charts.* escapes every text it draws; the CSS strings are hex-escaped.
        page = {
            **ctx,
            "mirror_svg": mark_safe(mirror),  # noqa: S308
            "journey_svg": mark_safe(journey),  # noqa: S308
            "likert_svgs": likert,
            "page_css": mark_safe(_page_css(ctx)),  # noqa: S308
            "stylesheet_url": (STATIC_DIR / "report.css").as_uri(),
        }
        return render_to_string("reports/pdf/report.html", page)


@dataclass
class RenderedReport:
    pdf: bytes
    page_count: int
    refused: list[str]


def render_pdf(ctx: dict[str, Any], progress: Progress | None = None) -> RenderedReport:
    """Render a report context to PDF bytes. ``progress(percent, step)`` is called between steps."""
    progress = progress or (lambda pct, step: None)
    html = render_html(ctx)
    progress(70, "layout")
    import weasyprint

    fetcher = _make_fetcher_class()()
    document = weasyprint.HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher).render()
    progress(90, "pdf")
    pdf = document.write_pdf()
    return RenderedReport(pdf=pdf, page_count=len(document.pages), refused=list(fetcher.refused))
