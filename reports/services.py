"""The gap engine: a source's count tables → disclosure → ``reports.stats`` → one JSON-safe result.

One entry, :func:`gap_analysis_of`, analyses a source (:class:`reports.sources.GapSource`): a wave's, through
:func:`gap_analysis`, for the REST API, the executives' pages, the PDF report and ``manage.py gap``; a file's
(:mod:`reports.file_source`) for ``manage.py analyse_csv``. So their numbers agree. It computes nothing from
raw segment values: the count tables first pass through :func:`reports.disclosed.disclose` (the verdicts of
:mod:`surveys.disclosure`), so every view is a union of released blocks of at least k respondents, per unit,
and of a wave only published releases are read (:mod:`surveys.releases`).

Why one file: one engine (about 700 lines) whose every part of a result — items, dimensions, overall,
touchpoints, outcomes, segments, change, churn — reads the same disclosed tables through one selection memo
(:func:`_select`); split across modules, that private state would be shared between them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from reports import memo, stats
from reports.counts import PairMoments
from reports.disclosed import disclose
from reports.filters import bootstrap_options, check_compare_wave, validate_filter
from reports.key_drivers import drivers_section
from reports.sources import GapSource, wave_source
from reports.stats.churn import churn_comparison
from reports.stats.did import did_from_counts, did_from_scores
from reports.stats.dimensions import dimension_comparison
from reports.stats.health import LOW_HEALTH_BELOW, health_association
from reports.stats.invariance import GroupMoments, measurement_invariance
from reports.stats.segments import gap_difference_shared_comparator
from reports.stats.weighting import weighted_item_comparison
from surveys import disclosure, errors, internal
from surveys import services as survey_services
from surveys.instruments.modules import module_label
from surveys.models import Dimension, ItemKind, ItemPair, Language, Side, Wave

# Bump when measurement_invariance's result changes for the same inputs: results are kept under it (reports/memo.py).
INVARIANCE_FORMAT = 1

SUPPRESSED = ("suppressed_anonymity", "suppressed_min_n", "suppressed_complementary")


# --------------------------------------------------------------------------- helpers


def _suppressed_status(side: str) -> str:
    return "suppressed_anonymity" if side == Side.STAFF else "suppressed_min_n"


_memo = threading.local()


def _memo_reset() -> None:
    """Forget the selections of the previous analysis (they pin its count tables in memory)."""
    _memo.select = {}


def _select(frame: pd.DataFrame, side: str, flt: Mapping[str, str] | None) -> pd.DataFrame:
    """One side's rows of a count table inside a filter, remembered for the analysis in progress.

    A gap analysis asks for the same selection many times (per item, per
    dimension, per segment value); on a large wave the count tables have tens of
    thousands of rows and each boolean filter costs milliseconds.
    """
    memo = getattr(_memo, "select", None)
    if memo is None:
        memo = _memo.select = {}
    key = (id(frame), side, tuple(sorted((flt or {}).items())))
    hit = memo.get(key)
    if hit is not None and hit[0] is frame:
        return hit[1]
    if flt:
        items = sorted(flt.items())
        parent = tuple(items[:-1])
        rows = _select(frame, side, dict(parent))  # the parent selection, remembered too
        field, value = items[-1]
        col = f"seg__{field}"
        if col in rows.columns:
            # Split the parent by the field once: the analysis asks for each of its values in turn.
            split_key = (id(frame), side, parent, "split", col)
            split = memo.get(split_key)
            if split is None or split[0] is not frame:
                split = memo[split_key] = (frame, dict(tuple(rows.groupby(col, sort=False))))
            rows = split[1].get(value, rows.iloc[0:0])
        else:
            rows = rows.iloc[0:0]
    else:
        rows = frame[frame["side"] == side]
    memo[key] = (frame, rows)
    return rows


def _level_counts(rows: pd.DataFrame, item: ItemPair, column: str = "n") -> list[int]:
    levels = item.levels
    got = rows.groupby("value")[column].sum() if len(rows) else pd.Series(dtype=float)
    counts = [int(got.get(v, 0)) if column == "n" else float(got.get(v, 0.0)) for v in levels]
    if item.reverse_keyed and not item.is_outcome:
        counts = counts[::-1]  # x' = (v_1 + v_k) − x maps level l to k + 1 − l
    return counts


def _item_text(item: ItemPair, side: str, language: str, company: str) -> str:
    return item.text(side, language).replace("{company}", company)


# --------------------------------------------------------------------------- items


def _item_entries(data: _Disclosed, items: list[ItemPair], *, staff_filter, customer_filter,
                  language: str, weighted: bool, bootstrap: Mapping[str, Any] | None = None) -> list[dict]:
    table = data.answers
    company = data.source.company_name(language)
    k_staff, k_cust = data.source.k(Side.STAFF), data.source.k(Side.CUSTOMER)
    staff_rows = _select(table, Side.STAFF, staff_filter)
    cust_rows = _select(table, Side.CUSTOMER, customer_filter)
    entries = []
    for item in items:
        a = _level_counts(staff_rows[staff_rows.item_id == item.pk], item)
        b_rows = cust_rows[cust_rows.item_id == item.pk]
        b = _level_counts(b_rows, item)
        res = stats.item_comparison(
            a, b, item.levels, item.topbox_levels or item.levels[-2:],
            k_min_staff=k_staff, k_min_customer=k_cust, complementary_suppressed=False, bootstrap=bootstrap,
        )
        if weighted:
            res["weighted"] = weighted_item_comparison(
                a, b, _level_counts(b_rows, item, "w"), _level_counts(b_rows, item, "w2"), item.levels,
                topbox_levels=item.topbox_levels or item.levels[-2:], k_min_staff=k_staff, k_min_customer=k_cust,
                complementary_suppressed=False,
            )
        _add_wilson(res)
        res.update({
            "key": item.key,
            "order": item.order,
            "dimension": item.dimension.key if item.dimension else None,
            "dimension_name": item.dimension.name(language) if item.dimension else None,
            "construct": item.construct,
            "staff_text": _item_text(item, Side.STAFF, language, company),
            "customer_text": _item_text(item, Side.CUSTOMER, language, company),
            "is_headline": item.is_headline,
            "reverse_keyed": item.reverse_keyed,
            "levels": item.levels,
            "scale_points": len(item.levels),
            "withheld": data.withheld_n(f"item:{item.pk}", staff_filter, customer_filter),
        })
        entries.append(res)
    return stats.adjust_item_family(entries)


def _add_wilson(res: dict) -> None:
    """Wilson CIs of each side's top-box share, for the headline sentence."""
    tb = res.get("topbox") or {}
    for side, nkey in (("staff", "n_staff"), ("customer", "n_customer")):
        x, n = tb.get(f"x_{side}"), res.get(nkey)
        if x is None or not n:
            tb[f"wilson_{side}_low"] = tb[f"wilson_{side}_high"] = None
        else:
            lo, hi = stats.wilson_interval(int(x), int(n))
            tb[f"wilson_{side}_low"], tb[f"wilson_{side}_high"] = float(lo), float(hi)
    res["topbox"] = tb


