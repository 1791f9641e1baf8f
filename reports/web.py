"""The executives' web mirror (``/reports/waves/<id>/``): the page's options and context.

Every number comes from :func:`reports.services.gap_analysis` (which reads only
what the disclosure layer releases), formatted by
:func:`reports.context.build_report_context` exactly as the PDF formats it, and
drawn with the PDF's own SVG charts. This module never reads responses.

One comparison view costs one engine call; the trend costs one call per wave of
the instrument in the organization. Both go through :mod:`reports.gap`, the gap
API's service, which caches the results and audits every read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from reports import gap
from reports.filters import compare_wave_of
from surveys import errors, internal
from surveys.models import Wave

LANGUAGES = ("ja", "en")


# --------------------------------------------------------------------------- which waves


def trend_waves(wave: Wave) -> list[Wave]:
    """Every wave of the organization with the same instrument key, oldest first (this one included)."""
    waves = Wave.objects.filter(organization_id=wave.organization_id, instrument__key=wave.instrument.key)
    return sorted(waves.select_related("organization", "instrument"),
                  key=lambda w: (w.opens_on or w.created_at.date(), w.created_at, w.pk))


# --------------------------------------------------------------------------- options


@dataclass
class ViewOptions:
    """One comparison view, as the page's query string gives it (the gap API's options)."""

    staff: dict[str, str] = field(default_factory=dict)
    customer: dict[str, str] = field(default_factory=dict)
    compare_wave: Wave | None = None
    weighted: bool = False
    dimension: str = ""
    department: str = ""  # internal waves: the serving department shown (surveys/internal.py)

    def query(self, **changes: Any) -> str:
        """The query string of this view (API spelling: ``staff=field:value``), with ``changes`` applied."""
        values = {"staff": self.staff, "customer": self.customer,
                  "compare_wave": self.compare_wave.pk if self.compare_wave else None,
                  "weighted": self.weighted, "dimension": self.dimension, "department": self.department,
                  **changes}
        pairs: list[tuple[str, str]] = []
        if values["department"]:
            pairs.append(("department", values["department"]))
        for side in ("staff", "customer"):
            pairs += [(side, f"{k}:{v}") for k, v in sorted(values[side].items())]
        if values["compare_wave"]:
            pairs.append(("compare_wave", str(values["compare_wave"])))
        if values["weighted"]:
            pairs.append(("weighted", "1"))
        if values["dimension"]:
            pairs.append(("dimension", values["dimension"]))
        return urlencode(pairs)


def _filter(query: QueryDict, side: str, problems: dict[str, list[str]]) -> dict[str, str]:
    """``side=field:value`` (repeatable, as in the API) and ``side:field=value`` (the page's form fields)."""
    out: dict[str, str] = {}
    raw = [v for v in query.getlist(side) if v.strip()]
    raw += [f"{key.partition(':')[2]}:{v}" for key in query if key.startswith(f"{side}:")
            for v in query.getlist(key) if v.strip()]
    for item in raw:
        key, sep, value = item.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            problems.setdefault(side, []).append(_("Use field:value, got “%(raw)s”.") % {"raw": item[:60]})
        elif key in out and out[key] != value:
            problems.setdefault(side, []).append(_("“%(field)s” is given twice.") % {"field": key[:60]})
        else:
            out[key] = value
    return out


def parse_options(wave: Wave, query: QueryDict) -> ViewOptions:
    """The view's options from a GET query; ValidationFailed naming each bad field.

    Segment fields and values are checked by the engine itself (the same message as the API's).
    """
    problems: dict[str, list[str]] = {}
    options = ViewOptions(staff=_filter(query, "staff", problems), customer=_filter(query, "customer", problems))
    try:
        options.compare_wave = compare_wave_of(wave, (query.get("compare_wave") or "").strip())
    except errors.ValidationFailed:
        problems["compare_wave"] = [_("Choose another wave of this organization.")]
    weighted = (query.get("weighted") or "").strip().lower()
    if weighted not in ("", "0", "1", "true", "false", "on", "off"):
        problems["weighted"] = [_("Use 1 or 0.")]
    options.weighted = weighted in ("1", "true", "on")
    options.dimension = (query.get("dimension") or "").strip()[:100]
    if internal.is_internal(wave):
        # Each serving department has its own mirror; the first one until another is picked.
        keys = internal.department_keys(wave)
        options.department = (query.get("department") or "").strip()[:40] or (keys[0] if keys else "")
        if options.department not in keys:
            problems["department"] = [_("Choose one of the wave's serving departments.")]
            options.department = keys[0] if keys else ""
    if problems:
        raise errors.ValidationFailed(field_errors=problems)
    return options


# --------------------------------------------------------------------------- the engine


def gap_view(options: ViewOptions, *, language: str, segments: bool = True, invariance: bool = False) -> gap.GapView:
    """The gap service's view of the page's options (the mirror itself asks for the invariance verdict)."""
    return gap.GapView(staff=options.staff, customer=options.customer, compare_wave=options.compare_wave,
                       weighted=options.weighted, segments=segments, language=language, invariance=invariance,
                       department=options.department or None)


# --------------------------------------------------------------------------- trend


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def trend_chart(points: Sequence[dict], *, title: str, description: str) -> str:
    """A small dot-and-line chart of one gap across waves, with 95 % intervals; text labels carry the values."""
    from reports.pdf.charts import GRID, INK, esc

    width, height = 320, 150
    left, right, top, bottom = 36.0, 12.0, 14.0, 36.0
    values = [v for p in points for v in (p.get("gap"), p.get("ci_low"), p.get("ci_high")) if _finite(v)]
    span = max([abs(v) for v in values] + [0.5])
    span = math.ceil(span * 4) / 4
    plot_h = height - top - bottom

    def y(v: float) -> float:
        return top + (span - v) / (2 * span) * plot_h

    n = max(len(points), 1)
    step = (width - left - right) / n

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    body = [f"<title>{esc(title)}</title>", f"<desc>{esc(description)}</desc>"]
    for tick in (-span, 0.0, span):
        body.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
                    f'stroke="{INK if tick == 0 else GRID}" stroke-width="{0.9 if tick == 0 else 0.6}"/>')
        label = "0" if tick == 0 else (f"+{tick:g}" if tick > 0 else f"\u2212{abs(tick):g}")
        body.append(f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" font-size="9" text-anchor="end" '
                    f'fill="{INK}">{esc(label)}</text>')
    previous = None
    for i, p in enumerate(points):
        body.append(f'<text x="{x(i):.1f}" y="{height - 20}" font-size="9" text-anchor="middle" '
                    f'fill="{INK}">{esc(p.get("wave_label", ""))}</text>')
        gap = p.get("gap")
        if not _finite(gap):
            body.append(f'<text x="{x(i):.1f}" y="{y(0) - 4:.1f}" font-size="9" text-anchor="middle" '
                        f'fill="{INK}">\u2014</text>')
            previous = None
            continue
        if previous is not None:
            body.append(f'<line x1="{x(previous[0]):.1f}" y1="{y(previous[1]):.1f}" x2="{x(i):.1f}" '
                        f'y2="{y(gap):.1f}" stroke="{INK}" stroke-width="1.2" stroke-dasharray="3 2"/>')
        if _finite(p.get("ci_low")) and _finite(p.get("ci_high")):
            body.append(f'<line x1="{x(i):.1f}" y1="{y(p["ci_low"]):.1f}" x2="{x(i):.1f}" y2="{y(p["ci_high"]):.1f}" '
                        f'stroke="{INK}" stroke-width="0.9"/>')
        shape = (f'<circle cx="{x(i):.1f}" cy="{y(gap):.1f}" r="4" fill="{INK}"/>' if p.get("current")
                 else f'<circle cx="{x(i):.1f}" cy="{y(gap):.1f}" r="4" fill="#ffffff" stroke="{INK}" '
                      f'stroke-width="1.4"/>')
        body.append(shape)
        body.append(f'<text x="{x(i) + 7:.1f}" y="{y(gap) - 5:.1f}" font-size="9" fill="{INK}">'
                    f'{esc(p.get("gap_display", ""))}</text>')
        previous = (i, gap)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{esc(title)}. {esc(description)}" '
            f'font-family="{esc(_font())}">' + "".join(body) + "</svg>")


