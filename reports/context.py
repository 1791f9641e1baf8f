"""Gap engine output → the executive report's context: sentences, rankings and table rows.

Every number here is taken from ``reports.services.gap_analysis`` as it is (the
API shows the same dict), only rounded for print. The one derived quantity is
the 95 % t-interval of each side's mean for the mirror chart, computed from the
engine's mean, SD and n (see ``_mean_ci``). Nothing here touches the database.
How a single value prints (numbers, status words, labels) is reports/formatting.py.

Why one file: it is one public function, ``build_report_context``, and a private builder per section
of the report, in the report's order; the later sections are built from the earlier ones' rows (the
change and churn tables name the item and dimension rows, the heatmap uses the dimensions), so the
builders are read together and nothing else calls them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reports.drivers_display import drivers_context
from reports.formatting import (
    DASH,
    LABEL_BUDGET,
    REVERSE_SUFFIX,
    SUPPRESSED,
    class_label,
    fmt_ci,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_pts,
    fmt_signed,
    is_number,
    item_label,
    magnitude_label,
    reverse_marker,
    short,
    status_label,
)
from reports.invariance_display import invariance_display
from reports.pdf.charts import gap_fill

REPORTABLE = ("ok", "ok_low_base")
TOP_N = 3

# Colours per dimension, chosen to differ in lightness too (legible in grey print).
DIMENSION_COLOURS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#843c0c", "#595959"]


# --------------------------------------------------------------------------- the mirror chart's intervals


def _t_quantile(df: float) -> float:
    # Lazy: scipy is only needed on the render path.
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def _mean_ci(mean: Any, sd: Any, n: Any) -> tuple[float | None, float | None]:
    """95 % t-interval of one side's mean (for the mirror chart's error bars)."""
    if not (is_number(mean) and is_number(sd) and isinstance(n, int) and n >= 2):
        return None, None
    half = _t_quantile(n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


# --------------------------------------------------------------------------- sections


def _headline(item: Mapping[str, Any] | None, counts: Mapping[str, Any],
              department: str | None = None) -> dict[str, Any] | None:
    """The headline pair's figures and sentence; ``department`` (an internal wave's, by name) words it for a
    serving department's staff and the employees who used it."""
    if not item:
        return None
    tb = item.get("topbox") or {}
    status = item.get("report_status")
    available = status in REPORTABLE and is_number(tb.get("p_staff")) and is_number(tb.get("p_customer"))
    head: dict[str, Any] = {
        "key": item.get("key"),
        "staff_text": item.get("staff_text", ""),
        "customer_text": item.get("customer_text", ""),
        "report_status": status,
        "available": available,
    }
    if not available:
        head["sentence"] = _("The headline question cannot be reported for this wave (%(status)s).") % {
            "status": status_label(status, 5) or status
        }
        return head
    head.update(
        p_staff=tb["p_staff"],
        p_customer=tb["p_customer"],
        diff=tb.get("diff"),
        staff_pct=fmt_pct(tb["p_staff"]),
        customer_pct=fmt_pct(tb["p_customer"]),
        staff_ci=f"{fmt_pct(tb.get('wilson_staff_low'))}–{fmt_pct(tb.get('wilson_staff_high'))}",
        customer_ci=f"{fmt_pct(tb.get('wilson_customer_low'))}–{fmt_pct(tb.get('wilson_customer_high'))}",
        diff_pts=fmt_pts(tb.get("diff")),
        diff_ci=f"{fmt_pts(tb.get('newcombe_low'))} … {fmt_pts(tb.get('newcombe_high'))}",
        p=fmt_p(tb.get("p_primary", tb.get("p"))),
        n_staff=item.get("n_staff"),
        n_customer=item.get("n_customer"),
    )
    if department:
        head["sentence"] = _(
            "%(staff)s of the staff of %(department)s say it helps employees do their jobs well; "
            "%(customer)s of the employees who used it agree."
        ) % {"staff": head["staff_pct"], "customer": head["customer_pct"], "department": department}
    else:
        head["sentence"] = _(
            "%(staff)s of staff say we deliver a superior experience; %(customer)s of customers agree."
        ) % {"staff": head["staff_pct"], "customer": head["customer_pct"]}
    head["ci_sentence"] = _(
        "95%% confidence intervals: staff %(staff_ci)s, customers %(customer_ci)s. "
        "Gap %(diff)s percentage points (95%% CI %(diff_ci)s)."
    ) % {"staff_ci": head["staff_ci"], "customer_ci": head["customer_ci"], "diff": head["diff_pts"],
         "diff_ci": head["diff_ci"]}
    return head