# --------------------------------------------------------------------------- dimensions


def _alpha_from_moments(moments: Mapping[tuple[int, int], PairMoments], m_items: int,
                        *, pairwise: bool) -> float | None:
    """α = m/(m − 1) · (1 − tr Σ / 1ᵀΣ1) from cross-product sums (docs/methods.md §3.3)."""
    ids = sorted({i for pair in moments for i in pair})
    if m_items < 2 or len(ids) < m_items:
        return None
    index = {item: k for k, item in enumerate(ids)}
    cov = np.zeros((len(ids), len(ids)))
    for (i, j), mo in moments.items():
        if mo.n < 2:
            return None
        c = (mo.sum_ij - mo.sum_i * mo.sum_j / mo.n) / (mo.n - 1)
        cov[index[i], index[j]] = cov[index[j], index[i]] = c
    total = cov.sum()
    if not total > 0:
        return None
    m = len(ids)
    value = m / (m - 1) * (1 - np.trace(cov) / total)
    return float(value) if math.isfinite(value) else None


# --------------------------------------------------------------------------- the disclosed source


class _Disclosed:
    """A source's count tables as the disclosure layer releases them, with its items, read once per analysis."""

    def __init__(self, source: GapSource):
        self.source = source
        counts = source.counts
        self.likert = [i for i in source.items if i.kind == ItemKind.LIKERT]
        self.outcomes = [i for i in source.items if i.kind != ItemKind.LIKERT]
        self.dimensions = list(source.dimensions)
        self.dim_items = {d.pk: list(source.dimension_items.get(d.pk, ())) for d in self.dimensions}
        # The overall score: every item of a core dimension of a respondent (pseudo-dimension 0); the
        # dimensions of an optional module set (Dimension.module) stay out of it, as in the readers.
        self.overall = Dimension(pk=0, key="overall", name_en="Overall customer focus", name_ja="顧客志向（総合）")
        in_a_dimension = {i.pk for d in self.dimensions if not d.module for i in self.dim_items[d.pk]}
        self.dim_items[0] = [i for i in self.likert if i.pk in in_a_dimension]
        dim_item_ids = {d: [i.pk for i in items] for d, items in self.dim_items.items() if items or d == 0}
        # Touchpoints (docs/methods.md §3.4): score units like dimensions, in the journey's order.
        self.touchpoints = [t for t in source.touchpoints if source.touchpoint_items.get(t.key)]
        self.tp_items = {t.key: list(source.touchpoint_items[t.key]) for t in self.touchpoints}
        # Only what the disclosure layer releases: blocks of at least k, per unit (surveys.disclosure).
        shown = disclose(counts, fields={side: [f["key"] for f in source.segment_fields(side)]
                                         for side in (Side.STAFF, Side.CUSTOMER)},
                         k={side: source.k(side) for side in (Side.STAFF, Side.CUSTOMER)},
                         dim_items=dim_item_ids,
                         tp_items={key: [i.pk for i in items] for key, items in self.tp_items.items()})
        self.plans = shown.plans
        self.withheld = shown.withheld
        self._withheld_by_view: dict[tuple, dict[str, int]] = {}
        self.released_values = shown.released_values
        self.answers = shown.answers
        self.scores = shown.scores
        self.overall_scores = shown.overall_scores
        self.responses = shown.responses
        # Alpha is a whole-side figure of the published responses: only for a side that is released at all.
        self.moments = {key: value for key, value in counts.moments.items() if self.plans[key[0]].n_released}
        self.accounts = counts.accounts if self.plans[Side.CUSTOMER].n_released else counts.accounts.iloc[0:0]

        # Scored rows per (side, dimension), half rule applied once: score = s / c exactly as a float
        # (IEEE division is correctly rounded, so equal fractions give equal floats).
        self.scored: dict[tuple[str, int], pd.DataFrame] = {}
        for scores in (self.scores, self.overall_scores):
            if scores.empty:
                continue
            scores = scores.assign(score=scores.s.astype(float) / scores.c.astype(float))
            for (side, dim_id), rows in scores.groupby(["side", "dimension_id"], sort=False):
                m = math.ceil(len(self.dim_items.get(int(dim_id), [])) / 2) or 1
                self.scored[(side, int(dim_id))] = rows[rows.c >= m]
        # The same per (side, touchpoint key): the half rule over the touchpoint's items.
        self.tp_scored: dict[tuple[str, str], pd.DataFrame] = {}
        tp_scores = shown.touchpoint_scores
        if len(tp_scores):
            tp_scores = tp_scores.assign(score=tp_scores.s.astype(float) / tp_scores.c.astype(float))
            for (side, key), rows in tp_scores.groupby(["side", "touchpoint"], sort=False):
                m = math.ceil(len(self.tp_items.get(str(key), [])) / 2) or 1
                self.tp_scored[(side, str(key))] = rows[rows.c >= m]

    def withheld_n(self, unit: str, staff_filter, customer_filter) -> dict[str, int]:
        """Respondents of the view whose answers to ``unit`` are withheld (their block gave fewer than k)."""
        out = {}
        for side, flt in ((Side.STAFF, staff_filter), (Side.CUSTOMER, customer_filter)):
            key = (side, tuple(sorted((flt or {}).items())))
            per_unit = self._withheld_by_view.get(key)
            if per_unit is None:
                rows = _select(self.withheld, side, flt) if len(self.withheld) else self.withheld
                per_unit = self._withheld_by_view[key] = (
                    {str(u): int(n) for u, n in rows.groupby("unit")["n"].sum().items()} if len(rows) else {})
            out[side] = per_unit.get(unit, 0)
        return out

    def dim_scale(self, dim: Dimension) -> list[int]:
        items = self.dim_items[dim.pk]
        return items[0].levels if items else [1, 2, 3, 4, 5]

    def score_array(self, side: str, flt, dim: Dimension) -> stats.CountedScores:
        """The group's respondent scores as (score, count): as large as the score table, never as the group."""
        rows = self.scored.get((side, dim.pk))
        if rows is None:
            return stats.CountedScores([], [])
        rows = _select(rows, side, flt)
        return stats.CountedScores(rows.score.to_numpy(dtype=float), rows.n.to_numpy(dtype=np.int64))

    def touchpoint_score_array(self, side: str, flt, key: str) -> stats.CountedScores:
        """A group's touchpoint scores as (score, count), as :meth:`score_array` gives a dimension's."""
        rows = self.tp_scored.get((side, key))
        if rows is None:
            return stats.CountedScores([], [])
        rows = _select(rows, side, flt)
        return stats.CountedScores(rows.score.to_numpy(dtype=float), rows.n.to_numpy(dtype=np.int64))

    def score_unit(self, dim: Dimension):
        m = math.ceil(len(self.dim_items[dim.pk]) / 2)

        def unit(rows: pd.DataFrame) -> pd.DataFrame:
            return rows[(rows.dimension_id == dim.pk) & (rows.c >= m)]

        return unit


