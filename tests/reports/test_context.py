"""The report context from a gap analysis: the numbers, the rankings, the words (no database)."""

from __future__ import annotations

from reports.context import build_report_context
from reports.formatting import DASH, MINUS, fmt_num, fmt_pct, fmt_pts, fmt_signed
from tests.reports.sample import sample_analysis


def test_it_formats_undefined_values_as_a_dash_and_negatives_with_a_real_minus():
    assert fmt_num(None) == DASH
    assert fmt_num(float("nan")) == DASH
    assert fmt_signed(-0.524) == f"{MINUS}0.52"
    assert fmt_signed(0.5) == "+0.50"
    assert fmt_signed(-0.001) == "0.00"
    assert fmt_pct(0.8) == "80%"
    assert fmt_pts(-0.123) == f"{MINUS}12"


def test_it_states_the_headline_top_box_comparison_with_its_intervals():
    ctx = build_report_context(sample_analysis("en"), language="en")
    head = ctx["headline"]
    assert head["available"] is True
    assert head["sentence"] == "80% of staff say we deliver a superior experience; 8% of customers agree."
    assert head["staff_ci"] == "65%–90%"
    assert head["customer_ci"] == "5%–13%"
    assert head["diff_pts"] == "+72"
    assert head["diff_ci"] == "+57 … +83"


def test_it_ranks_the_three_largest_blind_spots_and_the_hidden_strengths():
    ctx = build_report_context(sample_analysis("en"), language="en")
    assert [r["key"] for r in ctx["blind_spots"]] == ["headline", "culture-1", "culture-2"]
    assert [r["rank"] for r in ctx["blind_spots"]] == [1, 2, 3]
    assert [r["key"] for r in ctx["hidden_strengths"]] == ["ease-1"]
    first = ctx["blind_spots"][0]["sentence"]
    assert first.startswith("Staff rate this 1.12 points higher than customers do")
    assert "gap 95% CI [+0.74, +1.50]" in first
    assert ctx["hidden_strengths"][0]["sentence"].startswith("Customers rate this 0.52 points higher than staff do")


def test_it_sorts_the_mirror_chart_by_gap_and_gives_each_dimension_its_colour():
    ctx = build_report_context(sample_analysis("en"), language="en")
    gaps = [r["gap"] for r in ctx["mirror_rows"]]
    assert gaps == sorted(gaps, reverse=True)
    assert len(gaps) == 7
    colours = {r["dimension"]: r["colour"] for r in ctx["items"]}
    assert len(set(colours.values())) == 3
    row = ctx["mirror_rows"][0]
    # The side-mean interval is a t-interval around the engine's mean.
    assert row["staff_ci_low"] < row["mean_staff"] < row["staff_ci_high"]


def test_it_keeps_the_dimension_table_numbers_of_the_engine():
    analysis = sample_analysis("en")
    ctx = build_report_context(analysis, language="en")
    for raw, row in zip(analysis["dimensions"], ctx["dimensions"], strict=True):
        assert row["gap"] == raw["gap"]
        assert row["p_holm"] == raw["p_adjusted"]["welch_holm"]
        assert row["ci_low"] == raw["welch"]["ci_low"]
        assert row["alpha_staff"]["value"] == raw["alpha"]["staff"]["listwise"]
    assert ctx["dimensions"][2]["alpha_staff"]["poor"] is True  # 0.55 < 0.6


def test_it_carries_no_number_for_a_suppressed_segment():
    ctx = build_report_context(sample_analysis("en"), language="en")
    legal = next(r for f in ctx["segments"]["staff"] for r in f["rows"] if r["value"] == "Legal")
    assert legal["suppressed"] is True
    assert legal["n"] is None
    assert all(c["suppressed"] and c["gap"] is None and c["gap_display"] == "" and c["fill"] == ""
               for c in legal["cells"])
    sales = next(r for f in ctx["segments"]["staff"] for r in f["rows"] if r["value"] == "Sales")
    assert sales["n"] == 18
    assert [c["gap_display"] for c in sales["cells"]] == ["+1.12", "+0.69", "+0.06"]


def test_it_accepts_the_engines_list_shaped_segments():
    analysis = sample_analysis("en")
    analysis["segments"] = {
        side: [{"field": key, "label": key.title() + "!", "groups": groups} for key, groups in fields.items()]
        for side, fields in analysis["segments"].items()
    }
    ctx = build_report_context(analysis, language="en")
    assert [f["label"] for f in ctx["segments"]["staff"]] == ["Department!"]
    assert [r["value"] for r in ctx["segments"]["customer"][0]["rows"]] == ["Gold", "Silver", "Platinum"]


def test_it_marks_a_change_since_the_previous_wave_only_when_its_interval_excludes_zero():
    ctx = build_report_context(sample_analysis("en"), language="en")
    assert ctx["did"]["compare_wave"]["name"] == "Spring 2026"
    assert [r["significant"] for r in ctx["did"]["items"]] == [True]
    assert [r["significant"] for r in ctx["did"]["dimensions"]] == [False]
    assert build_report_context(sample_analysis("en", did=False), language="en")["did"] is None


def test_it_writes_the_japanese_report_in_japanese():
    ctx = build_report_context(sample_analysis("ja"), language="ja")
    assert ctx["headline"]["sentence"] == (
        "社員の80%が「当社は優れた顧客体験を提供している」と回答しています。同意する顧客は8%です。")
    assert ctx["blind_spots"][0]["sentence"].startswith("社員の評価が顧客より1.12点高くなっています")
    assert ctx["dimensions"][0]["class_label"] == "盲点"
    assert ctx["counts"]["staff"]["display"] == "40"


def test_it_says_fewer_than_the_threshold_instead_of_a_small_count():
    analysis = sample_analysis("en")
    analysis["response_counts"]["staff"] = None
    ctx = build_report_context(analysis, language="en")
    assert ctx["counts"]["staff"]["display"] == "Fewer than 5"