def _gap_sentence(row: Mapping[str, Any]) -> str:
    gap = row["gap"]
    values = {
        "gap": fmt_num(abs(gap)),
        "staff": fmt_num(row["mean_staff"]),
        "customer": fmt_num(row["mean_customer"]),
        "k": row["scale_points"],
        "ci": fmt_ci(row["ci_low"], row["ci_high"]),
    }
    if row.get("reverse_keyed"):
        # Means and gap are on the recoded scale (docs/methods.md §0): higher = more favourable, not "agrees more".
        if gap >= 0:
            return _(
                "Scored reversed (agreeing is unfavourable): staff rate this %(gap)s points more favourably than "
                "customers do (reversed scores on a 1–%(k)s scale: staff %(staff)s, customers %(customer)s; gap "
                "95%% CI %(ci)s)."
            ) % values
        return _(
            "Scored reversed (agreeing is unfavourable): customers rate this %(gap)s points more favourably than "
            "staff do (reversed scores on a 1–%(k)s scale: staff %(staff)s, customers %(customer)s; gap 95%% CI "
            "%(ci)s)."
        ) % values
    if gap >= 0:
        return _(
            "Staff rate this %(gap)s points higher than customers do (staff %(staff)s, customers "
            "%(customer)s on a 1–%(k)s scale; gap 95%% CI %(ci)s)."
        ) % values
    return _(
        "Customers rate this %(gap)s points higher than staff do (staff %(staff)s, customers "
        "%(customer)s on a 1–%(k)s scale; gap 95%% CI %(ci)s)."
    ) % values


def _item_row(item: Mapping[str, Any], language: str, dim_index: Mapping[str | None, int], k_min: int) -> dict:
    welch = item.get("welch") or {}
    mwu = item.get("mwu") or {}
    tb = item.get("topbox") or {}
    adj = item.get("p_adjusted") or {}
    cls = (item.get("classification") or {}).get("class") or "not_assessed"
    status = item.get("report_status")
    reportable = status in REPORTABLE
    none2: tuple[None, None] = (None, None)
    staff_ci = _mean_ci(item.get("mean_staff"), item.get("sd_staff"), item.get("n_staff")) if reportable else none2
    cust_ci = _mean_ci(item.get("mean_customer"), item.get("sd_customer"), item.get("n_customer")) if reportable \
        else none2
    dim = item.get("dimension")
    index = dim_index.get(dim, len(dim_index))
    label = item_label(item, language)
    reverse = bool(item.get("reverse_keyed")) and item.get("kind", "likert") == "likert"
    marker = reverse_marker(language) if reverse else ""
    if reverse and label.endswith(REVERSE_SUFFIX):
        label = label[: -len(REVERSE_SUFFIX)]  # the construct's own note: the marker below says it in both languages
    return {
        "key": item.get("key"),
        "label": label + marker,
        "short_label": short(label, LABEL_BUDGET.get(language, 22) - len(marker)) + marker,
        "reverse_keyed": reverse,
        "staff_text": item.get("staff_text", ""),
        "customer_text": item.get("customer_text", ""),
        "dimension": dim,
        "dimension_name": item.get("dimension_name") or "",
        "dimension_number": index + 1,
        "colour": DIMENSION_COLOURS[index % len(DIMENSION_COLOURS)],
        "scale_points": item.get("scale_points") or len(item.get("levels") or []) or 5,
        "levels": list(item.get("levels") or []),
        "is_headline": bool(item.get("is_headline")),
        "reportable": reportable,
        "report_status": status,
        "status_label": status_label(status, k_min),
        "n_staff": item.get("n_staff") if reportable else None,
        "n_customer": item.get("n_customer") if reportable else None,
        "counts_staff": list(item.get("counts_staff") or []) if reportable else [],
        "counts_customer": list(item.get("counts_customer") or []) if reportable else [],
        "mean_staff": item.get("mean_staff") if reportable else None,
        "mean_customer": item.get("mean_customer") if reportable else None,
        "staff_ci_low": staff_ci[0],
        "staff_ci_high": staff_ci[1],
        "customer_ci_low": cust_ci[0],
        "customer_ci_high": cust_ci[1],
        "gap": item.get("gap") if reportable else None,
        "ci_low": welch.get("ci_low") if reportable else None,
        "ci_high": welch.get("ci_high") if reportable else None,
        "p": welch.get("p"),
        "p_bh": adj.get("welch_bh"),
        "hedges_g": item.get("hedges_g"),
        "cliffs_delta": mwu.get("cliffs_delta"),
        "p_staff": tb.get("p_staff"),
        "p_customer": tb.get("p_customer"),
        "class": cls,
        "class_label": class_label(cls),
        "low_base": status == "ok_low_base",
        # printed strings
        "gap_display": fmt_signed(item.get("gap")) if reportable else DASH,
        "ci_display": fmt_ci(welch.get("ci_low"), welch.get("ci_high")) if reportable else DASH,
        "mean_staff_display": fmt_num(item.get("mean_staff")) if reportable else DASH,
        "mean_customer_display": fmt_num(item.get("mean_customer")) if reportable else DASH,
        "p_bh_display": fmt_p(adj.get("welch_bh")) if reportable else DASH,
        "g_display": fmt_signed(item.get("hedges_g")) if reportable else DASH,
        "delta_display": fmt_signed(mwu.get("cliffs_delta")) if reportable else DASH,
        "topbox_display": f"{fmt_pct(tb.get('p_staff'))} / {fmt_pct(tb.get('p_customer'))}" if reportable else DASH,
    }