def _dimension_entries(data: _Disclosed, *, staff_filter, customer_filter, language: str,
                       correction: str, invariance: bool = False) -> list[dict]:
    k_staff, k_cust = data.source.k(Side.STAFF), data.source.k(Side.CUSTOMER)
    entries = []
    for dim in data.dimensions:
        items = data.dim_items[dim.pk]
        if not items:
            continue
        s1 = data.score_array(Side.STAFF, staff_filter, dim)
        s2 = data.score_array(Side.CUSTOMER, customer_filter, dim)
        rel = {side: _reliability(data, side, dim, len(items)) for side in (Side.STAFF, Side.CUSTOMER)}
        res = dimension_comparison(
            s1, s2, levels=data.dim_scale(dim), reliability_staff=rel[Side.STAFF],
            reliability_customer=rel[Side.CUSTOMER], k_min_staff=k_staff, k_min_customer=k_cust,
            complementary_suppressed=False,
        )
        res.update({"key": dim.key, "name": dim.name(language), "order": dim.order,
                    "module": dim.module, "module_name": module_label(dim.module, language) if dim.module else "",
                    "item_keys": [i.key for i in items],
                    "withheld": data.withheld_n(f"dim:{dim.pk}", staff_filter, customer_filter)})
        res["alpha"] = {side: {"listwise": res.get(f"cronbach_alpha_listwise_{side}"),
                               "ci_low": res.get(f"cronbach_alpha_listwise_ci_low_{side}"),
                               "ci_high": res.get(f"cronbach_alpha_listwise_ci_high_{side}"),
                               "pairwise": res.get(f"cronbach_alpha_pairwise_{side}"),
                               "n_complete": rel[side]["n_complete_cases"],
                               "status": rel[side]["cronbach_alpha_display"]}
                        for side in ("staff", "customer")}
        if invariance:  # opt-in (docs/methods.md §3.5): a whole-side figure, like alpha
            res["invariance"] = _invariance(data, dim, items)
        if res["report_status"] in SUPPRESSED:
            _blank_alpha(res)
        entries.append(res)
    return stats.adjust_dimension_family(entries, classify_with=correction)


def _side_moments(data: _Disclosed, side: str, dim: Dimension, items: list[ItemPair]) -> GroupMoments | None:
    """One side's n, item means and covariance over its complete cases, from the listwise cross-product sums."""
    listwise = data.moments.get((side, dim.pk, True), {})
    ids = [i.pk for i in items]
    diag = [listwise.get((i, i)) for i in ids]
    if any(mo is None or mo.n == 0 for mo in diag):
        return None
    cross = np.zeros((len(ids), len(ids)))
    for a, i in enumerate(ids):
        for b, j in enumerate(ids):
            mo = listwise.get((i, j)) or listwise.get((j, i))  # each pair once, in either order
            if mo is None:
                return None
            cross[a, b] = mo.sum_ij
    return GroupMoments.from_sums(diag[0].n, np.array([mo.sum_i for mo in diag]), cross)


