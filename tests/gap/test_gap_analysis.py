"""The gap engine end to end: database counts → statistics → one JSON-safe result."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps

from reports import services
from surveys import errors
from surveys import services as survey_services
from tests.gap.conftest import fill_wave


def _raw(submitted, side, key, flt=None):
    out = []
    for s in submitted:
        if s["side"] != side or s["answers"].get(key) in (None, "na"):
            continue
        if flt and any(s["segments"].get(k) != v for k, v in flt.items()):
            continue
        v = s["answers"][key]
        out.append(6 - v if key == "c3" else v)
    return np.array(out, dtype=float)


def test_item_statistics_equal_scipy_on_the_raw_answers(gap_wave):
    wave, submitted = gap_wave
    result = services.gap_analysis(wave=wave)
    json.dumps(result, allow_nan=False)
    by_key = {i["key"]: i for i in result["items"]}
    for key in ("c1", "c2", "c3", "s1", "s2"):
        x, y = _raw(submitted, "staff", key), _raw(submitted, "customer", key)
        item = by_key[key]
        assert item["n_staff"] == len(x) and item["n_customer"] == len(y)
        # scipy: ttest_ind(x, y, equal_var=False)
        t = sps.ttest_ind(x, y, equal_var=False)
        assert item["welch"]["t"] == pytest.approx(t.statistic, rel=1e-9)
        assert item["welch"]["p"] == pytest.approx(t.pvalue, rel=1e-9)
        # scipy: mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
        u = sps.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
        assert item["mwu"]["U_staff"] == pytest.approx(u.statistic)
        assert item["mwu"]["p"] == pytest.approx(u.pvalue, rel=1e-9)
    assert result["headline"]["key"] == "c1"
    assert result["headline"]["topbox"]["wilson_staff_low"] < result["headline"]["topbox"]["p_staff"]


def test_dimension_gap_is_computed_from_respondent_scores_with_the_half_rule(gap_wave):
    wave, submitted = gap_wave
    result = services.gap_analysis(wave=wave)
    culture = next(d for d in result["dimensions"] if d["key"] == "culture")

    def scores(side):
        out = []
        for s in submitted:
            if s["side"] != side:
                continue
            vals = [(6 - s["answers"][k] if k == "c3" else s["answers"][k]) for k in ("c1", "c2", "c3")
                    if s["answers"][k] != "na"]
            if len(vals) >= 2:  # ceil(3 / 2)
                out.append(sum(vals) / len(vals))
        return np.array(out)

    x, y = scores("staff"), scores("customer")
    assert culture["n_scored_staff"] == len(x)
    assert culture["gap"] == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    t = sps.ttest_ind(x, y, equal_var=False)
    assert culture["welch"]["p"] == pytest.approx(t.pvalue, rel=1e-9)
    assert culture["classification"]["class"] == "blind_spot"  # staff answers were drawn one point higher


def test_cronbach_alpha_from_database_moments_equals_the_raw_data_formula(gap_wave):
    wave, submitted = gap_wave
    from reports.stats.reliability import cronbach_alpha

    result = services.gap_analysis(wave=wave)
    speed = next(d for d in result["dimensions"] if d["key"] == "speed")
    for side in ("staff", "customer"):
        rows = [[np.nan if s["answers"][k] == "na" else s["answers"][k] for k in ("s1", "s2")]
                for s in submitted if s["side"] == side]
        # pingouin.cronbach_alpha(nan_policy="listwise") is the spec's oracle; reports.stats matches it.
        expected_lw = cronbach_alpha(np.array(rows), nan_policy="listwise")
        expected_pw = cronbach_alpha(np.array(rows), nan_policy="pairwise")
        assert speed["alpha"][side]["n_complete"] == expected_lw["n"]
        assert speed["alpha"][side]["listwise"] == pytest.approx(expected_lw["alpha"], rel=1e-9)
        assert speed["alpha"][side]["pairwise"] == pytest.approx(expected_pw["alpha"], rel=1e-9)
        # Feldt's interval with df from the complete cases (8 % of answers are N/A, so fewer than the rows).
        n = expected_lw["n"]
        assert n < len(rows)
        low = 1 - (1 - expected_lw["alpha"]) * sps.f.ppf(0.975, n - 1, n - 1)
        high = 1 - (1 - expected_lw["alpha"]) * sps.f.ppf(0.025, n - 1, n - 1)
        assert speed["alpha"][side]["ci_low"] == pytest.approx(low, rel=1e-9)
        assert speed["alpha"][side]["ci_high"] == pytest.approx(high, rel=1e-9)
        assert speed[f"cronbach_alpha_listwise_ci_low_{side}"] == speed["alpha"][side]["ci_low"]


def test_no_alpha_interval_is_shown_next_to_a_suppressed_dimension(gap_wave):
    """The interval is a function of alpha, n_complete and m: it is blanked wherever alpha is (§3.3, §5)."""
    wave, _ = gap_wave
    result = services.gap_analysis(wave=wave, staff_filter={"department": "Legal"}, segments=False)
    for dim in result["dimensions"]:
        assert dim["report_status"] == "suppressed_anonymity"
        for side in ("staff", "customer"):
            assert dim["alpha"][side]["listwise"] is None
            assert dim["alpha"][side]["ci_low"] is None and dim["alpha"][side]["ci_high"] is None
            assert dim[f"cronbach_alpha_listwise_ci_low_{side}"] is None


def test_a_small_staff_department_is_not_released_and_it_does_not_stand_alone_in_the_rest(gap_wave):
    wave, submitted = gap_wave
    result = services.gap_analysis(wave=wave)
    dept = next(f for f in result["segments"]["staff"] if f["field"] == "department")
    by_value = {g["value"]: g for g in dept["groups"]}
    # "Legal" has 3 respondents: no group of its own. The rest of the staff who are in no shown group must not
    # be Legal alone either (all staff − the shown groups would be Legal): it holds at least k people.
    assert "Legal" not in by_value
    assert all(g["n"] >= wave.anonymity_threshold for g in dept["groups"])
    n_staff = sum(1 for s in submitted if s["side"] == "staff")
    assert result["response_counts"]["staff"] == n_staff
    assert n_staff - sum(g["n"] for g in dept["groups"]) >= wave.anonymity_threshold
    assert "Legal" not in json.dumps(result)


def test_filtering_to_a_group_that_subtraction_would_reveal_is_refused(gap_wave):
    wave, _ = gap_wave
    legal = services.gap_analysis(wave=wave, staff_filter={"department": "Legal"}, segments=False)
    assert {i["report_status"] for i in legal["items"]} == {"suppressed_anonymity"}
    assert all(i["n_staff"] is None and i["mean_staff"] is None for i in legal["items"])
    assert legal["response_counts"]["staff"] is None
    assert legal["response_counts"]["staff"] is None


def test_no_small_group_can_be_recovered_by_subtracting_filtered_views(gap_wave):
    """For every item, the departments hidden across all filtered views add up to 0 or at least k_min."""
    wave, submitted = gap_wave
    departments = ["Sales", "Support", "Engineering", "Ops", "Legal"]
    views = {d: services.gap_analysis(wave=wave, staff_filter={"department": d}, segments=False)
             for d in departments}
    for key in ("c1", "c2", "c3", "s1", "s2"):
        hidden_n = 0
        for dept in departments:
            item = next(i for i in views[dept]["items"] if i["key"] == key)
            n_true = len(_raw(submitted, "staff", key, {"department": dept}))
            if item["report_status"].startswith("suppressed"):
                assert item["n_staff"] is None and item["mean_staff"] is None and item["gap"] is None
                hidden_n += n_true
            else:
                assert item["n_staff"] == n_true
        assert hidden_n == 0 or hidden_n >= wave.anonymity_threshold, key
    # The response count of a department is hidden exactly when the segment view hides it.
    full = services.gap_analysis(wave=wave)
    dept = next(f for f in full["segments"]["staff"] if f["field"] == "department")
    for group in dept["groups"]:
        assert (views[group["value"]]["response_counts"]["staff"] is None) == (group["n"] is None)


def test_an_unknown_filter_field_is_a_validation_error_naming_it(gap_wave):
    wave, _ = gap_wave
    with pytest.raises(errors.ValidationFailed) as exc:
        services.gap_analysis(wave=wave, staff_filter={"salary": "high"})
    assert "staff" in exc.value.field_errors and "salary" in exc.value.field_errors["staff"][0]


def test_wave_over_wave_difference_in_differences(gap_wave, org):
    wave, submitted = gap_wave
    before = survey_services.wave_create(organization=org, instrument=wave.instrument, name="H1", slug="h1")
    survey_services.wave_open(wave=before)
    old = fill_wave(before, seed=3, n_staff=40, n_customer=50, staff_shift=1.5)
    result = services.gap_analysis(wave=wave, compare_wave=before, segments=False)
    s1 = next(d for d in result["did"]["items"] if d["key"] == "s1")
    g2 = _raw(submitted, "staff", "s1").mean() - _raw(submitted, "customer", "s1").mean()
    g1 = _raw(old, "staff", "s1").mean() - _raw(old, "customer", "s1").mean()
    assert s1["did"] == pytest.approx(g2 - g1, rel=1e-9)
    assert s1["gap_wave1"] == pytest.approx(g1, rel=1e-9)


def test_outcomes_report_nps(gap_wave):
    wave, submitted = gap_wave
    result = services.gap_analysis(wave=wave, segments=False)
    nps = next(o for o in result["outcomes"] if o["kind"] == "nps")
    values = np.array([s["answers"]["nps"] for s in submitted if s["side"] == "customer"])
    assert nps["n"] == len(values)
    assert nps["nps"]["score"] == pytest.approx(100 * ((values >= 9).mean() - (values <= 6).mean()))


def test_weighted_results_sit_next_to_the_unweighted_ones(gap_wave):
    wave, submitted = gap_wave
    result = services.gap_analysis(wave=wave, weighted=True, segments=False)
    item = next(i for i in result["items"] if i["key"] == "s1")
    rows = [(s["answers"]["s1"], s["weight"]) for s in submitted
            if s["side"] == "customer" and s["answers"]["s1"] != "na"]
    x = np.array([r[0] for r in rows], dtype=float)
    w = np.array([r[1] for r in rows])
    assert item["weighted"]["customer_mean_weighted"] == pytest.approx((w * x).sum() / w.sum(), rel=1e-12)
    assert item["weighted"]["kish_n_eff"] == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)
    assert item["mean_customer"] == pytest.approx(x.mean(), rel=1e-12)  # the unweighted result is still there


def test_churn_compares_accounts_not_contacts(gap_wave):
    wave, submitted = gap_wave
    result = services.gap_analysis(wave=wave, segments=False)
    churn = result["churn"]
    assert churn is not None
    nps = next(c for c in churn["comparisons"] if c["measure"] == "nps")
    # 6 accounts: at most 6 scores in all, so every group is under k_min = 5 or just at it.
    n_total = (nps["n_churned"] or 0) + (nps["n_retained"] or 0)
    assert n_total <= 6
    assert nps["report_status"] in ("suppressed_min_n", "no_data", "ok_low_base", "insufficient_data")


def test_the_overall_gap_uses_every_dimension_item_of_each_respondent(gap_wave):
    wave, submitted = gap_wave
    result = services.gap_analysis(wave=wave, segments=False)

    def scores(side):
        out = []
        for s in submitted:
            if s["side"] != side:
                continue
            vals = [(6 - v if k == "c3" else v) for k, v in s["answers"].items()
                    if k in ("c1", "c2", "c3", "s1", "s2") and v != "na"]
            if len(vals) >= 3:  # ceil(5 / 2)
                out.append(sum(vals) / len(vals))
        return np.array(out)

    x, y = scores("staff"), scores("customer")
    overall = result["overall"]
    assert overall["n_scored_staff"] == len(x) and overall["n_scored_customer"] == len(y)
    assert overall["gap"] == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    assert overall["welch"]["p"] == pytest.approx(sps.ttest_ind(x, y, equal_var=False).pvalue, rel=1e-9)