def _font() -> str:
    from reports.pdf.charts import FONT

    return FONT


def build_trend(wave: Wave, options: ViewOptions, *, language: str, request: Any,
                current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every dimension and item gap across all waves of the instrument key: one engine call per wave.

    The same filters and weighting as the page; a wave whose segment fields do not take the filter
    says so instead of showing numbers of another view.
    """
    from reports.context import build_report_context, fmt_signed

    waves = trend_waves(wave)
    columns = []
    dim_names: dict[str, str] = {}
    item_names: dict[str, str] = {}
    dim_values: dict[str, list[dict]] = {}
    item_values: dict[str, list[dict]] = {}
    for index, w in enumerate(waves):
        view = ViewOptions(staff=options.staff, customer=options.customer, weighted=options.weighted,
                           department=options.department if internal.is_internal(w) else "")
        column = {"wave": w, "label": w.name, "current": w.pk == wave.pk, "problem": ""}
        columns.append(column)
        try:
            # This wave's own view is already at hand (its comparison wave changes none of these gaps).
            result = current if (current is not None and w.pk == wave.pk) else gap.gap_read(
                w, gap_view(view, language=language, segments=False), user=request.user, via="page-trend")
        except errors.ValidationFailed:
            column["problem"] = _("This wave has no such segment field or value.")
            continue
        ctx = build_report_context(result, language=language, wave=w)
        for d in ctx["dimensions"]:
            dim_names.setdefault(d["key"], d["name"])
            dim_values.setdefault(d["key"], {})[index] = d
        for r in ctx["items"]:
            item_names.setdefault(r["key"], r["label"])
            item_values.setdefault(r["key"], {})[index] = r

    def cells(values: Mapping[int, dict]) -> list[dict]:
        out = []
        for index, column in enumerate(columns):
            row = values.get(index)
            shown = bool(row and row["reportable"] and _finite(row["gap"]))
            out.append({
                "wave_label": column["label"], "current": column["current"],
                "gap": row["gap"] if shown else None,
                "ci_low": row["ci_low"] if shown else None, "ci_high": row["ci_high"] if shown else None,
                "gap_display": fmt_signed(row["gap"]) if shown else "",
                "class_label": row["class_label"] if shown else "",
                "status_label": (row["status_label"] if row else "") or ("" if shown else column["problem"]
                                                                         or _("Not asked")),
                "shown": shown,
            })
        return out

    dimensions = []
    for key, name in dim_names.items():
        points = cells(dim_values[key])
        description = "; ".join(f"{p['wave_label']}: {p['gap_display'] or p['status_label']}" for p in points)
        dimensions.append({"key": key, "name": name, "cells": points,
                           "svg": mark_safe(trend_chart(points, title=_("Gap over time: %(name)s") % {"name": name},  # noqa: S308
                                                        description=description))})
    items = [{"key": key, "name": name, "cells": cells(item_values[key])} for key, name in item_names.items()]
    return {"columns": columns, "dimensions": dimensions, "items": items}


# --------------------------------------------------------------------------- the page


def form_context(wave: Wave, options: ViewOptions, *, language: str, raw: QueryDict) -> dict[str, Any]:
    """The filter form: a control per segment field of each side, the comparison waves, weighting."""
    with translation.override(language):
        sides = []
        for side, chosen, title in (("staff", options.staff, _("Staff")),
                                    ("customer", options.customer, _("Customers"))):
            fields = []
            for f in wave.segment_fields(side):
                value = chosen.get(f["key"]) or (raw.get(f"{side}:{f['key']}") or "").strip()[:100]
                fields.append({
                    "name": f"{side}:{f['key']}", "id": f"filter-{side}-{f['key']}",
                    "label": f.get(f"label_{language}") or f.get("label_en") or f["key"],
                    "choices": [str(c) for c in f.get("choices") or []], "value": value,
                })
            sides.append({"side": side, "title": title, "fields": fields})
        departments = [{"key": key, "label": internal.department_label(wave, key, language),
                        "current": key == options.department,
                        "link": "?" + options.query(department=key, dimension="")}
                       for key in internal.department_keys(wave)]
    return {
        "departments": departments,
        "filter_sides": sides,
        "compare_choices": [w for w in trend_waves(wave) if w.pk != wave.pk],
        "options": options,
    }


def build_page(wave: Wave, options: ViewOptions, *, language: str, request: Any) -> dict[str, Any]:
    """The mirror page's context: one engine call for the view, one per wave for the trend."""
    from reports.context import build_report_context
    from reports.pdf import charts

    result = gap.gap_read(wave, gap_view(options, language=language, invariance=True), user=request.user, via="page")
    ctx = build_report_context(result, language=language, wave=wave)
    with translation.override(language):
        dims_by_key = {d["key"]: d for d in ctx["dimensions"]}
        dimension = dims_by_key.get(options.dimension)
        items = [r for r in ctx["items"] if dimension is None or r["dimension"] == dimension["key"]]
        mirror_rows = [r for r in ctx["mirror_rows"] if dimension is None or r["dimension"] == dimension["key"]]
        mirror_svg = charts.mirror_chart(
            mirror_rows, staff_label=_("Staff"), customer_label=_("Customers"), gap_label=_("Gap"),
            axis_label=_("Average answer (1 = strongly disagree)"), title=_("Mirror chart"),
        ) if mirror_rows else ""
        from reports.pdf.render import journey_svg

        journey = journey_svg(ctx)
        blind = sorted([r for r in ctx["items"] if r["class"] == "blind_spot" and _finite(r["gap"])],
                       key=lambda r: r["gap"], reverse=True)
        hidden = sorted([r for r in ctx["items"] if r["class"] == "hidden_strength" and _finite(r["gap"])],
                        key=lambda r: r["gap"])
        return {
            **ctx,
            "wave_obj": wave,
            "options": options,
            "query": options.query(),
            "drill": dimension,
            "drill_items": items,
            "dimensions": [{**d, "link": "?" + options.query(dimension=d["key"])} for d in ctx["dimensions"]],
            "all_dimensions_link": "?" + options.query(dimension=""),
            "mirror_svg": mark_safe(mirror_svg),  # noqa: S308 — charts.* escapes every text it draws
            "journey_svg": mark_safe(journey),  # noqa: S308 — the same chart as the PDF's, escaped likewise
            "all_blind_spots": blind,
            "all_hidden_strengths": hidden,
            "trend": build_trend(wave, options, language=language, request=request, current=result),
            "language_links": {code: "?" + (options.query() + "&" if options.query() else "") + f"lang={code}"
                               for code in LANGUAGES},
        }