def _invariance(data: _Disclosed, dim: Dimension, items: list[ItemPair]) -> dict:
    """Measurement invariance of a dimension between the sides (docs/methods.md §3.5), over the same data as
    alpha: each side's published complete cases, only for a side that is released at all."""
    staff = _side_moments(data, Side.STAFF, dim, items)
    customer = _side_moments(data, Side.CUSTOMER, dim, items)
    # The same for every view of the wave: kept under its inputs (reports/memo.py says why it pays).
    inputs = [len(items)] + [(g.n, g.mean, g.cov) if g is not None else None for g in (staff, customer)]
    return memo.kept("invariance", INVARIANCE_FORMAT, inputs,
                     partial(measurement_invariance, staff, customer, n_items=len(items)))


def _blank_invariance(entry: dict) -> None:
    """Nothing of the invariance verdict next to a suppressed cell, as for alpha (§3.5, §5)."""
    if "invariance" in entry:
        entry["invariance"] = {"status": "not_shown", "level": None, "mean_gap_interpretable": False, "steps": [],
                               "n_complete": {"staff": None, "customer": None},
                               "min_n": entry["invariance"]["min_n"], "reason": "not shown next to a suppressed cell"}


def _blank_alpha(entry: dict) -> None:
    """Reliability is a whole-side figure, but nothing at all is shown next to a suppressed cell (§3.3, §5)."""
    _blank_invariance(entry)
    for side in ("staff", "customer"):
        entry["alpha"][side].update({"listwise": None, "ci_low": None, "ci_high": None, "pairwise": None})
        for field in ("cronbach_alpha_listwise", "cronbach_alpha_listwise_ci_low", "cronbach_alpha_listwise_ci_high",
                      "cronbach_alpha_pairwise"):
            if entry.get(f"{field}_{side}") is not None:
                entry[f"{field}_{side}"] = None
                entry["undefined"].append(f"{field}_{side}: not shown next to a suppressed cell")


def _touchpoint_entries(data: _Disclosed, *, staff_filter, customer_filter, language: str) -> list[dict]:
    """Staff vs customers per touchpoint, in journey order (docs/methods.md §3.4): the dimension comparison of
    respondent touchpoint scores, its own family, classified on the Benjamini–Hochberg adjusted Welch p.

    No Cronbach's alpha: a touchpoint groups the questions about one moment, it is not built as a scale.
    """
    k_staff, k_cust = data.source.k(Side.STAFF), data.source.k(Side.CUSTOMER)
    entries = []
    for order, tp in enumerate(data.touchpoints):
        items = data.tp_items[tp.key]
        res = dimension_comparison(
            data.touchpoint_score_array(Side.STAFF, staff_filter, tp.key),
            data.touchpoint_score_array(Side.CUSTOMER, customer_filter, tp.key),
            levels=items[0].levels, k_min_staff=k_staff, k_min_customer=k_cust, complementary_suppressed=False,
        )
        res.update({"key": tp.key, "name": tp.name(language), "order": order, "item_keys": [i.key for i in items],
                    "withheld": data.withheld_n(f"tp:{tp.key}", staff_filter, customer_filter)})
        entries.append(res)
    return stats.adjust_dimension_family(entries, classify_with="bh")


def _reliability(data: _Disclosed, side: str, dim: Dimension, m_items: int) -> dict:
    """Cronbach's alpha of one side's whole wave (or file) from its item moments (docs/methods.md §3.3)."""
    listwise = data.moments.get((side, dim.pk, True), {})
    pairwise = data.moments.get((side, dim.pk, False), {})
    n_complete = max((mo.n for (i, j), mo in listwise.items() if i == j), default=0)
    n_any = max((mo.n for (i, j), mo in pairwise.items() if i == j), default=0)
    display = "insufficient_data" if n_complete < 10 else "low_base" if n_complete < 30 else "show"
    lw = _alpha_from_moments(listwise, m_items, pairwise=False) if display != "insufficient_data" else None
    pw = _alpha_from_moments(pairwise, m_items, pairwise=True)
    # Feldt's df come from the complete cases the listwise moments were summed over, not from every respondent.
    ci_low, ci_high = stats.feldt_interval(lw, n_complete, m_items) if lw is not None else (None, None)
    why = "fewer than 10 complete cases" if display == "insufficient_data" else "variance of the total score is zero"
    return {
        "n_complete_cases": n_complete,
        "cronbach_alpha_listwise": lw,
        "cronbach_alpha_listwise_ci_low": ci_low,
        "cronbach_alpha_listwise_ci_high": ci_high,
        "cronbach_alpha_pairwise": pw,
        "cronbach_alpha_display": display,
        "show_pairwise": n_complete < n_any / 2,
        "undefined": ([] if lw is not None else [f"{field}: {why}" for field in (
            "cronbach_alpha_listwise", "cronbach_alpha_listwise_ci_low", "cronbach_alpha_listwise_ci_high")])
        + ([] if pw is not None else ["cronbach_alpha_pairwise: an item pair has fewer than 2 joint answers"]),
    }


def _overall_entry(data: _Disclosed, *, staff_filter, customer_filter, language: str) -> dict | None:
    """Staff vs customer on each respondent's mean over every dimension item (half rule over all of them).

    Reliability is per dimension, not of this composite, so alpha is not reported here.
    """
    dim = data.overall
    if not data.dim_items[0]:
        return None
    k_staff, k_cust = data.source.k(Side.STAFF), data.source.k(Side.CUSTOMER)
    m = math.ceil(len(data.dim_items[0]) / 2)

    del m
    s1 = data.score_array(Side.STAFF, staff_filter, dim)
    s2 = data.score_array(Side.CUSTOMER, customer_filter, dim)
    res = dimension_comparison(s1, s2, levels=data.dim_scale(dim), k_min_staff=k_staff, k_min_customer=k_cust,
                               complementary_suppressed=False)
    res = stats.adjust_dimension_family([res])[0]
    res.update({"key": "overall", "name": dim.name(language), "item_keys": [i.key for i in data.dim_items[0]],
                "withheld": data.withheld_n("dim:0", staff_filter, customer_filter)})
    return res


