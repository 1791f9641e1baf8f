"""The maturity chart: one inline SVG drawn on the server, the same for the result page and its PDF.

Horizontal bars 0–100 per element, then per area, with the value and its band written next to each
bar (the numbers are real text, readable without the bars). Accessible: role="img", a <title> and a
<desc> that says every value in words. Every string goes through reports.pdf.charts.esc.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from reports.pdf.charts import FONT, GRID, INK, esc

WIDTH = 640
LABEL_W = 210
BAR_X = LABEL_W + 10
BAR_W = 300
ROW_H = 19
BAR_H = 12
ELEMENT_FILL = "#08306b"
AREA_FILL = "#4a8fc1"


def whole(score: float) -> int:
    """A score as the pages print it (Django's floatformat:0 rounds half up: 62.5 → 63), never half to even."""
    return math.floor(score + 0.5)


def _text(x: float, y: float, text: str, *, size: float = 10, anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{INK}">{esc(text)}</text>')


def maturity_chart(payload: dict[str, Any], *, title: str, desc_intro: str, elements_heading: str,
                   areas_heading: str, chart_id: str = "maturity-chart") -> str:
    """The SVG of a result payload (diagnosis.present.result_payload); labels in the caller's language."""
    body: list[str] = []
    y = 16.0
    grid_top = y + 4
    for mark in (0, 25, 50, 75, 100):
        x = BAR_X + BAR_W * mark / 100
        body.append(_text(x, y, str(mark), size=8, anchor="middle"))
    y += 10
    described = []
    for heading, rows, fill in ((elements_heading, payload["elements"], ELEMENT_FILL),
                                (areas_heading, payload["areas"], AREA_FILL)):
        y += 14
        body.append(_text(0, y, heading, size=10, weight="bold"))
        y += 6
        for row in rows:
            top = y
            width = BAR_W * max(0.0, min(100.0, float(row["score"]))) / 100
            body.append(_text(LABEL_W, top + BAR_H - 2, row["name"], size=9.5, anchor="end"))
            body.append(f'<rect x="{BAR_X}" y="{top:.1f}" width="{BAR_W}" height="{BAR_H}" fill="#eeeeee"/>')
            body.append(f'<rect x="{BAR_X}" y="{top:.1f}" width="{width:.1f}" height="{BAR_H}" fill="{fill}"/>')
            value = f"{whole(row['score'])} · {row['band_label']}"
            body.append(_text(BAR_X + BAR_W + 6, top + BAR_H - 2, value, size=9.5))
            described.append(f"{row['name']}: {whole(row['score'])} ({row['band_label']})")
            y += ROW_H
    for mark in (25, 50, 75):
        x = BAR_X + BAR_W * mark / 100
        body.insert(0, f'<line x1="{x:.1f}" y1="{grid_top:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{GRID}" '
                       f'stroke-width="0.8" stroke-dasharray="3 2"/>')
    height = y + 4
    desc = desc_intro + " " + "; ".join(described) + "."
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
            f'height="{height:.0f}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'class="maturity-chart">'
            f'<title id="{chart_id}-title">{esc(title)}</title><desc id="{chart_id}-desc">{esc(desc)}</desc>'
            + "".join(body) + "</svg>")


def localized_chart(payload: dict[str, Any]) -> str:
    """The maturity chart with its labels in the active language (the page's and the PDF's)."""
    return maturity_chart(
        payload, title=_("Maturity profile"),
        desc_intro=_("Maturity from 0 to 100 per element and per area."),
        elements_heading=_("Elements"), areas_heading=_("Areas"))
