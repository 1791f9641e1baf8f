"""Multiplicity (§4), classification (§8), status codes and suppression (§5)."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from reports.stats import (
    CLASSES,
    STATUS_ORDER,
    adjust_item_family,
    adjust_p_values,
    benjamini_hochberg,
    check_json_safe,
    classify_gap,
    complementary_suppression,
    holm,
    importance_performance,
    item_comparison,
    materiality_delta,
    report_status,
    unexplained_nulls,
)

L5 = [1, 2, 3, 4, 5]


# --------------------------------------------------------------------------- #
# Holm / BH
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("seed", range(10))
def test_holm_and_bh_match_statsmodels_multipletests(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 40))
    p = rng.uniform(0, 1, m) ** rng.choice([1, 3, 8])
    if seed % 5 == 0:
        p[: m // 2] = p[0]  # ties
    # statsmodels: multipletests(p, method="holm" / "fdr_bh")
    ref_holm = multipletests(p, method="holm")[1]
    ref_bh = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(holm(p.tolist()), ref_holm, rtol=1e-12, atol=0)
    np.testing.assert_allclose(benjamini_hochberg(p.tolist()), ref_bh, rtol=1e-12, atol=0)


def test_none_is_excluded_from_m_and_order_is_kept():
    p = [0.04, None, 0.01, 0.03, None]
    defined = [0.04, 0.01, 0.03]
    ref = multipletests(defined, method="fdr_bh")[1]
    out = benjamini_hochberg(p)
    assert out[1] is None and out[4] is None
    np.testing.assert_allclose([out[0], out[2], out[3]], ref, rtol=1e-12)
    out = holm(p)
    np.testing.assert_allclose([out[0], out[2], out[3]], multipletests(defined, method="holm")[1])
    assert holm([None, None]) == [None, None]
    assert adjust_p_values([0.5], method="holm") == [0.5]


@pytest.mark.parametrize("bad", [[1.2], [-0.1], [float("nan")], [True]])
def test_invalid_p_values_raise(bad):
    with pytest.raises(ValueError, match="p-value"):
        holm(bad)
    with pytest.raises(ValueError):
        adjust_p_values([0.1], method="bonferroni")


# --------------------------------------------------------------------------- #
# classification
# --------------------------------------------------------------------------- #
def test_delta_scales_with_the_number_of_points():
    assert materiality_delta(5) == 0.25
    assert materiality_delta(7) == 0.375
    assert materiality_delta(11) == 0.625
    with pytest.raises(ValueError):
        materiality_delta(1)


@pytest.mark.parametrize(
    ("args", "p_mwu", "expected"),
    [
        ((0.30, 0.01, 0.10, 0.50), 0.02, "blind_spot"),
        ((0.25, 0.05, 0.05, 0.45), 0.05, "blind_spot"),  # boundaries: gap = δ, p = α, MW p = α
        ((-0.40, 0.001, -0.6, -0.2), 0.003, "hidden_strength"),
        ((0.10, 0.01, 0.05, 0.15), 0.03, "minor_gap"),  # real but immaterial (not "aligned")
        ((-0.10, 0.04, -0.15, -0.05), 0.01, "minor_gap"),
        ((0.02, 0.60, -0.10, 0.14), 0.50, "aligned"),
        ((0.02, 0.60, -0.10, 0.14), 0.01, "aligned"),  # MW alone is no discovery; equivalence still holds
        ((0.02, 0.60, -0.30, 0.34), 0.70, "inconclusive"),  # non-significant is not aligned
        ((0.02, 0.60, -0.10, 0.25), 0.70, "inconclusive"),  # CI must be strictly inside (−δ, δ)
        ((0.40, 0.20, -0.10, 0.90), 0.01, "inconclusive"),
    ],
)
def test_classification_rules_in_order(args, p_mwu, expected):
    assert classify_gap(*args, p_adjusted_mwu=p_mwu, delta=0.25) == expected


@pytest.mark.parametrize(
    ("args", "p_mwu"),
    [
        ((0.30, 0.01, 0.10, 0.50), 0.06),  # would be blind_spot: Welch significant, MW just not
        ((0.30, 0.01, 0.10, 0.50), None),  # MW undefined confirms nothing
        ((-0.40, 0.001, -0.6, -0.2), 0.2),  # would be hidden_strength
        ((0.10, 0.01, 0.05, 0.15), 0.5),  # would be minor_gap, even with its CI90 inside (−δ, δ): not aligned
    ],
)
def test_welch_significant_without_mann_whitney_is_inconclusive(args, p_mwu):
    assert classify_gap(*args, p_adjusted_mwu=p_mwu, delta=0.25) == "inconclusive"


def test_mann_whitney_p_outside_the_unit_interval_is_refused():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="p_adjusted_mwu"):
            classify_gap(0.3, 0.01, 0.1, 0.5, p_adjusted_mwu=bad, delta=0.25)


def test_classification_on_a_seven_point_scale_uses_the_scaled_delta():
    d7 = materiality_delta(7)
    assert classify_gap(0.30, 0.01, 0.1, 0.5, p_adjusted_mwu=0.01, delta=d7) == "minor_gap"
    assert classify_gap(0.30, 0.01, 0.1, 0.5, p_adjusted_mwu=0.01, delta=0.25) == "blind_spot"
    assert classify_gap(0.0, 0.9, -0.36, 0.36, p_adjusted_mwu=0.9, delta=d7) == "aligned"


@pytest.mark.parametrize("status", ["no_variance", "insufficient_data", "suppressed_anonymity"])
def test_not_assessed_is_checked_first(status):
    assert classify_gap(0.9, 0.0001, 0.5, 1.3, p_adjusted_mwu=0.0001, delta=0.25, status=status) == "not_assessed"
    assert classify_gap(0.9, None, None, None, p_adjusted_mwu=0.0001, delta=0.25) == "not_assessed"


def test_classes_constant_lists_the_table_order():
    assert CLASSES == (
        "not_assessed", "blind_spot", "hidden_strength", "minor_gap", "aligned", "inconclusive",
    )  # fmt: skip


def test_small_samples_are_inconclusive_never_aligned():
    r = adjust_item_family([item_comparison([1, 1, 2, 1, 1], [1, 1, 3, 1, 1], L5, [4, 5])])[0]
    assert r["gap"] == pytest.approx(0.0, abs=1e-12)
    assert r["classification"]["class"] == "inconclusive"
    big = [200, 400, 600, 400, 200]
    r = adjust_item_family([item_comparison(big, big, L5, [4, 5])])[0]
    assert r["classification"]["class"] == "aligned"


# --------------------------------------------------------------------------- #
# item family: p_adjusted then classification
# --------------------------------------------------------------------------- #
def make_family():
    return [
        item_comparison([1, 2, 4, 9, 4], [6, 10, 14, 12, 8], L5, [4, 5]),  # p ≈ 0.086
        item_comparison([0, 2, 5, 20, 23], [10, 20, 30, 25, 15], L5, [4, 5]),  # strong blind spot
        item_comparison([1, 1, 1, 1, 0], [6, 10, 14, 12, 8], L5, [4, 5]),  # suppressed
        item_comparison([0, 0, 9, 0, 0], [0, 0, 11, 0, 0], L5, [4, 5]),  # no_variance, all tied
        item_comparison([20, 25, 30, 15, 10], [5, 10, 20, 35, 30], L5, [4, 5]),  # hidden strength
    ]


def test_item_family_adjusts_only_reportable_defined_p_values():
    family = make_family()
    out = adjust_item_family(family)
    assert family[0]["p_adjusted"]["welch_bh"] is None  # input not modified
    welch_p = [r["welch"]["p"] for r in family]
    in_family = [welch_p[0], welch_p[1], welch_p[4]]  # suppressed + no_variance excluded
    ref_bh = multipletests(in_family, method="fdr_bh")[1]
    ref_holm = multipletests(in_family, method="holm")[1]
    for j, i in enumerate([0, 1, 4]):
        assert math.isclose(out[i]["p_adjusted"]["welch_bh"], ref_bh[j], rel_tol=1e-12)
        assert math.isclose(out[i]["p_adjusted"]["welch_holm"], ref_holm[j], rel_tol=1e-12)
    assert out[2]["p_adjusted"]["welch_bh"] is None
    assert out[3]["p_adjusted"]["welch_bh"] is None
    assert "p_adjusted.welch_bh: not in the family (welch p undefined)" in out[3]["undefined"]
    # top-box family uses p_primary; the all-tied item has Fisher p = 1 and is in it
    tb = [r["topbox"]["p_primary"] for r in family]
    ref = multipletests([tb[0], tb[1], tb[3], tb[4]], method="fdr_bh")[1]
    got = [out[i]["p_adjusted"]["topbox_bh"] for i in (0, 1, 3, 4)]
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    classes = [r["classification"]["class"] for r in out]
    assert classes == ["inconclusive", "blind_spot", "not_assessed", "not_assessed", "hidden_strength"]
    for r in out:
        check_json_safe(r)
        assert unexplained_nulls(r) == []
        assert not any("call adjust_" in u for u in r["undefined"])


def test_robustness_note_when_welch_and_mwu_disagree():
    out = adjust_item_family(make_family())
    assert out[1]["classification"]["robustness"] == "consistent"
    rng = np.random.default_rng(7)
    found_mixed = False
    for _ in range(150):
        a = rng.multinomial(40, rng.dirichlet([0.5] * 5)).tolist()
        b = rng.multinomial(40, rng.dirichlet([0.5] * 5)).tolist()
        r = adjust_item_family([item_comparison(a, b, L5, [4, 5])])[0]
        pw, pm = r["p_adjusted"]["welch_bh"], r["p_adjusted"]["mwu_bh"]
        if pw is None or pm is None:
            continue
        expected = "consistent" if (pw <= 0.05) == (pm <= 0.05) else "mixed"
        assert r["classification"]["robustness"] == expected
        found_mixed |= expected == "mixed"
        # a discovery needs both adjusted tests: Welch alone is inconclusive, MW alone is no discovery
        discovery = r["classification"]["class"] in ("blind_spot", "hidden_strength", "minor_gap")
        assert discovery == (pw <= 0.05 and pm <= 0.05)
        if pw <= 0.05 < pm:
            assert r["classification"]["class"] == "inconclusive"
    assert found_mixed


def test_engine_calls_a_gap_that_only_welch_finds_inconclusive():
    # 9 staff mostly at 4-5 against 26 customers split between 1 and 5: the mean gap is large (+1.11) and Welch
    # finds it, but the customers' two camps make the rank test see no shift. A family of one, so the adjusted p
    # equal the raw p, here recomputed with scipy on the expanded answers.
    staff, customers = [0, 0, 1, 5, 3], [10, 1, 2, 2, 11]
    x, y = np.repeat(L5, staff), np.repeat(L5, customers)
    p_welch = stats.ttest_ind(x, y, equal_var=False).pvalue
    p_mwu = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue
    assert p_welch < 0.05 < p_mwu  # the premise: 0.014 and 0.30
    r = adjust_item_family([item_comparison(staff, customers, L5, [4, 5])])[0]
    assert r["gap"] == pytest.approx(x.mean() - y.mean()) and r["gap"] > 0.25
    assert r["p_adjusted"]["welch_bh"] == pytest.approx(p_welch, rel=1e-9)
    assert r["p_adjusted"]["mwu_bh"] == pytest.approx(p_mwu, rel=1e-9)
    assert r["classification"]["class"] == "inconclusive"  # Welch alone would have made it a blind_spot
    assert r["classification"]["robustness"] == "mixed"
    # every customer one level lower (1s and 2s pooled at 1): both tests now find the gap
    moved = [11, 2, 2, 11, 0]
    y2 = np.repeat(L5, moved)
    assert stats.mannwhitneyu(x, y2, alternative="two-sided", method="asymptotic",
                              use_continuity=True).pvalue < 0.05
    r = adjust_item_family([item_comparison(staff, moved, L5, [4, 5])])[0]
    assert r["classification"]["class"] == "blind_spot"
    assert r["classification"]["robustness"] == "consistent"


# --------------------------------------------------------------------------- #
# status codes
# --------------------------------------------------------------------------- #
def test_status_order_constant():
    assert STATUS_ORDER == (
        "no_data", "suppressed_anonymity", "suppressed_min_n", "suppressed_complementary",
        "insufficient_data", "no_variance", "ok_low_base", "ok",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((0, 100), {}, "no_data"),
        ((3, 0), {}, "no_data"),  # no_data is checked before anonymity
        ((4, 100), {}, "suppressed_anonymity"),
        ((4, 3), {}, "suppressed_anonymity"),  # staff first
        ((10, 4), {}, "suppressed_min_n"),
        ((10, 3), {"k_min_customer": 3}, "ok_low_base"),
        ((10, 10), {"complementary_suppressed": True}, "suppressed_complementary"),
        ((1, 10), {"k_min_staff": 1}, "insufficient_data"),
        ((10, 10), {"zero_variance_staff": True, "zero_variance_customer": True}, "no_variance"),
        ((10, 10), {"zero_variance_staff": True}, "ok_low_base"),
        ((29, 300), {}, "ok_low_base"),
        ((30, 30), {}, "ok"),
        ((8, 8), {"k_min_staff": 10}, "suppressed_anonymity"),
    ],
)
def test_report_status_table(args, kwargs, expected):
    assert report_status(*args, **kwargs) == expected


def test_report_status_rejects_bad_input():
    with pytest.raises(ValueError, match="n_staff"):
        report_status(-1, 5)
    with pytest.raises(ValueError, match="k_min_staff"):
        report_status(5, 5, k_min_staff=0)


# --------------------------------------------------------------------------- #
# complementary suppression
# --------------------------------------------------------------------------- #
def test_spec_example_30_12_8_3():
    r = complementary_suppression({"Sales": 30, "Support": 12, "Ops": 8, "Legal": 3})
    assert r["primary"] == ["Legal"]
    assert r["complementary"] == ["Ops"]
    assert r["visible"] == ["Sales", "Support"]
    assert r["other"] is None


def test_nothing_extra_when_no_group_is_small_or_small_groups_add_up():
    assert complementary_suppression([30, 12, 8])["complementary"] == []
    r = complementary_suppression({"a": 30, "b": 3, "c": 4})  # 3 + 4 = 7 ≥ 5: safe
    assert r["primary"] == ["b", "c"] and r["complementary"] == []
    assert r["visible"] == ["a"]


def test_several_small_groups_below_k_together():
    r = complementary_suppression({"a": 50, "b": 6, "c": 2, "d": 1, "e": 9})
    assert r["primary"] == ["c", "d"]  # total 3 < 5 → hide the smallest visible (b = 6)
    assert r["complementary"] == ["b"]
    assert r["visible"] == ["a", "e"]


def test_repeated_complementary_steps_and_ties():
    # hidden total 1 → add 5 (first of the tied 5s) → 6 ≥ 5 stop
    r = complementary_suppression([5, 20, 5, 1])
    assert r["primary"] == [3] and r["complementary"] == [0]
    # everyone small or hidden: stop when no visible sibling is left
    r = complementary_suppression([2, 1])
    assert r["primary"] == [0, 1] and r["complementary"] == [] and r["visible"] == []


def test_zero_groups_are_not_suppressed_and_merge_other():
    r = complementary_suppression({"a": 30, "b": 0, "c": 3, "d": 8}, merge_other=True)
    assert r["visible"] == ["a", "b"]
    assert r["other"] == {"members": ["c", "d"], "n": 11}
    # a single small sibling forces its only sibling out too; together they form "Other"
    assert complementary_suppression([30, 3], merge_other=True)["other"] == {"members": [0, 1], "n": 33}
    assert complementary_suppression([30, 3])["other"] is None
    with pytest.raises(ValueError, match="invalid size"):
        complementary_suppression([3, -1])


def test_complementary_flag_flows_into_item_status():
    sizes = {"Sales": [5, 5, 5, 10, 5], "Ops": [1, 1, 2, 3, 1], "Legal": [1, 0, 1, 1, 0]}
    sup = complementary_suppression({k: sum(v) for k, v in sizes.items()})
    assert sup == {"primary": ["Legal"], "complementary": ["Ops"], "visible": ["Sales"], "other": None}
    r = item_comparison(sizes["Ops"], [10, 10, 10, 10, 10], L5, [4, 5], complementary_suppressed=True)
    assert r["report_status"] == "suppressed_complementary"
    assert r["n_staff"] is None and r["gap"] is None


# --------------------------------------------------------------------------- #
# importance–performance
# --------------------------------------------------------------------------- #
def test_importance_performance_quadrants_and_lists():
    r = importance_performance(
        ["q1", "q2", "q3", "q4", "q5"],
        [3.0, 4.2, 2.5, 4.5, None],
        [4.6, 4.4, 2.0, 2.1, 4.9],
        classes=["blind_spot", "blind_spot", "blind_spot", "hidden_strength", "blind_spot"],
        gaps=[0.5, 0.9, 1.2, -0.4, 2.0],
    )
    assert r["performance_split"] == pytest.approx((3.0 + 4.2 + 2.5 + 4.5) / 4)
    assert [i["quadrant"] for i in r["items"]] == [
        "concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill", None,
    ]  # fmt: skip
    assert r["priority"] == ["q2", "q1"]  # 0.9·4.4 > 0.5·4.6; q3 is low importance
    assert r["messaging"] == []
    with pytest.raises(ValueError, match="length"):
        importance_performance(["a"], [1.0, 2.0], [1.0])


# --------------------------------------------------------------------------- #
# every docstring example runs
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "module",
    ["_core", "items", "bootstrap", "multiplicity", "classify", "family", "status",
     "dimensions", "did", "segments", "weighting", "churn"],
)  # fmt: skip
def test_docstring_examples(module):
    mod = importlib.import_module(f"reports.stats.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