def _outcome_entries(data: _Disclosed, *, customer_filter, language: str) -> list[dict]:
    k_cust = data.source.k(Side.CUSTOMER)
    company = data.source.company_name(language)
    rows = _select(data.answers, Side.CUSTOMER, customer_filter)
    out = []
    for item in data.outcomes:
        counts = _level_counts(rows[rows.item_id == item.pk], item)
        n = sum(counts)
        entry = {"key": item.key, "kind": item.kind, "text": _item_text(item, Side.CUSTOMER, language, company),
                 "levels": item.levels, "n": None, "mean": None, "sd": None, "counts": None, "nps": None,
                 "undefined": []}
        if n == 0:
            entry["report_status"] = "no_data"
        elif n < k_cust:
            entry["report_status"] = "suppressed_min_n"
        else:
            desc = stats.describe_counts(counts, item.levels)
            entry.update({"n": n, "mean": desc.get("mean"), "sd": desc.get("sd"), "counts": counts,
                          "report_status": "ok_low_base" if n < 30 else "ok"})
            if entry["sd"] is None:
                entry["undefined"].append("sd: needs at least 2 answers")
            if item.kind == ItemKind.NPS:
                promoters = sum(c for v, c in zip(item.levels, counts, strict=True) if v >= 9) / n
                detractors = sum(c for v, c in zip(item.levels, counts, strict=True) if v <= 6) / n
                entry["nps"] = {"promoters": promoters, "passives": 1 - promoters - detractors,
                                "detractors": detractors, "score": 100 * (promoters - detractors)}
        if entry["report_status"] != "ok" and entry["report_status"] != "ok_low_base":
            entry["undefined"].append(f"all: {entry['report_status']}")
        out.append(entry)
    return out


def _segment_views(data: _Disclosed, *, staff_filter, customer_filter, language: str, correction: str) -> dict:
    """Heatmaps: each staff segment vs the customer selection, each customer segment vs the staff selection."""
    out: dict[str, list] = {Side.STAFF: [], Side.CUSTOMER: []}
    k = {Side.STAFF: data.source.k(Side.STAFF), Side.CUSTOMER: data.source.k(Side.CUSTOMER)}
    for side in (Side.STAFF, Side.CUSTOMER):
        other = Side.CUSTOMER if side == Side.STAFF else Side.STAFF
        own_filter = staff_filter if side == Side.STAFF else customer_filter
        other_filter = customer_filter if side == Side.STAFF else staff_filter
        for field in data.source.segment_fields(side):
            key = field["key"]
            if key in (own_filter or {}):
                continue  # already fixed by the filter: one group, shown in the main view
            label = field.get("label_ja" if language == Language.JA else "label_en") or key
            # Groups are the field's released values inside the view (each a union of released blocks), and
            # the configured choices that are not released: those show as suppressed whether or not anyone
            # gave them, so their absence says nothing.
            rows = _select(data.responses, side, own_filter)
            col = f"seg__{key}"
            sizes = ({str(v): int(n) for v, n in rows.groupby(col)["n"].sum().items()
                      if v is not None and v != disclosure.GENERALISED}
                     if len(rows) and col in rows.columns else {})
            values = sorted(set(sizes) | {str(c) for c in field.get("choices") or []})
            if not values:
                continue
            groups = []
            for value in values:
                group_flt = {**(own_filter or {}), key: value}
                n = sizes.get(value, 0)
                visible = n > 0
                group = {"value": value, "n": n if visible else None, "dimensions": {},
                         "report_status": ("ok_low_base" if n < 30 else "ok") if visible else _suppressed_status(side)}
                if visible:
                    cells = []
                    for dim in data.dimensions:
                        if not data.dim_items[dim.pk]:
                            continue
                        s_own = data.score_array(side, group_flt, dim)
                        s_other = data.score_array(other, other_filter, dim)
                        s1, s2 = (s_own, s_other) if side == Side.STAFF else (s_other, s_own)
                        res = dimension_comparison(
                            s1, s2, levels=data.dim_scale(dim), k_min_staff=k[Side.STAFF],
                            k_min_customer=k[Side.CUSTOMER], complementary_suppressed=False,
                        )
                        res["key"] = dim.key
                        cells.append(res)
                    for res in stats.adjust_dimension_family(cells, classify_with=correction):
                        shown = res["report_status"] not in SUPPRESSED
                        group["dimensions"][res["key"]] = {
                            "gap": res["gap"] if shown else None,
                            "ci_low": res["welch"]["ci_low"] if shown else None,
                            "ci_high": res["welch"]["ci_high"] if shown else None,
                            "hedges_g": res["hedges_g"] if shown else None,
                            "class": res["classification"]["class"] if shown else None,
                            "n_staff": res["n_staff"] if shown else None,
                            "n_customer": res["n_customer"] if shown else None,
                            "report_status": res["report_status"],
                        }
                groups.append(group)
            out[side].append({"field": key, "label": label, "groups": groups})
    return {"staff": out[Side.STAFF], "customer": out[Side.CUSTOMER]}


def _group_n(data: _Disclosed, side: str, flt, k_min: int) -> int | None:
    rows = _select(data.responses, side, flt)
    n = int(rows["n"].sum()) if len(rows) else 0
    if n == 0 and (flt or data.plans[side].n_withheld):
        return None  # the selection is not released: nothing to say, not even that it is empty
    return n