CLASS_ORDER = ("blind_spot", "hidden_strength", "minor_gap", "aligned", "inconclusive", "not_assessed")


def _class_count_phrase(cls: str, n: int) -> str:
    phrases = {
        "blind_spot": ngettext("%(n)s blind spot", "%(n)s blind spots", n),
        "hidden_strength": ngettext("%(n)s hidden strength", "%(n)s hidden strengths", n),
        "minor_gap": ngettext("%(n)s minor gap", "%(n)s minor gaps", n),
        "aligned": ngettext("%(n)s aligned", "%(n)s aligned", n),
        "inconclusive": ngettext("%(n)s inconclusive", "%(n)s inconclusive", n),
        "not_assessed": ngettext("%(n)s not assessed", "%(n)s not assessed", n),
    }
    return phrases.get(cls, f"{class_label(cls)} %(n)s") % {"n": n}


def _class_summary(class_counts: Mapping[str, int], count_phrase: str, language: str) -> str:
    """"Of 22 item pairs: 9 blind spots, 1 hidden strength, …": every class the engine gave, counted."""
    shown = [c for c in CLASS_ORDER if c != "not_assessed" or class_counts.get(c)]
    shown += sorted(c for c in class_counts if c not in CLASS_ORDER)
    parts = [_class_count_phrase(c, class_counts.get(c, 0)) for c in shown]
    return _("Of %(phrase)s: %(classes)s.") % {"phrase": count_phrase,
                                               "classes": ("、" if language == "ja" else ", ").join(parts)}


def _ranked(rows: Iterable[dict], cls: str, reverse: bool) -> list[dict]:
    picked = [r for r in rows if r["class"] == cls and is_number(r["gap"])]
    picked.sort(key=lambda r: r["gap"], reverse=reverse)
    out = []
    for rank, row in enumerate(picked[:TOP_N], start=1):
        out.append({**row, "rank": rank, "sentence": _gap_sentence(row)})
    return out


