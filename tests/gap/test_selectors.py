"""The database count tables equal a brute-force tally of what was submitted."""

from __future__ import annotations

import math
from collections import Counter

from reports.counts import groupby as selectors
from surveys import models as m


def _brute_counts(submitted, side, key):
    return Counter(
        s["answers"][key]
        for s in submitted
        if s["side"] == side and s["answers"].get(key) != "na" and key in s["answers"]
    )


def test_the_answer_count_table_matches_a_brute_force_tally(gap_wave):
    wave, submitted = gap_wave
    table = selectors.answer_count_table(wave)
    items = {i.key: i.pk for i in wave.instrument.items.all()}
    for side in ("staff", "customer"):
        for key in ("c1", "c3", "s2"):
            rows = table[(table.side == side) & (table.item_id == items[key])]
            got = rows.groupby("value")["n"].sum().to_dict()
            assert got == dict(_brute_counts(submitted, side, key))
    sales = table[(table.side == "staff") & (table["seg__department"] == "Sales") & (table.item_id == items["c1"])]
    expected = Counter(
        s["answers"]["c1"]
        for s in submitted
        if s["side"] == "staff" and s["segments"]["department"] == "Sales" and s["answers"]["c1"] != "na"
    )
    assert sales.groupby("value")["n"].sum().to_dict() == dict(expected)


def test_weights_are_summed_per_level_for_customers(gap_wave):
    wave, submitted = gap_wave
    table = selectors.answer_count_table(wave)
    item = wave.instrument.items.get(key="s1")
    rows = table[(table.side == "customer") & (table.item_id == item.pk) & (table.value == 3)]
    expected = [s["weight"] for s in submitted if s["side"] == "customer" and s["answers"]["s1"] == 3]
    assert math.isclose(rows["w"].sum(), sum(expected), rel_tol=1e-12)
    assert math.isclose(rows["w2"].sum(), sum(w * w for w in expected), rel_tol=1e-12)


def test_dimension_scores_are_count_tabled_with_reverse_keying(gap_wave):
    wave, submitted = gap_wave
    table = selectors.dimension_score_table(wave)
    culture = m.Dimension.objects.get(instrument=wave.instrument, key="culture")
    got = Counter()
    for row in table[(table.side == "staff") & (table.dimension_id == culture.pk)].itertuples():
        got[(row.s, row.c)] += row.n
    expected = Counter()
    for s in submitted:
        if s["side"] != "staff":
            continue
        vals = [(6 - v if k == "c3" else v) for k, v in s["answers"].items() if k in ("c1", "c2", "c3") and v != "na"]
        if vals:
            expected[(sum(vals), len(vals))] += 1
    assert got == expected


def test_alpha_moments_listwise_use_complete_cases_only(gap_wave):
    wave, submitted = gap_wave
    speed = m.Dimension.objects.get(instrument=wave.instrument, key="speed")
    items = {i.key: i.pk for i in speed.items.all()}
    moments = selectors.dimension_item_moments(wave, side="customer", dimension_id=speed.pk, complete_only=True)
    complete = [
        s for s in submitted if s["side"] == "customer" and "na" not in (s["answers"]["s1"], s["answers"]["s2"])
    ]
    pair = moments[tuple(sorted((items["s1"], items["s2"])))]
    assert pair.n == len(complete)
    lo, hi = sorted(("s1", "s2"), key=lambda k: items[k])
    assert pair.sum_ij == sum(s["answers"]["s1"] * s["answers"]["s2"] for s in complete)
    assert pair.sum_i == sum(s["answers"][lo] for s in complete)
    assert pair.sum_jj == sum(s["answers"][hi] ** 2 for s in complete)
    diag = moments[(items["s1"], items["s1"])]
    assert diag.n == len(complete)