def _did(data: _Disclosed, before: _Disclosed, *, staff_filter, customer_filter, language: str) -> dict:
    k_staff, k_cust = data.source.k(Side.STAFF), data.source.k(Side.CUSTOMER)
    # Groups whose selection is not released in their wave: shown as suppressed, never as "no data, n = 0" (§5.1).
    hidden = [f"{side}_{wave}" for wave, d in (("wave1", before), ("wave2", data))
              for side, flt, k in ((Side.STAFF, staff_filter, k_staff), (Side.CUSTOMER, customer_filter, k_cust))
              if _group_n(d, side, flt, k) is None]
    old_items = {i.key: i for i in before.likert}
    items = []
    for item in data.likert:
        old = old_items.get(item.key)
        if old is None or old.levels != item.levels:
            continue
        groups = []
        for d, it in ((before, old), (data, item)):
            for side, flt in ((Side.STAFF, staff_filter), (Side.CUSTOMER, customer_filter)):
                rows = _select(d.answers, side, flt)
                groups.append(_level_counts(rows[rows.item_id == it.pk], it))
        # The top box of the item's own entry (§2.5: the two highest levels unless configured), in both waves.
        res = did_from_counts(*groups, item.levels, topbox_levels=item.topbox_levels or item.levels[-2:],
                              k_min_staff=k_staff, k_min_customer=k_cust)
        res["key"] = item.key
        items.append(_hide_did_groups(res, hidden))
    old_dims = {d.key: d for d in before.dimensions}
    dims = []
    for dim in data.dimensions:
        old = old_dims.get(dim.key)
        if old is None or not data.dim_items[dim.pk] or not before.dim_items[old.pk]:
            continue
        res = did_from_scores(
            before.score_array(Side.STAFF, staff_filter, old), before.score_array(Side.CUSTOMER, customer_filter, old),
            data.score_array(Side.STAFF, staff_filter, dim), data.score_array(Side.CUSTOMER, customer_filter, dim),
            k_min_staff=k_staff, k_min_customer=k_cust,
        )
        res["key"] = dim.key
        dims.append(_hide_did_groups(res, hidden))
    earlier = before.source.described(language)
    return {"compare_wave": {"id": earlier["id"], "name": earlier["name"]}, "items": items, "dimensions": dims}


def _hide_did_groups(res: dict, hidden: list[str]) -> dict:
    """A change entry with a group that is not released: that group's n is not told, the status is suppressed."""
    if not hidden or res["report_status"] != "no_data":
        return res  # a suppressed entry shows nothing already; any other status means every group is released
    status = _suppressed_status(Side.STAFF if any(g.startswith("staff") for g in hidden) else Side.CUSTOMER)
    # The library's reasons say "no responses"; of a hidden group that is not to be said either.
    res["undefined"] = [reason.replace("no_data (a group has no responses)", f"{status} (a group is below its "
                                       "threshold)") for reason in res["undefined"]]
    for group in hidden:
        res[f"n_{group}"] = None
        res["undefined"].append(f"n_{group}: this selection is not released (fewer than the threshold)")
    res["report_status"] = status
    return res


def _account_measures(data: _Disclosed, language: str) -> list[tuple[str, str, str, list]]:
    """What the account-level sections compare: each dimension with items, then each outcome item."""
    company = data.source.company_name(language)
    measures = [(f"dim:{d.pk}", d.key, d.name(language), data.dim_scale(d))
                for d in data.dimensions if data.dim_items[d.pk]]
    measures += [(f"item:{i.pk}", i.key, _item_text(i, Side.CUSTOMER, language, company), i.levels)
                 for i in data.outcomes]
    return measures


def _churn(data: _Disclosed, *, language: str) -> dict | None:
    """Customer perception of churned vs retained (active or renewed) accounts, one score per account."""
    frame = data.accounts
    if frame.empty:
        return None
    k_cust = data.source.k(Side.CUSTOMER)
    statuses = frame.drop_duplicates("account_id").status
    n_churned, n_retained = int((statuses == "churned").sum()), int((statuses != "churned").sum())
    comparisons = []
    for measure, key, label, levels in _account_measures(data, language):
        rows = frame[frame.measure == measure]
        res = churn_comparison(rows[rows.status == "churned"].score.to_numpy(),
                               rows[rows.status != "churned"].score.to_numpy(), levels=levels, k_min=k_cust)
        res.update({"measure": key, "label": label})
        comparisons.append(res)
    return {"n_churned": n_churned if n_churned >= k_cust or n_churned == 0 else None,
            "n_retained": n_retained if n_retained >= k_cust or n_retained == 0 else None,
            "comparisons": comparisons}


def _health(data: _Disclosed, *, language: str) -> dict | None:
    """Customer perception against the accounts' health scores (docs/methods.md §10), one pair per account.

    None when no responding account has a health score. Churned accounts count too: their last health
    score and how their contacts saw the company are both on record.
    """
    frame = data.accounts
    if frame.empty or not frame.health.notna().any():
        return None
    k_cust = data.source.k(Side.CUSTOMER)
    scored = frame[frame.health.notna()].drop_duplicates("account_id")
    n_scored = len(scored)
    dates = sorted(d for d in scored.health_on if d is not None)
    comparisons = []
    for measure, key, label, _levels in _account_measures(data, language):
        rows = frame[frame.measure == measure]
        res = health_association(rows.score.to_numpy(), rows.health.to_numpy(), k_min=k_cust)
        res.update({"measure": key, "label": label})
        comparisons.append(res)
    enough = n_scored >= k_cust
    return {"n_scored": n_scored if enough else None,
            "scored_from": dates[0].isoformat() if enough and dates else None,
            "scored_to": dates[-1].isoformat() if enough and dates else None,
            "low_health_below": LOW_HEALTH_BELOW,
            "comparisons": comparisons}


def _drivers(data: _Disclosed, dimensions: list[dict], *, language: str) -> dict | None:
    """Key drivers of the account-level outcomes and their importance–performance grids (docs/methods.md §8.1):
    the core dimensions (not the optional modules') as predictors."""
    company = data.source.company_name(language)
    return drivers_section(
        data.accounts, k_customer=data.source.k(Side.CUSTOMER), dimensions=dimensions,
        predictors=[(f"dim:{d.pk}", d.key, d.name(language)) for d in data.dimensions
                    if data.dim_items[d.pk] and not d.module],
        outcomes=[(f"item:{i.pk}", i.key, i.kind, _item_text(i, Side.CUSTOMER, language, company))
                  for i in data.outcomes])


