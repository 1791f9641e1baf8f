"""The key-driver section of the web mirror and the PDF: table rows and the importance–performance chart.

Every number is the engine's ``drivers`` section (``reports.key_drivers``) as it is, only rounded for print;
nothing here touches the database. The chart is SVG text like the others (reports/pdf/charts.py): every string
that reaches it is escaped, and a point's form (filled or open) says whether its gap is a blind spot, so it
survives grey print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from reports.formatting import DASH, class_label, fmt_ci, fmt_num, fmt_pct, fmt_signed, is_number, status_label
from reports.pdf.charts import FONT, GRID, INK, esc

__all__ = ["drivers_context", "grid_chart"]

REPORTABLE = ("ok", "ok_low_base")
CHART_W, CHART_H = 300.0, 250.0


def _outcome_label(outcome: Mapping[str, Any]) -> str:
    kind = outcome.get("kind")
    return {"nps": _("Net Promoter Score"), "ces": _("Customer effort"), "csat": _("Overall satisfaction"),
            "renewal": _("Renewal intent"), "health": _("Account health score"),
            "churn": _("Churn")}.get(kind, outcome.get("label") or kind or "")


def quadrant_labels() -> dict[str, str]:
    return {"concentrate_here": _("Concentrate here"), "keep_up_the_good_work": _("Keep up the good work"),
            "low_priority": _("Low priority"), "possible_overkill": _("Possible overkill")}


def _t(x: float, y: float, text: str, *, size: float = 8, anchor: str = "start", weight: str = "normal",
       fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}">{esc(text)}</text>')


def grid_chart(points: Sequence[Mapping[str, Any]], *, performance_split: float, importance_split: float,
               title: str, x_label: str, y_label: str) -> str:
    """A 2 × 2 importance–performance chart: customer mean across, driver weight up, split at the means. The
    title is the chart's accessible name (the page's heading already shows it).

    ``points``: ``label`` (the dimension's number), ``performance``, ``importance``, ``blind_spot`` (filled
    dot) — points without both numbers are left out (the table lists them).
    """
    left, right, top, bottom = 40.0, 12.0, 8.0, 34.0
    shown = [p for p in points if is_number(p.get("performance")) and is_number(p.get("importance"))]
    xs = [p["performance"] for p in shown] + [performance_split]
    ys = [p["importance"] for p in shown] + [importance_split]
    pad = 0.2 * (max(xs) - min(xs)) + 0.25  # room for a point's name inside the frame
    x_lo, x_hi = min(xs) - pad, max(xs) + pad
    y_top = max(ys) * 1.25 or 1.0
    y_lo = -0.15 * y_top  # the bottom quadrant names sit below zero, clear of the points
    width, height = CHART_W - left - right, CHART_H - top - bottom

    def px(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * width

    def py(v: float) -> float:
        return top + (y_top - v) / (y_top - y_lo) * height

    q = quadrant_labels()
    body = [f'<rect x="{left}" y="{top}" width="{width:.1f}" height="{height:.1f}" fill="#ffffff" '
            f'stroke="{INK}" stroke-width="0.8"/>']
    sx, sy = px(performance_split), py(importance_split)
    body.append(f'<line x1="{sx:.1f}" y1="{top}" x2="{sx:.1f}" y2="{top + height:.1f}" stroke="{GRID}" '
                f'stroke-width="1" stroke-dasharray="4 3"/>')
    body.append(f'<line x1="{left}" y1="{sy:.1f}" x2="{left + width:.1f}" y2="{sy:.1f}" stroke="{GRID}" '
                f'stroke-width="1" stroke-dasharray="4 3"/>')
    body += [_t(left + 4, top + 10, q["concentrate_here"], size=7.5, weight="bold"),
             _t(left + width - 4, top + 10, q["keep_up_the_good_work"], size=7.5, anchor="end"),
             _t(left + 4, top + height - 5, q["low_priority"], size=7.5),
             _t(left + width - 4, top + height - 5, q["possible_overkill"], size=7.5, anchor="end")]
    for tick in (min(xs), performance_split, max(xs)):
        body.append(_t(px(tick), top + height + 11, fmt_num(tick), size=7.5, anchor="middle"))
    for tick in (0.0, importance_split):
        body.append(_t(left - 4, py(tick) + 3, fmt_num(tick), size=7.5, anchor="end"))
    body.append(_t(left + width / 2, CHART_H - 6, x_label, size=8, anchor="middle"))
    body.append(f'<text x="10" y="{top + height / 2:.1f}" font-family="{FONT}" font-size="8" text-anchor="middle" '
                f'fill="{INK}" transform="rotate(-90 10 {top + height / 2:.1f})">{esc(y_label)}</text>')
    for p in shown:
        x, y = px(p["performance"]), py(p["importance"])
        if p.get("blind_spot"):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{INK}"/>')
        else:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#ffffff" stroke="{INK}" stroke-width="1.3"/>')
        body.append(_t(x + 6, y - 4, p.get("label", ""), size=8, weight="bold"))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W:.0f} {CHART_H:.0f}" '
            f'width="{CHART_W:.0f}" height="{CHART_H:.0f}" role="img" aria-label="{esc(title)}">'
            + "".join(body) + "</svg>")


def _outcome(outcome: Mapping[str, Any], names: Mapping[str, str], numbers: Mapping[str, int],
             k_min: int) -> dict[str, Any]:
    ok = outcome.get("report_status") in REPORTABLE
    label = _outcome_label(outcome)
    grid = outcome.get("grid") or None
    points = {p["item"]: p for p in (grid or {}).get("items") or []}
    quadrants = quadrant_labels()
    rows = []
    for d in sorted(outcome.get("drivers") or [], key=lambda d: d.get("rank") or 0):
        point = points.get(d["key"], {})
        rows.append({
            "number": numbers.get(d["key"], ""),
            "name": names.get(d["key"], d["key"]),
            "weight_display": fmt_num(d.get("weight"), 3) if ok else DASH,
            "ci_display": fmt_ci(d.get("ci_low"), d.get("ci_high"), lambda v: fmt_num(v, 3)) if ok else DASH,
            "share_display": fmt_pct(d.get("share")) if ok else DASH,
            "r_display": fmt_signed(d.get("correlation")) if ok else DASH,
            "quadrant": quadrants.get(point.get("quadrant") or "", DASH),
            "class": class_label(point.get("class")) if point.get("class") else DASH,
        })
    svg: SafeString | None = None
    if ok and grid and is_number(grid.get("performance_split")):
        svg = mark_safe(grid_chart(  # noqa: S308 — grid_chart escapes every text it draws
            [{"label": str(numbers.get(key, "")), "performance": p.get("performance"),
              "importance": p.get("importance"), "blind_spot": p.get("class") == "blind_spot"}
             for key, p in points.items()],
            performance_split=grid["performance_split"], importance_split=grid["importance_split"],
            title=label, x_label=_("Customer score (performance)"), y_label=_("Driver weight (importance)")))
    status = outcome.get("report_status")
    return {
        "key": outcome.get("outcome"),
        "label": label,
        "text": outcome.get("label") or "",
        "reportable": ok,
        "status_label": (_("Fewer than %(k)s accounts") % {"k": k_min} if status == "suppressed_min_n"
                         else status_label(status, k_min)),
        "n": outcome.get("n_accounts") if outcome.get("n_accounts") is not None else DASH,
        "r2_display": fmt_num(outcome.get("r2"), 2) if ok else DASH,
        "r2_ci_display": fmt_ci(outcome.get("r2_ci_low"), outcome.get("r2_ci_high"), fmt_num) if ok else DASH,
        "r2_adjusted_display": fmt_num(outcome.get("r2_adjusted"), 2) if ok else DASH,
        "drivers": rows,
        "svg": svg,
        "priority": [names.get(k, k) for k in (grid or {}).get("priority") or []],
        "messaging": [names.get(k, k) for k in (grid or {}).get("messaging") or []],
    }


def drivers_context(analysis: Mapping[str, Any], k_min: int) -> dict[str, Any] | None:
    """The drivers section for print: per outcome its R², its weight table (largest first) and its grid chart."""
    drivers = analysis.get("drivers")
    if not drivers:
        return None
    names = {p["key"]: p["name"] for p in drivers.get("predictors") or []}
    # Numbered as in the dimension table and the mirror chart.
    numbers = {d.get("key"): i + 1 for i, d in enumerate(analysis.get("dimensions") or [])}
    outcomes = [_outcome(o, names, numbers, k_min) for o in drivers.get("outcomes") or []]
    return {"outcomes": outcomes, "reps": drivers.get("bootstrap_reps"),
            "any_reportable": any(o["reportable"] for o in outcomes)}