def _dimension_row(dim: Mapping[str, Any], index: int, k_min: int) -> dict:
    welch = dim.get("welch") or {}
    mwu = dim.get("mwu") or {}
    adj = dim.get("p_adjusted") or {}
    cls = (dim.get("classification") or {}).get("class") or "not_assessed"
    status = dim.get("report_status")
    reportable = status in REPORTABLE
    alpha = dim.get("alpha") or {}

    def alpha_side(side: str) -> dict[str, Any]:
        a = alpha.get(side) or {}
        value = a.get("listwise")
        n_complete = a.get("n_complete")
        a_status = a.get("status") or ""
        shown = is_number(value) and a_status not in ("insufficient_data",) and a_status not in SUPPRESSED
        ci_low, ci_high = (a.get("ci_low"), a.get("ci_high")) if shown else (None, None)
        ci_shown = is_number(ci_low) and is_number(ci_high)
        return {
            "value": value if shown else None,
            "display": fmt_num(value) if shown else DASH,
            # Feldt's 95 % interval (docs/methods.md §3.3), printed under the value.
            "ci_low": ci_low if ci_shown else None,
            "ci_high": ci_high if ci_shown else None,
            "ci_display": f"{fmt_num(ci_low)}–{fmt_num(ci_high)}" if ci_shown else "",
            "pairwise": a.get("pairwise"),
            "n_complete": n_complete if shown else None,
            "status": a_status,
            "low_base": a_status in ("ok_low_base", "low_base"),
            "poor": shown and value < 0.6,
        }

    return {
        "key": dim.get("key"),
        "name": dim.get("name") or dim.get("key"),
        # An optional module set's dimension (e.g. the experience modules) is grouped under its name.
        "module": dim.get("module") or "",
        "module_name": dim.get("module_name") or dim.get("module") or "",
        "number": index + 1,
        "colour": DIMENSION_COLOURS[index % len(DIMENSION_COLOURS)],
        "item_keys": list(dim.get("item_keys") or []),
        "report_status": status,
        "status_label": status_label(status, k_min),
        "reportable": reportable,
        "low_base": status == "ok_low_base",
        "n_staff": dim.get("n_scored_staff", dim.get("n_staff")) if reportable else None,
        "n_customer": dim.get("n_scored_customer", dim.get("n_customer")) if reportable else None,
        "mean_staff": dim.get("mean_staff") if reportable else None,
        "mean_customer": dim.get("mean_customer") if reportable else None,
        "gap": dim.get("gap") if reportable else None,
        "ci_low": welch.get("ci_low") if reportable else None,
        "ci_high": welch.get("ci_high") if reportable else None,
        "hedges_g": dim.get("hedges_g") if reportable else None,
        "cliffs_delta": mwu.get("cliffs_delta") if reportable else None,
        "p_holm": adj.get("welch_holm") if reportable else None,
        "class": cls,
        "class_label": class_label(cls),
        "alpha_staff": alpha_side("staff"),
        "alpha_customer": alpha_side("customer"),
        "invariance": invariance_display(dim),  # None unless the view asked for it (docs/methods.md §3.5)
        "mean_staff_display": fmt_num(dim.get("mean_staff")) if reportable else DASH,
        "mean_customer_display": fmt_num(dim.get("mean_customer")) if reportable else DASH,
        "gap_display": fmt_signed(dim.get("gap")) if reportable else DASH,
        "ci_display": fmt_ci(welch.get("ci_low"), welch.get("ci_high")) if reportable else DASH,
        "g_display": fmt_signed(dim.get("hedges_g")) if reportable else DASH,
        "g_magnitude": magnitude_label((dim.get("classification") or {}).get("hedges_g_magnitude")),
        "delta_display": fmt_signed(mwu.get("cliffs_delta")) if reportable else DASH,
        "p_holm_display": fmt_p(adj.get("welch_holm")) if reportable else DASH,
    }


def _touchpoint_row(tp: Mapping[str, Any], k_min: int, language: str) -> dict:
    """One moment of the journey: its table row and its point of the journey chart."""
    welch = tp.get("welch") or {}
    adj = tp.get("p_adjusted") or {}
    cls = (tp.get("classification") or {}).get("class") or "not_assessed"
    status = tp.get("report_status")
    reportable = status in REPORTABLE
    name = tp.get("name") or tp.get("key") or ""
    return {
        "key": tp.get("key"),
        "name": name,
        "short_name": short(name, 9 if language == "ja" else 14),
        "item_keys": list(tp.get("item_keys") or []),
        "scale_points": tp.get("scale_points") or 5,
        "report_status": status,
        "status_label": status_label(status, k_min),
        "reportable": reportable,
        "n_staff": tp.get("n_staff") if reportable else None,
        "n_customer": tp.get("n_customer") if reportable else None,
        "mean_staff": tp.get("mean_staff") if reportable else None,
        "mean_customer": tp.get("mean_customer") if reportable else None,
        "gap": tp.get("gap") if reportable else None,
        "ci_low": welch.get("ci_low") if reportable else None,
        "ci_high": welch.get("ci_high") if reportable else None,
        "class": cls,
        "class_label": class_label(cls),
        "mean_staff_display": fmt_num(tp.get("mean_staff")) if reportable else DASH,
        "mean_customer_display": fmt_num(tp.get("mean_customer")) if reportable else DASH,
        "gap_display": fmt_signed(tp.get("gap")) if reportable else DASH,
        "ci_display": fmt_ci(welch.get("ci_low"), welch.get("ci_high")) if reportable else DASH,
        "g_display": fmt_signed(tp.get("hedges_g")) if reportable else DASH,
        "p_bh_display": fmt_p(adj.get("welch_bh")) if reportable else DASH,
    }