# --------------------------------------------------------------------------- public


def gap_analysis(*, wave: Wave, staff_filter: Mapping[str, str] | None = None,
                 customer_filter: Mapping[str, str] | None = None, compare_wave: Wave | None = None,
                 weighted: bool = False, segments: bool = True, language: str = Language.EN,
                 dimension_correction: str = "holm", bootstrap: str | None = None,
                 bootstrap_reps: int | None = None, invariance: bool = False,
                 department: str | None = None) -> dict[str, Any]:
    """The whole gap analysis of one comparison view of a wave (see module docstring and docs/methods.md §11):
    the wave's source (:func:`reports.sources.wave_source`: what is due published, then read) through
    :func:`gap_analysis_of`.

    Raises ValidationFailed for a filter on an unknown segment field or a
    comparison wave of another organization (or the wave itself).
    """
    # Checked before anything is published or read: a bad request changes nothing.
    staff_filter = validate_filter(wave, Side.STAFF, staff_filter, "staff")
    customer_filter = validate_filter(wave, Side.CUSTOMER, customer_filter, "customer")
    _check_correction(dimension_correction)
    bootstrap_options(bootstrap, bootstrap_reps)
    check_compare_wave(wave, compare_wave)
    department = internal.check_department(wave, department)
    if compare_wave is not None and internal.is_internal(compare_wave) != internal.is_internal(wave):
        raise errors.ValidationFailed(field_errors={"compare_wave": ["Must be of the same kind (internal or not)."]})
    if compare_wave is not None and department is not None:
        internal.check_department(compare_wave, department, field="compare_wave")
    source = wave_source(wave, department)
    return gap_analysis_of(source, staff_filter=staff_filter, customer_filter=customer_filter,
                           compare=wave_source(compare_wave, department) if compare_wave is not None else None,
                           weighted=weighted, segments=segments, language=language,
                           dimension_correction=dimension_correction, bootstrap=bootstrap,
                           bootstrap_reps=bootstrap_reps, invariance=invariance)


def _check_correction(dimension_correction: str) -> None:
    if dimension_correction not in ("holm", "bh"):
        raise errors.ValidationFailed(field_errors={"dimension_correction": ["Use 'holm' or 'bh'."]})


def gap_analysis_of(source: GapSource, *, staff_filter: Mapping[str, str] | None = None,
                    customer_filter: Mapping[str, str] | None = None, compare: GapSource | None = None,
                    weighted: bool = False, segments: bool = True, language: str = Language.EN,
                    dimension_correction: str = "holm", bootstrap: str | None = None,
                    bootstrap_reps: int | None = None, invariance: bool = False) -> dict[str, Any]:
    """The whole gap analysis of one comparison view of a source — a wave's or a file's — with ``compare``
    an earlier source for the change of each gap (docs/methods.md §7, §11).

    What a source lacks comes out empty, not invented: no releases (``release`` is ``{}``), no response
    rates (``None``), no outcome items (``outcomes`` is ``[]``), no accounts (``churn`` is ``None``), no
    segment fields (no heatmap rows). Raises ValidationFailed for a filter on a field the source does not have.
    """
    # validate_filter reads only segment_fields(side), which a source answers as a wave does.
    staff_filter = validate_filter(source, Side.STAFF, staff_filter, "staff")
    customer_filter = validate_filter(source, Side.CUSTOMER, customer_filter, "customer")
    _check_correction(dimension_correction)
    # Opt-in (docs/methods.md §2.6): without it the result has no bootstrap key at all.
    boot = bootstrap_options(bootstrap, bootstrap_reps)

    _memo_reset()
    data = _Disclosed(source)
    k_staff, k_cust = source.k(Side.STAFF), source.k(Side.CUSTOMER)
    items = _item_entries(data, list(data.likert), staff_filter=staff_filter, customer_filter=customer_filter,
                          language=language, weighted=weighted, bootstrap=boot)
    undefined: list[str] = []
    counts = {"staff": _group_n(data, Side.STAFF, staff_filter, k_staff),
              "customer": _group_n(data, Side.CUSTOMER, customer_filter, k_cust)}
    for side, n in counts.items():
        if n is None:
            undefined.append(f"response_counts.{side}: this selection is not released (no group of at least the "
                             "threshold)")
    hidden_group = {side: counts[side] is None for side in ("staff", "customer")}
    result = {
        "wave": source.described(language),
        "filters": {"staff": staff_filter, "customer": customer_filter, "weighted": bool(weighted),
                    "compare_wave_id": compare.described(language)["id"] if compare is not None else None,
                    "dimension_correction": dimension_correction},
        "thresholds": {"staff_k_min": k_staff, "customer_k_min": k_cust},
        "response_counts": counts,
        "response_rates": source.response_rates(data.responses) if source.response_rates is not None else None,
        "release": {side: dict(info) for side, info in source.release.items()},
        "items": items,
        "headline": next((i for i in items if i["is_headline"]), None),
        "dimensions": _dimension_entries(data, staff_filter=staff_filter, customer_filter=customer_filter,
                                         language=language, correction=dimension_correction,
                                         invariance=invariance),
        "overall": _overall_entry(data, staff_filter=staff_filter, customer_filter=customer_filter,
                                  language=language),
        "touchpoints": _touchpoint_entries(data, staff_filter=staff_filter, customer_filter=customer_filter,
                                           language=language),
        "outcomes": _outcome_entries(data, customer_filter=customer_filter, language=language),
        "segments": _segment_views(data, staff_filter=staff_filter, customer_filter=customer_filter,
                                   language=language, correction=dimension_correction) if segments else None,
        "did": _did(data, _Disclosed(compare), staff_filter=staff_filter, customer_filter=customer_filter,
                    language=language) if compare is not None else None,
        "churn": _churn(data, language=language),
        "health": _health(data, language=language),
        "undefined": undefined,
    }
    result["drivers"] = _drivers(data, result["dimensions"], language=language)
    if boot is not None:
        result["filters"]["bootstrap"] = dict(boot)
    if invariance:
        result["filters"]["invariance"] = True
    for side, hidden in hidden_group.items():
        if hidden:
            # A selection that is not released shows as suppressed, not as "no data": whether it is empty or
            # holds fewer than k people must not be told apart.
            for entry in [*result["items"], *result["dimensions"], result["overall"], *result["touchpoints"]]:
                if entry is not None and entry.get("report_status") == "no_data":
                    _hide_side(entry, side)
    stats.check_json_safe(result)
    _memo_reset()
    return result


