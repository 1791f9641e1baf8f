"""Vector charts for the PDF and the web mirror, drawn as SVG text (no matplotlib: faster, and every label stays
real text).

Every string that reaches the SVG goes through ``esc`` — wordings are written by
admins and must never become markup. Shapes differ in form and lightness as
well as hue, so the charts survive black-and-white printing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

FONT = "'Noto Sans CJK JP', 'Noto Sans', sans-serif"
WIDTH = 640
INK = "#1a1a1a"
GRID = "#c8c8c8"

# Likert levels from "strongly disagree" to "strongly agree": dark–light–grey–light–dark,
# so direction reads from position and strength from lightness in grey print.
LIKERT_5 = ["#7f2704", "#f0a070", "#d4d4d4", "#86b7d6", "#08306b"]
LIKERT_7 = ["#7f2704", "#c8602a", "#f3b48c", "#d4d4d4", "#a6cbe3", "#4a8fc1", "#08306b"]


def esc(text: Any) -> str:
    return escape(str(text), quote=True)


def _text(x: float, y: float, text: str, *, size: float = 9, anchor: str = "start", weight: str = "normal",
          fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}">{esc(text)}</text>')


def _svg(height: float, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
            f'height="{height:.0f}" role="img" aria-label="{esc(label)}">' + "".join(body) + "</svg>")


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def likert_colours(k: int) -> list[str]:
    if k == 5:
        return LIKERT_5
    if k == 7:
        return LIKERT_7
    # Other scales (outcomes are not drawn here) fall back to grey steps.
    return [f"#{v:02x}{v:02x}{v:02x}" for v in (int(60 + 160 * i / max(k - 1, 1)) for i in range(k))]


def gap_fill(gap: float | None, scale: float = 1.0) -> str:
    """Heat-map fill for a gap: warm when staff over-rate, cool when they under-rate; light for small gaps."""
    if not _finite(gap):
        return "#ffffff"
    t = max(-1.0, min(1.0, gap / scale))
    warm, cool = (230, 120, 50), (60, 120, 190)
    base = warm if t > 0 else cool
    a = abs(t) * 0.75
    r, g, b = (round(255 + (c - 255) * a) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def mirror_chart(rows: Sequence[dict], *, staff_label: str, customer_label: str, gap_label: str,
                 axis_label: str, title: str) -> str:
    """Staff vs customer mean per item with 95 % CIs, rows sorted as given (by gap), dimension-coloured."""
    k = max([int(r.get("scale_points") or 5) for r in rows] or [5])
    lo_v, hi_v = 1.0, float(k)
    x0, x1 = 262.0, 560.0
    top, row_h = 34.0, 21.0
    height = top + row_h * len(rows) + 38

    def x(v: float) -> float:
        return x0 + (min(max(v, lo_v), hi_v) - lo_v) / (hi_v - lo_v) * (x1 - x0)

    body = [_text(x1 + 44, 14, gap_label, size=8.5, anchor="middle", weight="bold")]
    for level in range(1, k + 1):
        body.append(f'<line x1="{x(level):.1f}" y1="{top - 6}" x2="{x(level):.1f}" '
                    f'y2="{top + row_h * len(rows):.1f}" stroke="{GRID}" stroke-width="0.6"/>')
        body.append(_text(x(level), top - 10, str(level), size=8, anchor="middle"))
    body.append(_text((x0 + x1) / 2, 12, axis_label, size=8, anchor="middle"))
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        if i % 2 == 0:
            body.append(f'<rect x="0" y="{y - row_h / 2:.1f}" width="{WIDTH}" height="{row_h}" fill="#f4f4f4"/>')
        colour = r.get("colour", "#555")
        body.append(f'<rect x="0" y="{y - 7:.1f}" width="16" height="14" rx="2" fill="{esc(colour)}"/>')
        body.append(_text(8, y + 3.2, str(r.get("dimension_number", "")), size=8, anchor="middle", weight="bold",
                          fill="#ffffff"))
        body.append(_text(22, y + 3.2, r.get("short_label", ""), size=8.5, weight="bold" if r.get("is_headline")
                          else "normal"))
        ms, mc = r.get("mean_staff"), r.get("mean_customer")
        if _finite(ms) and _finite(mc):
            # The gap itself, in the dimension colour.
            body.append(f'<line x1="{x(ms):.1f}" y1="{y:.1f}" x2="{x(mc):.1f}" y2="{y:.1f}" '
                        f'stroke="{esc(colour)}" stroke-width="5" stroke-opacity="0.45"/>')
        for mean, low, high, dy, staff in ((ms, r.get("staff_ci_low"), r.get("staff_ci_high"), -3.5, True),
                                           (mc, r.get("customer_ci_low"), r.get("customer_ci_high"), 3.5, False)):
            if not _finite(mean):
                continue
            if _finite(low) and _finite(high):
                body.append(f'<line x1="{x(low):.1f}" y1="{y + dy:.1f}" x2="{x(high):.1f}" y2="{y + dy:.1f}" '
                            f'stroke="{INK}" stroke-width="0.9"/>')
                for end in (low, high):
                    body.append(f'<line x1="{x(end):.1f}" y1="{y + dy - 2:.1f}" x2="{x(end):.1f}" '
                                f'y2="{y + dy + 2:.1f}" stroke="{INK}" stroke-width="0.9"/>')
            if staff:
                body.append(f'<circle cx="{x(mean):.1f}" cy="{y + dy:.1f}" r="3.6" fill="{INK}"/>')
            else:
                body.append(f'<rect x="{x(mean) - 3.3:.1f}" y="{y + dy - 3.3:.1f}" width="6.6" height="6.6" '
                            f'fill="#ffffff" stroke="{INK}" stroke-width="1.2"/>')
        body.append(_text(x1 + 44, y + 3.2, r.get("gap_display", ""), size=8.5, anchor="middle",
                          weight="bold" if r.get("class") in ("blind_spot", "hidden_strength") else "normal"))
    ly = top + row_h * len(rows) + 22
    body.append(f'<circle cx="{x0:.1f}" cy="{ly - 3:.1f}" r="3.6" fill="{INK}"/>')
    body.append(_text(x0 + 8, ly, staff_label, size=8.5))
    body.append(f'<rect x="{x0 + 96:.1f}" y="{ly - 6.3:.1f}" width="6.6" height="6.6" fill="#fff" '
                f'stroke="{INK}" stroke-width="1.2"/>')
    body.append(_text(x0 + 108, ly, customer_label, size=8.5))
    body.append(f'<line x1="{x0 + 200:.1f}" y1="{ly - 3:.1f}" x2="{x0 + 230:.1f}" y2="{ly - 3:.1f}" '
                f'stroke="{INK}" stroke-width="0.9"/>')
    body.append(_text(x0 + 236, ly, "95% CI", size=8.5))
    return _svg(height, body, title)


def likert_chart(rows: Sequence[dict], *, staff_label: str, customer_label: str, level_labels: Sequence[str],
                 title: str) -> str:
    """Diverging stacked bars: each item's answer distribution per side, centred on the neutral point."""
    k = max([len(r.get("counts_staff") or []) for r in rows] or [5])
    colours = likert_colours(k)
    cx, half = 420.0, 190.0  # centre line and the width of 100 % on one side
    top, bar_h, gap_h = 28.0, 11.0, 3.0
    block = 14 + 2 * bar_h + gap_h + 10
    height = top + block * len(rows) + 30
    body = []
    for pct in (-100, -50, 0, 50, 100):
        xx = cx + pct / 100 * half
        body.append(f'<line x1="{xx:.1f}" y1="{top - 4}" x2="{xx:.1f}" y2="{top + block * len(rows):.1f}" '
                    f'stroke="{GRID if pct else INK}" stroke-width="{0.6 if pct else 0.9}"/>')
        body.append(_text(xx, top - 8, f"{abs(pct)}%", size=7.5, anchor="middle"))
    for i, r in enumerate(rows):
        y0 = top + block * i
        body.append(_text(0, y0 + 10, r.get("short_label", ""), size=8.5, weight="bold"))
        for j, (side_label, counts) in enumerate(((staff_label, r.get("counts_staff") or []),
                                                  (customer_label, r.get("counts_customer") or []))):
            y = y0 + 14 + j * (bar_h + gap_h)
            body.append(_text(cx - half - 8, y + bar_h - 2.5, side_label, size=8, anchor="end"))
            total = sum(counts)
            if not total:
                continue
            shares = [c / total for c in counts]
            n = len(shares)
            mid = (n - 1) / 2
            # Left of centre: disagree levels (and half of a neutral level), drawn outward from the centre.
            left_x = cx - (sum(shares[: n // 2]) + (shares[n // 2] / 2 if n % 2 else 0)) * half
            xx = left_x
            for level, share in enumerate(shares):
                w = share * half
                if w > 0:
                    body.append(f'<rect x="{xx:.2f}" y="{y:.1f}" width="{w:.2f}" height="{bar_h}" '
                                f'fill="{colours[level]}" stroke="#ffffff" stroke-width="0.4"/>')
                    if share >= 0.07:
                        # White figures on the two darkest ends only (and their neighbours on 7 points).
                        dark = abs(level - mid) >= mid - (1 if n >= 7 else 0)
                        body.append(_text(xx + w / 2, y + bar_h - 2.4, f"{round(share * 100)}", size=7,
                                          anchor="middle", fill="#ffffff" if dark else INK))
                xx += w
    ly = top + block * len(rows) + 16
    lx = 0.0
    for level, label in enumerate(level_labels[:k]):
        body.append(f'<rect x="{lx:.1f}" y="{ly - 8:.1f}" width="10" height="10" fill="{colours[level]}" '
                    f'stroke="{INK}" stroke-width="0.3"/>')
        body.append(_text(lx + 14, ly, label, size=7.5))
        lx += 14 + max(52, 6.2 * len(label)) if all(ord(ch) < 0x2E80 for ch in label) else 14 + 11 * len(label) + 10
    return _svg(height, body, title)


def journey_chart(rows: Sequence[dict], *, staff_label: str, customer_label: str, gap_label: str,
                  means_label: str, title: str) -> str:
    """The customer journey: touchpoints left to right in order; above, each side's mean (staff: solid line and
    filled dots, customers: dashed line and open squares); below, the gap (staff − customers) as a bar with its
    95 % interval. A touchpoint without numbers shows a dash and breaks the lines."""
    k = max([int(r.get("scale_points") or 5) for r in rows] or [5])
    left, right = 44.0, 16.0
    top, means_h, gap_top, gap_h = 30.0, 130.0, 196.0, 110.0
    label_y = gap_top + gap_h + 16
    height = label_y + 40
    n = max(len(rows), 1)
    step = (WIDTH - left - right) / n

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y_mean(v: float) -> float:
        return top + (k - min(max(v, 1.0), float(k))) / (k - 1) * means_h

    spans = [abs(v) for r in rows for v in (r.get("gap"), r.get("ci_low"), r.get("ci_high")) if _finite(v)]
    span = math.ceil(max(spans + [0.5]) * 4) / 4

    def y_gap(v: float) -> float:
        return gap_top + (span - max(-span, min(span, v))) / (2 * span) * gap_h

    body = [_text(left, 12, means_label, size=8.5, weight="bold"),
            _text(left, gap_top - 10, gap_label, size=8.5, weight="bold")]
    for level in range(1, k + 1):
        body.append(f'<line x1="{left}" y1="{y_mean(level):.1f}" x2="{WIDTH - right}" y2="{y_mean(level):.1f}" '
                    f'stroke="{GRID}" stroke-width="0.6"/>')
        body.append(_text(left - 6, y_mean(level) + 3, str(level), size=8, anchor="end"))
    for tick in (-span, 0.0, span):
        body.append(f'<line x1="{left}" y1="{y_gap(tick):.1f}" x2="{WIDTH - right}" y2="{y_gap(tick):.1f}" '
                    f'stroke="{INK if tick == 0 else GRID}" stroke-width="{0.9 if tick == 0 else 0.6}"/>')
        body.append(_text(left - 6, y_gap(tick) + 3, "0" if tick == 0 else f"{tick:+g}".replace("-", "\u2212"),
                          size=8, anchor="end"))
    for side, dash, staff in (("mean_staff", "", True), ("mean_customer", ' stroke-dasharray="4 3"', False)):
        previous = None
        for i, r in enumerate(rows):
            v = r.get(side)
            if not _finite(v):
                previous = None
                continue
            if previous is not None:
                body.append(f'<line x1="{x(previous[0]):.1f}" y1="{y_mean(previous[1]):.1f}" x2="{x(i):.1f}" '
                            f'y2="{y_mean(v):.1f}" stroke="{INK}" stroke-width="1.3"{dash}/>')
            previous = (i, v)
        for i, r in enumerate(rows):
            v = r.get(side)
            if not _finite(v):
                continue
            if staff:
                body.append(f'<circle cx="{x(i):.1f}" cy="{y_mean(v):.1f}" r="3.8" fill="{INK}"/>')
            else:
                body.append(f'<rect x="{x(i) - 3.4:.1f}" y="{y_mean(v) - 3.4:.1f}" width="6.8" height="6.8" '
                            f'fill="#ffffff" stroke="{INK}" stroke-width="1.3"/>')
    bar_w = min(26.0, step * 0.45)
    for i, r in enumerate(rows):
        gap = r.get("gap")
        body.append(_text(x(i), label_y, r.get("short_name") or r.get("name", ""), size=8, anchor="middle"))
        if not _finite(gap):
            body.append(_text(x(i), y_gap(0) - 4, "\u2014", size=9, anchor="middle"))
            continue
        y0, y1 = sorted((y_gap(0), y_gap(gap)))
        body.append(f'<rect x="{x(i) - bar_w / 2:.1f}" y="{y0:.1f}" width="{bar_w:.1f}" '
                    f'height="{max(y1 - y0, 0.8):.1f}" fill="{gap_fill(gap)}" stroke="{INK}" stroke-width="0.6"/>')
        if _finite(r.get("ci_low")) and _finite(r.get("ci_high")):
            lo, hi = y_gap(r["ci_low"]), y_gap(r["ci_high"])
            body.append(f'<line x1="{x(i):.1f}" y1="{lo:.1f}" x2="{x(i):.1f}" y2="{hi:.1f}" stroke="{INK}" '
                        f'stroke-width="0.9"/>')
            for end in (lo, hi):
                body.append(f'<line x1="{x(i) - 3:.1f}" y1="{end:.1f}" x2="{x(i) + 3:.1f}" y2="{end:.1f}" '
                            f'stroke="{INK}" stroke-width="0.9"/>')
        body.append(_text(x(i) + bar_w / 2 + 2, y_gap(gap) + (10 if gap < 0 else -3), r.get("gap_display", ""),
                          size=8, weight="bold" if r.get("class") in ("blind_spot", "hidden_strength") else "normal"))
    ly = height - 10
    lx = left
    body.append(f'<circle cx="{lx:.1f}" cy="{ly - 3:.1f}" r="3.6" fill="{INK}"/>')
    body.append(f'<line x1="{lx - 10:.1f}" y1="{ly - 3:.1f}" x2="{lx + 10:.1f}" y2="{ly - 3:.1f}" stroke="{INK}" '
                f'stroke-width="1.3"/>')
    body.append(_text(lx + 14, ly, staff_label, size=8.5))
    lx += 110
    body.append(f'<line x1="{lx - 10:.1f}" y1="{ly - 3:.1f}" x2="{lx + 10:.1f}" y2="{ly - 3:.1f}" stroke="{INK}" '
                f'stroke-width="1.3" stroke-dasharray="4 3"/>')
    body.append(f'<rect x="{lx - 3.4:.1f}" y="{ly - 6.4:.1f}" width="6.8" height="6.8" fill="#ffffff" '
                f'stroke="{INK}" stroke-width="1.3"/>')
    body.append(_text(lx + 14, ly, customer_label, size=8.5))
    lx += 110
    body.append(f'<line x1="{lx:.1f}" y1="{ly - 8:.1f}" x2="{lx:.1f}" y2="{ly + 2:.1f}" stroke="{INK}" '
                f'stroke-width="0.9"/>')
    body.append(_text(lx + 6, ly, "95% CI", size=8.5))
    return _svg(height, body, title)