def _segments(analysis: Mapping[str, Any], dims: list[dict], k: Mapping[str, int],
              labels: Mapping[str, Mapping[str, str]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for side in ("staff", "customer"):
        fields = []
        raw = (analysis.get("segments") or {}).get(side) or []
        # The engine returns [{"field", "label", "groups"}]; a {field: groups} mapping is accepted too.
        if isinstance(raw, Mapping):
            raw = [{"field": key, "label": None, "groups": groups} for key, groups in raw.items()]
        for entry in raw:
            field, groups = entry.get("field"), entry.get("groups")
            rows = []
            for group in groups or []:
                status = group.get("report_status")
                suppressed = status in SUPPRESSED or status == "no_data"
                cells = []
                for dim in dims:
                    cell = {} if suppressed else ((group.get("dimensions") or {}).get(dim["key"]) or {})
                    c_status = cell.get("report_status")
                    c_shown = not suppressed and c_status in REPORTABLE and is_number(cell.get("gap"))
                    cells.append({
                        "dimension": dim["key"],
                        # Suppressed cells carry no number at all, not even in hidden attributes.
                        "suppressed": suppressed or c_status in SUPPRESSED,
                        "shown": c_shown,
                        "gap": cell.get("gap") if c_shown else None,
                        "gap_display": fmt_signed(cell.get("gap")) if c_shown else "",
                        "class": cell.get("class") if c_shown else None,
                        "fill": gap_fill(cell.get("gap")) if c_shown else "",
                        "low_base": c_status == "ok_low_base",
                    })
                rows.append({
                    "value": str(group.get("value", "")),
                    "report_status": status,
                    "suppressed": status in SUPPRESSED,
                    "no_data": status == "no_data",
                    "n": group.get("n") if not suppressed else None,
                    "cells": cells,
                })
            label = entry.get("label") or labels.get(side, {}).get(field, field)
            fields.append({"key": field, "label": label, "rows": rows,
                           "k_min": k[side]})
        out[side] = fields
    return out


def _did(analysis: Mapping[str, Any], rows_by_key: Mapping[str, dict], dims_by_key: Mapping[str, dict]) -> dict | None:
    did = analysis.get("did")
    if not did:
        return None

    def row(entry: Mapping[str, Any], label: str) -> dict:
        ok = entry.get("report_status") in REPORTABLE
        narrowed = ok and is_number(entry.get("ci_low")) and is_number(entry.get("ci_high")) and (
            entry["ci_low"] > 0 or entry["ci_high"] < 0)
        return {
            "key": entry.get("key"),
            "label": label,
            "reportable": ok,
            "gap_wave1": fmt_signed(entry.get("gap_wave1")) if ok else DASH,
            "gap_wave2": fmt_signed(entry.get("gap_wave2")) if ok else DASH,
            "did": entry.get("did") if ok else None,
            "did_display": fmt_signed(entry.get("did")) if ok else DASH,
            "ci_display": fmt_ci(entry.get("ci_low"), entry.get("ci_high")) if ok else DASH,
            "p_display": fmt_p(entry.get("p")) if ok else DASH,
            "significant": bool(narrowed),
            "status_label": status_label(entry.get("report_status"), 5),
        }

    return {
        "compare_wave": did.get("compare_wave") or {},
        "dimensions": [row(d, dims_by_key.get(d.get("key"), {}).get("name", d.get("key"))) for d in
                       did.get("dimensions") or []],
        "items": [row(i, rows_by_key.get(i.get("key"), {}).get("label", i.get("key"))) for i in
                  did.get("items") or []],
    }


def _churn(analysis: Mapping[str, Any], dims_by_key: Mapping[str, dict]) -> dict | None:
    churn = analysis.get("churn")
    if not churn:
        return None
    comparisons = []
    for c in churn.get("comparisons") or []:
        ok = c.get("report_status") in REPORTABLE
        measure = c.get("measure")
        label = c.get("label") or ("NPS" if measure == "nps" else dims_by_key.get(measure, {}).get("name", measure))
        welch = c.get("welch") or {}
        diff = c.get("diff", c.get("difference"))
        comparisons.append({
            "measure": measure,
            "label": label,
            "reportable": ok,
            "mean_churned": fmt_num(c.get("mean_churned")) if ok else DASH,
            "mean_retained": fmt_num(c.get("mean_retained")) if ok else DASH,
            "diff": diff if ok else None,
            "diff_display": fmt_signed(diff) if ok else DASH,
            "ci_display": fmt_ci(welch.get("ci_low"), welch.get("ci_high")) if ok else DASH,
            "p_display": fmt_p(welch.get("p")) if ok else DASH,
            "delta_display": fmt_signed(c.get("cliffs_delta", (c.get("mwu") or {}).get("cliffs_delta")))
            if ok else DASH,
            "status_label": status_label(c.get("report_status"), 5),
        })
    return {"n_churned": churn.get("n_churned"), "n_retained": churn.get("n_retained"), "comparisons": comparisons}


def _health(analysis: Mapping[str, Any], k_min: int) -> dict | None:
    """Perception against the accounts' health scores: one row per measure, as the churn table."""
    health = analysis.get("health")
    if not health:
        return None
    comparisons = []
    for c in health.get("comparisons") or []:
        ok = c.get("report_status") in REPORTABLE and c.get("spearman_rho") is not None
        comparisons.append({
            "measure": c.get("measure"),
            "label": c.get("label") or c.get("measure"),
            "reportable": ok,
            "n": c.get("n_accounts") if c.get("n_accounts") is not None else DASH,
            "rho": c.get("spearman_rho") if ok else None,
            "rho_display": fmt_signed(c.get("spearman_rho")) if ok else DASH,
            "ci_display": fmt_ci(c.get("ci_low"), c.get("ci_high")) if ok and c.get("ci_low") is not None else DASH,
            "p_display": fmt_p(c.get("p")) if ok else DASH,
            "mean_low_display": fmt_num(c.get("mean_low_health")) if c.get("mean_low_health") is not None else DASH,
            "mean_healthy_display": fmt_num(c.get("mean_healthy")) if c.get("mean_healthy") is not None else DASH,
            "status_label": (_("Fewer than %(k)s accounts") % {"k": k_min}
                             if c.get("report_status") == "suppressed_min_n"
                             else status_label(c.get("report_status"), k_min)),
        })
    return {"n_scored": health.get("n_scored"), "scored_from": health.get("scored_from"),
            "scored_to": health.get("scored_to"), "low_health_below": health.get("low_health_below"),
            "comparisons": comparisons}


def _outcomes(analysis: Mapping[str, Any], k_min: int) -> list[dict]:
    kinds = {"nps": _("Net Promoter Score"), "ces": _("Customer effort"), "csat": _("Overall satisfaction"),
             "renewal": _("Renewal intent")}
    out = []
    for o in analysis.get("outcomes") or []:
        ok = o.get("report_status") in REPORTABLE
        nps = o.get("nps") or None
        out.append({
            "key": o.get("key"),
            "kind": o.get("kind"),
            "kind_label": kinds.get(o.get("kind"), o.get("kind")),
            "text": o.get("text", ""),
            "reportable": ok,
            "n": o.get("n") if ok else None,
            "mean_display": fmt_num(o.get("mean")) if ok else DASH,
            "sd_display": fmt_num(o.get("sd")) if ok else DASH,
            "nps": {
                "score": nps.get("score"),
                "score_display": fmt_signed(nps.get("score"), 0),
                "promoters": fmt_pct(nps.get("promoters")),
                "passives": fmt_pct(nps.get("passives")),
                "detractors": fmt_pct(nps.get("detractors")),
            } if ok and nps else None,
            "status_label": status_label(o.get("report_status"), k_min),
        })
    return out


def _response_rates(analysis: Mapping[str, Any], k: Mapping[str, int]) -> list[dict]:
    counts = analysis.get("response_counts") or {}
    rates = analysis.get("response_rates") or {}
    out = []
    for side, label in (("staff", _("Staff")), ("customer", _("Customers"))):
        r = rates.get(side) or {}
        n = counts.get(side)
        out.append({
            "side": side,
            "label": label,
            "responses": n,
            "responses_display": str(n) if isinstance(n, int) else _("Fewer than %(k)s") % {"k": k[side]},
            "invited": r.get("invited"),
            "answered": r.get("answered_invitations"),
            # Staff have none by design (reports.selectors.response_rates): a dash with a footnote, never a 0.
            "answered_display": str(r["answered_invitations"]) if isinstance(r.get("answered_invitations"), int)
            else (DASH + "*" if side == "staff" else DASH),
            "rate": r.get("rate"),
            "rate_display": fmt_pct(r.get("rate")) if is_number(r.get("rate")) else _("no invitations"),
        })
    return out


def _release(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """Which release of the staff results the report shows, and when the next one comes."""
    info = ((analysis.get("release") or {}).get("staff")) or {}
    number = info.get("number") or 0
    if not number:
        return {"number": 0, "display": _("No staff results published yet")}
    published = info.get("published_at")
    when = ""
    if published:
        try:
            when = timezone.localtime(datetime.fromisoformat(published)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            when = str(published)
    display = _("Staff release %(n)s of %(when)s") % {"n": number, "when": when}
    if info.get("next"):
        display += " · " + _("the next comes after at least %(k)s more staff responses") % {
            "k": (analysis.get("thresholds") or {}).get("staff_k_min", 5)}
    return {"number": number, "display": display}


def _segment_labels(wave: Any, language: str) -> dict[str, dict[str, str]]:
    """Segment field key → label in the report language, from the wave's configuration."""
    if wave is None:
        return {}
    labels: dict[str, dict[str, str]] = {}
    for side in ("staff", "customer"):
        labels[side] = {
            f["key"]: f.get(f"label_{language}") or f.get("label_en") or f["key"] for f in wave.segment_fields(side)
        }
    return labels


def _filters_display(filters: Mapping[str, Any]) -> str:
    """The group a filtered report shows, for its cover ("" when it shows everyone)."""
    staff, customer = filters.get("staff") or {}, filters.get("customer") or {}
    if not staff and not customer:
        return ""

    def group(values: Mapping[str, str]) -> str:
        return ", ".join(f"{key} = {value}" for key, value in sorted(values.items())) if values else _("all")

    return _("Staff: %(staff)s · Customers: %(customer)s") % {"staff": group(staff), "customer": group(customer)}


def build_report_context(analysis: Mapping[str, Any], *, language: str, wave: Any = None,
                         generated_at: datetime | None = None) -> dict[str, Any]:
    """The report's context from one ``gap_analysis`` result, in ``language`` ("ja" or "en").

    ``wave`` (optional) supplies segment field labels; everything else comes
    from ``analysis``.
    """
    with translation.override(language):
        return _build(analysis, language=language, wave=wave, generated_at=generated_at or timezone.now())


def _build(analysis: Mapping[str, Any], *, language: str, wave: Any, generated_at: datetime) -> dict[str, Any]:
    thresholds = analysis.get("thresholds") or {}
    k = {"staff": int(thresholds.get("staff_k_min") or 5), "customer": int(thresholds.get("customer_k_min") or 5)}
    dims_raw = list(analysis.get("dimensions") or [])
    dim_index = {d.get("key"): i for i, d in enumerate(dims_raw)}
    dims = [_dimension_row(d, i, k["staff"]) for i, d in enumerate(dims_raw)]
    for previous, d in zip([None, *dims], dims, strict=False):
        # The first dimension of a module set opens its group in the tables ("Experience modules").
        d["group_start"] = bool(d["module"]) and (previous is None or previous["module"] != d["module"])
    dims_by_key = {d["key"]: d for d in dims}
    items = [_item_row(i, language, dim_index, k["staff"]) for i in analysis.get("items") or []]
    rows_by_key = {r["key"]: r for r in items}
    reportable_items = [r for r in items if r["reportable"] and is_number(r["gap"])]
    mirror_rows = sorted(reportable_items, key=lambda r: r["gap"], reverse=True)

    counts = analysis.get("response_counts") or {}
    w = dict(analysis.get("wave") or {})
    org = w.get("organization") or {}
    instrument = w.get("instrument") or {}
    opens, closes = w.get("opens_on"), w.get("closes_on")
    field_dates = f"{opens or '…'} – {closes or '…'}" if (opens or closes) else _("not set")

    class_counts: dict[str, int] = {}
    for r in items:
        class_counts[r["class"]] = class_counts.get(r["class"], 0) + 1
    count_phrase = ngettext("%(n)s item pair", "%(n)s item pairs", len(items)) % {"n": len(items)}
    n_reportable_dims = [d for d in dims if d["reportable"] and is_number(d["gap"])]
    overall = analysis.get("overall")
    overall_ctx = None
    if overall and overall.get("report_status") in REPORTABLE:
        overall_ctx = _dimension_row(overall, 0, k["staff"])
        overall_ctx["sentence"] = _gap_sentence({**overall_ctx, "scale_points": overall.get("scale_points", 5)})
    elif n_reportable_dims:
        # The engine has no all-items score yet: summarise the dimensions instead of inventing a number.
        over = [d for d in n_reportable_dims if d["class"] == "blind_spot"]
        under = [d for d in n_reportable_dims if d["class"] == "hidden_strength"]
        overall_ctx = {
            "from_dimensions": True,
            "sentence": _(
                "Across %(n)s dimensions, staff over-rate %(over)s and under-rate %(under)s "
                "(Welch test, Holm-adjusted, materiality %(delta)s points)."
            ) % {"n": len(n_reportable_dims), "over": len(over), "under": len(under), "delta": "0.25"},
            "largest": max(n_reportable_dims, key=lambda d: d["gap"]),
            "smallest": min(n_reportable_dims, key=lambda d: d["gap"]),
        }

    headline = _headline(analysis.get("headline"), counts, (w.get("department") or {}).get("label"))
    blind_spots = _ranked(items, "blind_spot", reverse=True)
    hidden_strengths = _ranked(items, "hidden_strength", reverse=False)
    segments = _segments(analysis, dims, k, _segment_labels(wave, language))
    has_segments = any(field["rows"] for side in segments.values() for field in side)
    segment_response_rows = [
        {"side": side, "field": f"{_('Staff') if side == 'staff' else _('Customers')} · {field['label']}",
         "value": row["value"],
         "n_display": _("suppressed") if row["suppressed"] else (str(row["n"]) if isinstance(row["n"], int) else DASH)}
        for side, fields in segments.items() for field in fields for row in field["rows"]
    ]
    # A reverse-keyed item is drawn in its own wording with its answers as given (the engine's counts are
    # recoded, docs/methods.md §0), so the agree/disagree legend reads true for it too.
    likert_rows = [
        {**r, "counts_staff": r["counts_staff"][::-1], "counts_customer": r["counts_customer"][::-1],
         "answers_as_given": True} if r["reverse_keyed"] else r
        for r in items if r["reportable"] and r["counts_staff"] and r["counts_customer"]
    ]

    return {
        "language": language,
        "generated_at": generated_at,
        "generated_at_display": timezone.localtime(generated_at).strftime("%Y-%m-%d %H:%M %Z"),
        # The cover shows one name: company_name, the display name in the report language.
        "organization": {"id": org.get("id"), "name": org.get("name", ""),
                         "company_name": org.get("company_name") or org.get("name", "")},
        "wave": {"id": w.get("id"), "name": w.get("name", ""), "slug": w.get("slug", ""),
                 "status": w.get("status"), "opens_on": opens, "closes_on": closes, "field_dates": field_dates,
                 "kind": w.get("kind", "external"), "department": w.get("department")},
        "instrument": {"key": instrument.get("key"), "version": instrument.get("version"),
                       "name": instrument.get("name", "")},
        "language_name": {"ja": "日本語", "en": "English"}.get(language, language),
        "thresholds": k,
        "release": _release(analysis),
        "filters": analysis.get("filters") or {},
        "filters_display": _filters_display(analysis.get("filters") or {}),
        "counts": {
            side: {"n": counts.get(side),
                   "display": str(counts[side]) if isinstance(counts.get(side), int)
                   else _("Fewer than %(k)s") % {"k": k[side]}}
            for side in ("staff", "customer")
        },
        "headline": headline,
        "overall": overall_ctx,
        "class_counts": class_counts,
        "class_summary": _class_summary(class_counts, count_phrase, language),
        "has_reverse_keyed": any(r["reverse_keyed"] for r in items),
        "reverse_marker": reverse_marker(language).strip(),
        "blind_spots": blind_spots,
        "hidden_strengths": hidden_strengths,
        "items": items,
        "mirror_rows": mirror_rows,
        "likert_rows": likert_rows,
        "not_reportable_items": [r for r in items if not r["reportable"]],
        "dimensions": dims,
        "touchpoints": [_touchpoint_row(t, k["staff"], language) for t in analysis.get("touchpoints") or []],
        "segments": segments,
        "has_segments": has_segments,
        "segment_response_rows": segment_response_rows,
        "did": _did(analysis, rows_by_key, dims_by_key),
        "churn": _churn(analysis, dims_by_key),
        "health": _health(analysis, k["customer"]),
        "drivers": drivers_context(analysis, k["customer"]),
        "outcomes": _outcomes(analysis, k["customer"]),
        "response_rates": _response_rates(analysis, k),
        "undefined_count": len(analysis.get("undefined") or []),
        "count_phrase": count_phrase,
    }