def _hide_side(entry: dict, side: str) -> None:
    """Blank every number of one side of an entry whose selection is not released (reliability is whole-side)."""
    def blank(node, path: str) -> None:
        for key, value in list(node.items()):
            if key in (f"{side}_text", "alpha", "withheld", "invariance") or key.startswith("cronbach_alpha") \
                    or key == f"n_complete_cases_{side}":
                continue
            if side in key.lower():
                if isinstance(value, (int, float, list)) and not isinstance(value, bool):
                    node[key] = None
                    entry.setdefault("undefined", []).append(
                        f"{path}{key}: this {side} selection is not released (fewer than the threshold)")
            elif isinstance(value, dict):
                blank(value, f"{path}{key}.")

    blank(entry, "")
    entry["report_status"] = _suppressed_status(side)
    if "alpha" in entry:
        _blank_alpha(entry)


def segment_difference(*, wave: Wave, side: str, field: str, first: str, second: str,
                       language: str = Language.EN, department: str | None = None) -> dict[str, Any]:
    """Is the gap of one segment different from another's? (docs/methods.md §6, shared comparator)

    For two staff segments against the same customers the customer mean
    cancels: gap(first) − gap(second) = mean(first) − mean(second), a Welch
    comparison of the two segments. For two customer segments against the same
    staff, gap(first) − gap(second) = mean(second) − mean(first). Both segments
    must be released values with at least k released answers to the item (k
    scored respondents for a dimension), per item and per dimension; otherwise
    the entry is suppressed. The p-values are not adjusted for multiplicity.

    Raises ValidationFailed for an unknown side, field or identical segments.
    """
    if side not in (Side.STAFF, Side.CUSTOMER):
        raise errors.ValidationFailed(field_errors={"side": ["Use 'staff' or 'customer'."]})
    department = internal.check_department(wave, department)
    spec = next((f for f in wave.segment_fields(side) if f["key"] == field), None)
    if spec is None:
        raise errors.ValidationFailed(field_errors={"field": [f"'{field}' is not a {side} segment field."]})
    if not first or not second or first == second:
        raise errors.ValidationFailed(field_errors={"second": ["Choose two different segment values."]})
    problems = {name: [problem] for name, value in (("first", first), ("second", second))
                if (problem := survey_services.segment_choice_problem(spec, value))}
    if problems:
        raise errors.ValidationFailed(field_errors=problems)
    _memo_reset()
    data = _Disclosed(wave_source(wave, department))
    k = data.source.k(side)
    suppressed_status = "suppressed_anonymity" if side == Side.STAFF else "suppressed_min_n"

    def visible(frame: pd.DataFrame, unit) -> bool:
        """Both segments are released values with answers to the unit (each then a union of blocks ≥ k)."""
        rows = unit(_select(frame, side, None))
        col = f"seg__{field}"
        if rows.empty or col not in rows.columns:
            return False
        sizes = rows.groupby(col)["n"].sum()
        return all(int(sizes.get(v, 0)) >= k for v in (first, second))

    def hidden_entry(key: str) -> dict:
        return {"key": key, "n_group_1": None, "n_group_2": None, "difference": None, "se": None, "df": None,
                "t": None, "p": None, "ci_low": None, "ci_high": None, "report_status": suppressed_status,
                "undefined": [f"all: {suppressed_status}"]}

    shared = "customer" if side == Side.STAFF else "staff"
    items = []
    for item in data.likert:
        unit = lambda r, i=item.pk: r[r.item_id == i]  # noqa: E731
        if not visible(data.answers, unit):
            items.append(hidden_entry(item.key))
            continue
        rows = _select(data.answers, side, None)
        counts = [_level_counts(rows[(rows.item_id == item.pk) & (rows[f"seg__{field}"] == v)], item)
                  for v in (first, second)]
        res = gap_difference_shared_comparator(counts[0], counts[1], item.levels, shared=shared, k_min=k)
        res["key"] = item.key
        items.append(res)
    dims = []
    for dim in data.dimensions:
        if not data.dim_items[dim.pk]:
            continue
        if not visible(data.scores, data.score_unit(dim)):
            dims.append(hidden_entry(dim.key))
            continue
        values, counts = stats.tabulate(data.score_array(side, {field: first}, dim),
                                        data.score_array(side, {field: second}, dim))
        if len(values) < 2:  # every score identical: add an empty level so the scale is well-formed
            values = np.append(values, values[-1] + 1 if len(values) else 1.0)
            counts = [np.append(c, 0) for c in counts]
        res = gap_difference_shared_comparator(counts[0], counts[1], values, shared=shared, k_min=k)
        res["key"] = dim.key
        dims.append(res)
    result = {"side": side, "field": field, "first": first, "second": second, "items": items,
              "dimensions": dims}
    stats.check_json_safe(result)
    return result
